"""Cursor pagination for the intelligence list, with the ordering chosen per request."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Field, QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import Cursor
from rest_framework.request import Request

from prosaas.pagination import StrictCursorPagination


class CustomerIntelligencePagination(StrictCursorPagination):
    """StrictCursorPagination that also checks the position inside a cursor.

    A cursor is client input: its position is compared with the first ordering column,
    and one that column cannot hold (text in a timestamp or a rank, a NUL byte, an
    out-of-range number) would otherwise fail deep in the ORM or the driver as a 500.
    The view sets ``ordering`` per request before paginating.
    """

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: Any = None
    ) -> list[Any] | None:
        self._queryset = queryset
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Request) -> Cursor | None:
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            self._check_position(cursor.position)
        return cursor

    def _check_position(self, position: str) -> None:
        name = self.ordering[0].lstrip("-")
        try:
            if "\x00" in position:
                raise DjangoValidationError("NUL byte")
            _position_field(self._queryset, name).clean(position, None)
        except DjangoValidationError:
            raise ValidationError({self.cursor_query_param: ["Invalid cursor."]}) from None


def _position_field(queryset: QuerySet[Any], name: str) -> Field:
    """The field a cursor position is compared with: an annotation's or the model's."""
    annotation = queryset.query.annotations.get(name)
    if annotation is not None:
        return annotation.output_field
    return queryset.model._meta.get_field(name)
