"""Start-up reads the environment strictly: a bad value stops it, naming the variable."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.settings_process import run_with_settings

PRINT_DATABASE = (
    "import json, django; django.setup(); from django.conf import settings; "
    "db = settings.DATABASES['default']; "
    "print(json.dumps({k: db[k] for k in ('ENGINE', 'NAME', 'HOST', 'CONN_MAX_AGE', "
    "'POOL_OPTIONS', 'DISABLE_SERVER_SIDE_CURSORS')}))"
)


def start_django(**env: str) -> subprocess.CompletedProcess[str]:
    return run_with_settings(PRINT_DATABASE, **env)


def test_pool_options_come_from_the_environment() -> None:
    result = start_django(
        DB_POOL_SIZE="7", DB_MAX_OVERFLOW="3", DB_POOL_TIMEOUT="2.5", DB_POOL_RECYCLE="120"
    )
    assert result.returncode == 0, result.stderr
    db = json.loads(result.stdout)
    assert db["ENGINE"] == "dj_db_conn_pool.backends.postgresql"
    assert (db["NAME"], db["HOST"]) == ("prosaas", "db.example.com")
    assert db["CONN_MAX_AGE"] == 0
    assert db["POOL_OPTIONS"] == {
        "POOL_SIZE": 7,
        "MAX_OVERFLOW": 3,
        "TIMEOUT": 2.5,
        "RECYCLE": 120,
        "PRE_PING": True,
    }
    assert db["DISABLE_SERVER_SIDE_CURSORS"] is False


def test_pool_defaults() -> None:
    result = start_django()
    assert result.returncode == 0, result.stderr
    options = json.loads(result.stdout)["POOL_OPTIONS"]
    assert (options["POOL_SIZE"], options["MAX_OVERFLOW"]) == (10, 10)
    # Every key is one the library knows; it silently drops the others.
    from dj_db_conn_pool.core import pool_container

    assert {key.lower() for key in options} <= set(pool_container.pool_default_params)


def test_transaction_pooler_disables_server_side_cursors() -> None:
    # A transaction pooler needs the shared cache (tests/test_cache_settings.py).
    result = start_django(DB_TRANSACTION_POOLER="true", CACHE_URL="redis://127.0.0.1:6379/0")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["DISABLE_SERVER_SIDE_CURSORS"] is True


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DB_POOL_SIZE", "abc"),
        ("DB_POOL_SIZE", "0"),  # the library would read 0 as "no limit"
        ("DB_POOL_SIZE", "2.5"),
        ("DB_MAX_OVERFLOW", "-1"),  # likewise -1
        ("DB_POOL_TIMEOUT", "soon"),
        ("DB_POOL_TIMEOUT", "0"),
        ("DB_POOL_TIMEOUT", "nan"),
        ("DB_POOL_RECYCLE", "-5"),
        ("DB_TRANSACTION_POOLER", "maybe"),
        ("DEBUG", "yes please"),
        ("BUSINESS_SETTINGS_CACHE_TTL", "ten minutes"),
        ("BUSINESS_SETTINGS_CACHE_MAX_ENTRIES", "0"),
        ("DB_CONNECT_TIMEOUT", "1"),  # libpq would quietly use 2
        ("DB_OUTAGE_RETRY_AFTER", "0"),
    ],
)
def test_bad_value_stops_start_up_naming_the_variable(variable: str, value: str) -> None:
    result = start_django(**{variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.splitlines()[-1]


def test_database_url_is_required_when_debug_is_off() -> None:
    result = run_with_settings("import django; django.setup()", DATABASE_URL="", DEBUG="false")
    assert result.returncode != 0
    assert "DATABASE_URL must be set" in result.stderr


def test_database_url_must_be_postgresql() -> None:
    result = start_django(DATABASE_URL="mysql://root@localhost/prosaas")
    assert result.returncode != 0
    assert "DATABASE_URL must be a PostgreSQL URL" in result.stderr


PRINT_DB_OPTIONS = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps(settings.DATABASES['default']['OPTIONS']))"
)


def test_connect_and_statement_timeouts_come_from_the_environment() -> None:
    result = run_with_settings(PRINT_DB_OPTIONS)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"connect_timeout": 5}
    result = run_with_settings(
        PRINT_DB_OPTIONS, DB_CONNECT_TIMEOUT="3", DB_STATEMENT_TIMEOUT_MS="15000"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "connect_timeout": 3,
        "options": "-c statement_timeout=15000",
    }


def test_a_connect_timeout_in_the_url_is_refused_in_favour_of_the_variable() -> None:
    result = start_django(DATABASE_URL="postgres://app@db.example.com/prosaas?connect_timeout=60")
    assert result.returncode != 0
    assert "DB_CONNECT_TIMEOUT" in result.stderr.splitlines()[-1]
