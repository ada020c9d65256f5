"""Realistic, skewed CRM volume for query-plan tests.

One large tenant among many small ones; lead and call statuses as lopsided as in
production (most calls complete, few leads are won); WhatsApp traffic concentrated
on a few busy conversations (Zipf-like). Timestamps spread over a year at microsecond
resolution. Rows go in with ``bulk_create``: plan tests need volume, not signals.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractUser
from django.db import connection
from django.utils import timezone

from businesses.models import Business, Membership
from crm.models import CallLog, Customer, Lead, LeadStatusHistory, Source, WhatsAppMessage
from tests import factories

BATCH = 5000

LEAD_STATUS_WEIGHTS = {
    "new": 35,
    "attempting": 20,
    "contacted": 20,
    "qualified": 10,
    "lost": 8,
    "unqualified": 5,
    "won": 2,
}
CALL_STATUS_WEIGHTS = {
    "completed": 75,
    "no_answer": 15,
    "busy": 6,
    "failed": 3,
    "canceled": 1,
}


@dataclass(frozen=True)
class Volume:
    customers: int
    leads: int
    calls: int
    messages: int


LARGE = Volume(customers=2_000, leads=20_000, calls=20_000, messages=20_000)
SMALL = Volume(customers=50, leads=300, calls=300, messages=300)


@dataclass
class Dataset:
    large: Business
    member: AbstractUser  # an agent of the large tenant
    busiest_number: str  # the large tenant's biggest WhatsApp conversation
    quiet_number: str  # one of its smallest
    lead_with_long_history: Lead  # 300 status changes


def load(*, small_tenants: int = 10, seed: int = 7) -> Dataset:
    rng = random.Random(seed)
    large = factories.make_business("Large tenant")
    member = factories.make_member(large, Membership.Role.AGENT)
    numbers = _load_tenant(large, LARGE, rng)
    for _ in range(small_tenants):
        _load_tenant(factories.make_business(), SMALL, rng)
    lead = Lead.objects.for_business(large).filter(status="won").earliest("created_at")
    statuses = list(LEAD_STATUS_WEIGHTS)
    LeadStatusHistory.objects.bulk_create(
        LeadStatusHistory(
            business=large,
            lead=lead,
            old_status=statuses[i % len(statuses)],
            new_status=statuses[(i + 1) % len(statuses)],
            created_at=lead.created_at + timedelta(minutes=i),
        )
        for i in range(300)
    )
    with connection.cursor() as cursor:
        for table in ("customer", "leads", "lead_status_history", "call_log", "whatsapp_message"):
            cursor.execute(f"ANALYZE {table}")
    return Dataset(
        large=large,
        member=member,
        busiest_number=numbers[0],
        quiet_number=numbers[-1],
        lead_with_long_history=lead,
    )


def _load_tenant(business: Business, volume: Volume, rng: random.Random) -> list[str]:
    """Fill one tenant; returns its customers' numbers, busiest conversation first."""
    now = timezone.now()

    def moment() -> datetime:
        return now - timedelta(seconds=rng.uniform(0, 365 * 86_400))

    customers = Customer.objects.bulk_create(
        [
            Customer(
                business=business,
                name=f"Customer {i}",
                phone_e164=f"+1415{i:07d}",
                source=rng.choice(Source.values),
                created_at=moment(),
            )
            for i in range(volume.customers)
        ],
        batch_size=BATCH,
    )
    # Zipf-like: the i-th customer gets a share proportional to 1 / (i + 1).
    weights = [1 / (i + 1) for i in range(len(customers))]

    def some_customers(count: int) -> Sequence[Customer]:
        return rng.choices(customers, weights=weights, k=count)

    leads = Lead.objects.bulk_create(
        [
            Lead(
                business=business,
                customer=customer,
                name=customer.name,
                phone_e164=customer.phone_e164,
                source=rng.choice(Source.values),
                status=_weighted(rng, LEAD_STATUS_WEIGHTS),
                created_at=moment(),
            )
            for customer in some_customers(volume.leads)
        ],
        batch_size=BATCH,
    )
    history = []
    for lead in leads:
        at = lead.created_at
        history.append(
            LeadStatusHistory(
                business=business, lead=lead, old_status="", new_status="new", created_at=at
            )
        )
        if lead.status != "new":
            at += timedelta(hours=rng.uniform(1, 200))
            history.append(
                LeadStatusHistory(
                    business=business,
                    lead=lead,
                    old_status="new",
                    new_status=lead.status,
                    created_at=at,
                )
            )
    LeadStatusHistory.objects.bulk_create(history, batch_size=BATCH)
    CallLog.objects.bulk_create(
        [
            CallLog(
                business=business,
                customer=customer,
                call_sid=f"CA{business.pk:08d}{i:024d}",
                from_number=customer.phone_e164,
                to_number="+14155550100",
                direction=rng.choice(CallLog.Direction.values),
                status=_weighted(rng, CALL_STATUS_WEIGHTS),
                duration=rng.randint(0, 900),
                created_at=moment(),
            )
            for i, customer in enumerate(some_customers(volume.calls))
        ],
        batch_size=BATCH,
    )
    WhatsAppMessage.objects.bulk_create(
        [
            WhatsAppMessage(
                business=business,
                customer=customer,
                provider_message_id=f"wamid.{i}",
                to_number=customer.phone_e164,
                direction=rng.choice(WhatsAppMessage.Direction.values),
                status=WhatsAppMessage.Status.DELIVERED,
                body="Hello",
                created_at=moment(),
            )
            for i, customer in enumerate(some_customers(volume.messages))
        ],
        batch_size=BATCH,
    )
    return [customer.phone_e164 for customer in customers]


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]
