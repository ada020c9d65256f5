"""Each list endpoint's own query is served by its index, in order, never a full sort.

The data is realistic and skewed (tests/skewed_data.py), ANALYZEd, and the planner
runs with its default settings. Each test makes the real request, captures the page
query the endpoint sent, and reads its plan from EXPLAIN (FORMAT JSON): the query,
its filters, its ORDER BY and LIMIT are exactly the production ones.

Every list orders by ``created_at DESC, id DESC`` (keyset pagination). Indexes ending
in ``id`` deliver that order as it is. The four contract indexes end in ``created_at``:
PostgreSQL reads them in that order and an Incremental Sort orders only the rows that
share one ``created_at`` by id; the tests below check that it is presorted on
``created_at`` and that no plain Sort of the tenant's rows appears.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.fields import DateTimeField

from crm.models import Customer, Lead
from tests import skewed_data

pytestmark = pytest.mark.django_db

SORTS = {"Sort", "Incremental Sort"}


@pytest.fixture(scope="module")
def data(django_db_setup, django_db_blocker) -> Iterator[skewed_data.Dataset]:  # type: ignore[no-untyped-def]
    # Loaded and committed once for the module (~100k rows), removed at the end.
    with django_db_blocker.unblock():
        try:
            yield skewed_data.load()
        finally:
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def client(api_client_for, data):  # type: ignore[no-untyped-def]
    return api_client_for(data.member)


def drf_datetime(value: datetime) -> str:
    return DateTimeField().to_representation(value)


def explain(sql: str, *, analyze: bool = False) -> dict[str, Any]:
    options = "ANALYZE, FORMAT JSON" if analyze else "FORMAT JSON"
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ({options}) {sql}")
        (result,) = cursor.fetchone()
    plan = result if isinstance(result, list) else json.loads(result)
    return plan[0]["Plan"]


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def page_query(client, url: str, table: str) -> str:  # type: ignore[no-untyped-def]
    """The SQL of the page that the endpoint at ``url`` reads from ``table``."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    (sql,) = [q["sql"] for q in captured if f'FROM "{table}"' in q["sql"]]
    return sql


CRM_TABLES = {"customer", "leads", "lead_status_history", "call_log", "whatsapp_message"}


def describe(plan: dict[str, Any]) -> list[str]:
    return [f"{n['Node Type']} {n.get('Index Name', '')}".strip() for n in nodes(plan)]


def assert_index_in_order(sql: str, index: str, *, analyze: bool = False) -> dict[str, Any]:
    """The page reads ``index`` in order: no Sort at all, and an Incremental Sort only
    on top of ``created_at`` order (it sorts the rows that share a time by id)."""
    plan = explain(sql, analyze=analyze)
    steps = describe(plan)
    assert f"Index Scan {index}" in steps, steps
    assert not [n for n in nodes(plan) if n["Node Type"] == "Sort"], steps
    for node in nodes(plan):
        if node["Node Type"] == "Incremental Sort":
            # Qualified ("lead_status_history.created_at") when the query joins.
            assert [k.rsplit(".", 1)[-1] for k in node["Presorted Key"]] == ["created_at"], node
    # A small joined table (the users behind changed_by) may rightly be read whole.
    big_scans = [
        n for n in nodes(plan) if n["Node Type"] == "Seq Scan" and n["Relation Name"] in CRM_TABLES
    ]
    assert not big_scans, steps
    return plan


def assert_no_sort_at_all(sql: str, index: str) -> dict[str, Any]:
    plan = assert_index_in_order(sql, index)
    assert not [n for n in nodes(plan) if n["Node Type"] in SORTS], describe(plan)
    return plan


# --- Leads -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["won", "contacted", "new"], ids=["rare", "middling", "common"])
def test_lead_list_by_status_reads_the_contract_index_in_order(client, status) -> None:
    sql = page_query(client, f"/api/leads/?status={status}", "leads")
    assert_index_in_order(sql, "idx_leads_tenant_status_created")


def test_the_next_page_of_a_status_starts_inside_the_contract_index(client) -> None:
    first = client.get("/api/leads/?status=contacted").json()
    sql = page_query(client, first["next"], "leads")
    plan = assert_index_in_order(sql, "idx_leads_tenant_status_created")
    # The cursor's (created_at, id) bounds the scan on the index's created_at: the scan
    # starts at the previous page's last time, not at the tenant's newest lead.
    (scan,) = [n for n in nodes(plan) if n.get("Index Name") == "idx_leads_tenant_status_created"]
    assert "created_at <=" in scan["Index Cond"]


