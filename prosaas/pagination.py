"""Cursor pagination that refuses bad input instead of guessing."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request


class StrictCursorPagination(CursorPagination):
    """DRF's cursor pagination, with ``page_size`` up to 200.

    DRF clamps an oversized ``page_size`` to the maximum and answers an undecodable
    cursor with 404; a client that sent either made a mistake, so both are a 400.
    Views set ``ordering`` to a tuple ending in a unique column so ties are stable.
    """

    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
    ordering: Any = ("-created_at", "-id")

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise ValidationError({"page_size": [f"'{raw}' is not a whole number."]}) from None
        if not 1 <= size <= self.max_page_size:
            raise ValidationError({"page_size": [f"Must be between 1 and {self.max_page_size}."]})
        return size

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: ["Invalid cursor."]}) from None
