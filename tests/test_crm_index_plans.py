"""Each list endpoint's own query is served by its index, without a sort.

The data is realistic and skewed (tests/skewed_data.py), ANALYZEd, and the planner
runs with its default settings. Each test makes the real request, captures the page
query the endpoint sent, and reads its plan from EXPLAIN (FORMAT JSON): the query,
its filters, its ORDER BY and LIMIT are exactly the production ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import CallLog, Customer, Lead
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


def assert_index_without_sort(sql: str, index: str) -> dict[str, Any]:
    plan = explain(sql)
    steps = describe(plan)
    assert f"Index Scan {index}" in steps, steps
    assert not [n for n in nodes(plan) if n["Node Type"] in SORTS], steps
    # A small joined table (the users behind changed_by) may rightly be read whole.
    big_scans = [
        n for n in nodes(plan) if n["Node Type"] == "Seq Scan" and n["Relation Name"] in CRM_TABLES
    ]
    assert not big_scans, steps
    return plan


# --- Leads -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["won", "contacted", "new"], ids=["rare", "middling", "common"])
def test_lead_list_by_status_uses_the_status_index_without_a_sort(client, status) -> None:
    sql = page_query(client, f"/api/leads/?status={status}", "leads")
    assert_index_without_sort(sql, "idx_leads_tenant_status_created")


def test_the_next_page_of_a_status_uses_the_status_index_without_a_sort(client) -> None:
    first = client.get("/api/leads/?status=contacted").json()
    sql = page_query(client, first["next"], "leads")
    plan = assert_index_without_sort(sql, "idx_leads_tenant_status_created")
    # The cursor's position is part of the index condition, not a filter after it.
    (scan,) = [n for n in nodes(plan) if n.get("Index Name") == "idx_leads_tenant_status_created"]
    assert "created_at <" in scan["Index Cond"]


def test_the_unfiltered_lead_list_uses_the_tenant_newest_first_index(client) -> None:
    sql = page_query(client, "/api/leads/", "leads")
    assert_index_without_sort(sql, "idx_leads_tenant_created")


def test_several_common_statuses_walk_the_tenant_index_and_filter(client) -> None:
    # No single index delivers several statuses in created_at order. When the statuses
    # are frequent, PostgreSQL walks the tenant's leads newest first and keeps the
    # matching ones until the page is full: still no sort.
    sql = page_query(client, "/api/leads/?status=new,contacted", "leads")
    plan = assert_index_without_sort(sql, "idx_leads_tenant_created")
    (scan,) = [n for n in nodes(plan) if n.get("Index Name") == "idx_leads_tenant_created"]
    assert "status" in scan["Filter"]


def test_several_rare_statuses_use_the_status_index_and_sort_only_their_rows(client) -> None:
    # When the statuses are rare, walking the whole tenant would read too many rows:
    # the status index finds the matching rows and a bounded (top-N) sort orders them.
    # Calls have such statuses (canceled 1%, queued none); see docs/indexes.md.
    sql = page_query(client, "/api/calls/?status=canceled,queued", "call_log")
    plan = explain(sql, analyze=True)
    steps = describe(plan)
    assert "Index Scan idx_call_log_business_status_created" in steps, steps
    (sort,) = [n for n in nodes(plan) if n["Node Type"] in SORTS]
    assert sort["Node Type"] == "Sort" and sort["Sort Key"] == ["created_at DESC"]
    assert sort["Sort Space Type"] == "Memory"
    assert sort["Actual Rows"] <= 51  # a page is all it keeps


def test_ordering_by_id_too_would_cost_the_status_list_its_sort_free_plan(data) -> None:
    """Why the lead and call lists order by created_at alone: the contract indexes have
    no id, so adding it as a tie-breaker brings an Incremental Sort, or (for a frequent
    status) a walk of the tenant-wide index instead of the status index."""
    leads, calls = Lead.objects.for_business(data.large), CallLog.objects.for_business(data.large)
    for queryset, status, status_index in (
        (leads, "won", "idx_leads_tenant_status_created"),
        (leads, "new", "idx_leads_tenant_status_created"),
        (calls, "no_answer", "idx_call_log_business_status_created"),
        (calls, "completed", "idx_call_log_business_status_created"),
    ):
        with_id = queryset.filter(status=status).order_by("-created_at", "-id")[:51]
        steps = describe(json.loads(with_id.explain(format="json"))[0]["Plan"])
        sorted_after_the_index = "Incremental Sort" in steps or "Sort" in steps
        assert sorted_after_the_index or f"Index Scan {status_index}" not in steps, steps


def test_the_leads_of_a_busy_customer_use_the_customer_index(client, data) -> None:
    customer = Customer.objects.get(business=data.large, phone_e164=data.busiest_number)
    sql = page_query(client, f"/api/leads/?customer={customer.pk}", "leads")
    assert_index_without_sort(sql, "idx_leads_customer_created")


def test_status_history_uses_the_lead_index_without_a_sort(client, data) -> None:
    url = f"/api/leads/{data.lead_with_long_history.pk}/status-history/"
    sql = page_query(client, url, "lead_status_history")
    assert_index_without_sort(sql, "idx_lead_status_history_lead_created")


# --- Calls -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["failed", "no_answer", "completed"])
def test_call_list_by_status_uses_the_status_index_without_a_sort(client, status) -> None:
    sql = page_query(client, f"/api/calls/?status={status}", "call_log")
    assert_index_without_sort(sql, "idx_call_log_business_status_created")


def test_the_unfiltered_call_list_uses_the_business_newest_first_index(client) -> None:
    sql = page_query(client, "/api/calls/", "call_log")
    assert_index_without_sort(sql, "idx_call_log_business_created")


# --- WhatsApp and customers ------------------------------------------------------------


@pytest.mark.parametrize("which", ["busiest_number", "quiet_number"])
def test_a_conversation_uses_the_conversation_index_without_a_sort(client, data, which) -> None:
    number = getattr(data, which)
    sql = page_query(client, f"/api/whatsapp/messages/?to_number={number}", "whatsapp_message")
    assert_index_without_sort(sql, "idx_whatsapp_message_business_to_created")


def test_the_customer_list_uses_the_business_newest_first_index(client) -> None:
    sql = page_query(client, "/api/customers/", "customer")
    assert_index_without_sort(sql, "idx_customer_business_created")
