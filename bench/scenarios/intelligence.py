"""The customer intelligence page: N+1 vs aggregated queries vs the product's one query.

All three are DRF views behind the same URL routing, middleware, token authentication,
tenant resolution, cursor pagination and JSON rendering, requested in-process as the
main tenant's owner. Two pages are measured: the first page (ordinary customers) and
the page that holds the whale (200k calls at the default scale). The three must agree
on which customers are on the page and on their counts before any timing counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.test.utils import override_settings

from bench.baselines.aggregated import aggregated_unavailable_reason
from bench.client import TenantClient, page_params, require_route
from bench.context import BenchContext
from bench.harness import captured_queries, ratio, time_calls
from bench.results import Case, ScenarioResult, Table, fmt_ratio
from bench.urls import AGGREGATED_PATH, N_PLUS_ONE_PATH

KEY = "intelligence"
TITLE = "Customer intelligence page (50 customers)"
PRODUCT_PATH = "/api/intelligence/customers/"
OVERHEAD_PATH = "/api/business/"  # authentication + tenant resolution and nothing else
PAGE_SIZE = 50

N_PLUS_ONE = "N+1 (old: 4 queries per customer)"
AGGREGATED = "aggregated (old fix: 5–7 queries)"
PRODUCT = "one query (product)"
# The same one query served the previous way: model instances, the DRF serializer and
# json.dumps (API_FAST_PATH off), measured in the same run for issue 13's comparison.
PREVIOUS = "one query, previous request path"


@dataclass(frozen=True)
class Variant:
    label: str
    path: str
    fast_path: bool = True


@dataclass(frozen=True)
class Page:
    case: str
    key: str  # for metric names
    number: int


def request_overhead_queries(client: TenantClient) -> int:
    """Queries every authenticated request spends before the view's own (auth + tenant)."""
    client.get(OVERHEAD_PATH)  # warm whatever the tenant resolution caches
    return len(captured_queries(lambda: client.get(OVERHEAD_PATH)))


def available_variants(result: ScenarioResult) -> list[Variant]:
    variants = [Variant(N_PLUS_ONE, N_PLUS_ONE_PATH)]
    reason = aggregated_unavailable_reason()
    if reason is None:
        variants.append(Variant(AGGREGATED, AGGREGATED_PATH))
    else:
        result.missing.append(f"{AGGREGATED}: {reason}")
    try:
        require_route(PRODUCT_PATH, "the product's intelligence list")
        variants.append(Variant(PREVIOUS, PRODUCT_PATH, fast_path=False))
        variants.append(Variant(PRODUCT, PRODUCT_PATH))
    except Exception as exc:  # NotAvailable
        result.missing.append(f"{PRODUCT}: {exc}")
    return variants


