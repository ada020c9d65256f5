"""The old fix of the intelligence page: counts by GROUP BY, latest rows by ROW_NUMBER.

The queries themselves live with the product (``intelligence.aggregated.page_activity``,
kept there as the reference the one-query version is checked against). This view is the
product's list view with one change: the page of customers is read plainly and their
activity is then filled in by ``page_activity`` — 1 + 6 queries — instead of arriving
in the page's one query. Routing, permissions, filters, cursor pagination and the
serializer are the product's, so only the query strategy differs.
"""

from __future__ import annotations

import importlib.util
from typing import Any


def aggregated_unavailable_reason() -> str | None:
    """None when the aggregated formulation can be measured, else why it cannot."""
    if importlib.util.find_spec("intelligence.aggregated") is None:
        return "intelligence.aggregated (the 5–7-query formulation) is not in this checkout yet."
    return None


def aggregated_view() -> Any:
    """The view, built on first use so that bench.urls imports without the product code."""
    from crm.models import Customer
    from intelligence.aggregated import page_activity
    from intelligence.ordering import DEFAULT_ORDERING, ORDERINGS
    from intelligence.selectors import CUSTOMER_FIELDS
    from intelligence.views import CustomerIntelligenceListView

    class AggregatedCustomerIntelligenceView(CustomerIntelligenceListView):
        json_from_database = False  # its own queries and the serializer, as it was

        def get_queryset(self) -> Any:
            chosen = ORDERINGS[getattr(self, "ordering", DEFAULT_ORDERING)]
            return (
                Customer.objects.for_business(self.request.business)
                .only(*CUSTOMER_FIELDS)
                .order_by(*chosen.order_by())
            )

        def paginate_queryset(self, queryset: Any) -> list[Any] | None:
            page = super().paginate_queryset(queryset)
            if page is None:
                return None
            activity = page_activity(
                business=self.request.business, customer_ids=[c.pk for c in page]
            )
            for customer in page:
                for name, value in activity[customer.pk].items():
                    setattr(customer, name, value)
            return page

    return AggregatedCustomerIntelligenceView.as_view()
