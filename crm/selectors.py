"""Reads of the CRM records, always within one tenant.

Each list selector returns the tenant's rows unordered and unsliced: the API's cursor
pagination adds the ORDER BY and LIMIT that the indexes were built for (see
``crm.pagination`` and docs/indexes.md), and its filters narrow the query first.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from crm.models import CallLog, Customer, Lead, LeadStatusHistory, WhatsAppMessage
from crm.phones import InvalidPhoneNumber, to_e164

if TYPE_CHECKING:
    from businesses.models import Business

# A search term with at least this many digits is also matched inside phone numbers.
PHONE_FRAGMENT_MIN_DIGITS = 4
_PHONE_PUNCTUATION = frozenset("+-(). ")


def phone_region(business: Business) -> str:
    """The region that reads this tenant's phone numbers written without a country code."""
    return business.settings.default_country


def customer_list(*, business: Business) -> QuerySet[Customer]:
    return Customer.objects.for_business(business)


def customer_for_phone(*, business: Business, phone_e164: str) -> Customer | None:
    """The tenant's customer with this number, if any (the unique index answers it)."""
    if not phone_e164:
        return None
    return Customer.objects.for_business(business).filter(phone_e164=phone_e164).first()


def lead_list(*, business: Business) -> QuerySet[Lead]:
    return Lead.objects.for_business(business)


def lead_status_history(*, business: Business, lead: Lead) -> QuerySet[LeadStatusHistory]:
    """One lead's status changes with who made them (one query; the join is on a pk)."""
    return (
        LeadStatusHistory.objects.for_business(business)
        .filter(lead=lead)
        .select_related("changed_by")
    )


def call_list(*, business: Business) -> QuerySet[CallLog]:
    return CallLog.objects.for_business(business)


def call_by_sid(*, business: Business, call_sid: str) -> CallLog | None:
    """The tenant's call with this provider id (unique per tenant)."""
    return CallLog.objects.filter(business=business, call_sid=call_sid).first()


def whatsapp_message_list(*, business: Business) -> QuerySet[WhatsAppMessage]:
    return WhatsAppMessage.objects.for_business(business)


def whatsapp_message_by_provider_id(
    *, business: Business, provider_message_id: str
) -> WhatsAppMessage | None:
    return (
        WhatsAppMessage.objects.for_business(business)
        .filter(provider_message_id=provider_message_id)
        .first()
    )


def contact_search_condition(term: str, *, region: str) -> Q:
    """Match ``term`` against a name, an email or a phone number written in any format.

    A complete number (``050-123 4567``, ``+972 50 123 4567``) is normalised and
    matched exactly; a fragment with enough digits (``4567``) matches inside the
    stored E.164 numbers. Name and email match case-insensitively anywhere.
    """
    term = term.strip()
    condition = Q(name__icontains=term) | Q(email__icontains=term)
    digits = "".join(ch for ch in term if ch.isdigit())
    looks_like_a_phone = digits and all(ch.isdigit() or ch in _PHONE_PUNCTUATION for ch in term)
    if looks_like_a_phone:
        with contextlib.suppress(InvalidPhoneNumber):  # not a whole number: fragments only
            condition |= Q(phone_e164=to_e164(term, default_region=region))
        if len(digits) >= PHONE_FRAGMENT_MIN_DIGITS:
            condition |= Q(phone_e164__contains=digits)
    return condition
