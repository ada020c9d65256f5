"""Index definitions for the CRM tables."""

from __future__ import annotations

from django.db import models


class NamedIndex(models.Index):
    """A btree index whose name may use PostgreSQL's full 63 characters.

    Django caps index names at 30 characters for the sake of Oracle; the names of
    this project's indexes are a contract with operators and are longer than that.
    """

    max_name_length = 63


def newest_first_index(name: str, *columns: str) -> NamedIndex:
    """An index on ``columns`` followed by ``created_at DESC, id DESC``.

    It serves "the latest rows of X" both for a page (ORDER BY created_at DESC, id DESC
    LIMIT n) and for the single latest row, without a sort.
    """
    return NamedIndex(fields=[*columns, "-created_at", "-id"], name=name)
