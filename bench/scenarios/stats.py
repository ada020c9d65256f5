"""The stats endpoint before (counting every row) and after (summing trigger-kept counters).

"Before" is ``tenant_stats_from_rows``, the formulation the endpoint used until the
counters existed (four tables scanned per request); "after" is the endpoint itself.
Both at every scaling tenant size; the after side also as the database's own
execution time of its one query (the target: at most 20 ms at 100k customers).
"""

from __future__ import annotations

from django.utils import timezone

from bench.client import TenantClient, require_route
from bench.context import BenchContext
from bench.harness import captured_queries, time_calls
from bench.results import Case, ScenarioResult, Table, fmt_ms
from bench.sql import explain_analyze, plan_summary

KEY = "stats"
TITLE = "Stats: counting every row vs summing the trigger-kept counters"
STATS_PATH = "/api/intelligence/stats/"
TARGET_SQL_MS = 20.0


def _inline(sql: str, params: object) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        return cursor.mogrify(sql, params).decode()


def run(ctx: BenchContext) -> ScenarioResult:
    require_route(STATS_PATH, "the stats endpoint")
    from businesses.models import Business
    from intelligence.selectors import tenant_stats, tenant_stats_from_rows

    tenants = sorted(
        (ctx.dataset.tenants[spec.slug] for spec in ctx.dataset.scale.scaling),
        key=lambda t: t.spec.customers,
    )
    result = ScenarioResult(
        KEY,
        TITLE,
        about="Before: the full recount (`tenant_stats_from_rows`, the old endpoint's query) "
        "called in-process. After: GET /api/intelligence/stats/ through the whole stack, "
        "and EXPLAIN ANALYZE of its one SQL statement.",
    )
    rows = []
    for tenant in tenants:
        business = Business.objects.select_related("settings").get(pk=tenant.business_id)
        client = TenantClient(tenant)

        def before(b: Business = business) -> object:
            return tenant_stats_from_rows(business=b)

        def after(c: TenantClient = client) -> object:
            return c.get(STATS_PATH)

        after()  # fills the tenant caches
        label = f"{tenant.spec.customers:,} customers"
        slow = time_calls(before, repeat=max(3, ctx.repeat // 3))
        fast = time_calls(after, repeat=ctx.repeat)
        result.cases.append(Case.timed(label, "full recount", slow, queries=1))
        result.cases.append(
            Case.timed(label, "counters (endpoint)", fast).compare_to(result.cases[-1])
        )
        [sql] = [q for q in captured_queries(after) if "tenant_stats_counter" in q]
        explained = explain_analyze(sql, repeat=max(3, ctx.repeat // 3))
        result.metrics[f"stats_sql_ms_{tenant.spec.customers}"] = explained.execution_ms
        result.metrics[f"stats_endpoint_ms_{tenant.spec.customers}"] = fast.median_ms
        result.metrics[f"stats_recount_ms_{tenant.spec.customers}"] = slow.median_ms
        # The counters must say what the rows say ("today" taken at one moment for both).
        now = timezone.now()
        matches = tenant_stats(business=business, now=now) == tenant_stats_from_rows(
            business=business, now=now
        )
        result.metrics[f"stats_matches_recount_{tenant.spec.customers}"] = float(matches)
        rows.append(
            [
                label,
                fmt_ms(slow.median_ms),
                fmt_ms(fast.median_ms),
                fmt_ms(explained.execution_ms),
                "yes" if explained.execution_ms <= TARGET_SQL_MS else "NO",
                "yes" if matches else "NO",
                plan_summary(explained.plan),
            ]
        )
    result.tables.append(
        Table(
            title="median ms",
            columns=[
                "tenant",
                "before: full recount",
                "after: endpoint",
                "after: SQL execution",
                f"SQL ≤ {TARGET_SQL_MS:.0f} ms",
                "equals a full recount",
                "plan",
            ],
            rows=rows,
        )
    )
    return result
