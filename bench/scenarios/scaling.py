"""Does the intelligence page slow down as a tenant grows? Page 1 at each tenant size.

The tenants have the same rows per customer and differ only in how many customers
they have, so a flat line means the page costs what its 50 customers cost, whatever
the size of the tenant: every ordering must be served by an index, not a sort of the
whole tenant.
"""

from __future__ import annotations

from typing import Any

from bench.client import TenantClient, require_route
from bench.context import BenchContext
from bench.harness import captured_queries, time_calls
from bench.results import Case, ScenarioResult, Table, fmt_ms
from bench.scenarios.intelligence import PRODUCT_PATH

KEY = "scaling"
TITLE = "Scaling: the intelligence page at 1k, 20k and 100k customers"
DEFAULT_ORDERING = "-created_at"
ORDERINGS = (DEFAULT_ORDERING, "name", "-leads_count", "-last_interaction")


def run(ctx: BenchContext) -> ScenarioResult:
    require_route(PRODUCT_PATH, "the product's intelligence list")
    tenants = sorted(
        (ctx.dataset.tenants[spec.slug] for spec in ctx.dataset.scale.scaling),
        key=lambda t: t.spec.customers,
    )
    result = ScenarioResult(
        KEY,
        TITLE,
        about=(
            "Page 1 (50 customers) of the product endpoint in every ordering, in tenants of "
            + ", ".join(f"{t.spec.customers:,}" for t in tenants)
            + " customers with the same rows per customer. The default ordering sends no "
            "`ordering` parameter."
        ),
    )
    series: dict[str, list[list[float]]] = {ordering: [] for ordering in ORDERINGS}
    grid: dict[str, dict[int, Case]] = {ordering: {} for ordering in ORDERINGS}
    for tenant in tenants:
        client = TenantClient(tenant)
        for ordering in ORDERINGS:
            params: dict[str, Any] = {} if ordering == DEFAULT_ORDERING else {"ordering": ordering}

            def call(p: dict[str, Any] = params, c: TenantClient = client) -> object:
                return c.get(PRODUCT_PATH, p)

            call()  # a tenant's first request fills the tenant caches: not what is measured
            queries = len(captured_queries(call))
            timing = time_calls(call, repeat=ctx.repeat)
            case = Case.timed(
                f"{tenant.spec.customers:,} customers", ordering, timing, queries=queries
            )
            grid[ordering][tenant.spec.customers] = case
            series[ordering].append([tenant.spec.customers, timing.median_ms])

    sizes = [t.spec.customers for t in tenants]
    rows = []
    for ordering in ORDERINGS:
        cells = grid[ordering]
        smallest, largest = cells[sizes[0]], cells[sizes[-1]]
        change = (largest.median_ms or 0) / (smallest.median_ms or 1) - 1
        key = "default" if ordering == DEFAULT_ORDERING else ordering.strip("-")
        result.metrics[f"scaling_{key}_change"] = change
        rows.append(
            [
                ordering,
                *(f"{fmt_ms(cells[n].median_ms)} / {fmt_ms(cells[n].p95_ms)}" for n in sizes),
                cells[sizes[-1]].queries,
                f"{change:+.0%}",
            ]
        )
    result.tables.append(
        Table(
            title="median / p95 ms of page 1",
            columns=[
                "ordering",
                *(f"{n:,} customers" for n in sizes),
                "queries",
                f"{sizes[-1]:,} vs {sizes[0]:,}",
            ],
            rows=rows,
        )
    )
    result.series["scaling"] = series
    return result
