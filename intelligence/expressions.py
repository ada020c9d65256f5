"""The correlated subqueries that put a customer's activity on its own row.

Every expression here is evaluated once per customer *of the page* (the outer query has
already ordered and limited the customers), so the page's cost grows with the page size
and with nothing else except the rows a count has to visit.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db.models import F, Func, IntegerField, JSONField, Model, OuterRef, Subquery
from django.db.models.functions import JSONObject
from django.utils.dateparse import parse_datetime

from crm.models import CallLog, Lead, WhatsAppMessage

# The fields of each channel's latest row. Their names are the API's (DESIGN.md).
LATEST_LEAD_FIELDS = ("id", "status", "source", "notes", "created_at", "updated_at")
LAST_CALL_FIELDS = ("id", "status", "direction", "duration", "summary", "created_at")
LAST_WHATSAPP_FIELDS = ("id", "status", "created_at")
DATETIME_FIELDS = frozenset({"created_at", "updated_at"})


class JSONRowField(JSONField):
    """A row built by ``JSONObject``, read back with its timestamps as datetimes.

    PostgreSQL writes a timestamp inside JSON as text in its own format (no ``Z``,
    microseconds trimmed); parsing it here means the serializers render nested and
    top-level timestamps with the same DRF field, so they look exactly alike.
    """

    def __init__(self, *args: Any, datetime_keys: Collection[str] = (), **kwargs: Any) -> None:
        self.datetime_keys = frozenset(datetime_keys)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        row = super().from_db_value(value, expression, connection)
        if isinstance(row, dict):
            for key in self.datetime_keys & row.keys():
                if row[key] is not None:
                    row[key] = parse_datetime(row[key])
        return row


def count_of(model: type[Model]) -> Subquery:
    """How many rows of ``model`` belong to the outer customer.

    ``Func(COUNT)`` rather than ``Count()``: Django does not see it as an aggregate, so
    the subquery has no GROUP BY and always returns one row (0 when there are none).
    It reads idx_*_customer_created, index-only once the visibility map is current. It
    trusts that a row's customer is of the row's tenant (ingestion matches the phone
    within the tenant): re-checking the tenant here would cost a heap visit per row.
    """
    rows = (
        model.objects.filter(customer=OuterRef("pk"))
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT"))
        .values("n")
    )
    return Subquery(rows, output_field=IntegerField())


def latest_row(model: type[Model], fields: Collection[str]) -> Subquery:
    """The outer customer's newest row of ``model`` (ties: higher id) as one JSON value.

    ORDER BY created_at DESC, id DESC LIMIT 1 is exactly idx_*_customer_created, so
    PostgreSQL reads one index entry and one heap row. The tenant check costs nothing
    here (that heap row is read anyway) and keeps another tenant's text off the page.
    """
    row = JSONObject(**{name: F(name) for name in fields})
    rows = (
        model.objects.filter(customer=OuterRef("pk"), business=OuterRef("business_id"))
        .order_by("-created_at", "-id")
        .values(row=row)[:1]
    )
    return Subquery(rows, output_field=JSONRowField(datetime_keys=DATETIME_FIELDS & set(fields)))


def activity_annotations() -> dict[str, Subquery]:
    """Counts and latest rows of every channel, named as the API names them."""
    return {
        "leads_count": count_of(Lead),
        "calls_count": count_of(CallLog),
        "whatsapp_count": count_of(WhatsAppMessage),
        "latest_lead": latest_row(Lead, LATEST_LEAD_FIELDS),
        "last_call": latest_row(CallLog, LAST_CALL_FIELDS),
        "last_whatsapp": latest_row(WhatsAppMessage, LAST_WHATSAPP_FIELDS),
    }
