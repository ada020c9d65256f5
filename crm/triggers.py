"""The PostgreSQL triggers that keep the customers' counts and sort keys, and the tenant
statistics.

Declared on the models (``Meta.triggers``, django-pgtrigger), so the migrations that
create them are generated and ``makemigrations --check`` stays clean; the SQL is built
here. Every write path goes through them: the ORM, ``bulk_create``, ``update()``, raw
SQL, ``COPY``, another program.

Why statement-level triggers with transition tables (``REFERENCING NEW TABLE``): a bulk
insert or ``COPY`` of 10,000 calls runs the function once, aggregates the rows per
customer and per tenant, and writes each customer row and each counter row once,
instead of 10,000 times. A single-row insert costs the same few statements either way.
One trigger per operation, because a trigger with transition tables fires for one event.

Concurrency:

- Customer columns (the lead, call and WhatsApp counts and the last interaction, which
  includes the sort keys): the customers a statement touches are locked in id order (two bulk writers
  never deadlock on each other's customers). New rows only move keys forward, applied in
  one UPDATE to the row's latest version under its lock. For deletes and updates the
  lock comes first and the change in the next statement; a count moves by a delta,
  which is exact under the row lock. A row that was the
  customer's newest and is deleted, moved or re-timed makes the trigger recompute the
  newest time from the rows; that statement starts after the lock was granted, so under
  READ COMMITTED it sees every write committed by whoever held the lock before.
- Statistics: a tenant's counters are spread over ``STATS_SLOTS`` rows; a session always
  adds to the slot of its backend pid, so concurrent writers of one tenant rarely wait on
  one another, and the reader sums the slots. "Today" needs counts by time: rows are
  counted per 15-minute bucket of their ``created_at`` (UTC). Every time zone's midnight
  falls on a quarter hour today (offsets are whole, half or quarter hours), so the
  buckets between two local midnights are exactly that local day, across DST changes and
  after a tenant changes its time zone.
"""

from __future__ import annotations

from dataclasses import dataclass

import pgtrigger

# Counter rows per tenant; a reader sums at most this many rows (times 96 buckets a day).
STATS_SLOTS = 16
BUCKET_WIDTH = "15 minutes"
BUCKET_ORIGIN = "TIMESTAMPTZ '2000-01-01 00:00:00+00'"
# Lead statuses the statistics count (docs/intelligence.md defines the fields).
CONVERTED_STATUSES = ("qualified", "won")
MEETING_READY_STATUS = "qualified"

# Set (transaction-locally) by the code that repairs the sort keys; any other direct
# write of the keys is ignored by the customer's guard trigger.
SORT_KEYS_WRITER_SETTING = "crm.sort_keys_writer"

_SLOT = f"(pg_backend_pid() % {STATS_SLOTS})::smallint"
_STATUSES = ", ".join(f"'{status}'" for status in CONVERTED_STATUSES)


def bucket_of(column: str) -> str:
    return f"date_bin('{BUCKET_WIDTH}', {column}, {BUCKET_ORIGIN})"


@dataclass(frozen=True)
class CountedTable:
    """What one row of a table adds to its tenant's counters."""

    tenant_column: str
    # counter column -> SQL expression (0 or 1) over the row ``r``
    counters: dict[str, str]
    # bucket column counted per 15 minutes of created_at, if the stats need it by day
    bucket_column: str | None = None
    # Activity tables (leads, calls, messages) move their customer's last interaction
    # and keep the customer's count of their rows in this column.
    customer_count_column: str | None = None

    @property
    def activity(self) -> bool:
        return self.customer_count_column is not None


