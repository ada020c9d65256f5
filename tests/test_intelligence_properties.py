"""Property tests: over random tenants, every field and every ordering is exactly right.

Hypothesis builds a few tenants with customers, leads, calls and WhatsApp messages
(through the ORM; the database triggers keep the sort keys), then deletes, moves and re-times some
rows. The expected answer is computed here in plain Python from what was written, not
from the database. Times come from a tiny set, so ties are everywhere: between rows of a
customer, between channels, between customers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from businesses.models import Business, Membership
from crm.activity import find_drift
from crm.models import CallLog, Customer, Lead, Source, WhatsAppMessage
from intelligence import aggregated
from intelligence.serializers import CustomerIntelligenceSerializer
from tests import factories

pytestmark = pytest.mark.django_db

LIST = "/api/intelligence/customers/"
T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
TIMES = [
    T0,
    T0 + timedelta(microseconds=1),
    T0 + timedelta(seconds=1, microseconds=120000),
    T0 + timedelta(days=1),
]
NAMES = ["ann", "bob", "cy"]  # lowercase ASCII: every collation sorts them alike
KINDS = ["lead", "call", "whatsapp"]
ORDERINGS = ("-created_at", "name", "-leads_count", "-last_interaction")


# --- What is written, as plain data -----------------------------------------------------


@dataclass
class Row:
    kind: str
    pk: int
    customer: int | None  # index into World.customers
    at: datetime
    status: str
    extra: dict[str, Any]
    updated_at: datetime | None = None
    deleted: bool = False


@dataclass
class World:
    tenants: list[Business] = field(default_factory=list)
    customers: list[tuple[int, Customer]] = field(default_factory=list)  # (tenant, customer)
    rows: list[Row] = field(default_factory=list)


row_specs = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(KINDS),
        "customer": st.integers(0, 20),
        "linked": st.booleans(),
        "tenant": st.integers(0, 2),
        "at": st.sampled_from(TIMES),
        "choice": st.integers(0, 100),
        # Copies share customer, kind and time: ties within a channel, decided by id.
        "copies": st.integers(1, 3),
    }
)
change_specs = st.tuples(
    st.sampled_from(["delete", "move", "unlink", "retime"]),
    st.integers(0, 100),
    st.integers(0, 100),
)
world_specs = st.fixed_dictionaries(
    {
        "tenants": st.integers(2, 3),
        "customers": st.lists(
            st.tuples(st.integers(0, 2), st.sampled_from(NAMES), st.sampled_from(TIMES)),
            max_size=7,
        ),
        "rows": st.lists(row_specs, max_size=16),
        "changes": st.lists(change_specs, max_size=6),
        "page_size": st.integers(1, 3),
    }
)


def pick(options: list[str], n: int) -> str:
    return options[n % len(options)]


def create_row(world: World, spec: dict[str, Any]) -> None:
    tenant_customers = [i for i, _ in enumerate(world.customers)]
    customer = None
    if spec["linked"] and tenant_customers:
        customer = tenant_customers[spec["customer"] % len(tenant_customers)]
        tenant = world.customers[customer][0]
    else:
        tenant = spec["tenant"] % len(world.tenants)
    business = world.tenants[tenant]
    owner = world.customers[customer][1] if customer is not None else None
    n = spec["choice"]
    if spec["kind"] == "lead":
        extra = {"source": pick(Source.values, n), "notes": pick(["", "Call back."], n)}
        made = factories.make_lead(
            business, owner, status=pick(Lead.Status.values, n), created_at=spec["at"], **extra
        )
    elif spec["kind"] == "call":
        extra = {
            "direction": pick(CallLog.Direction.values, n),
            "duration": n,
            "summary": pick(["", "Wants a quote."], n),
        }
        made = factories.make_call(
            business, owner, status=pick(CallLog.Status.values, n), created_at=spec["at"], **extra
        )
    else:
        extra = {}
        made = factories.make_whatsapp(
            business, owner, status=pick(WhatsAppMessage.Status.values, n), created_at=spec["at"]
        )
    world.rows.append(
        Row(
            kind=spec["kind"],
            pk=made.pk,
            customer=customer,
            at=spec["at"],
            status=made.status,
            extra=extra,
            updated_at=getattr(made, "updated_at", None),
        )
    )


MODELS = {"lead": Lead, "call": CallLog, "whatsapp": WhatsAppMessage}


def apply_change(world: World, change: tuple[str, int, int]) -> None:
    live = [row for row in world.rows if not row.deleted]
    if not live:
        return
    action, which, to = change
    row = live[which % len(live)]
    instance = MODELS[row.kind].objects.get(pk=row.pk)  # loaded as a view would
    if action == "delete":
        instance.delete()
        row.deleted = True
        return
    if action == "retime":
        row.at = instance.created_at = TIMES[to % len(TIMES)]
    else:
        tenant = instance.business_id
        same_tenant = [
            i for i, (t, _) in enumerate(world.customers) if world.tenants[t].pk == tenant
        ]
        if action == "unlink" or not same_tenant:
            row.customer = None
        else:
            row.customer = same_tenant[to % len(same_tenant)]
        instance.customer = world.customers[row.customer][1] if row.customer is not None else None
    instance.save()
    row.updated_at = getattr(instance, "updated_at", None)


def build(spec: dict[str, Any]) -> World:
    world = World(tenants=[factories.make_business() for _ in range(spec["tenants"])])
    for tenant, name, at in spec["customers"]:
        tenant %= spec["tenants"]
        world.customers.append(
            (tenant, factories.make_customer(world.tenants[tenant], name=name, created_at=at))
        )
    for row_spec in spec["rows"]:
        for _ in range(row_spec["copies"]):
            create_row(world, row_spec)
    for change in spec["changes"]:
        apply_change(world, change)
    return world


# --- The expected answer, computed independently ---------------------------------------


def rendered(moment: datetime | None) -> str | None:
    """DRF's rendering of a UTC datetime: ISO 8601, 'Z', microseconds only when non-zero."""
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def expected_customer(world: World, index: int) -> dict[str, Any]:
    customer = world.customers[index][1]
    rows = [row for row in world.rows if row.customer == index and not row.deleted]
    latest = {}
    for kind in KINDS:
        of_kind = [row for row in rows if row.kind == kind]
        latest[kind] = max(of_kind, key=lambda row: (row.at, row.pk)) if of_kind else None
    activity = [latest[kind] for kind in KINDS if latest[kind] is not None]
    # Newest first; equal times in channel order lead, call, WhatsApp.
    activity.sort(key=lambda row: (-row.at.timestamp(), KINDS.index(row.kind)))
    lead, call = latest["lead"], latest["call"]
    return {
        "id": customer.pk,
        "name": customer.name,
        "phone_e164": customer.phone_e164,
        "email": customer.email,
        "source": customer.source,
        "created_at": rendered(customer.created_at),
        "leads_count": sum(row.kind == "lead" for row in rows),
        "calls_count": sum(row.kind == "call" for row in rows),
        "whatsapp_count": sum(row.kind == "whatsapp" for row in rows),
        "last_interaction": rendered(activity[0].at) if activity else None,
        "latest_lead": None
        if lead is None
        else {
            "id": lead.pk,
            "status": lead.status,
            **lead.extra,
            "created_at": rendered(lead.at),
            "updated_at": rendered(lead.updated_at),
        },
        "last_call": None
        if call is None
        else {
            "id": call.pk,
            "status": call.status,
            **call.extra,
            "created_at": rendered(call.at),
        },
        "recent_activity": [
            {"type": row.kind, "id": row.pk, "status": row.status, "timestamp": rendered(row.at)}
            for row in activity[:3]
        ],
    }