def test_a_page_inside_thousands_of_tied_leads_sorts_only_the_tied_rows(client, data) -> None:
    # 3,000 leads of one status share a created_at (a bulk import); a page in the middle
    # of them reads the contract index from that time on and sorts the tied rows by id,
    # never the status's 4,000 other rows or the tenant's 20,000.
    tied_at = timezone.now() - timedelta(days=30)
    Lead.objects.bulk_create(
        Lead(business=data.large, status="contacted", created_at=tied_at) for _ in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads")
    url, middle = "/api/leads/?status=contacted&page_size=200", None
    while middle is None:
        page = client.get(url).json()
        if any(row["created_at"] == drf_datetime(tied_at) for row in page["results"]):
            middle = page["next"]
        url = page["next"]
    plan = assert_index_in_order(
        page_query(client, middle, "leads"), "idx_leads_tenant_status_created", analyze=True
    )
    (scan,) = [n for n in nodes(plan) if n.get("Index Name") == "idx_leads_tenant_status_created"]
    assert scan["Actual Rows"] <= 3000 + 201  # the tied rows and at most the page after
    for sort in (n for n in nodes(plan) if n["Node Type"] == "Incremental Sort"):
        assert sort["Actual Rows"] <= 201


def test_the_unfiltered_lead_list_uses_the_tenant_newest_first_index(client) -> None:
    sql = page_query(client, "/api/leads/", "leads")
    assert_no_sort_at_all(sql, "idx_leads_tenant_created")


@pytest.mark.parametrize(
    ("url", "table", "index", "statuses"),
    [
        ("/api/leads/?status=new,contacted", "leads", "idx_leads_tenant_status_created", 2),
        (
            "/api/leads/?status=won&status=lost&status=unqualified",
            "leads",
            "idx_leads_tenant_status_created",
            3,
        ),
        (
            "/api/calls/?status=canceled,queued",
            "call_log",
            "idx_call_log_business_status_created",
            2,
        ),
    ],
    ids=["two common lead statuses", "three rare lead statuses", "rare call statuses"],
)
def test_several_statuses_read_one_bounded_range_per_status(
    client, url, table, index, statuses
) -> None:
    # No index holds several statuses in created_at order. Each status is read as its
    # own range of the contract index, stopped at a page + 1, and only those rows are
    # sorted: at most statuses * 51, whatever the tenant's size.
    plan = explain(page_query(client, url, table), analyze=True)
    steps = describe(plan)
    appends = [n for n in nodes(plan) if n["Node Type"] == "Append"]
    assert len(appends) == 1 and len(appends[0]["Plans"]) == statuses, steps
    for branch in appends[0]["Plans"]:
        (limit,) = [n for n in nodes(branch) if n["Node Type"] == "Limit"]
        assert limit["Plan Rows"] <= 51 and limit["Actual Rows"] <= 51
        assert f"Index Scan {index}" in describe(branch), steps
    for sort in (n for n in nodes(plan) if n["Node Type"] in SORTS):
        assert sort["Actual Rows"] <= 51 or sort.get("Presorted Key"), sort
    big_scans = [n for n in nodes(plan) if n["Node Type"] == "Seq Scan"]
    assert not big_scans, steps


def test_the_leads_of_a_busy_customer_use_the_customer_index(client, data) -> None:
    customer = Customer.objects.get(business=data.large, phone_e164=data.busiest_number)
    sql = page_query(client, f"/api/leads/?customer={customer.pk}", "leads")
    assert_no_sort_at_all(sql, "idx_leads_customer_created")


def test_status_history_reads_the_contract_index_in_order(client, data) -> None:
    url = f"/api/leads/{data.lead_with_long_history.pk}/status-history/"
    sql = page_query(client, url, "lead_status_history")
    assert_index_in_order(sql, "idx_lead_status_history_lead_created")


# --- Calls -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["failed", "no_answer"])
def test_call_list_by_status_reads_the_contract_index_in_order(client, status) -> None:
    sql = page_query(client, f"/api/calls/?status={status}", "call_log")
    assert_index_in_order(sql, "idx_call_log_business_status_created")


def test_a_status_of_most_calls_walks_the_tenant_index_without_any_sort(client) -> None:
    # 75% of calls are completed: PostgreSQL prefers walking the tenant's calls newest
    # first (already in (created_at, id) order) and skipping the other quarter, to the
    # contract index plus a sort of tied times. Either reads about a page of rows;
    # docs/indexes.md has both costs.
    sql = page_query(client, "/api/calls/?status=completed", "call_log")
    plan = assert_no_sort_at_all(sql, "idx_call_log_business_created")
    (scan,) = [n for n in nodes(plan) if n.get("Index Name") == "idx_call_log_business_created"]
    assert "status" in scan["Filter"]


def test_the_unfiltered_call_list_uses_the_business_newest_first_index(client) -> None:
    sql = page_query(client, "/api/calls/", "call_log")
    assert_no_sort_at_all(sql, "idx_call_log_business_created")


# --- WhatsApp and customers ------------------------------------------------------------


@pytest.mark.parametrize("which", ["busiest_number", "quiet_number"])
def test_a_conversation_reads_the_contract_index_in_order(client, data, which) -> None:
    number = getattr(data, which)
    sql = page_query(client, f"/api/whatsapp/messages/?to_number={number}", "whatsapp_message")
    assert_index_in_order(sql, "idx_whatsapp_message_business_to_created")


def test_the_customer_list_uses_the_business_newest_first_index(client) -> None:
    sql = page_query(client, "/api/customers/", "customer")
    assert_no_sort_at_all(sql, "idx_customer_business_created")
