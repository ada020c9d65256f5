"""The benchmark's own database: created and migrated on first use, guarded against mix-ups."""

from __future__ import annotations

import psycopg2
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from psycopg2 import sql


def database_name() -> str:
    return str(connection.settings_dict["NAME"])


def check_is_bench_database() -> None:
    """Refuse to load millions of rows into anything but a bench or test database."""
    name = database_name()
    if "bench" not in name and not name.startswith("test_"):
        raise CommandError(
            f"Refusing to load benchmark data into {name!r}: its name has no 'bench' in it. "
            "Run through `python -m bench` (bench.settings), or set BENCH_DATABASE_NAME."
        )


def ensure_database() -> None:
    """Create the bench database on the configured server if needed, then migrate it."""
    check_is_bench_database()
    params = connection.settings_dict
    connect_args = {
        "dbname": "postgres",
        "user": params.get("USER") or None,
        "password": params.get("PASSWORD") or None,
        "host": params.get("HOST") or None,
        "port": params.get("PORT") or None,
    }
    admin = psycopg2.connect(**{k: v for k, v in connect_args.items() if v is not None})
    try:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database_name()])
            if cursor.fetchone() is None:
                cursor.execute(
                    sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database_name()))
                )
    finally:
        admin.close()
    call_command("migrate", verbosity=0, interactive=False)
