"""The seed's formulation of the intelligence page: a fixed handful of aggregate queries.

The system this project replaces fixed its N+1 (4 queries per customer) by loading the
page of customers and then, for all of them at once, each count with a GROUP BY and
each latest row with ``ROW_NUMBER() OVER (PARTITION BY customer_id ...)``: 1 + 6
queries here. The product path (intelligence.selectors) does the same work in one
query with correlated subqueries; this module is kept as the benchmark's comparison
(bench/) and as an independent implementation the property tests check it against.
It fills in exactly the attributes the selector annotates, so the same serializer
renders either.

Why the product does not use it (docs/intelligence.md has the numbers): a window
function numbers *every* row of the page's customers before keeping the first, so a
customer with 200k calls costs 200k rows of work for one latest call, where the
correlated ``ORDER BY ... LIMIT 1`` reads one index entry.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from django.db.models import Count, F, Model, QuerySet, Window
from django.db.models.functions import RowNumber

from businesses.models import Business
from crm.models import CallLog, Customer, Lead, WhatsAppMessage
from intelligence.expressions import LAST_CALL_FIELDS, LAST_WHATSAPP_FIELDS, LATEST_LEAD_FIELDS
from intelligence.ordering import DEFAULT_ORDERING, ORDERINGS
from intelligence.selectors import CUSTOMER_FIELDS

COUNTS: tuple[tuple[str, type[Model]], ...] = (
    ("leads_count", Lead),
    ("calls_count", CallLog),
    ("whatsapp_count", WhatsAppMessage),
)
LATEST_ROWS: tuple[tuple[str, type[Model], Sequence[str]], ...] = (
    ("latest_lead", Lead, LATEST_LEAD_FIELDS),
    ("last_call", CallLog, LAST_CALL_FIELDS),
    ("last_whatsapp", WhatsAppMessage, LAST_WHATSAPP_FIELDS),
)
ACTIVITY_ATTRIBUTES = tuple(name for name, _ in COUNTS) + tuple(name for name, *_ in LATEST_ROWS)


def page_activity(
    *, business: Business, customer_ids: Collection[int]
) -> dict[int, dict[str, Any]]:
    """Counts and latest rows of the given customers of ``business``: 6 queries.

    Returns ``{customer_id: {"leads_count": ..., "latest_lead": {...} | None, ...}}``
    with one entry per requested id (zeros and None for a customer without rows).
    """
    ids = list(customer_ids)
    activity: dict[int, dict[str, Any]] = {
        customer_id: {name: 0 for name, _ in COUNTS} | {name: None for name, *_ in LATEST_ROWS}
        for customer_id in ids
    }
    for name, model in COUNTS:
        counted = (
            _page_rows(model, business, ids)
            .values("customer_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for row in counted:
            activity[row["customer_id"]][name] = row["n"]
    for name, model, fields in LATEST_ROWS:
        latest = (
            _page_rows(model, business, ids)
            .annotate(
                position=Window(
                    RowNumber(),
                    partition_by=F("customer_id"),
                    order_by=[F("created_at").desc(), F("id").desc()],
                )
            )
            .filter(position=1)
            .values("customer_id", *fields)
        )
        for row in latest:
            customer_id = row.pop("customer_id")
            activity[customer_id][name] = row
    return activity


def customer_page(
    *, business: Business, ordering: str = DEFAULT_ORDERING, page_size: int = 50
) -> list[Customer]:
    """The first page of the list the seed's way: the customers, then ``page_activity``.

    7 queries. The customers carry the same attributes as the selector's annotations.
    """
    customers = list(
        Customer.objects.for_business(business)
        .only(*CUSTOMER_FIELDS)
        .order_by(*ORDERINGS[ordering].order_by())[:page_size]
    )
    activity = page_activity(business=business, customer_ids=[c.pk for c in customers])
    for customer in customers:
        for name, value in activity[customer.pk].items():
            setattr(customer, name, value)
    return customers


def _page_rows(model: type[Model], business: Business, ids: list[int]) -> QuerySet[Any]:
    return model.objects.for_business(business).filter(customer_id__in=ids)  # type: ignore[attr-defined]