CUSTOMERS = CountedTable(
    tenant_column="business_id", counters={"customers": "1"}, bucket_column="customers"
)
LEADS = CountedTable(
    tenant_column="tenant_id",
    counters={
        "leads": "1",
        "leads_from_calls": "(r.source = 'call')::int",
        "leads_converted_from_calls": f"(r.source = 'call' AND r.status IN ({_STATUSES}))::int",
        "leads_from_whatsapp": "(r.source = 'whatsapp')::int",
        "leads_converted_from_whatsapp": (
            f"(r.source = 'whatsapp' AND r.status IN ({_STATUSES}))::int"
        ),
        "leads_meeting_ready": f"(r.status = '{MEETING_READY_STATUS}')::int",
    },
    bucket_column="leads",
    customer_count_column="sort_leads_count",
)
CALLS = CountedTable(
    tenant_column="business_id",
    counters={"calls": "1", "calls_ai_processed": "(r.summary <> '')::int"},
    customer_count_column="stored_calls_count",
)
WHATSAPP = CountedTable(
    tenant_column="business_id",
    counters={"whatsapp": "1", "whatsapp_ai_processed": "r.ai_generated::int"},
    customer_count_column="stored_whatsapp_count",
)
COUNTER_COLUMNS = tuple(
    column for table in (CUSTOMERS, LEADS, CALLS, WHATSAPP) for column in table.counters
)
# The customer's columns the triggers keep: its row counts, and its last interaction.
CUSTOMER_COUNT_COLUMNS = ("sort_leads_count", "stored_calls_count", "stored_whatsapp_count")
CUSTOMER_KEPT_COLUMNS = (*CUSTOMER_COUNT_COLUMNS, "sort_last_interaction_at")

# The newest lead, call or message of customer ``c`` (each one index entry).
NEWEST_INTERACTION_SQL = """GREATEST(
    (SELECT max(x.created_at) FROM leads AS x WHERE x.customer_id = c.id),
    (SELECT max(x.created_at) FROM call_log AS x WHERE x.customer_id = c.id),
    (SELECT max(x.created_at) FROM whatsapp_message AS x WHERE x.customer_id = c.id)
)"""

INSERT, UPDATE, DELETE = "INSERT", "UPDATE", "DELETE"


def _signed_rows(operation: str) -> str:
    """The statement's rows with +1 (new) or -1 (old), as the subquery ``r``."""
    new = "SELECT 1 AS sign, n.* FROM new_rows AS n"
    old = "SELECT -1 AS sign, o.* FROM old_rows AS o"
    return {INSERT: new, DELETE: old, UPDATE: f"{new} UNION ALL {old}"}[operation]


def _stats_sql(table: CountedTable, operation: str) -> str:
    rows = _signed_rows(operation)
    tenant = table.tenant_column
    columns = list(table.counters)
    sums = [f"sum(r.sign * {table.counters[column]})" for column in columns]
    statements = [
        f"""
        INSERT INTO tenant_stats_counter AS t (business_id, slot, {", ".join(columns)})
        SELECT r.{tenant}, {_SLOT}, {", ".join(sums)}
        FROM ({rows}) AS r
        GROUP BY r.{tenant}
        HAVING {" OR ".join(f"{total} <> 0" for total in sums)}
        ORDER BY r.{tenant}
        ON CONFLICT (business_id, slot) DO UPDATE SET
            {", ".join(f"{column} = t.{column} + EXCLUDED.{column}" for column in columns)};
        """
    ]
    if table.bucket_column:
        column = table.bucket_column
        statements.append(
            f"""
            INSERT INTO tenant_stats_bucket AS t (business_id, bucket_start, slot, {column})
            SELECT r.{tenant}, {bucket_of("r.created_at")}, {_SLOT}, sum(r.sign)
            FROM ({rows}) AS r
            GROUP BY 1, 2
            HAVING sum(r.sign) <> 0
            ORDER BY 1, 2
            ON CONFLICT (business_id, bucket_start, slot) DO UPDATE SET
                {column} = t.{column} + EXCLUDED.{column};
            """
        )
    return "\n".join(statements)


def _changes(operation: str) -> str:
    """Per row touching a customer: (customer_id, count delta, time added, time removed)."""
    added = "SELECT n.customer_id, 1 AS n, n.created_at AS added, NULL::timestamptz AS removed"
    removed = "SELECT o.customer_id, -1 AS n, NULL::timestamptz AS added, o.created_at AS removed"
    if operation == INSERT:
        return f"{added} FROM new_rows AS n WHERE n.customer_id IS NOT NULL"
    if operation == DELETE:
        return f"{removed} FROM old_rows AS o WHERE o.customer_id IS NOT NULL"
    # An UPDATE matters only for rows that changed customer or time, paired by id. A FULL
    # JOIN, so that a row whose id changes too is taken away and added, not missed: the
    # sums come out exact however the old and new rows pair up, since a pair counts only
    # when it differs, and then as one row removed and one added.
    moved = (
        "FROM old_rows AS o FULL JOIN new_rows AS n ON n.id = o.id "
        "WHERE (o.id, o.customer_id, o.created_at) IS DISTINCT FROM "
        "(n.id, n.customer_id, n.created_at)"
    )
    return (
        f"{removed} {moved} AND o.customer_id IS NOT NULL "
        f"UNION ALL {added} {moved} AND n.customer_id IS NOT NULL"
    )


