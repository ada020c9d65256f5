"""Sort keys of the customer lists that order by activity.

Ordering customers by lead count or by last interaction must not count or scan every
lead, call and message of the tenant for each page, so both values are kept on the
customer row (``Customer.sort_leads_count`` and ``Customer.sort_last_interaction_at``,
maintained by ``crm.activity``) and indexed with the id after them:
``(business_id, sort_leads_count DESC, id DESC)`` and
``(business_id, COALESCE(sort_last_interaction_at, '-infinity') DESC, id DESC)``.
Keyset pagination (prosaas/pagination.py) compares the whole ``(key, id)`` pair, so
thousands of customers sharing a count page like any other rows.

A customer that never had a lead, call or message has no interaction time; it sorts
as ``-infinity``, after every real time when newest come first. Writing that in the
index (rather than ``NULLS LAST``) gives the key no NULLs, so "after this customer"
stays one row comparison and one index range even across the never-active ones.

The rank expressions further down (``key * 10**20 + id``) were the unique sort keys
when pagination could only position on a single column. Only migrations 0015 and 0016
still use them, to build (and, rolling back, rebuild) the indexes they replaced.
"""

from __future__ import annotations

from django.db.models import (
    BigIntegerField,
    DateTimeField,
    DecimalField,
    ExpressionWrapper,
    F,
    Func,
    Value,
)
from django.db.models.functions import Cast, Coalesce

# What a customer without any interaction sorts as (see above). A cast literal, which
# PostgreSQL folds into a constant, so the index expression and the queries' agree.
NO_INTERACTION = Cast(Value("-infinity"), DateTimeField())


def last_interaction_key() -> Coalesce:
    """The indexed last-interaction sort key: the time, or ``-infinity`` for none."""
    return Coalesce(F("sort_last_interaction_at"), NO_INTERACTION)


# --- The former rank keys, for migrations 0015 and 0016 only ---------------------------

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
