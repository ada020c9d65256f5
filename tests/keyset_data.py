"""Rows that share one sort value, with distinct values around them, for every list.

Each tenant gets, for every list, ``tied`` rows with one identical sort value (the
same ``created_at``, name, lead count and last interaction) and ``around`` rows whose
values are distinct and fall on both sides of it. Rows go in with ``bulk_create``
(no signals), so the customers' sort keys are written directly, as the lists read them.
``expected_*`` give the order a walk must return, computed here in Python from the
stored values, not by the code under test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import connection

from businesses.models import Business, Membership
from crm.models import CallLog, Customer, Lead, LeadStatusHistory, WhatsAppMessage
from tests import factories

TIED_AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TIED_NAME = "Morgan Tied"
TIED_LEADS_COUNT = 2
CONVERSATION = "+14155550123"
LEAD_STATUSES = ("won", "lost", "new")
CALL_STATUSES = ("completed", "failed", "busy")
BATCH = 2000


@dataclass
class Tenant:
    business: Business
    owner: AbstractUser
    lead_with_history: Lead


def around(i: int) -> timedelta:
    """Distinct offsets from TIED_AT, alternating after and before it."""
    step = timedelta(seconds=i // 2 + 1, microseconds=i)
    return step if i % 2 else -step


def load(*, tied: int, around_rows: int, lists: frozenset[str] | None = None) -> Tenant:
    """A tenant whose every list holds ``tied + around_rows`` rows (``lists``: only those)."""
    business = factories.make_business()
    owner = factories.make_member(business, Membership.Role.OWNER)
    wanted = lists or frozenset({"customers", "leads", "calls", "whatsapp", "history"})
    count = tied + around_rows

    def moment(i: int) -> datetime:
        return TIED_AT if i < tied else TIED_AT + around(i)

    # Every lead, call and message belongs to a customer of its own, as after ingestion
    # matched them: the intelligence list's subqueries then read one index entry each.
    customers = Customer.objects.bulk_create(
        [customer_row(business, i, tied) for i in range(count if "customers" in wanted else 0)],
        batch_size=BATCH,
    )

    def customer(i: int) -> Customer | None:
        return customers[i] if customers else None

    if "leads" in wanted or "history" in wanted:
        Lead.objects.bulk_create(
            [
                Lead(
                    business=business,
                    customer=customer(i),
                    status=LEAD_STATUSES[i % 3],
                    source="import",
                    created_at=moment(i),
                )
                for i in range(count if "leads" in wanted else 1)
            ],
            batch_size=BATCH,
        )
    lead = Lead.objects.for_business(business).order_by("id").first()
    if "history" in wanted:
        assert lead is not None
        LeadStatusHistory.objects.bulk_create(
            [
                LeadStatusHistory(
                    business=business, lead=lead, new_status="new", created_at=moment(i)
                )
                for i in range(count)
            ],
            batch_size=BATCH,
        )
    if "calls" in wanted:
        CallLog.objects.bulk_create(
            [
                CallLog(
                    business=business,
                    customer=customer(i),
                    call_sid=f"CAkeyset{business.pk}-{i}",
                    from_number="+14155550000",
                    to_number="+14155559999",
                    direction=("inbound", "outbound")[i % 2],
                    status=CALL_STATUSES[i % 3],
                    created_at=moment(i),
                )
                for i in range(count)
            ],
            batch_size=BATCH,
        )
    if "whatsapp" in wanted:
        WhatsAppMessage.objects.bulk_create(
            [
                WhatsAppMessage(
                    business=business,
                    customer=customer(i),
                    provider_message_id=f"wamid.keyset.{i}",
                    to_number=CONVERSATION,
                    direction="inbound",
                    status="received",
                    created_at=moment(i),
                )
                for i in range(count)
            ],
            batch_size=BATCH,
        )
    with connection.cursor() as cursor:
        # Fresh statistics, as autovacuum would gather: without them the planner takes
        # the bulk-loaded tables for empty and reads whole tenants per customer.
        cursor.execute("ANALYZE customer, leads, lead_status_history, call_log, whatsapp_message")
    return Tenant(business=business, owner=owner, lead_with_history=lead)  # type: ignore[arg-type]


def customer_row(business: Business, i: int, tied: int, *, phone_prefix: str = "+1505") -> Customer:
    """Customer ``i``: one of the tied group if ``i < tied``, else distinct around it.

    Around the tie: names before and after ``TIED_NAME``; lead counts below and above
    ``TIED_LEADS_COUNT`` (the ones below share 0 or 1, as most real customers do);
    interaction times before and after ``TIED_AT``, and every fifth never active.
    """
    if i < tied:
        name, leads, last = TIED_NAME, TIED_LEADS_COUNT, TIED_AT
    else:
        name = f"{'Adams' if i % 2 else 'Young'} {i:06d}"
        leads = TIED_LEADS_COUNT + 1 + i if i % 2 else i % 2
        last = None if i % 5 == 0 else TIED_AT + around(i)
    return Customer(
        business=business,
        name=name,
        phone_e164=f"{phone_prefix}{i:07d}",
        source="import" if i % 2 else "web",
        created_at=TIED_AT if i < tied else TIED_AT + around(i),
        sort_leads_count=leads,
        sort_last_interaction_at=last,
    )


# --- The order each list must come in ------------------------------------------------

NEVER = datetime.min.replace(tzinfo=UTC)  # stands for "no interaction": after every time


def newest_first(rows: list[tuple[int, datetime]]) -> list[int]:
    return [pk for pk, _ in sorted(rows, key=lambda row: (row[1], row[0]), reverse=True)]


def expected_customers(business: Business, ordering: str, **filters: Any) -> list[int]:
    rows = Customer.objects.for_business(business).filter(**filters)
    keys: dict[str, tuple[Callable[[Any], Any], bool]] = {
        "-created_at": (lambda c: (c.created_at, c.pk), True),
        "name": (lambda c: (c.name, c.pk), False),
        "-leads_count": (lambda c: (c.sort_leads_count, c.pk), True),
        "-last_interaction": (lambda c: (c.sort_last_interaction_at or NEVER, c.pk), True),
    }
    key, descending = keys[ordering]
    return [c.pk for c in sorted(rows, key=key, reverse=descending)]


def expected_newest_first(queryset: Any) -> list[int]:
    return newest_first(list(queryset.values_list("pk", "created_at")))
