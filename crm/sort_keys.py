"""Sort keys of the customer lists that order by activity.

Ordering customers by lead count or by last interaction must not count or scan every
lead, call and message of the tenant for each page, so both values are kept on the
customer row (``Customer.sort_leads_count`` and ``Customer.sort_last_interaction_at``,
maintained by ``crm.activity``) and indexed.

DRF's cursor pagination positions a page on the *first* ordering column only and
breaks ties with an offset that it caps at 1000 rows. Thousands of customers share a
lead count (most have none), so the count alone cannot be a cursor position. Each rank
below is therefore *unique* within the table: ``key * 10**20 + id``. The id decides
ties and can never reach the next key value (ids stay far below 10**20), so ordering
by the rank equals ordering by ``(key, id)``. The ranks are expressions over the
stored columns, indexed as such, so the tie-breaking part can never drift.
"""

from __future__ import annotations

from django.db.models import BigIntegerField, DecimalField, ExpressionWrapper, F, Func, Value
from django.db.models.functions import Coalesce

# Larger than any id the table will hold, so `key * span + id` orders by key, then id.
ID_SPAN = 10**20
# Room for key * ID_SPAN + id: 18 digits of key (microseconds up to year 9999) + 20.
RANK_DIGITS = 38


class MicrosecondsSinceYearOne(Func):
    """A timestamptz as microseconds since 0001-01-01 UTC (bigint).

    ``EXTRACT(EPOCH FROM timestamptz)`` is only STABLE in PostgreSQL and so cannot be
    indexed; the difference of two timestamptz values and the epoch of an interval are
    IMMUTABLE. Counting from year one keeps every real timestamp above 0, which leaves
    0 free for "no interaction yet" (sorted after every real one, newest first).
    """

    template = (
        "(EXTRACT(EPOCH FROM (%(expressions)s - TIMESTAMPTZ '0001-01-01 00:00:00+00'))"
        " * 1000000)::bigint"
    )
    output_field = BigIntegerField()


def _rank(key: object) -> ExpressionWrapper:
    return ExpressionWrapper(
        key * Value(ID_SPAN) + F("id"),  # type: ignore[operator]
        output_field=DecimalField(max_digits=RANK_DIGITS, decimal_places=0),
    )


def leads_count_rank() -> ExpressionWrapper:
    """Orders like ``(sort_leads_count, id)``; unique per customer."""
    return _rank(F("sort_leads_count"))


def last_interaction_rank() -> ExpressionWrapper:
    """Orders like ``(sort_last_interaction_at NULLS FIRST, id)``; unique per customer."""
    return _rank(Coalesce(MicrosecondsSinceYearOne(F("sort_last_interaction_at")), Value(0)))
