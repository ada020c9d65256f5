"""The intelligence fast path (JSON built by PostgreSQL) answers byte for byte like the
reference path (the DRF serializer and renderer, ``API_FAST_PATH=False``).

Hypothesis builds two tenants with random customers and activity: unicode and
control characters, quotes, U+2028, empty emails and notes, equal timestamps, times
with and without microseconds, customers without any activity and one "whale" with
many calls. For a drawn filter and page size, every ordering is walked page by page
by following ``next`` (and one step back by ``previous``); at every step both paths
must return the same status, the same bytes and the same query count, and the fast
path must really have been the one that answered.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from businesses.models import Business, Membership
from crm.models import CallLog, Lead, Source, WhatsAppMessage
from intelligence import compiled
from tests import factories

pytestmark = pytest.mark.django_db

LIST = "/api/intelligence/customers/"
ORDERINGS = ("-created_at", "name", "-leads_count", "-last_interaction")
T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
TIMES = [
    T0,  # no microseconds: rendered without a fraction
    T0 + timedelta(microseconds=1),
    T0 + timedelta(seconds=1, microseconds=120000),
    T0 - timedelta(days=400, microseconds=999999),
]
SPECIAL_TEXT = [
    "",
    "\u2028",
    "\u2029x",
    'say "hi"\\',
    "é ü 日本",
    "😀",
    "\x01\x1f\x7f",
    "3e-5",
    "a\nb\tc",
]
texts = st.one_of(
    st.sampled_from(SPECIAL_TEXT),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        max_size=8,
    ),
)
activity = st.tuples(
    st.sampled_from(["lead", "call", "whatsapp"]), st.sampled_from(TIMES), st.integers(0, 50), texts
)
customer = st.fixed_dictionaries(
    {
        "tenant": st.integers(0, 1),
        "name": texts,
        "email": st.sampled_from(["", "a@example.com"]),
        "source": st.sampled_from(Source.values),
        "created_at": st.sampled_from(TIMES),
        "activity": st.lists(activity, max_size=4),
    }
)
world = st.fixed_dictionaries(
    {
        "customers": st.lists(customer, min_size=1, max_size=6),
        "whale": st.booleans(),
        "page_size": st.sampled_from([1, 2, 3, 200]),
        "filter": st.sampled_from(
            [{}, {"source": "call"}, {"source": "web"}, {"search": "a"}, {"search": "é"}]
        ),
    }
)  # fmt: skip


def pick(options: list[str], n: int) -> str:
    return options[n % len(options)]


def build(spec: dict[str, Any]) -> list[Business]:
    tenants = [factories.make_business() for _ in range(2)]
    made = []
    for item in spec["customers"]:
        business = tenants[item["tenant"]]
        person = factories.make_customer(
            business,
            name=item["name"],
            email=item["email"],
            source=item["source"],
            created_at=item["created_at"],
        )
        made.append(person)
        for kind, at, n, text in item["activity"]:
            if kind == "lead":
                factories.make_lead(
                    business, person, status=pick(Lead.Status.values, n), source=pick(Source.values, n),
                    notes=text, created_at=at,
                )  # fmt: skip
            elif kind == "call":
                factories.make_call(
                    business, person, status=pick(CallLog.Status.values, n),
                    direction=pick(CallLog.Direction.values, n), duration=n, summary=text, created_at=at,
                )  # fmt: skip
            else:
                factories.make_whatsapp(
                    business, person, status=pick(WhatsAppMessage.Status.values, n), created_at=at
                )
    if spec["whale"]:
        whale = made[0]
        for n in range(25):
            factories.make_call(whale.business, whale, created_at=TIMES[n % len(TIMES)])
    return tenants


def client_for(business: Business) -> APIClient:
    user = factories.make_user()
    Membership.objects.create(user=user, business=business, role=Membership.Role.MANAGER)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {factories.token_for(user)}")
    client.get("/api/business/")  # warm the tenant caches: both paths then count alike
    return client


def query_count(response: Any) -> str:
    return re.search(r'desc="(\d+) quer', response.headers["Server-Timing"]).group(1)


def both(client: APIClient, url: str, params: dict[str, Any] | None = None) -> Any:
    """Request ``url`` by both paths; assert they agree; return the fast one's JSON."""
    with override_settings(API_FAST_PATH=False):
        reference = client.get(url, params)
    with CaptureQueriesContext(connection) as queries:
        fast = client.get(url, params)
    assert fast.status_code == reference.status_code, fast.content
    assert fast.content == reference.content
    assert fast.data == reference.data  # what code after the view reads
    assert query_count(fast) == query_count(reference)
    if fast.status_code == 200:
        assert "row_to_json" in queries.captured_queries[-1]["sql"], "the fast path did not answer"
    return fast.json()


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=world)
def test_fast_path_is_byte_for_byte_the_reference_for_every_ordering_and_cursor(
    db: None, spec: dict[str, Any]
) -> None:
    with transaction.atomic():
        tenants = build(spec)
        for business in tenants:
            client = client_for(business)
            for ordering in ORDERINGS:
                params: dict[str, Any] = {
                    "ordering": ordering,
                    "page_size": spec["page_size"],
                    **spec["filter"],
                }
                url: str | None = LIST
                pages = 0
                while url:
                    page = both(client, url, params if url == LIST else None)
                    url = page["next"]
                    pages += 1
                    assert pages <= 10
                if page["previous"]:
                    both(client, page["previous"])
            for row in both(client, LIST, {"page_size": 200})["results"]:
                both(client, f"{LIST}{row['id']}/")
        # Another tenant's customer, and one that does not exist: the same 404.
        other = both(client_for(tenants[1]), LIST, {"page_size": 1})["results"]
        if other:
            both(client_for(tenants[0]), f"{LIST}{other[0]['id']}/")
        both(client_for(tenants[0]), f"{LIST}999999999/")
        transaction.set_rollback(True)
    # Pages without filters ran from shapes compiled once and shared by both tenants.
    assert any(shape is not None for shape in compiled._shapes.values())


def test_browsable_api_and_indented_json_take_the_reference_path(
    manager_a: Any, business_a: Business, api_client_for: Any
) -> None:
    factories.make_customer(business_a, name="Ann")
    client = api_client_for(manager_a)
    for accept in ("text/html", "application/json; indent=4"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST, HTTP_ACCEPT=accept)
        assert response.status_code == 200
        assert not any("row_to_json" in q["sql"] for q in queries.captured_queries)
        assert "Ann" in response.content.decode()


def test_a_non_utc_current_time_zone_takes_the_reference_path(
    manager_a: Any, business_a: Business, api_client_for: Any, settings: Any
) -> None:
    settings.TIME_ZONE = "Asia/Jerusalem"
    factories.make_customer(business_a, created_at=T0)
    with CaptureQueriesContext(connection) as queries:
        response = api_client_for(manager_a).get(LIST)
    assert not any("row_to_json" in q["sql"] for q in queries.captured_queries)
    assert response.json()["results"][0]["created_at"] == "2026-05-04T13:00:00+03:00"
