"""Writes of the CRM records: the only code that creates, changes or deletes them.

Every function is keyword-only and atomic. Callers pass values that are already
validated and normalised (phones in E.164); the services enforce what only the
database can decide under concurrency: one customer per phone and tenant, one call
per ``call_sid`` and tenant, one WhatsApp message per provider id and tenant, and a status
history that records each change with the status it really replaced.

Rows are written with ``save()``/``create()`` so that model signals fire (the
intelligence app keeps per-customer summaries current through them); never use
``bulk_create`` or ``QuerySet.update`` on leads, calls or messages here.

Ingestion links a record to the tenant's customer with the same phone number and
never creates a customer: calls and messages also come from wrong numbers and spam,
and a customer is a record someone decided to keep (see docs/crm-api.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction

from crm import selectors
from crm.models import CallLog, Customer, Lead, LeadStatusHistory, Source, WhatsAppMessage

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from businesses.models import Business

RecordT = TypeVar("RecordT", bound=models.Model)

CUSTOMER_PHONE_CONSTRAINT = "customer_business_phone_uniq"
CALL_SID_CONSTRAINT = "call_log_business_call_sid_uniq"
WHATSAPP_PROVIDER_ID_CONSTRAINT = "whatsapp_message_business_provider_id_uniq"

LEAD_EDITABLE_FIELDS = frozenset({"customer", "name", "phone_e164", "email", "source", "notes"})
CUSTOMER_EDITABLE_FIELDS = frozenset({"name", "phone_e164", "email", "source", "notes"})


@dataclass(frozen=True)
class Ingested(Generic[RecordT]):
    """The stored record, and whether this request created it (False on a retry)."""

    record: RecordT
    created: bool


def _violates(error: IntegrityError, constraint: str) -> bool:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) == constraint


def _check_same_tenant(business_id: int, customer: Customer | None) -> None:
    # Views only offer the tenant's own customers; this guards every other caller.
    if customer is not None and customer.business_id != business_id:
        raise ValidationError({"customer": ["Unknown customer."]})


def _hold_customer(customer: Customer | None) -> Customer | None:
    """Keep ``customer`` from being deleted until this transaction ends; ``None`` if it
    is gone already.

    A record's foreign key to its customer is checked at commit (deferred), so without
    this a customer deleted while a call is being ingested fails the ingestion's commit
    with an IntegrityError. ``FOR KEY SHARE`` is the lock the key check itself takes:
    it lets other writers of the customer row go on and only waits for (or blocks) a
    deletion, which locks the row first (``customer_delete``).
    """
    if customer is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {Customer._meta.db_table} WHERE id = %s FOR KEY SHARE", [customer.pk]
        )
        return customer if cursor.fetchone() is not None else None


def _linked_customer(
    business: Business, customer: Customer | None, phone_e164: str
) -> Customer | None:
    """The customer a new record links to, held until the transaction ends: ``customer``
    if given (gone meanwhile: a field error), else the tenant's customer with that phone
    (gone meanwhile: looked up again, usually finding none)."""
    if customer is not None:
        if _hold_customer(customer) is None:
            raise ValidationError({"customer": ["Unknown customer."]})
        return customer
    for _ in range(2):
        found = selectors.customer_for_phone(business=business, phone_e164=phone_e164)
        if found is None or _hold_customer(found) is not None:
            return found
    return None


@contextmanager
def _customer_phone_unique() -> Iterator[None]:
    """Save inside this: a duplicate phone becomes a field error, not a 500.

    The unique index decides, also between two concurrent requests; the savepoint
    keeps the caller's transaction usable after the violation.
    """
    try:
        with transaction.atomic():
            yield
    except IntegrityError as error:
        if _violates(error, CUSTOMER_PHONE_CONSTRAINT):
            raise ValidationError(
                {"phone_e164": ["This business already has a customer with this phone number."]}
            ) from error
        raise


def _save_once(
    record: RecordT, *, constraint: str, find_existing: Callable[[], RecordT | None]
) -> Ingested[RecordT]:
    """Insert ``record`` unless ``find_existing`` already finds it, race-safely.

    Two concurrent requests may both find nothing and both insert; the unique index
    makes the second wait for the first and then fail. The savepoint keeps the outer
    transaction usable, and the row committed by the winner is then visible (READ
    COMMITTED takes a new snapshot per statement).
    """
    existing = find_existing()
    if existing is not None:
        return Ingested(existing, created=False)
    try:
        with transaction.atomic():
            record.save(force_insert=True)
    except IntegrityError as error:
        if not _violates(error, constraint):
            raise
        existing = find_existing()
        if existing is None:  # the winner rolled back after all: a genuine failure
            raise
        return Ingested(existing, created=False)
    return Ingested(record, created=True)


# --- Customers -------------------------------------------------------------------------


@transaction.atomic
def customer_create(
    *,
    business: Business,
    name: str,
    phone_e164: str,
    email: str = "",
    source: str = Source.MANUAL,
    notes: str = "",
) -> Customer:
    """Create a customer; a phone number the tenant already has is a field error."""
    customer = Customer(
        business=business,
        name=name,
        phone_e164=phone_e164,
        email=email,
        source=source,
        notes=notes,
    )
    with _customer_phone_unique():
        customer.save(force_insert=True)
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, **changes: Any) -> Customer:
    unknown = set(changes) - CUSTOMER_EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"customer_update() cannot change {sorted(unknown)}")
    if not changes:
        return customer
    for field, value in changes.items():
        setattr(customer, field, value)
    with _customer_phone_unique():
        customer.save(update_fields=[*changes, "updated_at"])
    return customer


@transaction.atomic
def customer_delete(*, customer: Customer) -> None:
    """Delete a customer; its leads, calls and messages stay, unlinked (SET NULL).

    The row is locked first, before its records are collected: a record being linked
    to it concurrently (``_hold_customer``) has either committed, and is unlinked here,
    or waits and then finds the customer gone. Deleting a customer already gone is a
    no-op.
    """
    locked = Customer.objects.select_for_update().filter(pk=customer.pk).values_list("pk")
    if list(locked):
        customer.delete()


# --- Leads -----------------------------------------------------------------------------


@transaction.atomic
def lead_create(
    *,
    business: Business,
    by: AbstractBaseUser | None,
    channel: str = LeadStatusHistory.Channel.API,
    customer: Customer | None = None,
    name: str = "",
    phone_e164: str = "",
    email: str = "",
    source: str = Source.MANUAL,
    status: str = Lead.Status.NEW,
    notes: str = "",
    created_at: datetime | None = None,
) -> Lead:
    """Create a lead and record its first status.

    Without an explicit ``customer`` the lead is linked to the tenant's customer with
    the same phone number, if there is one; with one and no phone, it takes the
    customer's number.
    """
    _check_same_tenant(business.pk, customer)
    if customer is None:
        customer = selectors.customer_for_phone(business=business, phone_e164=phone_e164)
    elif not phone_e164:
        phone_e164 = customer.phone_e164
    lead = Lead(
        business=business,
        customer=customer,
        name=name,
        phone_e164=phone_e164,
        email=email,
        source=source,
        status=status,
        notes=notes,
    )
    if created_at is not None:
        lead.created_at = created_at
    lead.save(force_insert=True)
    LeadStatusHistory.objects.create(
        business=business,
        lead=lead,
        old_status="",
        new_status=status,
        changed_by=by,
        channel=channel,
        created_at=lead.created_at,
    )
    return lead


@transaction.atomic
def lead_change_status(
    *,
    lead: Lead,
    status: str,
    by: AbstractBaseUser | None,
    channel: str,
    reason: str = "",
) -> LeadStatusHistory | None:
    """Move ``lead`` to ``status`` and record the change; the same status records nothing.

    The row is locked first, so of two concurrent changes the second waits and then
    records the status the first one set, never the stale one both started from.
    Returns the history row, or None when nothing changed. ``lead`` is refreshed.
    """
    if status not in Lead.Status.values:
        raise ValidationError({"status": [f"'{status}' is not a lead status."]})
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    old_status = locked.status
    if old_status != status:
        locked.status = status
        locked.save(update_fields=["status", "updated_at"])
    lead.status, lead.updated_at = locked.status, locked.updated_at
    if old_status == status:
        return None
    return LeadStatusHistory.objects.create(
        business_id=locked.business_id,
        lead=locked,
        old_status=old_status,
        new_status=status,
        changed_by=by,
        channel=channel,
        reason=reason,
    )


@transaction.atomic
def lead_update(
    *,
    lead: Lead,
    by: AbstractBaseUser | None,
    channel: str = LeadStatusHistory.Channel.API,
    status: str | None = None,
    status_reason: str = "",
    **changes: Any,
) -> Lead:
    """Change a lead's details and, through ``lead_change_status``, its status."""
    unknown = set(changes) - LEAD_EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"lead_update() cannot change {sorted(unknown)}")
    _check_same_tenant(lead.business_id, changes.get("customer"))
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if changes:
        for field, value in changes.items():
            setattr(locked, field, value)
        locked.save(update_fields=[*changes, "updated_at"])
    if status is not None:
        lead_change_status(lead=locked, status=status, by=by, channel=channel, reason=status_reason)
    return locked


