"""Query-string filters of the CRM lists (django-filter).

Invalid values are 400s with the parameter named (the strict backend in
``prosaas.filters`` also refuses parameters it does not know). Each filter is written
so that the query it produces can use the index its list was built for: one status is
an equality (``status = 'won'``), which keeps the rows in index order; several are an
``IN`` list (docs/indexes.md shows both plans).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from crm.models import CallLog, Customer, Lead, Source, WhatsAppMessage
from crm.phones import InvalidPhoneNumber, to_e164
from crm.selectors import contact_search_condition, phone_region
from prosaas.filters import ListControlsFilterSet

MAX_ID = 2**63 - 1


class CommaSeparatedMultipleWidget(forms.SelectMultiple):
    """Reads ``?status=new&status=won`` and ``?status=new,won`` alike."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name, "")]
        return [part.strip() for value in values for part in value.split(",") if part.strip()]


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A database id: a positive whole number (``1.5`` or ``-1`` is a 400, not a match)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class PhoneNumberFormField(forms.CharField):
    """A phone number in any format, cleaned to E.164 with the tenant's region."""

    default_region = "US"  # replaced per request by TenantFilterSet

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if not value:
            return value
        try:
            return to_e164(value, default_region=self.default_region)
        except InvalidPhoneNumber as error:
            raise forms.ValidationError(str(error)) from None


class PhoneNumberFilter(django_filters.CharFilter):
    field_class = PhoneNumberFormField


class TenantFilterSet(ListControlsFilterSet):
    """A FilterSet that reads phone numbers the way the request's tenant writes them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.request is not None and hasattr(self.request, "business"):
            region = phone_region(self.request.business)
            for field in self.form.fields.values():
                if isinstance(field, PhoneNumberFormField):
                    field.default_region = region

    def filter_search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if not value.strip():
            return queryset
        region = phone_region(self.request.business)
        return queryset.filter(contact_search_condition(value, region=region))

    @staticmethod
    def filter_one_or_several(
        queryset: QuerySet[Any], name: str, value: list[str]
    ) -> QuerySet[Any]:
        if not value:
            return queryset
        if len(value) == 1:
            # An equality keeps the (tenant, status, created_at DESC) index order.
            return queryset.filter(**{name: value[0]})
        return queryset.filter(**{f"{name}__in": sorted(value)})


def status_filter(choices: Any) -> django_filters.MultipleChoiceFilter:
    return django_filters.MultipleChoiceFilter(
        choices=choices,
        method="filter_one_or_several",
        widget=CommaSeparatedMultipleWidget,
        help_text="One or several statuses: repeat the parameter or separate with commas.",
    )


def search_filter() -> django_filters.CharFilter:
    return django_filters.CharFilter(
        method="filter_search",
        max_length=100,
        help_text="Part of the name or email, or a phone number in any format "
        "(a complete number, or at least 4 of its digits).",
    )


class CustomerFilter(TenantFilterSet):
    source = django_filters.ChoiceFilter(choices=Source.choices)
    search = search_filter()

    class Meta:
        model = Customer
        fields = ["source", "search"]


class LeadFilter(TenantFilterSet):
    status = status_filter(Lead.Status.choices)
    source = django_filters.ChoiceFilter(choices=Source.choices)
    customer = IdFilter(field_name="customer_id", help_text="A customer id.")
    search = search_filter()

    class Meta:
        model = Lead
        fields = ["status", "source", "customer", "search"]


class CallLogFilter(TenantFilterSet):
    status = status_filter(CallLog.Status.choices)
    direction = django_filters.ChoiceFilter(choices=CallLog.Direction.choices)
    customer = IdFilter(field_name="customer_id", help_text="A customer id.")

    class Meta:
        model = CallLog
        fields = ["status", "direction", "customer"]


class WhatsAppMessageFilter(TenantFilterSet):
    to_number = PhoneNumberFilter(
        required=True,
        help_text="The conversation: the customer's WhatsApp number, any common format.",
    )

    class Meta:
        model = WhatsAppMessage
        fields = ["to_number"]
