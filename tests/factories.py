"""Plain factory functions: the one obvious way to make each kind of test record."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.utils import timezone
from rest_framework.authtoken.models import Token

from businesses.models import Business, Membership
from businesses.services import business_create
from crm.models import CallLog, Customer, Lead, LeadStatusHistory, WhatsAppMessage

_sequence = itertools.count(1)


def next_number() -> int:
    return next(_sequence)


def make_business(name: str | None = None, **settings_fields: Any) -> Business:
    n = next_number()
    name = name or f"Business {n}"
    return business_create(name=name, slug=f"business-{n}", **settings_fields)


def make_user(username: str | None = None, **fields: Any) -> AbstractUser:
    username = username or f"user{next_number()}"
    return get_user_model().objects.create_user(
        username=username, password="test-pass-123", **fields
    )


def make_member(business: Business, role: str, username: str | None = None) -> AbstractUser:
    user = make_user(username)
    Membership.objects.create(user=user, business=business, role=role)
    return user


def token_for(user: AbstractUser) -> str:
    return Token.objects.get_or_create(user=user)[0].key


def make_phone() -> str:
    return f"+1202555{next_number() % 10_000:04d}"


def make_customer(business: Business, **fields: Any) -> Customer:
    n = next_number()
    defaults: dict[str, Any] = {
        "name": f"Customer {n}",
        "phone_e164": f"+1415{n % 10_000_000:07d}",
        "email": f"customer{n}@example.com",
    }
    return Customer.objects.create(business=business, **{**defaults, **fields})


def make_lead(business: Business, customer: Customer | None = None, **fields: Any) -> Lead:
    defaults: dict[str, Any] = {
        "name": customer.name if customer else f"Lead {next_number()}",
        "phone_e164": customer.phone_e164 if customer else "",
    }
    return Lead.objects.create(business=business, customer=customer, **{**defaults, **fields})


def make_status_change(
    lead: Lead, new_status: str, at: datetime | None = None, **fields: Any
) -> LeadStatusHistory:
    return LeadStatusHistory.objects.create(
        business_id=lead.business_id,
        lead=lead,
        old_status=lead.status,
        new_status=new_status,
        created_at=at or timezone.now(),
        **fields,
    )


def make_call(business: Business, customer: Customer | None = None, **fields: Any) -> CallLog:
    number = customer.phone_e164 if customer else "+14155550000"
    defaults: dict[str, Any] = {
        "call_sid": f"CA{next_number():032d}",
        "from_number": number,
        "to_number": "+14155559999",
        "direction": CallLog.Direction.INBOUND,
        "status": CallLog.Status.COMPLETED,
        "duration": 60,
    }
    return CallLog.objects.create(business=business, customer=customer, **{**defaults, **fields})


def make_whatsapp(
    business: Business, customer: Customer | None = None, **fields: Any
) -> WhatsAppMessage:
    defaults: dict[str, Any] = {
        "provider_message_id": f"wamid.{next_number()}",
        "to_number": customer.phone_e164 if customer else "+14155550000",
        "direction": WhatsAppMessage.Direction.INBOUND,
        "status": WhatsAppMessage.Status.RECEIVED,
        "body": "Hello",
    }
    return WhatsAppMessage.objects.create(
        business=business, customer=customer, **{**defaults, **fields}
    )
