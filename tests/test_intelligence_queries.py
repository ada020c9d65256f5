"""Query budgets: every intelligence request costs the same, whatever the data's size."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from businesses.models import Business
from crm.activity import recompute_sort_keys
from crm.models import CallLog, Customer, Lead, WhatsAppMessage
from tests import factories
from tests.budgets import REQUEST_OVERHEAD

pytestmark = pytest.mark.django_db

LIST = "/api/intelligence/customers/"
STATS = "/api/intelligence/stats/"
ORDERINGS = ("-created_at", "name", "-leads_count", "-last_interaction")

# auth + tenant, then 1: the page of customers with their counts and latest rows inline.
LIST_QUERIES = REQUEST_OVERHEAD + 1
# auth + tenant, then 1: the customer with its counts and latest rows inline.
DETAIL_QUERIES = REQUEST_OVERHEAD + 1
# auth + tenant, then 1: every table counted once, as one row.
STATS_QUERIES = REQUEST_OVERHEAD + 1


def add_customers(business: Business, count: int, *, rows_each: int = 0) -> list[Customer]:
    """``count`` customers with ``rows_each`` leads, calls and messages each, in bulk."""
    start = factories.next_number() * 10_000
    now = timezone.now()
    customers = Customer.objects.bulk_create(
        Customer(
            business=business,
            name=f"Bulk {start + i}",
            phone_e164=f"+1303{start + i:07d}"[:16],
            created_at=now - timedelta(minutes=i),
        )
        for i in range(count)
    )
    for customer in customers:
        Lead.objects.bulk_create(
            Lead(business=business, customer=customer, created_at=now - timedelta(seconds=i))
            for i in range(rows_each)
        )
        CallLog.objects.bulk_create(
            CallLog(
                business=business,
                customer=customer,
                call_sid=f"CA{customer.pk}-{i}",
                from_number=customer.phone_e164,
                to_number="+13035550000",
                direction=CallLog.Direction.INBOUND,
                status=CallLog.Status.COMPLETED,
                summary="Asked for a quote." if i % 2 else "",
                created_at=now - timedelta(seconds=i),
            )
            for i in range(rows_each)
        )
        WhatsAppMessage.objects.bulk_create(
            WhatsAppMessage(
                business=business,
                customer=customer,
                provider_message_id=f"wamid.{customer.pk}.{i}",
                to_number=customer.phone_e164,
                direction=WhatsAppMessage.Direction.INBOUND,
                status=WhatsAppMessage.Status.RECEIVED,
                created_at=now - timedelta(seconds=i),
            )
            for i in range(rows_each)
        )
    recompute_sort_keys(business_id=business.pk)  # bulk_create bypasses the signals
    return customers


def request_costs(client, django_assert_num_queries, path: str, queries: int, **params) -> dict:
    client.get(path, params)  # warm-up: caches the first request may fill
    with django_assert_num_queries(queries):
        response = client.get(path, params)
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_list_costs_the_same_for_5_and_200_customers(
    api_client_for, owner_a, business_a, django_assert_num_queries, ordering
) -> None:
    client = api_client_for(owner_a)
    add_customers(business_a, 5, rows_each=2)
    small = request_costs(
        client, django_assert_num_queries, LIST, LIST_QUERIES, ordering=ordering, page_size=200
    )
    add_customers(business_a, 195, rows_each=2)
    large = request_costs(
        client, django_assert_num_queries, LIST, LIST_QUERIES, ordering=ordering, page_size=200
    )
    assert (len(small["results"]), len(large["results"])) == (5, 200)


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_list_costs_the_same_with_none_or_hundreds_of_rows_per_customer(
    api_client_for, owner_a, business_a, business_b, django_assert_num_queries, ordering
) -> None:
    add_customers(business_a, 4)
    add_customers(business_b, 4, rows_each=300)
    quiet = request_costs(
        api_client_for(owner_a), django_assert_num_queries, LIST, LIST_QUERIES, ordering=ordering
    )
    busy_owner = factories.make_member(business_b, "owner")
    busy = request_costs(
        api_client_for(busy_owner),
        django_assert_num_queries,
        LIST,
        LIST_QUERIES,
        ordering=ordering,
    )
    assert {row["leads_count"] for row in quiet["results"]} == {0}
    assert {row["calls_count"] for row in busy["results"]} == {300}


def test_next_pages_and_filters_cost_the_same(
    api_client_for, owner_a, business_a, django_assert_num_queries
) -> None:
    add_customers(business_a, 30, rows_each=3)
    client = api_client_for(owner_a)
    first = request_costs(
        client,
        django_assert_num_queries,
        LIST,
        LIST_QUERIES,
        ordering="-leads_count",
        page_size=10,
        search="bulk",
    )
    client.get(first["next"])
    with django_assert_num_queries(LIST_QUERIES):
        second = client.get(first["next"])
    assert len(second.json()["results"]) == 10


def test_detail_costs_the_same_with_none_or_hundreds_of_rows(
    api_client_for, owner_a, business_a, django_assert_num_queries
) -> None:
    quiet, busy = add_customers(business_a, 1)[0], add_customers(business_a, 1, rows_each=300)[0]
    client = api_client_for(owner_a)
    assert (
        request_costs(client, django_assert_num_queries, f"{LIST}{quiet.pk}/", DETAIL_QUERIES)[
            "leads_count"
        ]
        == 0
    )
    assert (
        request_costs(client, django_assert_num_queries, f"{LIST}{busy.pk}/", DETAIL_QUERIES)[
            "leads_count"
        ]
        == 300
    )


def test_stats_cost_the_same_for_an_empty_and_a_busy_tenant(
    api_client_for, owner_a, business_a, django_assert_num_queries
) -> None:
    client = api_client_for(owner_a)
    empty = request_costs(client, django_assert_num_queries, STATS, STATS_QUERIES)
    add_customers(business_a, 50, rows_each=20)
    busy = request_costs(client, django_assert_num_queries, STATS, STATS_QUERIES)
    assert (empty["total_leads"], busy["total_leads"]) == (0, 1000)
