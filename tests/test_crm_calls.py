"""The calls API: the newest-first list with its filters, and idempotent ingestion."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from crm import services
from crm.models import CallLog
from tests import factories
from tests.budgets import REQUEST_OVERHEAD
from tests.concurrency import TIMEOUT, run_in_threads, wait_for_a_lock_wait

pytestmark = pytest.mark.django_db

# 1-2 REQUEST_OVERHEAD (token+user, membership+business+settings), 3 the page of calls
CALL_LIST_QUERIES = REQUEST_OVERHEAD + 1


def call_payload(**fields):  # type: ignore[no-untyped-def]
    payload = {
        "call_sid": "CA0123456789abcdef0123456789abcdef",
        "from_number": "+972501234567",
        "to_number": "+97235550100",
        "direction": "inbound",
        "status": "completed",
        "duration": 42,
        "summary": "Asked for a quote.",
    }
    return {**payload, **fields}


def ids(response) -> list[int]:  # type: ignore[no-untyped-def]
    return [row["id"] for row in response.json()["results"]]


# --- Listing ---------------------------------------------------------------------------


def test_calls_are_listed_newest_first_and_filter_by_status_direction_customer(
    api_client_for, agent_a, business_a
) -> None:
    now = timezone.now()
    customer = factories.make_customer(business_a)
    old = factories.make_call(business_a, customer, created_at=now - timedelta(hours=2))
    missed = factories.make_call(
        business_a, status="no_answer", created_at=now - timedelta(hours=1)
    )
    outbound = factories.make_call(business_a, customer, direction="outbound", created_at=now)
    client = api_client_for(agent_a)
    assert ids(client.get("/api/calls/")) == [outbound.pk, missed.pk, old.pk]
    assert ids(client.get("/api/calls/", {"status": "no_answer"})) == [missed.pk]
    assert ids(client.get("/api/calls/?status=no_answer,completed")) == [
        outbound.pk,
        missed.pk,
        old.pk,
    ]
    assert ids(client.get("/api/calls/", {"direction": "outbound"})) == [outbound.pk]
    assert ids(client.get("/api/calls/", {"customer": customer.pk})) == [outbound.pk, old.pk]


@pytest.mark.parametrize(
    "query", ["status=hung_up", "direction=sideways", "customer=x", "to_number=1", "page_size=999"]
)
def test_bad_call_list_parameters_are_400(api_client_for, agent_a, query) -> None:
    response = api_client_for(agent_a).get(f"/api/calls/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


@pytest.mark.parametrize(
    "query",
    ["", "?status=completed", "?status=completed,busy", "?direction=inbound", "?customer={c}"],
)
def test_call_list_query_count_is_the_same_at_two_data_sizes(
    api_client_for, agent_a, business_a, django_assert_num_queries, query
) -> None:
    customer = factories.make_customer(business_a)
    url = "/api/calls/" + query.format(c=customer.pk)
    client = api_client_for(agent_a)
    for _ in range(2):
        factories.make_call(business_a, customer)
    client.get(url)  # warm-up
    with django_assert_num_queries(CALL_LIST_QUERIES):
        small = client.get(url)
    for _ in range(15):
        factories.make_call(business_a, customer)
    with django_assert_num_queries(CALL_LIST_QUERIES):
        large = client.get(url)
    assert (len(small.json()["results"]), len(large.json()["results"])) == (2, 17)


def test_outsider_sees_no_calls(api_client_for, outsider_b, business_a) -> None:
    customer = factories.make_customer(business_a)
    factories.make_call(business_a, customer)
    client = api_client_for(outsider_b)
    assert client.get("/api/calls/").json()["results"] == []
    assert client.get("/api/calls/", {"customer": customer.pk}).json()["results"] == []


# --- Ingesting -------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["owner_a", "admin_a", "manager_a", "agent_a"])
def test_every_role_can_ingest_a_call(request, api_client_for, fixture) -> None:
    user = request.getfixturevalue(fixture)
    response = api_client_for(user).post("/api/calls/", call_payload(), format="json")
    assert response.status_code == 201


def test_an_inbound_call_links_the_caller_and_normalises_numbers(
    api_client_for, agent_a, business_a, business_b
) -> None:
    caller = factories.make_customer(business_a, phone_e164="+972501234567")
    factories.make_customer(business_b, phone_e164="+972501234567")
    response = api_client_for(agent_a).post(
        "/api/calls/",
        call_payload(from_number="050-123-4567", to_number="03-555-0100"),
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["from_number"], body["to_number"]) == ("+972501234567", "+97235550100")
    assert body["customer"] == caller.pk


def test_an_outbound_call_links_the_callee(api_client_for, agent_a, business_a) -> None:
    callee = factories.make_customer(business_a, phone_e164="+972501234567")
    response = api_client_for(agent_a).post(
        "/api/calls/",
        call_payload(direction="outbound", from_number="+97235550100", to_number="+972501234567"),
        format="json",
    )
    assert response.json()["customer"] == callee.pk


def test_a_call_from_an_unknown_number_creates_no_customer(
    api_client_for, agent_a, business_a
) -> None:
    response = api_client_for(agent_a).post("/api/calls/", call_payload(), format="json")
    assert response.json()["customer"] is None
    assert not business_a.customers.exists()


def test_a_retried_call_returns_the_stored_one_unchanged(api_client_for, agent_a) -> None:
    client = api_client_for(agent_a)
    first = client.post("/api/calls/", call_payload(), format="json")
    retry = client.post("/api/calls/", call_payload(status="failed", duration=1), format="json")
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    assert CallLog.objects.count() == 1


def test_the_same_call_sid_in_another_business_is_a_separate_call_revealing_nothing(
    api_client_for, agent_a, business_a, business_b
) -> None:
    foreign_customer = factories.make_customer(business_b, name="Secret Person")
    foreign = factories.make_call(
        business_b, foreign_customer, call_sid="CAforeign", summary="Confidential summary"
    )
    response = api_client_for(agent_a).post(
        "/api/calls/", call_payload(call_sid="CAforeign"), format="json"
    )
    # Stored for this tenant like any new call: neither refused nor told about the other.
    assert response.status_code == 201
    text = response.content.decode()
    for secret in ("Secret Person", "Confidential", foreign.from_number, str(foreign.pk)):
        assert secret not in text
    assert sorted(
        CallLog.objects.filter(call_sid="CAforeign").values_list("business_id", flat=True)
    ) == sorted([business_a.pk, business_b.pk])
    foreign.refresh_from_db()
    assert foreign.summary == "Confidential summary"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"from_number": "12"}, "from_number"),
        ({"to_number": "not a number"}, "to_number"),
        ({"direction": "sideways"}, "direction"),
        ({"status": "hung_up"}, "status"),
        ({"duration": -5}, "duration"),
        ({"call_sid": ""}, "call_sid"),
        ({"call_sid": "C" * 65}, "call_sid"),
        ({"recording_url": "not a url"}, "recording_url"),
        ({"customer": "abc"}, "customer"),
        ({"created_at": "yesterday"}, "created_at"),
        ({"created_at": "2999-01-01T00:00:00Z"}, "created_at"),
    ],
)
def test_an_invalid_call_is_400_naming_the_field_and_writes_nothing(
    api_client_for, agent_a, changes, field
) -> None:
    response = api_client_for(agent_a).post("/api/calls/", call_payload(**changes), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not CallLog.objects.exists()


def test_a_foreign_customer_id_is_rejected_and_never_linked(
    api_client_for, agent_a, business_b
) -> None:
    foreign = factories.make_customer(business_b)
    response = api_client_for(agent_a).post(
        "/api/calls/", call_payload(customer=foreign.pk), format="json"
    )
    assert response.status_code == 400
    assert "customer" in response.json()
    assert not CallLog.objects.exists()


def test_the_provider_start_time_is_kept(api_client_for, agent_a) -> None:
    started = "2025-03-01T09:30:00+02:00"
    response = api_client_for(agent_a).post(
        "/api/calls/", call_payload(created_at=started), format="json"
    )
    assert response.json()["created_at"] == "2025-03-01T07:30:00Z"


# --- Concurrency (real threads, committed transactions) ---------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_of_one_call_store_one_row(api_client_for, agent_a) -> None:
    clients = [api_client_for(agent_a) for _ in range(4)]
    start = threading.Barrier(len(clients))

    def post(client):  # type: ignore[no-untyped-def]
        start.wait(TIMEOUT)
        return client.post("/api/calls/", call_payload(), format="json").status_code

    futures = run_in_threads(*(lambda c=c: post(c) for c in clients))
    statuses = sorted(future.result(TIMEOUT) for future in futures)
    assert statuses == [200, 200, 200, 201]
    assert CallLog.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_racing_the_first_insert_waits_and_returns_the_stored_call(
    business_a,
) -> None:
    """The second request finds nothing, inserts, waits on the unique index for the
    first one to commit, and then answers with the first one's row."""
    inserted, release = threading.Event(), threading.Event()
    fields = call_payload()

    def first():  # type: ignore[no-untyped-def]
        with transaction.atomic():
            result = services.call_log_ingest(business=business_a, **fields)
            inserted.set()
            release.wait(TIMEOUT)
        return result

    def second():  # type: ignore[no-untyped-def]
        inserted.wait(TIMEOUT)
        return services.call_log_ingest(business=business_a, **fields)

    first_future, second_future = run_in_threads(first, second)
    wait_for_a_lock_wait()
    release.set()
    won, lost = first_future.result(TIMEOUT), second_future.result(TIMEOUT)
    assert (won.created, lost.created) == (True, False)
    assert won.record.pk == lost.record.pk
    assert CallLog.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_foreign_call_sid_being_inserted_neither_blocks_nor_clashes(
    business_a, business_b
) -> None:
    inserted, release = threading.Event(), threading.Event()
    fields = call_payload()

    def first():  # type: ignore[no-untyped-def]
        with transaction.atomic():
            services.call_log_ingest(business=business_b, **fields)
            inserted.set()
            release.wait(TIMEOUT)

    def second():  # type: ignore[no-untyped-def]
        inserted.wait(TIMEOUT)
        return services.call_log_ingest(business=business_a, **fields)

    first_future, second_future = run_in_threads(first, second)
    try:
        # Done while the other tenant's insert is still uncommitted: not waiting on it.
        assert second_future.result(TIMEOUT).created is True
    finally:
        release.set()
    first_future.result(TIMEOUT)
    assert sorted(CallLog.objects.values_list("business_id", flat=True)) == sorted(
        [business_a.pk, business_b.pk]
    )
