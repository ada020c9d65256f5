"""Filtering that rejects query parameters it does not understand."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

# Parameters understood by other parts of a list request (pagination, rendering).
ALWAYS_ALLOWED = frozenset({"cursor", "page_size", "format"})


class StrictDjangoFilterBackend(DjangoFilterBackend):
    """django-filter, but an unknown query parameter is a 400, not silently ignored.

    A typo such as ``?stauts=won`` would otherwise return the unfiltered list, which a
    client cannot tell from a correct answer. Views may accept more parameters through
    ``extra_query_params`` (for example ``ordering``).
    """

    def filter_queryset(
        self, request: Request, queryset: QuerySet[Any], view: Any
    ) -> QuerySet[Any]:
        filterset_class = self.get_filterset_class(view, queryset)
        known = set(ALWAYS_ALLOWED) | set(getattr(view, "extra_query_params", ()))
        if filterset_class is not None:
            for name, filter_ in filterset_class.base_filters.items():
                # Range filters read suffixed parameters (created_after, created_before).
                suffixes = getattr(filter_.field.widget, "suffixes", None)
                if suffixes:
                    known |= {f"{name}_{suffix}" if suffix else name for suffix in suffixes}
                else:
                    known.add(name)
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            raise ValidationError({name: ["Unknown query parameter."] for name in unknown})
        if filterset_class is not None:
            _refuse_blank_values(request, filterset_class.base_filters)
        return super().filter_queryset(request, queryset, view)


def _refuse_blank_values(request: Request, filters: dict[str, Any]) -> None:
    """``?status=`` is a 400, not "no filter": the schema says a status is one of its
    values, and a client that sent an empty one has a bug. Free text (``search``) may
    be empty."""
    blank = sorted(
        name
        for name, filter_ in filters.items()
        if not isinstance(filter_, django_filters.CharFilter)
        and any(not value.strip() for value in request.query_params.getlist(name))
    )
    if blank:
        raise ValidationError({name: ["May not be empty."] for name in blank})


@extend_schema_field(OpenApiTypes.INT)
class PageSizeFilter(django_filters.CharFilter):
    """``page_size`` in a list's filter form. The paginator reads and checks it; the
    filter only puts the field in the browsable API's form and leaves rows alone."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label", "Page size")
        kwargs.setdefault("help_text", "Rows per page, 1 to 200 (default 50).")
        kwargs.setdefault("widget", forms.NumberInput(attrs={"min": 1, "max": 200}))
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        return qs


class ListControlsFilterSet(django_filters.FilterSet):
    """Base of the lists' FilterSets: the filter form also offers the page size."""

    page_size = PageSizeFilter()
