"""The tenant caches: tenant resolution warm vs cold, and the load run's hit rate.

Warm: the user's memberships and the business with its settings are cached. Cold: both
caches are emptied (untimed) before each request, so every request resolves its tenant
from the database and fills the caches again — what every request cost before them.
The endpoint is GET /api/business/, which does nothing but authenticate and resolve
the tenant.
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
        from businesses.cache import get_business_settings_cache, get_membership_cache
    except ImportError:
        raise NotAvailable(
            "businesses.cache (the business settings cache) is not in this checkout yet."
        ) from None
    client = TenantClient(ctx.main)

    def empty_caches() -> None:
        get_business_settings_cache().clear()
        get_membership_cache().clear()

    def call() -> object:
        return client.get(OVERHEAD_PATH)

    result = ScenarioResult(KEY, TITLE, about=__doc__.split("\n\n", 1)[1].strip())
    call()
    warm_queries = len(captured_queries(call))
    warm = Case.timed("GET /api/business/", "warm cache", time_calls(call, repeat=ctx.repeat))
    warm.queries = warm_queries
    empty_caches()
    cold_queries = len(captured_queries(call))
    cold = Case.timed(
        "GET /api/business/",
        "cold caches (emptied before each request)",
        time_calls(call, repeat=ctx.repeat, before=empty_caches),
    )
    cold.queries = cold_queries
    result.cases += [cold, warm.compare_to(cold)]
    call()  # leave the caches warm for whatever runs next
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
                title="Hit rates during the pooled load runs (every endpoint, 8 and 32 "
                "clients, warm-ups included), summed over the server's workers",
                columns=["cache", "hits", "misses", "hit rate"],
                rows=[
                    [name, f"{r['hits']:,}", f"{r['misses']:,}", f"{r['rate']:.2%}"]
                    for name, r in load.items()
                ],
            )
        )
    return result