# --- Ingestion -------------------------------------------------------------------------


@transaction.atomic
def call_log_ingest(
    *,
    business: Business,
    call_sid: str,
    from_number: str,
    to_number: str,
    direction: str,
    status: str,
    customer: Customer | None = None,
    **details: Any,
) -> Ingested[CallLog]:
    """Record a call once per ``call_sid`` within the tenant; a retry returns the stored
    call unchanged. Another tenant's call with the same id is neither seen nor in the way.

    The customer is the other party: the caller of an inbound call, the callee of an
    outbound one.
    """
    _check_same_tenant(business.pk, customer)
    other_party = from_number if direction == CallLog.Direction.INBOUND else to_number
    customer = _linked_customer(business, customer, other_party)
    call = CallLog(
        business=business,
        customer=customer,
        call_sid=call_sid,
        from_number=from_number,
        to_number=to_number,
        direction=direction,
        status=status,
        **details,
    )
    return _save_once(
        call,
        constraint=CALL_SID_CONSTRAINT,
        find_existing=lambda: selectors.call_by_sid(business=business, call_sid=call_sid),
    )


@transaction.atomic
def whatsapp_message_ingest(
    *,
    business: Business,
    provider_message_id: str,
    to_number: str,
    direction: str,
    status: str,
    customer: Customer | None = None,
    **details: Any,
) -> Ingested[WhatsAppMessage]:
    """Record a message once per provider id within the tenant; a retry returns it."""
    _check_same_tenant(business.pk, customer)
    customer = _linked_customer(business, customer, to_number)
    message = WhatsAppMessage(
        business=business,
        customer=customer,
        provider_message_id=provider_message_id,
        to_number=to_number,
        direction=direction,
        status=status,
        **details,
    )
    return _save_once(
        message,
        constraint=WHATSAPP_PROVIDER_ID_CONSTRAINT,
        find_existing=lambda: selectors.whatsapp_message_by_provider_id(
            business=business, provider_message_id=provider_message_id
        ),
    )
