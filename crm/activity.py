"""The safety net of the customer columns the triggers keep: find drift, repair, backfill.

Each customer row carries its number of leads, calls and WhatsApp messages
(``sort_leads_count``, ``stored_calls_count``, ``stored_whatsapp_count``) and its last
interaction (``sort_last_interaction_at``). The lead count and the last interaction order
the intelligence list (crm/sort_keys.py); the counts are what its fast path shows.
Database triggers keep them exact on every write (crm/triggers.py); this module
recomputes them from the rows, for ``manage.py customer_sort_keys
--check/--fix/--backfill``: after a restore with triggers disabled, a bug, or when the
columns are first added (0023, 0029).

The customer's guard trigger ignores direct writes of these columns; the repair says who
it is by setting ``crm.sort_keys_writer`` for its transaction. Repairs lock the
customers they change first, in id order, and recompute them in the next statement,
which under READ COMMITTED sees every write committed before the locks were granted.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from crm.triggers import CUSTOMER_COUNT_COLUMNS, SORT_KEYS_WRITER_SETTING

# Each kept count and the table whose rows it counts.
COUNTED_TABLES = dict(
    zip(CUSTOMER_COUNT_COLUMNS, ("leads", "call_log", "whatsapp_message"), strict=True)
)
# The counts as they were when 0023 ran: a migration passes the columns of its time.
LEADS_COUNT_ONLY = ("sort_leads_count",)


def _actual_sql(counts: Sequence[str]) -> str:
    """Every customer in ``{scope}`` with its stored and its actual values.

    The correlated subqueries read idx_*_customer_created (count: index-only; max: the
    first entry). Columns: id, business_id, then stored and actual of each count, then
    stored and actual last interaction.
    """
    pairs = "".join(
        f"c.{column} AS stored_{column}, "
        f"(SELECT count(*) FROM {COUNTED_TABLES[column]} AS x WHERE x.customer_id = c.id) "
        f"AS actual_{column}, "
        for column in counts
    )
    return f"""
        SELECT c.id, c.business_id, {pairs}
               c.sort_last_interaction_at AS stored_last_interaction_at,
               GREATEST(
                   (SELECT max(l.created_at) FROM leads AS l WHERE l.customer_id = c.id),
                   (SELECT max(k.created_at) FROM call_log AS k WHERE k.customer_id = c.id),
                   (SELECT max(w.created_at) FROM whatsapp_message AS w
                    WHERE w.customer_id = c.id)
               ) AS actual_last_interaction_at
        FROM customer AS c
        WHERE {{scope}}
    """


def _drifted(counts: Sequence[str]) -> str:
    columns = [*counts, "last_interaction_at"]
    stored = ", ".join(f"a.stored_{column}" for column in columns)
    actual = ", ".join(f"a.actual_{column}" for column in columns)
    return f"({stored}) IS DISTINCT FROM ({actual})"


def _drifted_ids_sql(counts: Sequence[str]) -> str:
    return f"WITH a AS ({_actual_sql(counts)}) SELECT a.id FROM a WHERE {_drifted(counts)}"


def _recompute_sql(counts: Sequence[str]) -> str:
    sets = ", ".join(f"{column} = a.actual_{column}" for column in counts)
    return f"""
        WITH a AS ({_actual_sql(counts)})
        UPDATE customer AS c
        SET {sets}, sort_last_interaction_at = a.actual_last_interaction_at
        FROM a
        WHERE c.id = a.id AND {_drifted(counts)}
    """


_DRIFT_SQL = f"""
    WITH a AS ({_actual_sql(CUSTOMER_COUNT_COLUMNS)})
    SELECT a.* FROM a WHERE {_drifted(CUSTOMER_COUNT_COLUMNS)}
    ORDER BY a.business_id, a.id
"""


@dataclass(frozen=True)
class Drift:
    """A customer whose stored counts or last interaction differ from what its rows say."""

    customer_id: int
    business_id: int
    stored_leads_count: int
    leads_count: int
    stored_calls_count: int
    calls_count: int
    stored_whatsapp_count: int
    whatsapp_count: int
    stored_last_interaction_at: datetime | None
    last_interaction_at: datetime | None


def _scope(
    *, business_id: int | None, customer_ids: Collection[int] | None
) -> tuple[str, list[Any]]:
    if customer_ids is not None:
        return "c.id = ANY(%s)", [list(customer_ids)]
    if business_id is not None:
        return "c.business_id = %s", [business_id]
    return "TRUE", []


def recompute_sort_keys(
    *, business_id: int | None = None, customer_ids: Collection[int] | None = None
) -> int:
    """Set the kept columns of the customers in scope from their rows; return how many changed.

    Scope: the given customers, else one business, else every customer. Set-based: the
    drifted customers are found, locked in id order, and recomputed in one statement that
    writes only the rows still wrong. One transaction (the caller's, if it has one).
    """
    scope, params = _scope(business_id=business_id, customer_ids=customer_ids)
    return _recompute_scope(scope, params, CUSTOMER_COUNT_COLUMNS)


def _recompute_scope(scope: str, params: list[Any], counts: Sequence[str]) -> int:
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(_drifted_ids_sql(counts).format(scope=scope), params)
        drifted = [row[0] for row in cursor.fetchall()]
        if not drifted:
            return 0
        cursor.execute("SELECT set_config(%s, 'on', true)", [SORT_KEYS_WRITER_SETTING])
        cursor.execute(
            "SELECT id FROM customer WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE",
            [drifted],
        )
        cursor.execute(_recompute_sql(counts).format(scope="c.id = ANY(%s)"), [drifted])
        changed = cursor.rowcount
        cursor.execute("SELECT set_config(%s, '', true)", [SORT_KEYS_WRITER_SETTING])
        return changed


def customer_id_range() -> tuple[int, int] | None:
    """The smallest and largest customer id, or None without customers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM customer")
        low, high = cursor.fetchone()
    return None if low is None else (low, high)


def backfill_sort_keys(
    *,
    batch_size: int = 1000,
    from_id: int | None = None,
    on_batch: Callable[[int, int, int], None] | None = None,
    counts: Sequence[str] = CUSTOMER_COUNT_COLUMNS,
) -> int:
    """Recompute every customer's kept columns by id range, each batch its own short
    transaction.

    Resumable: ``from_id`` starts at that id (a run that stopped reports where).
    ``on_batch(first_id, next_id, changed)`` is called after each committed batch.
    ``counts``: the count columns to recompute (a migration passes those of its time).
    Returns how many customers changed.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1.")
    bounds = customer_id_range()
    if bounds is None:
        return 0
    low = max(bounds[0], from_id or bounds[0])
    changed = 0
    while low <= bounds[1]:
        high = low + batch_size
        fixed = _recompute_scope("c.id >= %s AND c.id < %s", [low, high], counts)
        changed += fixed
        if on_batch is not None:
            on_batch(low, high, fixed)
        low = high
    return changed


def find_drift(*, business_id: int | None = None, limit: int | None = None) -> list[Drift]:
    """Customers whose kept columns are wrong (of one business, or all), by id."""
    scope, params = _scope(business_id=business_id, customer_ids=None)
    sql = _DRIFT_SQL.format(scope=scope)
    if limit is not None:
        sql += " LIMIT %s"
        params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [Drift(*row) for row in cursor.fetchall()]
