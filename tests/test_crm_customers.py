"""The customers API: CRUD within a tenant, one customer per phone number."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from crm import services
from crm.models import Customer
from tests import factories
from tests.budgets import REQUEST_OVERHEAD
from tests.concurrency import TIMEOUT, run_in_threads, wait_for_a_lock_wait

pytestmark = pytest.mark.django_db

# 1-2 REQUEST_OVERHEAD (token+user, membership+business+settings), 3 the page of customers
CUSTOMER_LIST_QUERIES = REQUEST_OVERHEAD + 1


def ids(response) -> list[int]:  # type: ignore[no-untyped-def]
    return [row["id"] for row in response.json()["results"]]


def test_customers_are_listed_newest_first_and_filter_by_source_and_search(
    api_client_for, agent_a, business_a
) -> None:
    now = timezone.now()
    old = factories.make_customer(
        business_a, name="Dana", source="web", created_at=now - timedelta(1)
    )
    new = factories.make_customer(business_a, name="Omer", source="web", created_at=now)
    referral = factories.make_customer(business_a, name="Dana B", source="referral")
    client = api_client_for(agent_a)
    assert ids(client.get("/api/customers/")) == [referral.pk, new.pk, old.pk]
    assert ids(client.get("/api/customers/", {"source": "web"})) == [new.pk, old.pk]
    assert ids(client.get("/api/customers/", {"search": "dana"})) == [referral.pk, old.pk]


@pytest.mark.parametrize("query", ["", "?source=web", "?search=Customer"])
def test_customer_list_query_count_is_the_same_at_two_data_sizes(
    api_client_for, agent_a, business_a, django_assert_num_queries, query
) -> None:
    client = api_client_for(agent_a)
    for _ in range(2):
        factories.make_customer(business_a, source="web")
    client.get(f"/api/customers/{query}")  # warm-up
    with django_assert_num_queries(CUSTOMER_LIST_QUERIES):
        small = client.get(f"/api/customers/{query}")
    for _ in range(15):
        factories.make_customer(business_a, source="web")
    with django_assert_num_queries(CUSTOMER_LIST_QUERIES):
        large = client.get(f"/api/customers/{query}")
    assert (len(small.json()["results"]), len(large.json()["results"])) == (2, 17)


def test_outsider_sees_no_customers_and_gets_404_for_each(
    api_client_for, outsider_b, business_a
) -> None:
    customer = factories.make_customer(business_a)
    client = api_client_for(outsider_b)
    url = f"/api/customers/{customer.pk}/"
    assert client.get("/api/customers/").json()["results"] == []
    assert client.get(url).status_code == 404
    assert client.patch(url, {"name": "Mine now"}, format="json").status_code == 404
    assert client.delete(url).status_code == 404
    customer.refresh_from_db()
    assert customer.name != "Mine now"


def test_a_customer_is_created_with_its_phone_in_e164(api_client_for, agent_a) -> None:
    response = api_client_for(agent_a).post(
        "/api/customers/", {"name": "Dana", "phone_e164": "050-123-4567"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["phone_e164"] == "+972501234567"


def test_a_phone_the_tenant_already_has_is_400_naming_phone_e164(
    api_client_for, agent_a, business_a, business_b
) -> None:
    factories.make_customer(business_a, phone_e164="+972501234567")
    factories.make_customer(business_b, phone_e164="+972521111111")
    client = api_client_for(agent_a)
    duplicate = client.post(
        "/api/customers/", {"name": "Again", "phone_e164": "+972 50 123 4567"}, format="json"
    )
    assert duplicate.status_code == 400
    assert list(duplicate.json()) == ["phone_e164"]
    # Another tenant's number is no obstacle (and is not revealed).
    assert (
        client.post(
            "/api/customers/", {"name": "Fine", "phone_e164": "+972521111111"}, format="json"
        ).status_code
        == 201
    )


def test_changing_to_a_phone_the_tenant_already_has_is_400(
    api_client_for, agent_a, business_a
) -> None:
    factories.make_customer(business_a, phone_e164="+972501234567")
    other = factories.make_customer(business_a, phone_e164="+972509999999")
    response = api_client_for(agent_a).patch(
        f"/api/customers/{other.pk}/", {"phone_e164": "0501234567"}, format="json"
    )
    assert response.status_code == 400
    assert "phone_e164" in response.json()
    other.refresh_from_db()
    assert other.phone_e164 == "+972509999999"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "X", "phone_e164": "123"}, "phone_e164"),
        ({"name": "X"}, "phone_e164"),
        ({"phone_e164": "+972501234567"}, "name"),
        ({"name": "X", "phone_e164": "+972501234567", "email": "@"}, "email"),
        ({"name": "X", "phone_e164": "+972501234567", "source": "?"}, "source"),
    ],
)
def test_an_invalid_customer_is_400_and_writes_nothing(
    api_client_for, agent_a, payload, field
) -> None:
    response = api_client_for(agent_a).post("/api/customers/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [("owner_a", 204), ("admin_a", 204), ("manager_a", 204), ("agent_a", 403)],
)
def test_only_managing_roles_delete_customers_and_records_stay_unlinked(
    request, api_client_for, business_a, fixture, expected
) -> None:
    customer = factories.make_customer(business_a)
    lead = factories.make_lead(business_a, customer)
    call = factories.make_call(business_a, customer)
    response = api_client_for(request.getfixturevalue(fixture)).delete(
        f"/api/customers/{customer.pk}/"
    )
    assert response.status_code == expected
    assert Customer.objects.filter(pk=customer.pk).exists() == (expected == 403)
    lead.refresh_from_db()
    call.refresh_from_db()
    linked = customer.pk if expected == 403 else None
    assert (lead.customer_id, call.customer_id) == (linked, linked)


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_one_phone_give_one_customer_and_400s(
    api_client_for, agent_a
) -> None:
    clients = [api_client_for(agent_a) for _ in range(3)]
    start = threading.Barrier(len(clients))

    def post(client):  # type: ignore[no-untyped-def]
        start.wait(TIMEOUT)
        response = client.post(
            "/api/customers/", {"name": "Dana", "phone_e164": "+972501234567"}, format="json"
        )
        return response.status_code, response.json()

    results = [f.result(TIMEOUT) for f in run_in_threads(*(lambda c=c: post(c) for c in clients))]
    assert sorted(status for status, _ in results) == [201, 400, 400]
    assert all("phone_e164" in body for status, body in results if status == 400)
    assert Customer.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_phone_racing_the_first_insert_is_a_field_error(business_a) -> None:
    inserted, release = threading.Event(), threading.Event()

    def first():  # type: ignore[no-untyped-def]
        with transaction.atomic():
            services.customer_create(business=business_a, name="A", phone_e164="+972501234567")
            inserted.set()
            release.wait(TIMEOUT)

    def second():  # type: ignore[no-untyped-def]
        inserted.wait(TIMEOUT)
        services.customer_create(business=business_a, name="B", phone_e164="+972501234567")

    first_future, second_future = run_in_threads(first, second)
    wait_for_a_lock_wait()
    release.set()
    first_future.result(TIMEOUT)
    with pytest.raises(ValidationError) as raised:
        second_future.result(TIMEOUT)
    assert list(raised.value.message_dict) == ["phone_e164"]
    assert list(Customer.objects.values_list("name", flat=True)) == ["A"]
