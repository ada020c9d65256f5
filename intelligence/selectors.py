"""Reads of the intelligence screen: the customer list, one customer, tenant totals.

Each is one SQL query, whatever the tenant's size: the list and the detail carry every
customer's counts and latest rows as correlated subqueries (intelligence/expressions.py),
the totals count each table once with FILTER clauses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db.models import Count, JSONField, Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import JSONObject
from django.utils import timezone

from businesses.models import Business
from crm.models import CallLog, Customer, Lead, Source, WhatsAppMessage
from intelligence.expressions import activity_annotations
from intelligence.filters import CustomerIntelligenceFilter
from intelligence.ordering import DEFAULT_ORDERING, ORDERINGS

# The customer's own columns on the page; notes and the sort keys stay in the table.
CUSTOMER_FIELDS = ("id", "name", "phone_e164", "email", "source", "created_at")

# A lead has converted when it is qualified (ready for a meeting) or won.
CONVERTED_STATUSES = (Lead.Status.QUALIFIED, Lead.Status.WON)
MEETING_READY_STATUS = Lead.Status.QUALIFIED


def customer_intelligence_list(
    *,
    business: Business,
    filters: Mapping[str, Any] | None = None,
    ordering: str = DEFAULT_ORDERING,
) -> QuerySet[Customer]:
    """The business's customers with their activity, in ``ordering`` (see ORDERINGS).

    ``filters`` (``source``, ``search``) are for callers outside HTTP; the API view
    applies the same FilterSet through its filter backend.
    """
    queryset = (
        Customer.objects.for_business(business)
        .only(*CUSTOMER_FIELDS)
        .annotate(**activity_annotations())
        .order_by(*ORDERINGS[ordering].order_by())
    )
    if filters is None:
        return queryset
    filterset = CustomerIntelligenceFilter(data=filters, queryset=queryset, business=business)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return filterset.qs


def customer_intelligence_detail(*, business: Business, customer_id: int) -> Customer | None:
    """One customer of the business with its activity, or None (also for another tenant's)."""
    return customer_intelligence_list(business=business).filter(pk=customer_id).first()


@dataclass(frozen=True)
class TenantStats:
    total_customers: int
    new_customers_today: int
    total_leads: int
    new_leads_today: int
    total_calls: int
    total_whatsapp: int
    call_conversion_rate: float
    whatsapp_conversion_rate: float
    meeting_ready_leads: int
    ai_processed_interactions: int


def today_bounds(time_zone: str, *, now: datetime | None = None) -> tuple[datetime, datetime]:
    """Start and end (exclusive) of today in ``time_zone``, as aware datetimes."""
    zone = ZoneInfo(time_zone)
    today = (now or timezone.now()).astimezone(zone).date()
    start = datetime.combine(today, time.min, tzinfo=zone)
    end = datetime.combine(today + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def rate(part: int, whole: int) -> float:
    """``part / whole`` rounded to 4 places; 0.0 when there is nothing to divide by."""
    return round(part / whole, 4) if whole else 0.0


def _table_counts(model: type[Model], **counts: Count) -> Subquery:
    """One pass over the tenant's rows of ``model``, several counts as one JSON value.

    The subquery groups by the tenant column it filters on, so it has one row, or none
    when the tenant has no rows (read as all zeros).
    """
    rows = (
        model.objects.filter(business=OuterRef("pk"))
        .order_by()
        .values("business")
        .annotate(counts=JSONObject(**counts))
        .values("counts")
    )
    return Subquery(rows, output_field=JSONField())


def tenant_stats(*, business: Business, now: datetime | None = None) -> TenantStats:
    """The business's totals; "today" is today in the business's time zone."""
    start, end = today_bounds(business.settings.time_zone, now=now)
    today = Q(created_at__gte=start, created_at__lt=end)
    by_call = Q(source=Source.CALL)
    by_whatsapp = Q(source=Source.WHATSAPP)
    converted = Q(status__in=CONVERTED_STATUSES)
    row = (
        Business.objects.filter(pk=business.pk)
        .values(
            customer_counts=_table_counts(
                Customer, total=Count("pk"), today=Count("pk", filter=today)
            ),
            lead_counts=_table_counts(
                Lead,
                total=Count("pk"),
                today=Count("pk", filter=today),
                from_calls=Count("pk", filter=by_call),
                converted_from_calls=Count("pk", filter=by_call & converted),
                from_whatsapp=Count("pk", filter=by_whatsapp),
                converted_from_whatsapp=Count("pk", filter=by_whatsapp & converted),
                meeting_ready=Count("pk", filter=Q(status=MEETING_READY_STATUS)),
            ),
            call_counts=_table_counts(
                CallLog, total=Count("pk"), ai_processed=Count("pk", filter=~Q(summary=""))
            ),
            whatsapp_counts=_table_counts(
                WhatsAppMessage,
                total=Count("pk"),
                ai_processed=Count("pk", filter=Q(ai_generated=True)),
            ),
        )
        .get()
    )
    customers, leads, calls, whatsapp = (
        row[name] or {}
        for name in ("customer_counts", "lead_counts", "call_counts", "whatsapp_counts")
    )

    def n(counts: dict[str, int], key: str) -> int:
        return counts.get(key, 0)

    return TenantStats(
        total_customers=n(customers, "total"),
        new_customers_today=n(customers, "today"),
        total_leads=n(leads, "total"),
        new_leads_today=n(leads, "today"),
        total_calls=n(calls, "total"),
        total_whatsapp=n(whatsapp, "total"),
        call_conversion_rate=rate(n(leads, "converted_from_calls"), n(leads, "from_calls")),
        whatsapp_conversion_rate=rate(
            n(leads, "converted_from_whatsapp"), n(leads, "from_whatsapp")
        ),
        meeting_ready_leads=n(leads, "meeting_ready"),
        ai_processed_interactions=n(calls, "ai_processed") + n(whatsapp, "ai_processed"),
    )
