"""manage.py db_indexes on the real database: listing, --check and --repair.

The failure cases are made for real: a CREATE INDEX CONCURRENTLY (or REINDEX
CONCURRENTLY) that is cancelled by statement_timeout while it waits for a writer's
transaction leaves exactly the INVALID index a failed deploy leaves behind.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, ProgrammingError, connection, transaction
from django.db.migrations.loader import MigrationLoader

from crm import index_health
from crm.indexes import NamedIndex
from crm.models import Lead
from tests.concurrency import TIMEOUT, run_in_threads

pytestmark = pytest.mark.django_db

INDEX = "idx_leads_tenant_status_created"
CONTRACT_INDEXES = (
    "idx_leads_tenant_status_created",
    "idx_lead_status_history_lead_created",
    "idx_call_log_business_status_created",
    "idx_whatsapp_message_business_to_created",
)


def db_indexes(*args: str) -> str:
    out = StringIO()
    call_command("db_indexes", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def execute(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


def is_valid(name: str) -> bool | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s",
            [name],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def declared(name: str) -> index_health.DeclaredIndex:
    return next(index for index in index_health.declared_indexes() if index.name == name)


def cancelled_while_waiting_for_a_writer(sql: str) -> None:
    """Run concurrent index DDL while another session has written to ``leads`` and not
    committed; the DDL registers its new index, waits for that transaction, and is
    cancelled by statement_timeout, which is how a deploy's build fails midway."""
    writing, finish = threading.Event(), threading.Event()

    def writer() -> None:
        with transaction.atomic():
            execute("LOCK TABLE leads IN ROW EXCLUSIVE MODE")  # what an INSERT takes
            writing.set()
            finish.wait(TIMEOUT)

    (future,) = run_in_threads(writer)
    try:
        assert writing.wait(TIMEOUT)
        execute("SET statement_timeout = '300ms'")
        with pytest.raises(OperationalError, match="statement timeout"):
            execute(sql)
    finally:
        execute("RESET statement_timeout")
        finish.set()
        future.result(TIMEOUT)


@pytest.fixture
def restore_lead_status_index() -> Iterator[index_health.DeclaredIndex]:
    """Whatever the test breaks, leave the index as the migration built it."""
    index = declared(INDEX)
    yield index
    execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}_ccnew")
    if is_valid(INDEX) is not True:
        execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")
        execute(index.create_sql(concurrently=True))
    assert is_valid(INDEX) is True


@pytest.fixture
def invalid_lead_status_index(
    restore_lead_status_index: index_health.DeclaredIndex,
) -> index_health.DeclaredIndex:
    index = restore_lead_status_index
    execute(f"DROP INDEX CONCURRENTLY {INDEX}")
    cancelled_while_waiting_for_a_writer(index.create_sql(concurrently=True))
    assert is_valid(INDEX) is False
    return index


# --- Listing and checking a healthy database -------------------------------------------


def test_a_migrated_database_checks_clean_and_lists_every_declared_index() -> None:
    output = db_indexes("--check")
    for index in index_health.declared_indexes():
        assert index.name in output
    assert "0 with problems" in output
    assert "CREATE INDEX idx_leads_tenant_status_created ON public.leads USING btree " in output


def test_other_temporary_tables_of_the_session_do_not_confuse_the_check() -> None:
    # A pooled connection may carry a temporary table with indexes from earlier work.
    execute("CREATE TEMPORARY TABLE scratch (id int PRIMARY KEY, note text)")
    execute("CREATE INDEX scratch_note ON scratch (note)")
    try:
        assert "0 with problems" in db_indexes("--check")
    finally:
        execute("DROP TABLE scratch")


def test_json_output_reports_validity_size_and_scans_of_each_index() -> None:
    report = json.loads(db_indexes("--json"))
    by_name = {index["name"]: index for index in report["indexes"]}
    for name in CONTRACT_INDEXES:
        entry = by_name[name]
        assert (entry["status"], entry["valid"]) == ("ok", True)
        assert entry["definition"] == entry["expected_definition"]
        assert entry["size_bytes"] > 0 and isinstance(entry["scans"], int)
    assert by_name["leads_pkey"]["source"] == "primary key"
    assert "statistics_reset_at" in report


@pytest.mark.django_db(transaction=True)
def test_scans_count_the_queries_that_used_an_index() -> None:
    query = "SELECT id FROM leads WHERE tenant_id = 1 ORDER BY created_at DESC LIMIT 1"
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {query}")
        plan = cursor.fetchone()[0]
    used = plan[0]["Plan"]["Plans"][0]["Index Name"]  # Limit -> Index Scan

    def scans() -> int:
        report = json.loads(db_indexes("--json"))["indexes"]
        return next(index["scans"] for index in report if index["name"] == used)

    before = scans()
    execute(query)
    # A session hands its counters over when it goes idle, at most once a second
    # unless told otherwise (PostgreSQL 15+).
    execute("SELECT pg_stat_force_next_flush()")
    assert scans() == before + 1


# --- What --check finds ----------------------------------------------------------------


