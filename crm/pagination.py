"""The order of the CRM lists: newest first, ``created_at DESC, id DESC``.

Every CRM list pages with ``prosaas.pagination.KeysetPagination``: the next page starts
strictly after the previous page's last ``(created_at, id)``, so rows that share a
``created_at`` (a bulk import, a replayed webhook batch) are each returned once.

The unfiltered lists read indexes that end in ``created_at DESC, id DESC`` and need no
sort. The four contract indexes end in ``created_at DESC`` without ``id``
(``leads(tenant_id, status, created_at DESC)`` and its siblings, fixed by DESIGN.md):
PostgreSQL reads them in ``created_at`` order and puts an Incremental Sort on top that
orders only the rows sharing one ``created_at`` by id, and the cursor's
``(created_at, id) < (…)`` bounds the scan at ``created_at <= …``. A filter on several
statuses is read one status at a time (``get_keyset_partitions`` in ``crm.views``).
docs/indexes.md has the plans.
"""

from __future__ import annotations

from prosaas.pagination import KeysetPagination


class NewestFirstPagination(KeysetPagination):
    """Newest first: ``created_at DESC, id DESC``."""

    ordering = ("-created_at",)