def expected_order(rows: list[dict[str, Any]], ordering: str) -> list[int]:
    def key(row: dict[str, Any]) -> tuple:
        if ordering == "-created_at":
            return (row["created_at_dt"], row["id"])
        if ordering == "name":
            return (row["name"], row["id"])
        if ordering == "-leads_count":
            return (row["leads_count"], row["id"])
        # Never-active customers last (as if infinitely old); then newest id first.
        return (row["last_interaction_dt"] or datetime.min.replace(tzinfo=UTC), row["id"])

    return [row["id"] for row in sorted(rows, key=key, reverse=ordering != "name")]


def client_for(business: Business) -> APIClient:
    user = get_user_model().objects.create(username=f"member{factories.next_number()}")
    Membership.objects.create(user=user, business=business, role=Membership.Role.MANAGER)
    client = APIClient()
    client.force_authenticate(user)
    return client


def walk(client: APIClient, ordering: str, page_size: int) -> list[int]:
    seen: list[int] = []
    url: str | None = f"{LIST}?ordering={ordering}&page_size={page_size}"
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        seen += [row["id"] for row in response.json()["results"]]
        url = response.json()["next"]
        assert len(seen) <= 50, "pagination does not end"
    return seen


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=world_specs)
def test_every_field_and_ordering_matches_an_independent_computation(db, spec) -> None:
    with transaction.atomic():
        world = build(spec)
        # The triggers kept every sort key exact.
        assert find_drift() == []
        for tenant, business in enumerate(world.tenants):
            indexes = [i for i, (t, _) in enumerate(world.customers) if t == tenant]
            expected = {world.customers[i][1].pk: expected_customer(world, i) for i in indexes}
            client = client_for(business)

            response = client.get(LIST, {"page_size": 200})
            assert response.status_code == 200
            assert {row["id"]: row for row in response.json()["results"]} == expected

            # The seed's formulation renders the same page, field for field.
            page = aggregated.customer_page(business=business, page_size=200)
            assert (
                CustomerIntelligenceSerializer(page, many=True).data == response.json()["results"]
            )

            rows = [
                {
                    **row,
                    "created_at_dt": world.customers[i][1].created_at,
                    "last_interaction_dt": max(
                        (r.at for r in world.rows if r.customer == i and not r.deleted),
                        default=None,
                    ),
                }
                for i, row in zip(indexes, expected.values(), strict=True)
            ]
            for ordering in ORDERINGS:
                assert walk(client, ordering, spec["page_size"]) == expected_order(
                    rows, ordering
                ), ordering
        transaction.set_rollback(True)