def run(ctx: BenchContext) -> ScenarioResult:
    result = ScenarioResult(KEY, TITLE)
    client = TenantClient(ctx.main)
    spec = ctx.main.spec
    whale_page = (spec.whale_position - 1) // PAGE_SIZE + 1
    pages = [
        Page(f"ordinary page (page 1 of {spec.customers:,})", "ordinary", 1),
        Page(f"whale page (page {whale_page}, {spec.whale_calls:,} calls)", "whale", whale_page),
    ]
    variants = available_variants(result)
    overhead = request_overhead_queries(client)
    result.metrics["request_overhead_queries"] = overhead
    result.about = (
        f"Main tenant: {spec.customers:,} customers. Requests in-process through the real "
        f"stack as the tenant owner (token auth); {ctx.repeat} timed requests per case after "
        f"2 warm-ups. 'queries' counts every query of the request, including the "
        f"{overhead} that authentication and tenant resolution cost on any endpoint."
    )

    summary_rows: list[list[Any]] = []
    for page in pages:
        params = {v.label: page_params(client, v.path, page.number) for v in variants}
        raw: dict[str, bytes] = {}
        for v in variants:
            with override_settings(API_FAST_PATH=v.fast_path):
                raw[v.label] = client.get(v.path, params[v.label]).content
        bodies = {label: json.loads(content) for label, content in raw.items()}
        if PREVIOUS in raw and raw[PREVIOUS] != raw[PRODUCT]:
            raise AssertionError(
                f"{page.case}: the fast path's bytes differ from the previous path's."
            )
        _check_agreement(bodies, whale_id=ctx.main.whale_customer_id, page=page)
        cases: dict[str, Case] = {}
        for variant in variants:

            def call(v: Variant = variant, p: dict[str, Any] = params[variant.label]) -> object:
                return client.get(v.path, p)

            with override_settings(API_FAST_PATH=variant.fast_path):
                queries = len(captured_queries(call))
                timing = time_calls(call, repeat=ctx.repeat)
            cases[variant.label] = Case.timed(page.case, variant.label, timing, queries=queries)
        baseline = cases[N_PLUS_ONE]
        result.cases.append(baseline)
        for label, case in cases.items():
            if label != N_PLUS_ONE:
                result.cases.append(case.compare_to(baseline))
            key = {
                N_PLUS_ONE: "n1",
                AGGREGATED: "aggregated",
                PREVIOUS: "previous",
                PRODUCT: "product",
            }[label]
            result.metrics[f"{page.key}_{key}_ms"] = case.median_ms or 0.0
            result.metrics[f"{page.key}_{key}_queries"] = case.queries or 0
            if label == PRODUCT:
                result.metrics[f"{page.key}_product_data_queries"] = (case.queries or 0) - overhead
        summary_rows.append(_summary_row(page, cases, result))

    result.tables.append(
        Table(
            title="Ratios (median latency) and query reduction",
            columns=[
                "page",
                "product vs N+1",
                "product vs aggregated",
                "aggregated vs N+1",
                "product vs previous request path",
                "previous request path vs N+1",
                "fewer queries (product vs N+1)",
            ],
            rows=summary_rows,
        )
    )
    return result


def _summary_row(page: Page, cases: dict[str, Case], result: ScenarioResult) -> list[Any]:
    n1, agg, product = cases.get(N_PLUS_ONE), cases.get(AGGREGATED), cases.get(PRODUCT)
    previous = cases.get(PREVIOUS)
    pairs = {
        "product_vs_n1": (n1, product),
        "product_vs_aggregated": (agg, product),
        "aggregated_vs_n1": (n1, agg),
        "product_vs_previous": (previous, product),
        "previous_vs_n1": (n1, previous),
    }
    cells: list[Any] = [page.case]
    for name, (slow, fast) in pairs.items():
        value = ratio(slow.median_ms, fast.median_ms) if slow and fast else None
        if value is not None:
            result.metrics[f"{page.key}_{name}"] = value
        cells.append(fmt_ratio(value))
    if n1 and product and n1.queries and product.queries is not None:
        reduction = 1 - product.queries / n1.queries
        result.metrics[f"{page.key}_query_reduction"] = reduction
        cells.append(f"{reduction:.1%} ({n1.queries} → {product.queries})")
    else:
        cells.append("–")
    return cells


def _check_agreement(bodies: dict[str, Any], *, whale_id: int | None, page: Page) -> None:
    """Every variant lists the same customers, in order, with the same counts."""

    def essentials(body: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [
            (
                row["id"],
                row["leads_count"],
                row["calls_count"],
                (row.get("latest_lead") or {}).get("id"),
                (row.get("last_call") or {}).get("id"),
            )
            for row in body["results"]
        ]

    labels = list(bodies)
    reference = essentials(bodies[labels[0]])
    if len(reference) != PAGE_SIZE:
        raise AssertionError(f"{page.case}: {len(reference)} customers, expected {PAGE_SIZE}.")
    for label in labels[1:]:
        if essentials(bodies[label]) != reference:
            raise AssertionError(
                f"{page.case}: {label} disagrees with {labels[0]} about the page's customers "
                "or their counts; the comparison would be meaningless."
            )
    if page.key == "whale" and whale_id not in {row[0] for row in reference}:
        raise AssertionError(f"{page.case}: the whale (customer {whale_id}) is not on it.")