def _customer_sql(table: CountedTable, operation: str) -> str:
    """The statements that keep the customers' count of ``table`` and last interaction."""
    count = table.customer_count_column
    per_customer = f"""
        SELECT ch.customer_id, sum(ch.n) AS n, max(ch.added) AS added,
               max(ch.removed) AS removed
        FROM ({_changes(operation)}) AS ch
        GROUP BY ch.customer_id
    """
    if operation == INSERT:
        # New rows only move the keys forward (a count up, a time to the newest), which
        # the UPDATE applies to the row's latest version under its lock: one statement.
        # The subquery locks the customers in id order (LockRows above the Sort), so two
        # multi-customer inserts cannot deadlock.
        return f"""
            UPDATE customer AS c SET
                {count} = c.{count} + d.n,
                sort_last_interaction_at = GREATEST(c.sort_last_interaction_at, d.added)
            FROM (
                SELECT locked.id, a.n, a.added
                FROM customer AS locked JOIN ({per_customer}) AS a ON a.customer_id = locked.id
                ORDER BY locked.id
                FOR NO KEY UPDATE OF locked
            ) AS d
            WHERE c.id = d.id;
        """
    # A row taken away may have been the newest: lock first, then recompute in a new
    # statement, whose snapshot sees every write committed before the locks were granted.
    return f"""
        PERFORM 1 FROM customer
        WHERE id IN (SELECT ch.customer_id FROM ({_changes(operation)}) AS ch)
        ORDER BY id FOR NO KEY UPDATE;
        UPDATE customer AS c SET
            {count} = c.{count} + d.n,
            sort_last_interaction_at = CASE
                WHEN d.removed IS NOT NULL AND (
                    c.sort_last_interaction_at IS NULL OR d.removed >= c.sort_last_interaction_at
                ) THEN {NEWEST_INTERACTION_SQL}
                ELSE GREATEST(c.sort_last_interaction_at, d.added)
            END
        FROM ({per_customer}) AS d
        WHERE c.id = d.customer_id;
    """


def _referencing(operation: str) -> pgtrigger.Referencing:
    if operation == INSERT:
        return pgtrigger.Referencing(new="new_rows")
    if operation == DELETE:
        return pgtrigger.Referencing(old="old_rows")
    return pgtrigger.Referencing(old="old_rows", new="new_rows")


_OPERATIONS = {INSERT: pgtrigger.Insert, UPDATE: pgtrigger.Update, DELETE: pgtrigger.Delete}


def derived_data_triggers(
    table: CountedTable, prefix: str, *, row_level_update: str | None = None
) -> list[pgtrigger.Trigger]:
    """AFTER ... FOR EACH STATEMENT triggers, one per operation, for ``table``.

    ``row_level_update``: make the UPDATE trigger a row-level one that fires only when
    this condition holds (for the customer, whose rows the activity triggers update all
    the time, and whose counted columns almost never change).
    """
    triggers = []
    for operation, pg_operation in _OPERATIONS.items():
        if operation == UPDATE and row_level_update is not None:
            triggers.append(_row_level_update(table, prefix, row_level_update))
            continue
        # The counter slot first, then the customers: a session that takes its slot's
        # row before any customer's cannot deadlock with another session of the same
        # slot over a customer (whichever has the slot goes first).
        body = _stats_sql(table, operation)
        if table.activity:
            body = body + _customer_sql(table, operation)
        triggers.append(
            pgtrigger.Trigger(
                name=f"{prefix}_derived_{operation.lower()}",
                level=pgtrigger.Statement,
                when=pgtrigger.After,
                operation=pg_operation,
                referencing=_referencing(operation),
                func=_compact(body) + " RETURN NULL;",
            )
        )
    return triggers


