"""The tenant statistics counters: read them, recount them, find and repair drift.

The triggers of crm/triggers.py keep ``tenant_stats_counter`` (running totals, in slots)
and ``tenant_stats_bucket`` (new customers and leads per 15 minutes, in slots). This
module is their reader and their safety net (``manage.py customer_sort_keys``).

A repair adds the *difference* between a recount and the stored sums to slot 0, both
read in one statement and so in one snapshot: writes that commit later carry their own
trigger increments, so a repair never double-counts or loses a concurrent write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction

from crm.triggers import (
    CALLS,
    COUNTER_COLUMNS,
    CUSTOMERS,
    LEADS,
    WHATSAPP,
    CountedTable,
    bucket_of,
)

_TABLES: tuple[tuple[CountedTable, str], ...] = (
    (CUSTOMERS, "customer"),
    (LEADS, "leads"),
    (CALLS, "call_log"),
    (WHATSAPP, "whatsapp_message"),
)

_STORED_TOTALS = "SELECT {sums} FROM tenant_stats_counter WHERE business_id = %(business)s".format(
    sums=", ".join(f"coalesce(sum({column}), 0)::bigint AS {column}" for column in COUNTER_COLUMNS)
)


def _recount_one(table: CountedTable, name: str) -> str:
    sums = ", ".join(
        f"coalesce(sum({expression}), 0) AS {column}"
        for column, expression in table.counters.items()
    )
    return f"(SELECT {sums} FROM {name} AS r WHERE r.{table.tenant_column} = %(business)s)"


# Every counter recounted from the rows: one pass over each of the tenant's four tables.
_RECOUNT_TOTALS = "SELECT * FROM " + ", ".join(
    f"{_recount_one(table, name)} AS {name}" for table, name in _TABLES
)

_RECOUNT_BUCKETS = f"""
    SELECT x.bucket_start, sum(x.customers) AS customers, sum(x.leads) AS leads
    FROM (
        SELECT {bucket_of("created_at")} AS bucket_start, 1 AS customers, 0 AS leads
        FROM customer WHERE business_id = %(business)s
        UNION ALL
        SELECT {bucket_of("created_at")}, 0, 1 FROM leads WHERE tenant_id = %(business)s
    ) AS x
    GROUP BY x.bucket_start
"""
_STORED_BUCKETS = """
    SELECT bucket_start, sum(customers) AS customers, sum(leads) AS leads
    FROM tenant_stats_bucket WHERE business_id = %(business)s
    GROUP BY bucket_start
"""
_BUCKET_DRIFT = f"""
    SELECT coalesce(a.bucket_start, s.bucket_start) AS bucket_start,
           coalesce(a.customers, 0) - coalesce(s.customers, 0) AS customers,
           coalesce(a.leads, 0) - coalesce(s.leads, 0) AS leads
    FROM ({_RECOUNT_BUCKETS}) AS a FULL JOIN ({_STORED_BUCKETS}) AS s
        ON s.bucket_start = a.bucket_start
    WHERE (coalesce(a.customers, 0), coalesce(a.leads, 0))
        <> (coalesce(s.customers, 0), coalesce(s.leads, 0))
"""
_TOTALS_DIFFERENCE = "SELECT {differences} FROM ({recount}) AS a, ({stored}) AS s".format(
    differences=", ".join(f"a.{column} - s.{column} AS {column}" for column in COUNTER_COLUMNS),
    recount=_RECOUNT_TOTALS,
    stored=_STORED_TOTALS,
)
_REPAIR_TOTALS = """
    INSERT INTO tenant_stats_counter AS t (business_id, slot, {columns})
    SELECT %(business)s, 0, d.* FROM ({difference}) AS d
    WHERE ({nonzero})
    ON CONFLICT (business_id, slot) DO UPDATE SET {increments}
""".format(
    columns=", ".join(COUNTER_COLUMNS),
    difference=_TOTALS_DIFFERENCE,
    nonzero=" OR ".join(f"d.{column} <> 0" for column in COUNTER_COLUMNS),
    increments=", ".join(
        f"{column} = t.{column} + EXCLUDED.{column}" for column in COUNTER_COLUMNS
    ),
)
_REPAIR_BUCKETS = f"""
    INSERT INTO tenant_stats_bucket AS t (business_id, bucket_start, slot, customers, leads)
    SELECT %(business)s, d.bucket_start, 0, d.customers, d.leads FROM ({_BUCKET_DRIFT}) AS d
    ORDER BY d.bucket_start
    ON CONFLICT (business_id, bucket_start, slot) DO UPDATE SET
        customers = t.customers + EXCLUDED.customers, leads = t.leads + EXCLUDED.leads
