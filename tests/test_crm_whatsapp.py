"""The WhatsApp API: one conversation newest first, and ingestion idempotent per tenant."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from crm import services
from crm.models import WhatsAppMessage
from tests import factories
from tests.budgets import REQUEST_OVERHEAD
from tests.concurrency import TIMEOUT, run_in_threads, wait_for_a_lock_wait

pytestmark = pytest.mark.django_db

# 1-2 REQUEST_OVERHEAD (token+user, membership+business+settings), 3 the page of messages
CONVERSATION_QUERIES = REQUEST_OVERHEAD + 1
NUMBER = "+972501234567"


def message_payload(**fields):  # type: ignore[no-untyped-def]
    payload = {
        "provider_message_id": "wamid.HBgLOTcyNTAxMjM0NTY3FQIAEhgg",
        "to_number": NUMBER,
        "direction": "inbound",
        "status": "received",
        "body": "Hi, is anyone available today?",
    }
    return {**payload, **fields}


def ids(response) -> list[int]:  # type: ignore[no-untyped-def]
    return [row["id"] for row in response.json()["results"]]


def test_a_conversation_is_listed_newest_first_by_a_number_in_any_format(
    api_client_for, agent_a, business_a
) -> None:
    now = timezone.now()
    first = factories.make_whatsapp(business_a, to_number=NUMBER, created_at=now - timedelta(1))
    reply = factories.make_whatsapp(
        business_a, to_number=NUMBER, direction="outbound", status="read", created_at=now
    )
    factories.make_whatsapp(business_a, to_number="+972509999999")
    client = api_client_for(agent_a)
    for written in (NUMBER, "050-123-4567", "+972 50 123 4567"):
        response = client.get("/api/whatsapp/messages/", {"to_number": written})
        assert response.status_code == 200
        assert ids(response) == [reply.pk, first.pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [("", "to_number"), ("?to_number=", "to_number"), ("?to_number=12", "to_number")],
)
def test_a_conversation_needs_a_valid_number(api_client_for, agent_a, query, field) -> None:
    response = api_client_for(agent_a).get(f"/api/whatsapp/messages/{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_conversation_query_count_is_the_same_at_two_data_sizes(
    api_client_for, agent_a, business_a, django_assert_num_queries
) -> None:
    url = f"/api/whatsapp/messages/?to_number={NUMBER}"
    client = api_client_for(agent_a)
    for _ in range(2):
        factories.make_whatsapp(business_a, to_number=NUMBER)
    client.get(url)  # warm-up
    with django_assert_num_queries(CONVERSATION_QUERIES):
        small = client.get(url)
    for _ in range(15):
        factories.make_whatsapp(business_a, to_number=NUMBER)
    with django_assert_num_queries(CONVERSATION_QUERIES):
        large = client.get(url)
    assert (len(small.json()["results"]), len(large.json()["results"])) == (2, 17)


def test_outsider_sees_nothing_of_the_same_number_in_another_business(
    api_client_for, outsider_b, business_a
) -> None:
    factories.make_whatsapp(business_a, to_number=NUMBER)
    response = api_client_for(outsider_b).get("/api/whatsapp/messages/", {"to_number": NUMBER})
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_a_message_links_the_customer_with_its_number(
    api_client_for, agent_a, business_a, business_b
) -> None:
    customer = factories.make_customer(business_a, phone_e164=NUMBER)
    factories.make_customer(business_b, phone_e164=NUMBER)
    response = api_client_for(agent_a).post(
        "/api/whatsapp/messages/", message_payload(to_number="050 123 4567"), format="json"
    )
    assert response.status_code == 201
    assert (response.json()["to_number"], response.json()["customer"]) == (NUMBER, customer.pk)


def test_a_retried_message_returns_the_stored_one(api_client_for, agent_a) -> None:
    client = api_client_for(agent_a)
    first = client.post("/api/whatsapp/messages/", message_payload(), format="json")
    retry = client.post("/api/whatsapp/messages/", message_payload(body="changed"), format="json")
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    assert WhatsAppMessage.objects.count() == 1


def test_the_same_provider_id_in_another_business_is_a_separate_message(
    api_client_for, agent_a, business_a, business_b
) -> None:
    factories.make_whatsapp(
        business_b, provider_message_id=message_payload()["provider_message_id"], body="Private"
    )
    response = api_client_for(agent_a).post(
        "/api/whatsapp/messages/", message_payload(), format="json"
    )
    assert response.status_code == 201
    assert "Private" not in response.content.decode()
    assert WhatsAppMessage.objects.filter(business=business_a).count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"to_number": "nope"}, "to_number"),
        ({"provider_message_id": ""}, "provider_message_id"),
        ({"direction": "up"}, "direction"),
        ({"status": "lost"}, "status"),
        ({"ai_generated": "perhaps"}, "ai_generated"),
        ({"customer": 99999999999999999999}, "customer"),
    ],
)
def test_an_invalid_message_is_400_naming_the_field_and_writes_nothing(
    api_client_for, agent_a, changes, field
) -> None:
    response = api_client_for(agent_a).post(
        "/api/whatsapp/messages/", message_payload(**changes), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not WhatsAppMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_of_one_message_store_one_row(api_client_for, agent_a) -> None:
    clients = [api_client_for(agent_a) for _ in range(3)]
    start = threading.Barrier(len(clients))

    def post(client):  # type: ignore[no-untyped-def]
        start.wait(TIMEOUT)
        return client.post("/api/whatsapp/messages/", message_payload(), format="json").status_code

    futures = run_in_threads(*(lambda c=c: post(c) for c in clients))
    assert sorted(future.result(TIMEOUT) for future in futures) == [200, 200, 201]
    assert WhatsAppMessage.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_message_racing_the_first_insert_returns_the_stored_one(
    business_a,
) -> None:
    inserted, release = threading.Event(), threading.Event()
    fields = message_payload()

    def first():  # type: ignore[no-untyped-def]
        with transaction.atomic():
            result = services.whatsapp_message_ingest(business=business_a, **fields)
            inserted.set()
            release.wait(TIMEOUT)
        return result

    def second():  # type: ignore[no-untyped-def]
        inserted.wait(TIMEOUT)
        return services.whatsapp_message_ingest(business=business_a, **fields)

    first_future, second_future = run_in_threads(first, second)
    wait_for_a_lock_wait()
    release.set()
    won, lost = first_future.result(TIMEOUT), second_future.result(TIMEOUT)
    assert (won.created, lost.created, won.record.pk) == (True, False, lost.record.pk)
    assert WhatsAppMessage.objects.count() == 1