def test_an_index_declared_in_a_model_but_absent_fails_the_check(monkeypatch) -> None:
    # The expected set comes from the models: declaring an index is enough to check it.
    extra = NamedIndex(fields=["business", "email"], name="idx_leads_tenant_email")
    monkeypatch.setattr(Lead._meta, "indexes", [*Lead._meta.indexes, extra])
    with pytest.raises(CommandError, match="idx_leads_tenant_email is missing"):
        db_indexes("--check")


def test_a_dropped_index_fails_the_check() -> None:
    execute("DROP INDEX idx_whatsapp_message_business_to_created")  # rolled back after the test
    with pytest.raises(CommandError, match="idx_whatsapp_message_business_to_created is missing"):
        db_indexes("--check")


def test_an_index_defined_differently_fails_the_check_and_shows_both_definitions() -> None:
    execute("DROP INDEX idx_call_log_business_status_created")
    execute(
        "CREATE INDEX idx_call_log_business_status_created "
        "ON call_log (business_id, status, created_at)"  # ASC: not what the model says
    )
    with pytest.raises(CommandError, match="idx_call_log_business_status_created is differs"):
        db_indexes("--check")
    output = db_indexes()
    assert "(business_id, status, created_at)\n" in output
    assert (
        "expected: CREATE INDEX idx_call_log_business_status_created ON public.call_log " in output
    )
    assert "(business_id, status, created_at DESC)" in output


def test_a_unique_index_without_its_declared_constraint_fails_the_check() -> None:
    execute("ALTER TABLE customer DROP CONSTRAINT customer_business_phone_uniq")
    execute(
        "CREATE UNIQUE INDEX customer_business_phone_uniq ON customer (business_id, phone_e164)"
    )
    with pytest.raises(CommandError, match="customer_business_phone_uniq is differs"):
        db_indexes("--check")
    assert "a unique index without its constraint" in db_indexes()


# --- A failed concurrent build, for real -----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_failed_concurrent_build_is_found_by_check_and_rebuilt_by_repair(
    invalid_lead_status_index,
) -> None:
    with pytest.raises(CommandError, match=f"{INDEX} is INVALID"):
        db_indexes("--check")

    output = db_indexes("--repair")  # raises if anything is still wrong afterwards

    assert f'DROP INDEX CONCURRENTLY IF EXISTS "{INDEX}"' in output
    assert f'CREATE INDEX CONCURRENTLY "{INDEX}" ON "leads"' in output
    assert is_valid(INDEX) is True
    assert "0 with problems" in db_indexes("--check")


@pytest.mark.django_db(transaction=True)
def test_rerunning_the_migration_over_an_invalid_leftover_fails_until_it_is_dropped(
    invalid_lead_status_index,
) -> None:
    loader = MigrationLoader(connection)
    (operation,) = loader.get_migration("crm", "0002_idx_leads_tenant_status_created").operations
    before = loader.project_state(("crm", "0001_initial"))
    after = before.clone()
    operation.state_forwards("crm", after)

    def run_migration() -> None:
        with connection.schema_editor(atomic=False) as editor:
            operation.database_forwards("crm", editor, before, after)

    # AddIndexConcurrently has no IF NOT EXISTS: the leftover's name is taken.
    with pytest.raises(ProgrammingError, match="already exists"):
        run_migration()
    assert is_valid(INDEX) is False

    # The documented way out: drop the leftover concurrently, then migrate again.
    execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")
    run_migration()
    assert is_valid(INDEX) is True


@pytest.mark.django_db(transaction=True)
def test_create_index_if_not_exists_would_silently_keep_the_invalid_leftover(
    invalid_lead_status_index,
) -> None:
    sql = invalid_lead_status_index.create_sql(concurrently=True)
    execute(sql.replace("CONCURRENTLY", "CONCURRENTLY IF NOT EXISTS", 1))  # only a NOTICE
    assert is_valid(INDEX) is False
    with pytest.raises(CommandError, match=f"{INDEX} is INVALID"):
        db_indexes("--check")


@pytest.mark.django_db(transaction=True)
def test_a_failed_reindex_leaves_a_leftover_that_repair_drops(restore_lead_status_index) -> None:
    cancelled_while_waiting_for_a_writer(f"REINDEX INDEX CONCURRENTLY {INDEX}")
    assert (is_valid(INDEX), is_valid(f"{INDEX}_ccnew")) == (True, False)
    with pytest.raises(CommandError, match=f"{INDEX}_ccnew is INVALID"):
        db_indexes("--check")

    output = db_indexes("--repair")

    assert f'DROP INDEX CONCURRENTLY IF EXISTS "{INDEX}_ccnew"' in output
    assert (is_valid(INDEX), is_valid(f"{INDEX}_ccnew")) == (True, None)


def test_repair_refuses_to_run_inside_a_transaction() -> None:
    with pytest.raises(RuntimeError, match="cannot run inside a transaction"):
        index_health.run_repair_step(INDEX, f"REINDEX INDEX CONCURRENTLY {INDEX}")
