"""The safety net of the customer sort keys: find drift, repair it, backfill in batches.

``Customer.sort_leads_count`` and ``Customer.sort_last_interaction_at`` order the
intelligence list (crm/sort_keys.py). Database triggers keep them exact on every write
(crm/triggers.py); this module recomputes them from the rows, for
``manage.py customer_sort_keys --check/--fix/--backfill``: after a restore with
triggers disabled, a bug, or when the columns are first added (0023). The API never
shows these keys, only orders by them.

The customer's guard trigger ignores direct writes of the keys; the repair says who it
is by setting ``crm.sort_keys_writer`` for its transaction. Repairs lock the customers
they change first, in id order, and recompute them in the next statement, which under
READ COMMITTED sees every write committed before the locks were granted.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from crm.triggers import SORT_KEYS_WRITER_SETTING

# The keys every customer in scope should have, computed from the rows themselves. The
# correlated subqueries read idx_*_customer_created (count: index-only; max: first entry).
_ACTUAL_KEYS_SQL = """
    SELECT c.id,
           c.business_id,
           c.sort_leads_count AS stored_leads_count,
           c.sort_last_interaction_at AS stored_last_interaction_at,
           (SELECT count(*) FROM leads AS l WHERE l.customer_id = c.id) AS leads_count,
           GREATEST(
               (SELECT max(l.created_at) FROM leads AS l WHERE l.customer_id = c.id),
               (SELECT max(k.created_at) FROM call_log AS k WHERE k.customer_id = c.id),
               (SELECT max(w.created_at) FROM whatsapp_message AS w WHERE w.customer_id = c.id)
           ) AS last_interaction_at
    FROM customer AS c
    WHERE {scope}
"""
_DRIFTED = """
    (a.stored_leads_count, a.stored_last_interaction_at)
        IS DISTINCT FROM (a.leads_count, a.last_interaction_at)
"""
_RECOMPUTE_SQL = f"""
    WITH actual AS ({_ACTUAL_KEYS_SQL})
    UPDATE customer AS c
    SET sort_leads_count = a.leads_count, sort_last_interaction_at = a.last_interaction_at
    FROM actual AS a
    WHERE c.id = a.id AND {_DRIFTED}
"""
_DRIFT_SQL = f"""
    WITH actual AS ({_ACTUAL_KEYS_SQL})
    SELECT a.id, a.business_id, a.stored_leads_count, a.leads_count,
           a.stored_last_interaction_at, a.last_interaction_at
    FROM actual AS a
    WHERE {_DRIFTED}
    ORDER BY a.business_id, a.id
"""


@dataclass(frozen=True)
class Drift:
    """A customer whose stored sort keys differ from what its rows say."""

    customer_id: int
    business_id: int
    stored_leads_count: int
    leads_count: int
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
    """Set the sort keys of the customers in scope from their rows; return how many changed.

    Scope: the given customers, else one business, else every customer. Set-based: the
    drifted customers are found, locked in id order, and recomputed in one statement that
    writes only the rows still wrong. One transaction (the caller's, if it has one).
    """
    scope, params = _scope(business_id=business_id, customer_ids=customer_ids)
    return _recompute_scope(scope, params)


def _recompute_scope(scope: str, params: list[Any]) -> int:
    drift_sql = f"WITH actual AS ({_ACTUAL_KEYS_SQL}) SELECT a.id FROM actual AS a WHERE {_DRIFTED}"
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(drift_sql.format(scope=scope), params)
        drifted = [row[0] for row in cursor.fetchall()]
        if not drifted:
            return 0
        cursor.execute("SELECT set_config(%s, 'on', true)", [SORT_KEYS_WRITER_SETTING])
        cursor.execute(
            "SELECT id FROM customer WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE",
            [drifted],
        )
        cursor.execute(_RECOMPUTE_SQL.format(scope="c.id = ANY(%s)"), [drifted])
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
) -> int:
    """Recompute every customer's keys by id range, each batch its own short transaction.

    Resumable: ``from_id`` starts at that id (a run that stopped reports where).
    ``on_batch(first_id, next_id, changed)`` is called after each committed batch.
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
        fixed = _recompute_scope("c.id >= %s AND c.id < %s", [low, high])
        changed += fixed
        if on_batch is not None:
            on_batch(low, high, fixed)
        low = high
    return changed


def find_drift(*, business_id: int | None = None, limit: int | None = None) -> list[Drift]:
    """Customers whose stored sort keys are wrong (of one business, or all), by id."""
    scope, params = _scope(business_id=business_id, customer_ids=None)
    sql = _DRIFT_SQL.format(scope=scope)
    if limit is not None:
        sql += " LIMIT %s"
        params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [Drift(*row) for row in cursor.fetchall()]