def _row_level_update(table: CountedTable, prefix: str, condition: str) -> pgtrigger.Trigger:
    rows = f"""
        SELECT 1 AS sign, NEW.{table.tenant_column} AS {table.tenant_column},
               NEW.created_at AS created_at
        UNION ALL SELECT -1, OLD.{table.tenant_column}, OLD.created_at
    """
    body = _stats_sql(table, UPDATE).replace(_signed_rows(UPDATE), rows)
    return pgtrigger.Trigger(
        name=f"{prefix}_derived_update",
        level=pgtrigger.Row,
        when=pgtrigger.After,
        operation=pgtrigger.Update,
        condition=pgtrigger.Condition(f"({condition})"),
        func=_compact(body) + " RETURN NULL;",
    )


def read_only_column(name: str, column: str, message: str, values: str) -> pgtrigger.Trigger:
    """A row trigger that refuses any UPDATE changing ``column``, whoever writes.

    SQLSTATE 23000 with the trigger's name as the constraint, so Django raises
    IntegrityError; ``message`` is a RAISE format whose ``%`` take ``values``.
    """
    return pgtrigger.Trigger(
        name=name,
        level=pgtrigger.Row,
        when=pgtrigger.Before,
        operation=pgtrigger.Update,
        condition=pgtrigger.Condition(f"OLD.{column} IS DISTINCT FROM NEW.{column}"),
        func=(
            f"RAISE EXCEPTION '{message}', {values} "
            "USING ERRCODE = 'integrity_constraint_violation', "
            f"CONSTRAINT = '{name}';"
        ),
    )


def customer_sort_key_triggers() -> list[pgtrigger.Trigger]:
    """The customer's own guards of the columns the triggers keep (counts, last interaction).

    - On INSERT they start at (0, 0, 0, NULL): a new customer has no rows yet (they point
      at it by a foreign key), and a value written by the inserter (a fixture, a copy
      of another database) is never trusted. The rows a restore loads afterwards are
      counted by their own triggers. (Not computed from the rows: that would cost four
      index probes per imported customer, or scans while a bulk load has dropped the
      indexes; rows loaded *before* their customer under a deferred foreign key are left
      to ``customer_sort_keys --check/--fix``.)
    - On UPDATE a change of them is kept only when it comes from the activity
      triggers (issued from inside a trigger) or from the repair code, which sets
      ``crm.sort_keys_writer``; a stale instance saved from the admin or a shell
      writes back the keys it loaded, and those are silently kept as they are.
    """
    return [
        pgtrigger.Trigger(
            name="customer_sort_keys_on_insert",
            level=pgtrigger.Row,
            when=pgtrigger.Before,
            operation=pgtrigger.Insert,
            func=_compact(
                "".join(f"NEW.{column} := 0; " for column in CUSTOMER_COUNT_COLUMNS)
                + "NEW.sort_last_interaction_at := NULL; RETURN NEW;"
            ),
        ),
        pgtrigger.Trigger(
            name="customer_sort_keys_guard",
            level=pgtrigger.Row,
            when=pgtrigger.Before,
            operation=pgtrigger.Update,
            # Evaluated before the function is called, so the activity triggers' own
            # updates (issued from a trigger: depth 1 here) cost no function call.
            condition=pgtrigger.Condition(
                f"(pg_trigger_depth() < 1 AND ({_columns_of('OLD')}) IS DISTINCT FROM "
                f"({_columns_of('NEW')}))"
            ),
            func=_compact(
                f"IF coalesce(current_setting('{SORT_KEYS_WRITER_SETTING}', true), '') <> 'on' "
                "THEN "
                + "".join(f"NEW.{column} := OLD.{column}; " for column in CUSTOMER_KEPT_COLUMNS)
                + "END IF; RETURN NEW;"
            ),
        ),
    ]


def _columns_of(row: str) -> str:
    return ", ".join(f"{row}.{column}" for column in CUSTOMER_KEPT_COLUMNS)


def _compact(sql: str) -> str:
    return "\n".join(line.strip() for line in sql.strip().splitlines() if line.strip())
