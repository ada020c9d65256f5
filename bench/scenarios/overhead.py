"""How close an endpoint is to the database's own limit.

The endpoint's median time (in-process, the whole Django/DRF stack) against the
EXPLAIN ANALYZE time of exactly the SQL it ran. What is left is Python: routing,
authentication, serialisation and JSON rendering, plus the round trips to PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.test.utils import override_settings

from bench.client import TenantClient, page_params, require_route
from bench.context import BenchContext, NotAvailable
from bench.harness import captured_queries, time_calls
from bench.results import ScenarioResult, Table, fmt_ms, fmt_ratio
from bench.scenarios.intelligence import OVERHEAD_PATH, PAGE_SIZE, PRODUCT_PATH
from bench.sql import explain_analyze

KEY = "overhead"
TITLE = "Overhead: endpoint time vs the SQL's own execution time"


@dataclass(frozen=True)
class Endpoint:
    label: str
    key: str
    path: str
    params: dict[str, Any]
    # False: the previous request path (API_FAST_PATH off), measured in the same run.
    fast_path: bool = True


def endpoints(ctx: BenchContext, client: TenantClient, result: ScenarioResult) -> list[Endpoint]:
    found = [Endpoint("GET /api/business/ (auth + tenant only)", "business", OVERHEAD_PATH, {})]
    try:
        require_route(PRODUCT_PATH, "the product's intelligence list")
    except NotAvailable as exc:
        result.missing.append(f"intelligence page: {exc}")
        return found
    whale_page = (ctx.main.spec.whale_position - 1) // PAGE_SIZE + 1
    found += [
        Endpoint("intelligence page 1 (ordinary)", "ordinary", PRODUCT_PATH, {}),
        Endpoint(
            f"intelligence page {whale_page} (whale)",
            "whale",
            PRODUCT_PATH,
            page_params(client, PRODUCT_PATH, whale_page),
        ),
    ]
    # Each endpoint the previous way first, then the product's way (issue 13).
    return [
        variant
        for endpoint in found
        for variant in (
            replace(
                endpoint,
                label=f"{endpoint.label}, previous request path",
                key=f"{endpoint.key}_previous",
                fast_path=False,
            ),
            endpoint,
        )
    ]


def run(ctx: BenchContext) -> ScenarioResult:
    result = ScenarioResult(
        KEY,
        TITLE,
        about="Endpoint: median of in-process requests through the whole stack. SQL: median "
        "planning and execution time that EXPLAIN (ANALYZE, TIMING OFF) reports for each "
        "query the request ran (parameters as sent), summed over the request's queries.",
    )
    client = TenantClient(ctx.main)
    rows: list[list[Any]] = []
    breakdown: list[dict[str, Any]] = []
    for endpoint in endpoints(ctx, client, result):

        def call(e: Endpoint = endpoint) -> object:
            return client.get(e.path, e.params)

        with override_settings(API_FAST_PATH=endpoint.fast_path):
            call()  # warm-up, so the captured queries are those of a warm request
            queries = captured_queries(call)
            timing = time_calls(call, repeat=ctx.repeat)
        explained = [explain_analyze(sql, repeat=max(3, ctx.repeat // 3)) for sql in queries]
        execution = sum(e.execution_ms for e in explained)
        planning = sum(e.planning_ms for e in explained)
        total = timing.median_ms
        overhead_ratio = total / execution if execution else None
        if overhead_ratio is not None:
            result.metrics[f"overhead_ratio_{endpoint.key}"] = overhead_ratio
        # Issue 13 states its target against execution + planning.
        if execution + planning:
            result.metrics[f"overhead_ratio_sql_{endpoint.key}"] = total / (execution + planning)
        result.metrics[f"overhead_over_sql_ms_{endpoint.key}"] = total - execution - planning
        result.metrics[f"overhead_endpoint_ms_{endpoint.key}"] = total
        result.metrics[f"overhead_sql_execution_ms_{endpoint.key}"] = execution
        rows.append(
            [
                endpoint.label,
                len(queries),
                fmt_ms(total),
                fmt_ms(timing.p95_ms),
                fmt_ms(execution),
                fmt_ms(planning),
                fmt_ms(max(0.0, total - execution - planning)),
                fmt_ratio(overhead_ratio),
                fmt_ratio(total / (execution + planning) if execution + planning else None),
            ]
        )
        breakdown.append(
            {
                "label": endpoint.label,
                "db_ms": execution + planning,
                "rest_ms": max(0.0, total - execution - planning),
                "total_ms": total,
            }
        )
    result.tables.append(
        Table(
            columns=[
                "endpoint",
                "queries",
                "endpoint median ms",
                "endpoint p95 ms",
                "SQL execution ms",
                "SQL planning ms",
                "rest (Python, round trips) ms",
                "endpoint / execution",
                "endpoint / (execution + planning)",
            ],
            rows=rows,
        )
    )
    result.series["breakdown"] = breakdown
    return result
