"""Keeps the customer sort keys in step with the customer's leads, calls and messages.

``Customer.sort_leads_count`` and ``Customer.sort_last_interaction_at`` order the
intelligence list (crm/sort_keys.py). Signal receivers update them on every ORM write
of a Lead, CallLog or WhatsAppMessage, in the writer's transaction when it has one
(services wrap their writes in ``transaction.atomic``; a bare ``save()`` in autocommit
mode commits the row a statement before its key update):

- a new row: one ``UPDATE`` with ``F() + 1`` / ``GREATEST``, which PostgreSQL applies
  under the customer's row lock, so concurrent writers never lose a count;
- a deleted row, or one moved to another customer or given another time: the affected
  customers are locked first and then recomputed from their rows in a new statement,
  which therefore sees every write committed before the lock was granted.

``bulk_create``, ``QuerySet.update``/``delete``-without-signals and raw SQL bypass the
receivers; whoever uses them calls ``recompute_sort_keys`` afterwards (``crm.demo``
does), and ``manage.py customer_sort_keys --check`` reports any drift, ``--fix``
repairs it. The API never shows these keys, only orders by them.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Model, Value
from django.db.models.functions import Greatest
from django.db.models.signals import post_delete, post_init, post_save

from businesses.models import Business
from crm.models import CallLog, Customer, Lead, WhatsAppMessage

logger = logging.getLogger("crm.activity")

TRACKED_MODELS: tuple[type[Model], ...] = (Lead, CallLog, WhatsAppMessage)

# What a row contributes to its customer's keys. post_init records it as loaded, so a
# later save can tell that the row moved to another customer or changed its time.
_LOADED_STATE = "_sort_key_state"
_STATE_FIELDS = ("customer_id", "created_at")

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

    Scope: the given customers, else one business, else every customer. Set-based: one
    statement, which writes only the rows whose keys are wrong.
    """
    scope, params = _scope(business_id=business_id, customer_ids=customer_ids)
    with connection.cursor() as cursor:
        cursor.execute(_RECOMPUTE_SQL.format(scope=scope), params)
        return cursor.rowcount


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


# --- Receivers ------------------------------------------------------------------------


def _loaded_state(instance: Model) -> tuple[Any, ...] | None:
    """The row's customer and time, or None if either was not loaded (deferred)."""
    values = instance.__dict__
    if not all(name in values for name in _STATE_FIELDS):
        return None
    return tuple(values[name] for name in _STATE_FIELDS)


def remember_loaded_state(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    setattr(instance, _LOADED_STATE, _loaded_state(instance))


def row_saved(
    sender: type[Model],
    instance: Model,
    created: bool,
    raw: bool,
    update_fields: frozenset[str] | None,
    **kwargs: Any,
) -> None:
    # Fixtures (raw) load rows in any order; run `customer_sort_keys --fix` after loaddata.
    if raw:
        return
    before = getattr(instance, _LOADED_STATE, None)
    after = _loaded_state(instance)
    setattr(instance, _LOADED_STATE, after)
    customer_id = instance.customer_id  # type: ignore[attr-defined]

    if created:
        if customer_id is not None:
            _add_row(sender, customer_id=customer_id, created_at=instance.created_at)  # type: ignore[attr-defined]
        return
    if update_fields is not None and not update_fields & {"customer", "customer_id", "created_at"}:
        return
    if before is not None and before == after:
        return
    # Moved between customers or re-timed. The state as loaded may be missing (deferred
    # fields, an instance built by hand): then only the current customer can be fixed
    # here, and the drift check finds the other.
    affected = {customer_id, before[0] if before is not None else None} - {None}
    _recompute_locked(affected)


def row_deleted(sender: type[Model], instance: Model, origin: Any = None, **kwargs: Any) -> None:
    # Deleting a business deletes its customers with its rows: nothing left to update.
    origin_model = getattr(origin, "model", type(origin))
    if origin_model is Business:
        return
    customer_id = instance.customer_id  # type: ignore[attr-defined]
    if customer_id is not None:
        _recompute_locked({customer_id})


def _add_row(sender: type[Model], *, customer_id: int, created_at: datetime) -> None:
    changes: dict[str, Any] = {
        # GREATEST ignores NULL in PostgreSQL: a customer's first row sets the time.
        "sort_last_interaction_at": Greatest(F("sort_last_interaction_at"), Value(created_at)),
    }
    if sender is Lead:
        changes["sort_leads_count"] = F("sort_leads_count") + 1
    Customer.objects.filter(pk=customer_id).update(**changes)


def _recompute_locked(customer_ids: Iterable[int]) -> None:
    ids = sorted(customer_ids)  # one lock order everywhere, so two movers cannot deadlock
    if not ids:
        return
    # savepoint=False: inside the writer's transaction this adds no SAVEPOINT round
    # trips, and a failure here rolls the write back with it.
    with transaction.atomic(savepoint=False):
        # Lock first, recompute in the next statement: under READ COMMITTED that
        # statement's snapshot includes every row whose writer held the lock before us.
        list(Customer.objects.select_for_update().filter(pk__in=ids).values_list("pk"))
        recompute_sort_keys(customer_ids=ids)


def connect_receivers() -> None:
    """Called once from ``CrmConfig.ready``."""
    for model in TRACKED_MODELS:
        name = model.__name__
        post_init.connect(
            remember_loaded_state, sender=model, dispatch_uid=f"crm.activity.init.{name}"
        )
        post_save.connect(row_saved, sender=model, dispatch_uid=f"crm.activity.save.{name}")
        post_delete.connect(row_deleted, sender=model, dispatch_uid=f"crm.activity.delete.{name}")
