"""Schema changes wait for their lock briefly and retry; migrations' SQL is linted.

The lock tests race two real sessions: one holds a lock on a scratch table (as a long
read would), the other runs ``WithLockTimeout`` against it.
"""

from __future__ import annotations

import logging
import subprocess
import threading
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import OperationalError, connection, migrations, transaction
from django.db.migrations.state import ProjectState

from prosaas.lint_migrations import EXCLUDED_RULES, PG_VERSION, squawk_binary
from prosaas.migrations import WithLockTimeout
from tests.concurrency import in_own_connection, wait_for_a_lock_wait

PROBE = "migration_lock_probe"


def add_column(**options: object) -> WithLockTimeout:
    return WithLockTimeout(
        [
            migrations.RunSQL(
                f"ALTER TABLE {PROBE} ADD COLUMN added integer",
                f"ALTER TABLE {PROBE} DROP COLUMN added",
            )
        ],
        **{"lock_timeout_ms": 100, "first_pause": 0.05, **options},  # type: ignore[arg-type]
    )


def run_forwards(operation: WithLockTimeout) -> None:
    state = ProjectState()
    with connection.schema_editor(atomic=False) as editor:
        operation.database_forwards("crm", editor, state, state)


def has_column() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.columns"
            " WHERE table_name = %s AND column_name = 'added'",
            [PROBE],
        )
        return cursor.fetchone()[0] == 1


@pytest.fixture
def probe_table(transactional_db: None) -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {PROBE} (id integer)")
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {PROBE}")


def hold_lock(release: threading.Event, seconds: float | None) -> threading.Thread:
    """Another session reads the table in an open transaction until released."""

    held = threading.Event()

    def hold() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {PROBE}")
            held.set()
            release.wait(seconds)

    thread = threading.Thread(target=in_own_connection(hold))
    thread.start()
    assert held.wait(10)
    return thread


def test_a_schema_change_retries_until_the_long_read_ends(probe_table, caplog) -> None:
    release = threading.Event()
    holder = hold_lock(release, seconds=10)
    timer = threading.Timer(0.6, release.set)  # the "long read" ends after 0.6 s
    timer.start()
    try:
        with caplog.at_level(logging.WARNING, logger="prosaas.migrations"):
            run_forwards(add_column(attempts=30))
    finally:
        release.set()
        holder.join()
    assert has_column()
    retries = [r for r in caplog.records if "lock not granted within 100 ms" in r.message]
    assert retries, "the first attempt should have timed out behind the read"


def test_a_schema_change_gives_up_after_its_attempts_and_changes_nothing(probe_table) -> None:
    release = threading.Event()
    holder = hold_lock(release, seconds=10)
    try:
        with pytest.raises(OperationalError, match="lock"):
            run_forwards(add_column(attempts=3))
    finally:
        release.set()
        holder.join()
    assert not has_column()


def test_while_it_waits_other_sessions_are_not_queued_behind_it(probe_table) -> None:
    """The point of the timeout: a reader arriving during the wait gets through in
    at most about one lock_timeout, instead of waiting for the long read to end."""
    release = threading.Event()
    holder = hold_lock(release, seconds=10)
    waited: list[float] = []

    def read() -> None:
        import time

        wait_for_a_lock_wait()  # the ALTER is queued behind the holder now
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {PROBE}")
        waited.append(time.monotonic() - started)

    reader = threading.Thread(target=in_own_connection(read))
    reader.start()
    try:
        with pytest.raises(OperationalError):
            run_forwards(add_column(attempts=4, lock_timeout_ms=200, first_pause=0.3))
    finally:
        release.set()
        holder.join()
        reader.join()
    # At most about one lock_timeout (200 ms), not until the holder is released (~3 s).
    assert len(waited) == 1 and waited[0] < 1.0


@pytest.mark.django_db
def test_it_refuses_to_run_inside_a_transaction() -> None:
    state = ProjectState()
    with (
        pytest.raises(ImproperlyConfigured, match="atomic = False"),
        connection.schema_editor(atomic=True) as editor,
    ):
        add_column().database_forwards("crm", editor, state, state)


@pytest.mark.django_db
def test_sqlmigrate_shows_the_lock_timeout_of_0012() -> None:
    out = StringIO()
    call_command("sqlmigrate", "crm", "0012", stdout=out)
    sql = out.getvalue()
    assert sql.index("SET LOCAL lock_timeout = '500ms'") < sql.index("ADD COLUMN")
    # A constant default that stays: catalogue-only, and raw inserts keep working.
    assert "DROP DEFAULT" not in sql


def test_the_linter_flags_a_schema_change_without_lock_timeout(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sql"
    bad.write_text("BEGIN;\nALTER TABLE customer ADD COLUMN x integer;\nCOMMIT;\n")
    good = tmp_path / "good.sql"
    good.write_text(
        "BEGIN;\nSET LOCAL lock_timeout = '2000ms';\n"
        "ALTER TABLE customer ADD COLUMN x integer;\nCOMMIT;\n"
    )
    command = [
        squawk_binary(),
        f"--pg-version={PG_VERSION}",
        f"--exclude={','.join(EXCLUDED_RULES)}",
    ]
    flagged = subprocess.run([*command, str(bad)], capture_output=True, text=True, check=False)
    assert flagged.returncode != 0 and "require-lock-timeout" in flagged.stdout
    clean = subprocess.run([*command, str(good)], capture_output=True, text=True, check=False)
    assert clean.returncode == 0, clean.stdout
