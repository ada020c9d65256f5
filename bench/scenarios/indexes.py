"""The four contract indexes, each measured on its query pattern with and without it.

Same data, same connection: the index is dropped inside a transaction, the pattern is
measured, and the transaction rolls back (DROP INDEX takes an ACCESS EXCLUSIVE lock on
the table, harmless on the bench database). Three variants per pattern:

- *with its index*: the schema as shipped;
- *without its index*: only that index dropped, every other index kept — what the index
  adds to this schema (the planner may find a lesser index that still helps);
- *FK index only*: every non-constraint index that leads with the filtered foreign key
  dropped, and the plain one-column index Django creates for a ForeignKey put in their
  place — the schema one gets from Django's defaults, before any of this work.

The SQL is the query the real list endpoint runs, captured from a request, where the
endpoint exists; otherwise an ORM query of the same shape (noted in the table).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from bench.client import TenantClient
from bench.context import BenchContext
from bench.datagen import Tenant
from bench.harness import captured_queries, time_calls
from bench.results import ScenarioResult, Table, fmt_ms, fmt_speedup
from bench.sql import explain_analyze, plan_summary, plan_text
from crm.models import CallLog, Lead, LeadStatusHistory, WhatsAppMessage

KEY = "indexes"
TITLE = "The four indexes, each with and without it"
PAGE = 51  # a page of 50 plus the row that tells cursor pagination there is a next page

WITH = "with its index"
WITHOUT = "without its index"
FK_ONLY = "FK index only"


@dataclass(frozen=True)
class Pattern:
    key: str
    title: str
    index: str
    table: str
    fk_column: str
    # (endpoint path, query parameters) for the main tenant, or None without an endpoint.
    endpoint: Callable[[Tenant, dict[str, Any]], tuple[str, dict[str, Any]]]
    queryset: Callable[[Tenant, dict[str, Any]], QuerySet[Any]]


def _choices(tenant: Tenant) -> dict[str, Any]:
    """The concrete filter values: a typical status, a long conversation, a long timeline."""
    lead = (
        Lead.objects.for_business(tenant.business_id)
        .filter(status=Lead.Status.WON)  # won leads have the longest status walk
        .order_by("-created_at", "-id")
        .first()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_number FROM whatsapp_message WHERE business_id = %s "
            "GROUP BY to_number ORDER BY count(*) DESC LIMIT 1",
            [tenant.business_id],
        )
        (busiest_number,) = cursor.fetchone()
    return {
        "lead_status": Lead.Status.QUALIFIED,
        "call_status": CallLog.Status.NO_ANSWER,
        "lead_id": lead.pk if lead else 0,
        "to_number": busiest_number,
    }


def _newest(qs: QuerySet[Any]) -> QuerySet[Any]:
    return qs.order_by("-created_at", "-id")[:PAGE]


PATTERNS = [
    Pattern(
        "leads_by_status",
        "leads of a status, newest first",
        "idx_leads_tenant_status_created",
        "leads",
        "tenant_id",
        lambda t, c: ("/api/leads/", {"status": c["lead_status"]}),
        lambda t, c: _newest(Lead.objects.for_business(t.business_id).filter(status=c["lead_status"])),
    ),
    Pattern(
        "status_timeline",
        "a lead's status history, newest first",
        "idx_lead_status_history_lead_created",
        "lead_status_history",
        "lead_id",
        lambda t, c: (f"/api/leads/{c['lead_id']}/status-history/", {}),
        lambda t, c: _newest(
            LeadStatusHistory.objects.for_business(t.business_id).filter(lead_id=c["lead_id"])
        ),
    ),
    Pattern(
        "calls_by_status",
        "calls of a status, newest first",
        "idx_call_log_business_status_created",
        "call_log",
        "business_id",
        lambda t, c: ("/api/calls/", {"status": c["call_status"]}),
        lambda t, c: _newest(CallLog.objects.for_business(t.business_id).filter(status=c["call_status"])),
    ),
    Pattern(
        "whatsapp_conversation",
        "one WhatsApp conversation, newest first",
        "idx_whatsapp_message_business_to_created",
        "whatsapp_message",
        "business_id",
        lambda t, c: ("/api/whatsapp/messages/", {"to_number": c["to_number"]}),
        lambda t, c: _newest(
            WhatsAppMessage.objects.for_business(t.business_id).filter(to_number=c["to_number"])
        ),
    ),
]  # fmt: skip


def queryset_sql(qs: QuerySet[Any]) -> str:
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        return cursor.cursor.mogrify(sql, params).decode()


def endpoint_sql(client: TenantClient, path: str, params: dict[str, Any], table: str) -> str | None:
    """The last query of a request that reads ``table``, or None if there is no such endpoint."""
    from django.urls import Resolver404, resolve

    try:
        resolve(path)
    except Resolver404:
        return None
    queries = captured_queries(lambda: client.get(path, params))
    reading = [q for q in queries if f'FROM "{table}"' in q]
    return reading[-1] if reading else None


def _drop_for_variant(pattern: Pattern, variant: str) -> None:
    with connection.cursor() as cursor:
        if variant == WITHOUT:
            cursor.execute(f"DROP INDEX {pattern.index}")
        elif variant == FK_ONLY:
            cursor.execute(
                """
                SELECT i.relname FROM pg_index x
                JOIN pg_class i ON i.oid = x.indexrelid
                JOIN pg_class t ON t.oid = x.indrelid
                JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]
                WHERE t.relname = %s AND a.attname = %s
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
                """,
                [pattern.table, pattern.fk_column],
            )
            for (name,) in cursor.fetchall():
                cursor.execute(f'DROP INDEX "{name}"')
            cursor.execute(f"CREATE INDEX bench_fk_only ON {pattern.table} ({pattern.fk_column})")
            cursor.execute(f"ANALYZE {pattern.table}")


@dataclass
class Measured:
    variant: str
    plan: str
    execution_ms: float
    execution_p95_ms: float
    endpoint_ms: float | None
    plan_text: str


def measure(
    ctx: BenchContext,
    pattern: Pattern,
    variant: str,
    sql: str,
    endpoint: tuple[str, dict[str, Any]] | None,
    client: TenantClient,
) -> Measured:
    with transaction.atomic():
        _drop_for_variant(pattern, variant)
        explained = explain_analyze(sql, repeat=min(ctx.repeat, 15))
        endpoint_ms = None
        if endpoint is not None:
            path, params = endpoint
            timing = time_calls(lambda: client.get(path, params), repeat=min(ctx.repeat, 15))
            endpoint_ms = timing.median_ms
        text = plan_text(sql)
        transaction.set_rollback(True)
    return Measured(
        variant,
        plan_summary(explained.plan),
        explained.execution_ms,
        explained.execution_p95_ms,
        endpoint_ms,
        text,
    )


def run(ctx: BenchContext) -> ScenarioResult:
    tenant = ctx.main
    client = TenantClient(tenant)
    choices = _choices(tenant)
    result = ScenarioResult(
        KEY,
        TITLE,
        about=(
            f"Main tenant ({tenant.spec.customers:,} customers). Filters: leads with status "
            f"'{choices['lead_status']}' (~10% of leads), calls with status "
            f"'{choices['call_status']}' (~15% of calls), the busiest WhatsApp conversation, "
            "the status history of the newest 'won' lead. SQL times are EXPLAIN ANALYZE "
            "execution times (median); the endpoint column times the real list endpoint "
            "through the whole stack, where it exists. Ratios: execution time without / with."
        ),
    )
    rows: list[list[Any]] = []
    chart: list[dict[str, Any]] = []
    for pattern in PATTERNS:
        path, params = pattern.endpoint(tenant, choices)
        sql = endpoint_sql(client, path, params, pattern.table)
        source = f"GET {path}"
        endpoint: tuple[str, dict[str, Any]] | None = (path, params)
        if sql is None:
            sql = queryset_sql(pattern.queryset(tenant, choices))
            source = "ORM query (endpoint not in this checkout yet)"
            endpoint = None
            result.missing.append(f"{pattern.title}: {path} is not in this checkout yet")
        measured = {
            variant: measure(ctx, pattern, variant, sql, endpoint, client)
            for variant in (WITH, WITHOUT, FK_ONLY)
        }
        with_index = measured[WITH]
        for variant, m in measured.items():
            speedup = m.execution_ms / with_index.execution_ms if variant != WITH else None
            if speedup is not None:
                suffix = "without_index" if variant == WITHOUT else "fk_only"
                result.metrics[f"{pattern.key}_{suffix}_ratio"] = speedup
            rows.append(
                [
                    f"{pattern.title} (`{pattern.index}`)" if variant == WITH else "",
                    variant,
                    m.plan,
                    fmt_ms(m.execution_ms),
                    fmt_ms(m.execution_p95_ms),
                    fmt_ms(m.endpoint_ms),
                    fmt_speedup(speedup, variant) if speedup else source,
                ]
            )
        chart.append(
            {
                "pattern": textwrap.fill(pattern.title.replace(", newest first", ""), 18),
                "ms": {v: m.execution_ms for v, m in measured.items()},
            }
        )
        result.details.append(
            f"#### {pattern.title}\n\n```sql\n{sql}\n```\n\n"
            + "\n\n".join(f"*{v}*\n\n```\n{m.plan_text}\n```" for v, m in measured.items())
        )
    result.tables.append(
        Table(
            columns=[
                "pattern (index)",
                "variant",
                "plan",
                "SQL exec median ms",
                "SQL exec p95 ms",
                "endpoint median ms",
                "ratio / SQL source",
            ],
            rows=rows,
        )
    )
    result.series["indexes"] = chart
    return result
