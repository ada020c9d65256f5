"""Keyset pagination for every list: no offsets, every row exactly once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Q, QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.utils.urls import replace_query_param

from prosaas import cursors
from prosaas.cursors import InvalidCursor, KeysetCursor
from prosaas.keyset import Key, KeysetOrdering, SortKey, key_fields


class KeysetPagination(CursorPagination):
    """Cursor pagination on the full key of the boundary row, never an offset.

    The order is total: the sort columns, then ``id`` in the direction of the last one
    (``ordering`` may be field names such as ``("-created_at",)`` or a
    ``KeysetOrdering``; views may replace it per request, as the intelligence list
    does). A cursor holds the key of the row at the edge of the page it came from and
    a direction; the next page is ``WHERE (sort columns, id) < (that row's values)``
    (``>`` for ascending, per column for mixed directions), ``LIMIT page_size + 1``.
    The extra row only tells whether there is a further page. ``next`` is absent on
    the last page and ``previous`` on the first. Rows inserted between two requests
    may or may not show up; no other row is skipped or repeated. A cursor that does
    not decode, belongs to another ordering or holds a value its column cannot hold is
    a 400 (``{"cursor": ["Invalid cursor."]}``); the view's tenant filter is in the
    queryset before the keyset condition, so no cursor reaches another tenant's rows.

    ``page_size`` is 1-200 (default 50); out of range is a 400 rather than DRF's clamp.

    **Reuse without DRF's rendering** (for example a page built as JSON inside
    PostgreSQL), in three steps that ``paginate_queryset`` itself takes::

        paginator.start(request, queryset, view)        # page size, ordering, cursor
        page_query = paginator.keyset_queryset(queryset) # ORDER BY + keyset + LIMIT n+1
        ...fetch page_query as you like, keeping its order, e.g. as mappings or
           values_list(*paginator.keyset.columns) tuples alongside the JSON...
        rows = paginator.page_from_rows(fetched)         # the page, in display order
        paginator.get_next_link(), paginator.get_previous_link()

    ``page_from_rows`` reads each row's key with ``keyset.key_of``: a model instance
    (attributes), a mapping (keys named as ``keyset.columns``) or a sequence of those
    values in ``keyset.columns`` order, so the fetched rows need only carry the
    ordering's columns (every sort column and ``id``); it returns the rows it was
    given, unchanged, in display order.

    A view may split the query by a list filter with several values (``?status=a&
    status=b``) by defining ``get_keyset_partitions() -> Sequence[Q]``: each partition
    is then read as its own keyset range of at most ``page_size + 1`` rows, and the
    page is the first ``page_size + 1`` of those. This keeps the cost bounded where no
    index holds the rows of all the values in order (docs/indexes.md).
    """

    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
    ordering: Any = ("-created_at",)
    invalid_cursor_message = "Invalid cursor."

    keyset: KeysetOrdering
    cursor: KeysetCursor | None
    page: list[Any]
    next_key: Key | None
    previous_key: Key | None

    # --- DRF's entry point ------------------------------------------------------------

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: Any = None
    ) -> list[Any] | None:
        self.start(request, queryset, view)
        partitions = view.get_keyset_partitions() if hasattr(view, "get_keyset_partitions") else ()
        return self.page_from_rows(list(self.keyset_queryset(queryset, partitions=partitions)))

    # --- The three steps ---------------------------------------------------------------

    def start(self, request: Request, queryset: QuerySet[Any], view: Any = None) -> None:
        """Read the page size, the ordering and the cursor of ``request`` (400 if bad)."""
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.keyset = self.get_keyset_ordering()
        self.cursor = self.decode_keyset_cursor(request, queryset)

    def keyset_queryset(
        self, queryset: QuerySet[Any], *, partitions: Sequence[Q] = ()
    ) -> QuerySet[Any]:
        """``queryset`` in keyset order, after the cursor's row, limited to a page + 1.

        Read it in the order it comes: for a ``previous`` cursor that is backwards,
        and ``page_from_rows`` turns it round.
        """
        reverse = self.cursor is not None and self.cursor.reverse
        order = self.keyset.order_by(reverse=reverse)
        queryset = self._loading_key_columns(queryset)
        if self.cursor is not None:
            fields = key_fields(queryset, self.keyset)
            queryset = queryset.filter(self.keyset.after(self.cursor.key, fields, reverse=reverse))
        limit = self.page_size + 1
        if len(partitions) > 1:
            # One index range per partition, each stopped at a page + 1; the page is the
            # first rows of their union, so at most partitions * (page + 1) rows are
            # fetched and sorted however many rows the partitions hold.
            first, *others = [
                queryset.filter(partition).order_by(*order).values("pk")[:limit]
                for partition in partitions
            ]
            queryset = queryset.filter(pk__in=first.union(*others, all=True))
        return queryset.order_by(*order)[:limit]

    def page_from_rows(self, rows: Sequence[Any]) -> list[Any]:
        """The page from the rows ``keyset_queryset`` fetched (at most a page + 1, in
        its order); sets what ``get_next_link`` and ``get_previous_link`` return."""
        reverse = self.cursor is not None and self.cursor.reverse
        more = len(rows) > self.page_size
        page = list(rows[: self.page_size])
        if reverse:
            page.reverse()
        # Walking forwards, there is a page before whenever we started after a row;
        # walking backwards, a page after. The other side has one if a row was left.
        has_before = more if reverse else self.cursor is not None
        has_after = self.cursor is not None if reverse else more
        boundary = self.cursor.key if self.cursor is not None else None
        self.next_key = self.keyset.key_of(page[-1]) if page else boundary
        self.previous_key = self.keyset.key_of(page[0]) if page else boundary
        self.has_next = has_after and self.next_key is not None
        self.has_previous = has_before and self.previous_key is not None
        self.page = page
        if (self.has_next or self.has_previous) and self.template is not None:
            self.display_page_controls = True
        return page

    # --- Links ------------------------------------------------------------------------

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        return self._link(KeysetCursor(key=self.next_key, reverse=False))

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        return self._link(KeysetCursor(key=self.previous_key, reverse=True))

    def _link(self, cursor: KeysetCursor) -> str:
        encoded = cursors.encode(cursor, self.keyset)
        return replace_query_param(self.base_url, self.cursor_query_param, encoded)

    # --- Parsing ----------------------------------------------------------------------

    def get_keyset_ordering(self) -> KeysetOrdering:
        ordering = self.ordering
        if isinstance(ordering, KeysetOrdering):
            return ordering
        if isinstance(ordering, str | SortKey):
            ordering = (ordering,)
        return KeysetOrdering.of(*ordering)

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        # ASCII digits only: int() also reads " 5", "1_0" and other scripts' digits.
        if not (raw.isascii() and raw.isdigit()):
            raise ValidationError({"page_size": [f"'{raw[:20]}' is not a whole number."]})
        size = int(raw) if len(raw) <= 6 else 0  # int() of thousands of digits is slow
        if not 1 <= size <= self.max_page_size:
            raise ValidationError({"page_size": [f"Must be between 1 and {self.max_page_size}."]})
        return size

    def decode_keyset_cursor(
        self, request: Request, queryset: QuerySet[Any]
    ) -> KeysetCursor | None:
        text = request.query_params.get(self.cursor_query_param)
        if text is None:
            return None
        try:
            return cursors.decode(text, self.keyset, key_fields(queryset, self.keyset))
        except InvalidCursor:
            raise ValidationError(
                {self.cursor_query_param: [self.invalid_cursor_message]}
            ) from None

    # --- Helpers ----------------------------------------------------------------------

    def _loading_key_columns(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """``queryset`` with the key's model columns loaded, even under ``only()``:
        reading a deferred column off the edge row would cost a query per link."""
        names, deferring = queryset.query.deferred_loading
        if deferring or not names:
            deferred = set(names) if deferring else set()
            missing = deferred & set(self.keyset.columns)
            return queryset.defer(None).defer(*(deferred - missing)) if missing else queryset
        model_fields = {f.name for f in queryset.model._meta.concrete_fields}
        missing = [c for c in self.keyset.columns if c in model_fields and c not in names]
        return queryset.only(*names, *missing) if missing else queryset
