"""Filtering that rejects query parameters it does not understand."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
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
        return super().filter_queryset(request, queryset, view)
