"""Deterministic demo data: a few businesses with customers, leads, calls and messages.

Used by ``manage.py seed_demo`` (and so by ``make run``). The same seed gives the same
names, numbers, statuses and relative timestamps every time; rows are written with
``bulk_create`` in batches, which is fast but bypasses ``save()`` and signals, so
anything derived from the rows is recomputed at the end.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from businesses.models import Business, Membership
from businesses.services import business_create
from crm.models import CallLog, Customer, Lead, LeadStatusHistory, Source, WhatsAppMessage

DEMO_PASSWORD = "prosaas-demo"
BATCH_SIZE = 2000

FIRST_NAMES = [
    "Noa",
    "Yossi",
    "Maya",
    "Amir",
    "Tamar",
    "Daniel",
    "Shira",
    "Omer",
    "Lior",
    "Roni",
    "Emma",
    "Oliver",
    "Amelia",
    "George",
    "Isla",
    "Harry",
    "Ava",
    "Jack",
    "Mia",
    "Leo",
    "Sofia",
    "Liam",
    "Olivia",
    "Noah",
    "Ella",
    "Lucas",
    "Grace",
    "Ethan",
    "Chloe",
    "Mason",
]
LAST_NAMES = [
    "Cohen",
    "Levi",
    "Mizrahi",
    "Peretz",
    "Biton",
    "Friedman",
    "Shapiro",
    "Katz",
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Davies",
    "Evans",
    "Garcia",
    "Miller",
    "Davis",
    "Martinez",
    "Lopez",
    "Clark",
    "Lewis",
    "Walker",
]
CALL_TOPICS = [
    "asked for a quote",
    "wants a visit next week",
    "reported an urgent leak",
    "asked about opening hours",
    "follow-up on an earlier quote",
    "price comparison",
    "wants to reschedule",
    "complained about a delay",
    "ready to book a meeting",
]
WHATSAPP_LINES = [
    "Hi, is anyone available today?",
    "Thanks, see you then!",
    "Can you send the price?",
    "Here is the photo of the problem.",
    "What time works for you?",
    "Great, booked.",
    "Hello! How can we help you today?",
    "Our technician will call you shortly.",
]


@dataclass(frozen=True)
class DemoBusiness:
    slug: str
    name: str
    time_zone: str
    default_country: str
    phone_prefix: str  # E.164 prefix; a fixed number of random digits follows
    phone_digits: int
    line_number: str  # the business's own number, for calls and messages


DEMO_BUSINESSES = [
    DemoBusiness("acme", "Acme Plumbing", "Asia/Jerusalem", "IL", "+97250", 7, "+97235550100"),
    DemoBusiness(
        "bluesky", "Blue Sky Dental", "Europe/London", "GB", "+447700", 6, "+442079460000"
    ),
    DemoBusiness(
        "sunrise", "Sunrise Realty", "America/New_York", "US", "+1212555", 4, "+12125550100"
    ),
]

# username -> (role per business slug); staff users also get the admin site.
DEMO_USERS: dict[str, dict[str, str]] = {
    "acme_owner": {"acme": Membership.Role.OWNER},
    "acme_manager": {"acme": Membership.Role.MANAGER},
    "acme_agent": {"acme": Membership.Role.AGENT},
    "bluesky_owner": {"bluesky": Membership.Role.OWNER},
    "sunrise_owner": {"sunrise": Membership.Role.OWNER},
    "consultant": {"acme": Membership.Role.MANAGER, "bluesky": Membership.Role.MANAGER},
}
DEMO_SUPERUSER = "admin"

# Plausible status walks of a lead, from creation on.
STATUS_PATHS = [
    ["new"],
    ["new", "attempting"],
    ["new", "attempting", "contacted"],
    ["new", "contacted", "qualified"],
    ["new", "contacted", "qualified", "won"],
    ["new", "attempting", "lost"],
    ["new", "contacted", "unqualified"],
    ["new", "contacted", "qualified", "lost"],
]


@dataclass(frozen=True)
class Volume:
    customers: int = 60
    max_leads_per_customer: int = 4
    max_calls_per_customer: int = 8
    max_messages_per_customer: int = 12

    @property
    def approximate_rows(self) -> int:
        per_customer = (
            1
            + (
                self.max_leads_per_customer * 2.5
                + self.max_calls_per_customer
                + self.max_messages_per_customer
            )
            / 2
        )
        return int(self.customers * per_customer)


@dataclass
class SeedReport:
    created_businesses: list[str]
    skipped_businesses: list[str]
    tokens: dict[str, str]


def seed_demo(
    *,
    volume: Volume,
    seed: int = 2026,
    progress: Callable[[int], None] = lambda rows: None,
) -> SeedReport:
    """Create the demo users and businesses; a business that already exists is left alone."""
    report = SeedReport(created_businesses=[], skipped_businesses=[], tokens={})
    with transaction.atomic():
        businesses = {}
        for spec in DEMO_BUSINESSES:
            business = Business.objects.filter(slug=spec.slug).first()
            if business is not None:
                report.skipped_businesses.append(spec.slug)
            else:
                business = business_create(
                    name=spec.name,
                    slug=spec.slug,
                    time_zone=spec.time_zone,
                    default_country=spec.default_country,
                )
                _seed_records(
                    business, spec, volume, random.Random(f"{seed}-{spec.slug}"), progress
                )
                report.created_businesses.append(spec.slug)
            businesses[spec.slug] = business
        report.tokens = _seed_users(businesses)
    return report


def _seed_users(businesses: dict[str, Business]) -> dict[str, str]:
    user_model = get_user_model()
    tokens = {}
    for username, roles in DEMO_USERS.items():
        user = _get_or_create_user(user_model, username, is_superuser=False)
        for slug, role in roles.items():
            Membership.objects.get_or_create(
                user=user, business=businesses[slug], defaults={"role": role}
            )
        tokens[username] = Token.objects.get_or_create(user=user)[0].key
    admin = _get_or_create_user(user_model, DEMO_SUPERUSER, is_superuser=True)
    # The admin is a member of no business; its token reads the staff-only endpoints
    # (cache_stats --url).
    tokens[DEMO_SUPERUSER] = Token.objects.get_or_create(user=admin)[0].key
    return tokens


def _get_or_create_user(
    user_model: type[AbstractUser], username: str, *, is_superuser: bool
) -> AbstractUser:
    user = user_model.objects.filter(username=username).first()
    if user is None:
        user = user_model(
            username=username,
            email=f"{username}@example.com",
            is_staff=is_superuser,
            is_superuser=is_superuser,
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


def _seed_records(
    business: Business,
    spec: DemoBusiness,
    volume: Volume,
    rng: random.Random,
    progress: Callable[[int], None],
) -> None:
    now = timezone.now()
    customers = [
        Customer(
            business=business,
            name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            phone_e164=phone,
            email=f"customer{index}@{spec.slug}.example" if rng.random() < 0.7 else "",
            source=rng.choice(Source.values),
            created_at=now - timedelta(days=rng.uniform(0, 120)),
        )
        for index, phone in enumerate(_unique_phones(spec, volume.customers, rng))
    ]
    for batch in _batches(customers):
        Customer.objects.bulk_create(batch)
        progress(len(batch))

    leads: list[Lead] = []
    lead_paths: list[list[str]] = []
    calls: list[CallLog] = []
    messages: list[WhatsAppMessage] = []
    for customer in customers:
        for _ in range(rng.randint(0, volume.max_leads_per_customer)):
            path = rng.choice(STATUS_PATHS)
            leads.append(
                Lead(
                    business=business,
                    customer=customer,
                    name=customer.name,
                    phone_e164=customer.phone_e164,
                    email=customer.email,
                    source=rng.choice(Source.values),
                    status=path[-1],
                    notes=rng.choice(
                        ["", "Prefers mornings.", "Referred by a neighbour.", "Budget agreed."]
                    ),
                    created_at=_after(customer.created_at, now, rng),
                )
            )
            lead_paths.append(path)
        for _ in range(rng.randint(0, volume.max_calls_per_customer)):
            calls.append(_demo_call(business, spec, customer, now, rng, sequence=len(calls)))
        for _ in range(rng.randint(0, volume.max_messages_per_customer)):
            messages.append(_demo_message(business, customer, now, rng, sequence=len(messages)))

    for batch in _batches(leads):
        Lead.objects.bulk_create(batch)
        progress(len(batch))
    history = list(_status_history(business, leads, lead_paths, now, rng))
    for model, rows in (
        (LeadStatusHistory, history),
        (CallLog, calls),
        (WhatsAppMessage, messages),
    ):
        for batch in _batches(rows):
            model.objects.bulk_create(batch)
            progress(len(batch))
    # The database's triggers have kept the sort keys and the statistics counters.


def _demo_call(
    business: Business,
    spec: DemoBusiness,
    customer: Customer,
    now: datetime,
    rng: random.Random,
    *,
    sequence: int,
) -> CallLog:
    direction = rng.choice(CallLog.Direction.values)
    status = rng.choices(
        [
            CallLog.Status.COMPLETED,
            CallLog.Status.NO_ANSWER,
            CallLog.Status.BUSY,
            CallLog.Status.FAILED,
        ],
        weights=[75, 15, 7, 3],
    )[0]
    answered = status == CallLog.Status.COMPLETED
    inbound = direction == CallLog.Direction.INBOUND
    return CallLog(
        business=business,
        customer=customer,
        call_sid=f"CA{spec.slug}{sequence:010d}{rng.getrandbits(32):08x}",
        from_number=customer.phone_e164 if inbound else spec.line_number,
        to_number=spec.line_number if inbound else customer.phone_e164,
        direction=direction,
        status=status,
        duration=rng.randint(20, 900) if answered else 0,
        summary=f"Customer {rng.choice(CALL_TOPICS)}." if answered and rng.random() < 0.6 else "",
        created_at=_after(customer.created_at, now, rng),
    )


def _demo_message(
    business: Business, customer: Customer, now: datetime, rng: random.Random, *, sequence: int
) -> WhatsAppMessage:
    inbound = rng.random() < 0.5
    return WhatsAppMessage(
        business=business,
        customer=customer,
        provider_message_id=f"wamid.{business.slug}.{sequence:08d}.{rng.getrandbits(32):08x}",
        to_number=customer.phone_e164,
        direction=WhatsAppMessage.Direction.INBOUND
        if inbound
        else WhatsAppMessage.Direction.OUTBOUND,
        status=WhatsAppMessage.Status.RECEIVED
        if inbound
        else rng.choice(
            [
                WhatsAppMessage.Status.DELIVERED,
                WhatsAppMessage.Status.READ,
                WhatsAppMessage.Status.SENT,
            ]
        ),
        body=rng.choice(WHATSAPP_LINES),
        ai_generated=not inbound and rng.random() < 0.6,
        created_at=_after(customer.created_at, now, rng),
    )


def _status_history(
    business: Business, leads: list[Lead], paths: list[list[str]], now: datetime, rng: random.Random
) -> Iterator[LeadStatusHistory]:
    for lead, path in zip(leads, paths, strict=True):
        at = lead.created_at
        previous = ""
        for status in path:
            yield LeadStatusHistory(
                business=business,
                lead=lead,
                old_status=previous,
                new_status=status,
                channel=LeadStatusHistory.Channel.SYSTEM
                if not previous
                else rng.choice(
                    [
                        LeadStatusHistory.Channel.CALL,
                        LeadStatusHistory.Channel.WHATSAPP,
                        LeadStatusHistory.Channel.API,
                    ]
                ),
                created_at=at,
            )
            previous = status
            at = _after(at, now, rng)


def _unique_phones(spec: DemoBusiness, count: int, rng: random.Random) -> list[str]:
    capacity = 10**spec.phone_digits
    if count > capacity:
        raise ValueError(f"{spec.name} has room for at most {capacity} demo phone numbers.")
    return [
        f"{spec.phone_prefix}{n:0{spec.phone_digits}d}" for n in rng.sample(range(capacity), count)
    ]


def _after(start: datetime, end: datetime, rng: random.Random) -> datetime:
    """A moment between ``start`` and ``end``, skewed towards recent ones."""
    span = (end - start).total_seconds()
    return start + timedelta(seconds=span * (1 - rng.random() ** 2))


def _batches(rows: list, size: int = BATCH_SIZE) -> Iterator[list]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
