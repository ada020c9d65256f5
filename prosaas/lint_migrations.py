"""Lint the SQL of every project migration with squawk (``make lint-migrations``).

For each migration of the project's apps, ``manage.py sqlmigrate`` (forwards) renders
the SQL that ``migrate`` would run; squawk (``squawk-cli`` on PyPI, a PostgreSQL
migration linter) checks it for statements that lock tables in front of traffic, rewrite
tables, or can't be re-run. Why squawk: it lints the *SQL*, so it sees what Django and
django-pgtrigger really emit (raw SQL, triggers, operations of our own), not only the
Django operations it knows; it ships as a single binary in a wheel, with no service.

Exceptions are listed below, each with its reason. A migration's exception becomes a
``-- squawk-ignore-file <rule>`` line on top of that migration's SQL.

Usage: ``python -m prosaas.lint_migrations [--keep DIR]``; exit status 1 on findings.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from io import StringIO
from pathlib import Path

APPS = ("businesses", "crm", "intelligence")
PG_VERSION = "15"

# Rules off for every migration, and why.
EXCLUDED_RULES = {
    # CharField(max_length) is varchar(n) on purpose: the length is the field's validated
    # contract, and widening a varchar is a catalogue-only change in PostgreSQL.
    "prefer-text-field": "varchar(n) is the model's contract",
    # Ids are bigint (DEFAULT_AUTO_FIELD); the int columns are counts and durations.
    "prefer-bigint-over-int": "ids are bigint already",
    # Waits are bounded by lock_timeout (prosaas/migrations.py). Once its lock is granted a
    # catalogue-only change is instant, and cutting a concurrent index build or a batched
    # backfill short with a statement_timeout would only leave it half done.
    "require-statement-timeout": "waits are bounded by lock_timeout instead",
}

# CREATE/DROP INDEX CONCURRENTLY (Django's AddIndexConcurrently, one per migration).
CONCURRENT_INDEX_EXCEPTIONS = {
    # Its SHARE UPDATE EXCLUSIVE lock blocks no read or write, only other schema
    # changes, so waiting for it queues no traffic.
    "require-lock-timeout": "a concurrent index build blocks no reads or writes",
    # Django emits no IF NOT EXISTS; a build that failed half way leaves an INVALID index
    # that `manage.py db_indexes` reports and that must be dropped before a rerun anyway.
    "prefer-robust-stmts": "an interrupted build leaves an invalid index to drop first",
}

# Exceptions for one migration: (app, migration name) -> {rule: reason}.
MIGRATION_EXCEPTIONS: dict[tuple[str, str], dict[str, str]] = {
    # The initial schemas create tables before any traffic exists; the only existing
    # tables they lock (for foreign keys to auth_user) are as new as they are.
    ("businesses", "0001_initial"): {"require-lock-timeout": "initial schema, no traffic yet"},
    ("crm", "0001_initial"): {"require-lock-timeout": "initial schema, no traffic yet"},
    # tenant_stats_*.slot holds 0..STATS_SLOTS-1 (16); it is part of the primary key.
    # The per-tenant unique index is built concurrently (the reasons of
    # CONCURRENT_INDEX_EXCEPTIONS hold), then replaces the table-wide constraint: the
    # guarantee clients relied on is only narrowed to one tenant, on purpose (issue 11).
    ("crm", "0024_call_log_call_sid_unique_per_business"): {
        **CONCURRENT_INDEX_EXCEPTIONS,
        "ban-drop-constraint": "call_sid becomes unique per tenant, not across tenants",
    },
    ("crm", "0021_tenant_stats_counters"): {
        "prefer-bigint-over-smallint": "slot is 0..15 by construction"
    },
}


def _is_concurrent_index_migration(migration: object) -> bool:
    from django.contrib.postgres.operations import (
        AddIndexConcurrently,
        RemoveIndexConcurrently,
    )

    operations = getattr(migration, "operations", [])
    return bool(operations) and all(
        isinstance(op, AddIndexConcurrently | RemoveIndexConcurrently) for op in operations
    )


def render_migrations(directory: Path) -> list[Path]:
    """Write each project migration's forwards SQL, with its exceptions, into directory."""
    from django.core.management import call_command
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    written = []
    for (app, name), migration in sorted(loader.disk_migrations.items()):
        if app not in APPS:
            continue
        out = StringIO()
        call_command("sqlmigrate", app, name, stdout=out)
        ignored = dict(MIGRATION_EXCEPTIONS.get((app, name), {}))
        if _is_concurrent_index_migration(migration):
            ignored.update(CONCURRENT_INDEX_EXCEPTIONS)
        header = "".join(
            f"-- squawk-ignore-file {rule}\n-- ({reason})\n" for rule, reason in ignored.items()
        )
        path = directory / f"{app}_{name}.sql"
        path.write_text(header + out.getvalue())
        written.append(path)
    return written


def squawk_binary() -> str:
    scripts = Path(sysconfig.get_path("scripts"))
    local = scripts / "squawk"
    found = str(local) if local.exists() else shutil.which("squawk")
    if found is None:
        raise SystemExit("squawk is not installed: pip install -r requirements-dev.txt")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="Write the SQL files here and keep them.")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prosaas.settings")
    import django

    django.setup()
    with tempfile.TemporaryDirectory(prefix="migration-sql-") as scratch:
        directory = args.keep or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        files = render_migrations(directory)
        command = [
            squawk_binary(),
            f"--pg-version={PG_VERSION}",
            f"--exclude={','.join(EXCLUDED_RULES)}",
            *map(str, files),
        ]
        result = subprocess.run(command, check=False)
    print(f"Linted the SQL of {len(files)} migrations of {', '.join(APPS)}.", file=sys.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