"""
# Buckets that can no longer be part of anyone's "today": a local day lasts at most 25
# hours and ends at most 14 hours after UTC's. Older ones are only kept exact for --check
# (and could serve a daily history); their slots are folded into one row each.
COMPACT_AFTER = timedelta(days=2)
# The slots of each old bucket, folded into slot 0 in one statement (the DELETE and the
# INSERT see one snapshot; a trigger that writes a deleted slot meanwhile waits for the
# row lock and then inserts it afresh, so nothing is counted twice or lost).
_COMPACT_BUCKETS = """
    WITH moved AS (
        DELETE FROM tenant_stats_bucket
        WHERE business_id = %(business)s AND bucket_start < %(before)s AND slot <> 0
        RETURNING bucket_start, customers, leads
    )
    INSERT INTO tenant_stats_bucket AS t (business_id, bucket_start, slot, customers, leads)
    SELECT %(business)s, m.bucket_start, 0, sum(m.customers), sum(m.leads)
    FROM moved AS m
    GROUP BY m.bucket_start
    ORDER BY m.bucket_start
    ON CONFLICT (business_id, bucket_start, slot) DO UPDATE SET
        customers = t.customers + EXCLUDED.customers, leads = t.leads + EXCLUDED.leads
"""
_DELETE_EMPTY_BUCKETS = """
    DELETE FROM tenant_stats_bucket
    WHERE business_id = %(business)s AND bucket_start < %(before)s
      AND customers = 0 AND leads = 0
"""
_ORPHANS = (
    "FROM {table} AS t WHERE NOT EXISTS (SELECT 1 FROM business AS b WHERE b.id = t.business_id)"
)

# The stats endpoint's one query: the tenant's slots summed, and the buckets of "today".
READ_STATS_SQL = f"""
    SELECT totals.*, today.customers AS customers_today, today.leads AS leads_today
    FROM ({_STORED_TOTALS}) AS totals,
         (SELECT coalesce(sum(customers), 0)::bigint AS customers,
                 coalesce(sum(leads), 0)::bigint AS leads
          FROM tenant_stats_bucket
          WHERE business_id = %(business)s
            AND bucket_start >= %(start)s AND bucket_start < %(end)s) AS today
"""


@dataclass(frozen=True)
class StatsDrift:
    """How far a tenant's counters are from a recount (recount minus stored)."""

    business_id: int
    totals: dict[str, int]
    buckets: int  # 15-minute buckets whose new-customer or new-lead count is wrong

    def __bool__(self) -> bool:
        return bool(self.totals) or bool(self.buckets)


def read_counters(*, business_id: int, start: datetime, end: datetime) -> dict[str, int]:
    """The summed counters, plus ``customers_today``/``leads_today`` in [start, end).

    ``start`` and ``end`` must fall on the bucket grid (local midnights do).
    """
    with connection.cursor() as cursor:
        cursor.execute(READ_STATS_SQL, {"business": business_id, "start": start, "end": end})
        names = [column.name for column in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def recount(*, business_id: int) -> dict[str, int]:
    """Every counter counted from the tenant's rows (reads all of them)."""
    return _fetch_one(_RECOUNT_TOTALS, business_id)


def find_stats_drift(*, business_id: int) -> StatsDrift:
    totals = {
        column: difference
        for column, difference in _fetch_one(_TOTALS_DIFFERENCE, business_id).items()
        if difference
    }
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({_BUCKET_DRIFT}) AS d", {"business": business_id})
        (buckets,) = cursor.fetchone()
    return StatsDrift(business_id=business_id, totals=totals, buckets=buckets)


def repair_stats(*, business_id: int) -> bool:
    """Bring the tenant's counters to a recount; True if anything changed."""
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(_REPAIR_TOTALS, {"business": business_id})
        changed = cursor.rowcount > 0
        cursor.execute(_REPAIR_BUCKETS, {"business": business_id})
        return changed or cursor.rowcount > 0


def compact_buckets(*, business_id: int, before: datetime) -> int:
    """Fold the slots of the tenant's buckets older than ``before`` into one row each.

    The counts stay exact (``find_stats_drift`` compares sums per bucket); what goes is
    up to ``STATS_SLOTS - 1`` rows per past quarter hour, and rows that sum to nothing.
    Returns how many rows fewer the tenant has.
    """
    params = {"business": business_id, "before": before}
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM tenant_stats_bucket WHERE business_id = %(business)s", params
        )
        (rows_before,) = cursor.fetchone()
        cursor.execute(_COMPACT_BUCKETS, params)
        cursor.execute(_DELETE_EMPTY_BUCKETS, params)
        cursor.execute(
            "SELECT count(*) FROM tenant_stats_bucket WHERE business_id = %(business)s", params
        )
        (rows_after,) = cursor.fetchone()
    return rows_before - rows_after


def orphan_counter_rows() -> int:
    """Counter rows of businesses that no longer exist."""
    with connection.cursor() as cursor:
        total = 0
        for table in ("tenant_stats_counter", "tenant_stats_bucket"):
            cursor.execute(f"SELECT count(*) {_ORPHANS.format(table=table)}")
            total += cursor.fetchone()[0]
        return total


def delete_orphan_counter_rows() -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        total = 0
        for table in ("tenant_stats_counter", "tenant_stats_bucket"):
            cursor.execute(f"DELETE {_ORPHANS.format(table=table)}")
            total += cursor.rowcount
        return total


def _fetch_one(sql: str, business_id: int) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(sql, {"business": business_id})
        names = [column.name for column in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))
