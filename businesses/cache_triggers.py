"""Database triggers that announce every change of a tenant's cached rows.

Signals see only what goes through ``save()``/``delete()``; querysets add
``update()`` and ``bulk_*``. Raw SQL, migrations, data fixes and other programs
reach the database alone, so the database announces the change itself. Each trigger
below runs after a row of ``business``, ``business_settings`` or ``membership``
changes and, inside the writer's transaction:

* sends ``pg_notify`` on the broadcast channel (``businesses.cache_broadcast``) with
  the ids of the cache entries the row belongs to: delivered when, and only when,
  the transaction commits, even if the writing process dies right after;
* appends the same ids to ``cache_outbox``, which the serving processes drain into a
  shared cache (Redis): a notification is lost when nobody listens or Redis is
  unreachable, a committed outbox row is not (``businesses.cache_outbox``).

Declared with django-pgtrigger on the models, so migrations create and update them
and ``makemigrations --check`` notices when they drift.
"""

from __future__ import annotations

import pgtrigger

from businesses.cache_broadcast import CHANNEL

BUSINESS_SETTINGS_KEYSPACE = "business-settings"
MEMBERSHIPS_KEYSPACE = "memberships"
OUTBOX_TABLE = "cache_outbox"
# The sender of a message the database sent: never equal to a process's token, so
# every process (the writer's included) applies it.
DATABASE_SENDER = "db"


def _func(keyspace: str, column: str) -> str:
    # OLD is NULL on INSERT and NEW on DELETE (PostgreSQL 11+); both on an UPDATE
    # that moves a row to another entry (a membership given to another user).
    sql = f"""
        ids := ARRAY(
            SELECT DISTINCT changed FROM unnest(ARRAY[OLD.{column}, NEW.{column}]) AS changed
            WHERE changed IS NOT NULL ORDER BY changed
        );
        IF cardinality(ids) > 0 THEN
            PERFORM pg_notify(
                '{CHANNEL}',
                json_build_object(
                    'sender', '{DATABASE_SENDER}', 'keyspace', '{keyspace}',
                    'op', 'invalidate', 'ids', to_json(ids)
                )::text
            );
            INSERT INTO {OUTBOX_TABLE} (keyspace, key)
            SELECT '{keyspace}', changed FROM unnest(ids) AS changed;
        END IF;
        RETURN NULL;
    """
    # One line in the migration, as pgtrigger installs it.
    return " ".join(line.strip() for line in sql.splitlines() if line.strip())


def cache_invalidation_trigger(
    *, name: str, keyspace: str, column: str, operation: pgtrigger.Operation
) -> pgtrigger.Trigger:
    """A row trigger announcing that the ``keyspace`` entry named by ``column`` changed."""
    return pgtrigger.Trigger(
        name=name,
        level=pgtrigger.Row,
        when=pgtrigger.After,
        operation=operation,
        declare=[("ids", "bigint[]")],
        func=_func(keyspace, column),
    )
