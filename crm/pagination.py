"""Cursor pagination orders that match the CRM indexes exactly.

The four contract indexes end in ``created_at DESC`` without ``id``
(``leads(tenant_id, status, created_at DESC)`` and its siblings). Ordering their lists
by ``created_at DESC, id DESC`` would make PostgreSQL add an Incremental Sort on top of
the index scan, and for a frequent status it would rather walk the tenant-wide
``(tenant_id, created_at DESC, id DESC)`` index and filter. Ordering by ``created_at``
alone lets the contract index deliver the page as it is, with no sort at all.

Ties are still paged correctly: DRF's cursor records the last ``created_at`` plus an
offset into the rows that share it, and the index returns tied rows in one stable
order (by id in the tenant-wide indexes, by physical position in the contract ones).
docs/indexes.md has the plans and the trade-off.
"""

from __future__ import annotations

from prosaas.pagination import StrictCursorPagination


class NewestFirstPagination(StrictCursorPagination):
    """Newest first by ``created_at`` alone: the order every CRM index delivers."""

    ordering = ("-created_at",)
