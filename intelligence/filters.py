"""Filters of the customer intelligence list: ``source`` and ``search``."""

from __future__ import annotations

import contextlib
from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from businesses.models import Business
from crm.models import Customer, Source
from crm.phones import InvalidPhoneNumber, to_e164
from intelligence.ordering import ORDERING_LABELS
from prosaas.filters import ListControlsFilterSet

SEARCH_MAX_LENGTH = 100
ORDERING_CHOICES = list(ORDERING_LABELS.items())


def customer_search_q(text: str, *, default_region: str) -> Q:
    """Customers whose name or email contains ``text``, or whose phone number it is.

    A number may be written in any common format (``050-123-4567``, ``+972 50 123 4567``,
    ``(202) 555-0143``); it is normalised to E.164 with the business's default country,
    then matched exactly, which the (business_id, phone_e164) unique index answers.
    """
    match = Q(name__icontains=text) | Q(email__icontains=text)
    with contextlib.suppress(InvalidPhoneNumber):  # not a number: name and email only
        match |= Q(phone_e164=to_e164(text, default_region=default_region))
    return match


class CustomerIntelligenceFilter(ListControlsFilterSet):
    source = django_filters.ChoiceFilter(
        choices=Source.choices, help_text="Where the customer came from."
    )
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=SEARCH_MAX_LENGTH,
        help_text="Part of the name or email, or a phone number in any common format.",
    )

    # The view reads and checks `ordering` (intelligence/ordering.py); this puts its
    # choices in the browsable API's filter form and leaves the rows alone.
    ordering = django_filters.ChoiceFilter(
        choices=ORDERING_CHOICES,
        method="keep_rows",
        empty_label="Newest first (default)",
        label="Ordering",
    )

    class Meta:
        model = Customer
        fields = ["source", "search"]

    def keep_rows(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        return queryset

    def __init__(self, *args: Any, business: Business | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Over HTTP the tenant comes from the request (resolved once by IsTenantMember).
        self.business = business if business is not None else self.request.business

    def filter_search(
        self, queryset: QuerySet[Customer], name: str, value: str
    ) -> QuerySet[Customer]:
        text = value.strip()
        if not text:
            return queryset
        region = self.business.settings.default_country
        return queryset.filter(customer_search_q(text, default_region=region))
