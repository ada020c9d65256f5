"""Every list, in every ordering and with its filters, walked by its links on the real
database: each row exactly once, in order, and then the end.

The rows share one sort value by the thousand (tests/keyset_data.py), the way a bulk
import or a replayed webhook batch stamps them, with distinct values on both sides.
DRF's offset-based cursor repeated, skipped or looped over such rows; these walks
would fail on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import pytest
from django.contrib.auth.models import AbstractUser
from django.core.management import call_command
from django.urls import resolve
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate

from crm.models import CallLog, Customer, Lead, LeadStatusHistory, WhatsAppMessage
from tests import factories, keyset_data
from tests.keyset_data import Tenant, expected_customers, expected_newest_first

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class ListCase:
    url: Callable[[Tenant], str]
    expected: Callable[[Tenant], list[int]]


def leads(t: Tenant, **filters: Any) -> list[int]:
    return expected_newest_first(Lead.objects.for_business(t.business).filter(**filters))


def calls(t: Tenant, **filters: Any) -> list[int]:
    return expected_newest_first(CallLog.objects.for_business(t.business).filter(**filters))


def intelligence(ordering: str, query: str = "", **filters: Any) -> ListCase:
    return ListCase(
        url=lambda t: f"/api/intelligence/customers/?ordering={ordering}{query}",
        expected=lambda t: expected_customers(t.business, ordering, **filters),
    )


CASES: dict[str, ListCase] = {
    "leads": ListCase(lambda t: "/api/leads/?", leads),
    "leads, one status": ListCase(
        lambda t: "/api/leads/?status=won", lambda t: leads(t, status="won")
    ),
    "leads, several statuses": ListCase(
        lambda t: "/api/leads/?status=won&status=lost",
        lambda t: leads(t, status__in=["won", "lost"]),
    ),
    "leads, several statuses and a source": ListCase(
        lambda t: "/api/leads/?status=won,new&source=import",
        lambda t: leads(t, status__in=["won", "new"], source="import"),
    ),
    "calls": ListCase(lambda t: "/api/calls/?", calls),
    "calls, one status": ListCase(
        lambda t: "/api/calls/?status=failed", lambda t: calls(t, status="failed")
    ),
    "calls, several statuses": ListCase(
        lambda t: "/api/calls/?status=completed&status=busy",
        lambda t: calls(t, status__in=["completed", "busy"]),
    ),
    "calls, direction": ListCase(
        lambda t: "/api/calls/?direction=outbound", lambda t: calls(t, direction="outbound")
    ),
    "whatsapp conversation": ListCase(
        lambda t: f"/api/whatsapp/messages/?to_number={quote(keyset_data.CONVERSATION)}",
        lambda t: expected_newest_first(WhatsAppMessage.objects.for_business(t.business)),
    ),
    "status history": ListCase(
        lambda t: f"/api/leads/{t.lead_with_history.pk}/status-history/?",
        lambda t: expected_newest_first(LeadStatusHistory.objects.filter(lead=t.lead_with_history)),
    ),
    "customers": ListCase(
        lambda t: "/api/customers/?",
        lambda t: expected_newest_first(Customer.objects.for_business(t.business)),
    ),
    "intelligence -created_at": intelligence("-created_at"),
    "intelligence name": intelligence("name"),
    "intelligence -leads_count": intelligence("-leads_count"),
    "intelligence -last_interaction": intelligence("-last_interaction"),
    "intelligence -leads_count, source": intelligence(
        "-leads_count", "&source=import", source="import"
    ),
}


def with_page_size(url: str, size: int) -> str:
    return f"{url}{'' if url.endswith('?') else '&'}page_size={size}"


class Client(Protocol):
    def get(self, url: str) -> dict[str, Any]: ...


class HttpClient:
    """The whole request: token authentication, middleware, routing, JSON."""

    def __init__(self, user: AbstractUser) -> None:
        self.client = APIClient()
        self.client.credentials(HTTP_AUTHORIZATION=f"Token {factories.token_for(user)}")

    def get(self, url: str) -> dict[str, Any]:
        response = self.client.get(url)
        assert response.status_code == 200, response.content
        return response.json()


class ViewClient:
    """The list view itself, called in-process with the user already authenticated.

    Hundreds of small pages per walk make the test client's own work (middleware, token
    lookup, rendering) most of the cost; the view, its filters, the tenant scoping and
    the paginator are what a walk exercises, and they all run.
    """

    def __init__(self, user: AbstractUser) -> None:
        self.user, self.factory = user, APIRequestFactory()

    def get(self, url: str) -> dict[str, Any]:
        parts = urlsplit(url)
        match = resolve(parts.path)
        request = self.factory.get(f"{parts.path}?{parts.query}")
        force_authenticate(request, user=self.user)
        response = match.func(request, *match.args, **match.kwargs)
        assert response.status_code == 200, response.data
        return response.data


def walk_forwards(client: Client, url: str, *, max_pages: int) -> list[dict[str, Any]]:
    """Every page from the first by ``next`` links; fails rather than loop."""
    pages = [client.get(url)]
    assert pages[0]["previous"] is None
    while pages[-1]["next"]:
        assert len(pages) < max_pages, "the next links do not end"
        pages.append(client.get(pages[-1]["next"]))
    return pages


def walk_backwards(client: Client, last: dict[str, Any], *, max_pages: int) -> list[Any]:
    """Every page before ``last`` by ``previous`` links, first page first."""
    pages = [last]
    while pages[0]["previous"]:
        assert len(pages) < max_pages, "the previous links do not end"
        pages.insert(0, client.get(pages[0]["previous"]))
    return pages


def ids(pages: list[dict[str, Any]]) -> list[int]:
    return [row["id"] for page in pages for row in page["results"]]


def assert_walks_exactly_once(
    client: Client, url: str, expected: list[int], size: int, *, backwards: bool = True
) -> None:
    max_pages = len(expected) // size + 2
    forwards = walk_forwards(client, with_page_size(url, size), max_pages=max_pages)
    assert ids(forwards) == expected  # each row once, in order, and nothing else
    assert forwards[-1]["next"] is None
    assert all(len(page["results"]) == size for page in forwards[:-1])
    if backwards:
        back = walk_backwards(client, forwards[-1], max_pages=max_pages)
        assert [ids([page]) for page in back] == [ids([page]) for page in forwards]


@pytest.fixture(scope="module")
def tenants(django_db_setup, django_db_blocker) -> Iterator[dict[str, Tenant]]:  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        try:
            yield {
                # The done-when: 5,000 rows sharing one value, at the largest page.
                "5000 tied": keyset_data.load(tied=5000, around_rows=200),
                # The page-size matrix, forwards and backwards (page size 1: fewer rows).
                "250 tied": keyset_data.load(tied=250, around_rows=50),
                "40 tied": keyset_data.load(tied=40, around_rows=20),
            }
        finally:
            call_command("flush", interactive=False, verbosity=0)


# Filters that do not change how a page is read (source, direction) are walked in the
# page-size matrix below; every other list, ordering and status filter walks 5,000 ties.
DONE_WHEN = [
    case
    for case in CASES
    if case not in {"leads, several statuses and a source", "calls, direction"}
]
# One case per list and ordering, and the split of several statuses, for the page sizes
# whose walks are long (1) or short (200); every case walks at 7.
EDGE_SIZES = [
    "leads",
    "leads, several statuses",
    "calls",
    "whatsapp conversation",
    "status history",
    "customers",
    "intelligence -created_at",
    "intelligence name",
    "intelligence -leads_count",
    "intelligence -last_interaction",
]
MATRIX = [
    *[(1, "40 tied", case) for case in EDGE_SIZES],
    *[(7, "250 tied", case) for case in CASES],
    *[(200, "250 tied", case) for case in EDGE_SIZES],
]


@pytest.mark.parametrize("case", DONE_WHEN)
def test_5000_rows_sharing_one_value_are_each_returned_once_and_the_walk_ends(
    tenants, case
) -> None:
    tenant, spec = tenants["5000 tied"], CASES[case]
    expected = spec.expected(tenant)
    assert len(expected) >= 1700  # every case's filter keeps thousands of tied rows
    assert_walks_exactly_once(
        HttpClient(tenant.owner), spec.url(tenant), expected, 200, backwards=False
    )


@pytest.mark.parametrize(("size", "tenant_name", "case"), MATRIX)
def test_every_page_size_walks_each_row_once_forwards_and_backwards(
    tenants, size, tenant_name, case
) -> None:
    tenant, spec = tenants[tenant_name], CASES[case]
    assert_walks_exactly_once(
        ViewClient(tenant.owner), spec.url(tenant), spec.expected(tenant), size
    )


# --- Rows inserted while a client walks ------------------------------------------------


def insert_rows(tenant: Tenant, n: int) -> None:
    """Three new rows in every list: one sharing the tied value (with a higher id than
    every tied row), one newer and one older than everything (around the walk)."""
    business, moments = (
        tenant.business,
        [
            keyset_data.TIED_AT,
            keyset_data.TIED_AT + timedelta(days=1, seconds=n),
            keyset_data.TIED_AT - timedelta(days=1, seconds=n),
        ],
    )
    for k, at in enumerate(moments):
        status = keyset_data.LEAD_STATUSES[(n + k) % 3]
        Lead.objects.create(business=business, status=status, source="import", created_at=at)
        LeadStatusHistory.objects.create(
            business=business, lead=tenant.lead_with_history, new_status="new", created_at=at
        )
        CallLog.objects.create(
            business=business,
            call_sid=f"CAinserted{business.pk}-{n}-{k}",
            from_number="+14155550000",
            to_number="+14155559999",
            direction=("inbound", "outbound")[(n + k) % 2],
            status=keyset_data.CALL_STATUSES[(n + k) % 3],
            created_at=at,
        )
        WhatsAppMessage.objects.create(
            business=business,
            provider_message_id=f"wamid.inserted.{n}.{k}",
            to_number=keyset_data.CONVERSATION,
            direction="inbound",
            status="received",
            created_at=at,
        )
    # A customer tied with the group on every ordering (a higher id than any of them),
    # and one before and one after every other customer on every ordering.
    tied = keyset_data.customer_row(business, 0, tied=1, phone_prefix=f"+1606{n:03d}")
    tied.source = "import"
    Customer.objects.bulk_create(
        [
            tied,
            Customer(
                business=business,
                name=f"Aaron {n:06d}",
                phone_e164=f"+1607{n:07d}",
                source="import",
                created_at=moments[1],
                sort_leads_count=1_000_000 + n,
                sort_last_interaction_at=moments[1],
            ),
            Customer(
                business=business,
                name=f"Zed {n:06d}",
                phone_e164=f"+1608{n:07d}",
                source="import",
                created_at=moments[2],
                sort_leads_count=0,
                sort_last_interaction_at=None,
            ),
        ]
    )


@pytest.mark.parametrize("case", CASES)
def test_rows_inserted_between_pages_never_make_a_walk_skip_or_repeat_a_row(tenants, case) -> None:
    tenant, spec = tenants["250 tied"], CASES[case]
    client, before = ViewClient(tenant.owner), spec.expected(tenant)
    page = client.get(with_page_size(spec.url(tenant), 13))
    seen, n = [row["id"] for row in page["results"]], 0
    while page["next"]:
        n += 1
        assert n < len(before), "the next links do not end"
        insert_rows(tenant, n)
        page = client.get(page["next"])
        seen += [row["id"] for row in page["results"]]
    after = spec.expected(tenant)
    assert len(after) > len(before)
    assert len(seen) == len(set(seen))  # nothing twice
    assert set(before) <= set(seen)  # nothing that was there all along is missed
    assert seen == [pk for pk in after if pk in set(seen)]  # and all in order
    assert set(seen) - set(before)  # some of the new rows came after the walk's position
