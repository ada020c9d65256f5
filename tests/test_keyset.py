"""The keyset pieces on their own: mixed directions, keys read from any kind of row, and
the three public steps a caller outside DRF's rendering uses (issue 13's JSON page)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from crm.models import Customer
from crm.sort_keys import NO_INTERACTION
from prosaas.keyset import KeysetOrdering, RowComparison, SortKey, key_fields
from prosaas.pagination import KeysetPagination

pytestmark = pytest.mark.django_db

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def customers(business_a) -> QuerySet[Customer]:  # type: ignore[no-untyped-def]
    # Three names, two times: every (name, created_at) pair shared by several rows.
    Customer.objects.bulk_create(
        Customer(
            business=business_a,
            name=("Ann", "Bob", "Cy")[i % 3],
            phone_e164=f"+1505{i:07d}",
            created_at=AT + timedelta(seconds=i % 2),
            sort_last_interaction_at=None if i % 4 == 0 else AT + timedelta(minutes=i % 5),
        )
        for i in range(40)
    )
    return Customer.objects.for_business(business_a)


def request(**params: Any) -> Request:
    return Request(APIRequestFactory().get("/", params))


def walk(queryset: QuerySet[Customer], ordering: KeysetOrdering, size: int) -> list[int]:
    """Every page by the paginator's next links, as ids."""
    seen: list[int] = []
    params: dict[str, Any] = {"page_size": size}
    for _ in range(queryset.count() + 2):
        paginator = KeysetPagination()
        paginator.ordering = ordering
        paginator.start(request(**params), queryset)
        seen += [c.pk for c in paginator.page_from_rows(list(paginator.keyset_queryset(queryset)))]
        link = paginator.get_next_link()
        if link is None:
            return seen
        params = {"page_size": size, "cursor": link.split("cursor=")[1].split("&")[0]}
    raise AssertionError("the next links do not end")


def test_mixed_directions_page_with_the_expanded_comparison(customers) -> None:
    ordering = KeysetOrdering.of("name", "-created_at")  # then -id
    assert not ordering.uniform
    expected = [
        c.pk
        for c in sorted(
            sorted(customers, key=lambda c: (c.created_at, c.pk), reverse=True),
            key=lambda c: c.name,
        )
    ]
    for size in (1, 3, 7):
        assert walk(customers, ordering, size) == expected


def test_a_nullable_key_pages_through_its_nulls_last(customers) -> None:
    ordering = KeysetOrdering.of(
        SortKey("sort_last_interaction_at", descending=True, nulls_as=NO_INTERACTION)
    )
    never = datetime.min.replace(tzinfo=UTC)
    expected = [
        c.pk
        for c in sorted(
            customers, key=lambda c: (c.sort_last_interaction_at or never, c.pk), reverse=True
        )
    ]
    assert walk(customers, ordering, 3) == expected


def test_uniform_directions_compare_as_one_row_value(customers) -> None:
    ordering = KeysetOrdering.of("-created_at")
    condition = ordering.after((AT, 5), key_fields(customers, ordering))
    assert isinstance(condition, RowComparison)
    sql = str(customers.filter(condition).query)
    assert '("customer"."created_at", "customer"."id") < (' in sql


def test_keys_read_from_instances_mappings_and_tuples_alike(customers) -> None:
    ordering = KeysetOrdering.of("name")
    row = customers.order_by("pk").first()
    assert row is not None
    expected = (row.name, row.pk)
    assert ordering.key_of(row) == expected
    assert ordering.key_of({"name": row.name, "id": row.pk, "other": 1}) == expected
    assert ordering.key_of([row.name, row.pk]) == expected
    with pytest.raises(ValueError):
        ordering.key_of([row.name])


def test_a_page_can_be_fetched_as_plain_values_and_still_links_the_same(customers) -> None:
    # What a caller rendering its own rows does: fetch the keyset query its own way
    # (here as tuples of the ordering's columns), then hand the rows back for links.
    ordering = KeysetOrdering.of("-created_at")
    by_model, by_values = KeysetPagination(), KeysetPagination()
    for paginator in (by_model, by_values):
        paginator.ordering = ordering
        paginator.start(request(page_size=4), customers)
    pages = [
        by_model.page_from_rows(list(by_model.keyset_queryset(customers))),
        by_values.page_from_rows(
            list(by_values.keyset_queryset(customers).values_list(*ordering.columns))
        ),
    ]
    assert [c.pk for c in pages[0]] == [row[-1] for row in pages[1]]
    assert by_model.get_next_link() == by_values.get_next_link() is not None
    assert by_model.get_previous_link() is by_values.get_previous_link() is None


def test_id_must_close_the_ordering() -> None:
    assert KeysetOrdering.of("name").columns == ("name", "id")
    assert KeysetOrdering.of("-name").keys[-1] == SortKey("id", descending=True)
    with pytest.raises(ValueError):
        KeysetOrdering.of("id", "name")
