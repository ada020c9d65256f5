"""The business settings cache: tenant resolution warm vs cold, and the load run's hit rate.

Warm: the tenant's business and settings are in the cache. Cold: the cache is emptied
(untimed) before each request, so every request resolves the tenant from the database
and fills the cache again — what every request cost before the cache. The endpoint is
GET /api/business/, which does nothing but authenticate and resolve the tenant.
"""

from __future__ import annotations

from bench.client import TenantClient
from bench.context import BenchContext, NotAvailable
from bench.harness import captured_queries, time_calls
from bench.results import Case, ScenarioResult, Table
from bench.scenarios.intelligence import OVERHEAD_PATH

KEY = "cache"
TITLE = "Business settings cache: tenant resolution warm vs cold"


def run(ctx: BenchContext) -> ScenarioResult:
    try:
        from businesses.cache import get_business_settings_cache
    except ImportError:
        raise NotAvailable(
            "businesses.cache (the business settings cache) is not in this checkout yet."
        ) from None
    cache = get_business_settings_cache()
    client = TenantClient(ctx.main)

    def call() -> object:
        return client.get(OVERHEAD_PATH)

    result = ScenarioResult(KEY, TITLE, about=__doc__.split("\n\n", 1)[1].strip())
    call()
    warm_queries = len(captured_queries(call))
    warm = Case.timed("GET /api/business/", "warm cache", time_calls(call, repeat=ctx.repeat))
    warm.queries = warm_queries
    cache.clear()
    cold_queries = len(captured_queries(call))
    cold = Case.timed(
        "GET /api/business/",
        "cold cache (emptied before each request)",
        time_calls(call, repeat=ctx.repeat, before=cache.clear),
    )
    cold.queries = cold_queries
    result.cases += [cold, warm.compare_to(cold)]
    result.metrics["cache_warm_vs_cold"] = warm.ratio or 0.0
    result.metrics["cache_queries_saved"] = cold_queries - warm_queries

    load = ctx.shared.get("cache_load")
    if load is None:
        result.missing.append(
            "hit rate during the load run: the concurrency scenario did not run or reported "
            "no cache statistics"
        )
    else:
        result.tables.append(
            Table(
                title="Hit rate during the pooled GET /api/business/ load run (all workers)",
                columns=["hits", "misses", "hit rate"],
                rows=[[f"{load['hits']:,}", f"{load['misses']:,}", f"{load['rate']:.2%}"]],
            )
        )
    return result
