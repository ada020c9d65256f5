"""Health checks for load balancers and orchestrators: ``/health/live`` and ``/health/ready``.

* ``live``: the process answers; no I/O at all, so a slow database never gets a
  healthy process restarted.
* ``ready``: the process can serve: the database answers within ``HEALTH_DB_TIMEOUT``
  seconds (over a connection of its own, so an exhausted pool still gets an answer),
  the cache answers, no migration is unapplied and no index is INVALID. Otherwise 503
  naming the failing checks, with ``Retry-After``.

The migration and index checks read catalogs; their answer is kept
``HEALTH_CHECK_CACHE_SECONDS`` (default 10) per process, so probes every second cost
one connection and a ``SELECT 1``. An index being built (``CREATE INDEX
CONCURRENTLY`` during a deploy) is INVALID until it is done: it is not counted, or
every instance would leave the load balancer while a migration runs.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg2
from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

RETRY_AFTER_SECONDS = 5

INVALID_INDEXES_SQL = """
    SELECT c.relname
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT i.indisvalid
      AND n.nspname = current_schema()
      AND i.indexrelid NOT IN (SELECT index_relid FROM pg_stat_progress_create_index)
    ORDER BY c.relname
"""

_memo: dict[str, tuple[float, Any]] = {}
_memo_lock = threading.Lock()


class CheckFailed(Exception):
    """A readiness check's failure, in words."""


@contextmanager
def probe_connection() -> Iterator[Any]:
    """A short-lived connection to the default database, bounded by HEALTH_DB_TIMEOUT."""
    db = connections["default"].settings_dict
    timeout = settings.HEALTH_DB_TIMEOUT
    params = {
        "dbname": db["NAME"],
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        **{k: v for k, v in db.get("OPTIONS", {}).items() if k not in ("connect_timeout",)},
        # libpq waits at least 2 seconds for a connection, whatever it is told.
        "connect_timeout": max(2, math.ceil(timeout)),
        "application_name": "prosaas-health",
    }
    connection = psycopg2.connect(**{k: v for k, v in params.items() if v is not None})
    try:
        with connection.cursor() as cursor:
            # SET LOCAL: ends with the transaction, also safe behind a transaction pooler.
            cursor.execute("SET LOCAL statement_timeout = %s", [int(timeout * 1000)])
            yield cursor
    finally:
        connection.close()


def _memoised(key: str, compute: Callable[[], Any]) -> Any:
    now = time.monotonic()
    with _memo_lock:
        hit = _memo.get(key)
        if hit is not None and now - hit[0] < settings.HEALTH_CHECK_CACHE_SECONDS:
            return hit[1]
    value = compute()
    with _memo_lock:
        _memo[key] = (now, value)
    return value


def forget_memoised() -> None:
    """Drop the kept answers (tests, and after a migration in the same process)."""
    with _memo_lock:
        _memo.clear()


@lru_cache(maxsize=1)
def _declared_migrations() -> tuple[tuple[tuple[str, str], tuple[tuple[str, str], ...]], ...]:
    """Every migration of the code, with the ones it replaces (squashes); read once."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    return tuple(
        (key, tuple(getattr(loader.disk_migrations.get(key), "replaces", ()) or ()))
        for key in sorted(loader.graph.nodes)
    )


def unapplied_migrations(cursor: Any) -> list[str]:
    cursor.execute("SELECT app, name FROM django_migrations")
    applied = set(cursor.fetchall())
    return [
        f"{app}.{name}"
        for (app, name), replaces in _declared_migrations()
        if (app, name) not in applied
        and not (replaces and all(tuple(r) in applied for r in replaces))
    ]


def invalid_indexes(cursor: Any = None) -> list[str]:
    """INVALID indexes of the schema, not counting those being built (memoised)."""

    def compute() -> list[str]:
        if cursor is not None:
            cursor.execute(INVALID_INDEXES_SQL)
            return [name for (name,) in cursor.fetchall()]
        with probe_connection() as own:
            own.execute(INVALID_INDEXES_SQL)
            return [name for (name,) in own.fetchall()]

    return _memoised("invalid_indexes", compute)


def _check_cache() -> None:
    cache = caches["default"]
    key = f"prosaas-health-{uuid.uuid4().hex}"
    cache.set(key, 1, timeout=5)
    if cache.get(key) != 1:
        raise CheckFailed("the cache did not return a value just written")
    cache.delete(key)


def readiness() -> dict[str, dict[str, Any]]:
    """Each check's outcome: ``{"database": {"ok": True, "ms": 1.3}, ...}``."""
    results: dict[str, dict[str, Any]] = {}

    def run(name: str, check: Callable[[], Any]) -> None:
        start = time.perf_counter()
        try:
            detail = check()
        except Exception as exc:  # any failure of a dependency is "not ready"
            results[name] = {"ok": False, "detail": str(exc).strip() or type(exc).__name__}
        else:
            results[name] = {"ok": True, **({"detail": detail} if detail else {})}
        results[name]["ms"] = round((time.perf_counter() - start) * 1000, 1)

    try:
        with probe_connection() as cursor:
            run("database", lambda: cursor.execute("SELECT 1"))
            run("migrations", lambda: _no_unapplied(cursor))
            run("indexes", lambda: _no_invalid(cursor))
    except Exception as exc:  # could not even connect
        results["database"] = {"ok": False, "detail": str(exc).strip() or type(exc).__name__}
        for name in ("migrations", "indexes"):
            results[name] = {"ok": False, "detail": "not checked: the database is unavailable"}
    run("cache", _check_cache)
    return results


def _no_unapplied(cursor: Any) -> None:
    pending = _memoised("unapplied_migrations", lambda: unapplied_migrations(cursor))
    if pending:
        raise CheckFailed(f"{len(pending)} unapplied migration(s): {', '.join(pending[:5])}")


def _no_invalid(cursor: Any) -> None:
    invalid = invalid_indexes(cursor)
    if invalid:
        raise CheckFailed(
            f"INVALID index(es): {', '.join(invalid)} (manage.py db_indexes --repair)"
        )


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    from prosaas.metrics import READY_FAILURES

    checks = readiness()
    failing = [name for name, result in checks.items() if not result["ok"]]
    if not failing:
        return JsonResponse({"status": "ok", "checks": checks})
    for name in failing:
        READY_FAILURES.labels(check=name).inc()
    response = JsonResponse(
        {
            "status": "unavailable",
            "code": "not_ready",
            "detail": f"Not ready: {', '.join(failing)} failing.",
            "failing": failing,
            "checks": checks,
        },
        status=503,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
