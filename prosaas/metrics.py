"""Prometheus metrics of the server processes (prometheus-client).

Every series is written by the process that serves the request; under gunicorn each
worker writes its own files in ``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` (any
worker) adds them up, so all workers are counted. Without that variable (runserver,
tests) the process's own registry is exported. ``prosaas/gunicorn_conf.py`` empties
the directory at start and marks dead workers, whose gauges then stop counting.

Sampled state (pool usage, cache counters, listener) is refreshed by each worker at
the end of each of its requests, because a scrape reaches one worker only and cannot
read another's memory.

Label design: ``view`` is the view's dotted path (bounded: one per route), ``status``
the HTTP status, ``cause`` a short code. A ``database`` label (which alias served the
request, for read replicas) can be added next to ``view`` on the SQL series without
renaming anything.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

logger = logging.getLogger("prosaas.metrics")

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
QUERY_COUNT_BUCKETS = (0, 1, 2, 3, 5, 10, 20, 50, 100, 500)
SQL_TIME_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)

REQUEST_LATENCY = Histogram(
    "prosaas_http_request_duration_seconds",
    "Time to answer a request, by view and status.",
    ["view", "status"],
    buckets=LATENCY_BUCKETS,
)
REQUEST_QUERIES = Histogram(
    "prosaas_http_request_sql_queries",
    "SQL statements run per request, by view.",
    ["view"],
    buckets=QUERY_COUNT_BUCKETS,
)
REQUEST_SQL_SECONDS = Histogram(
    "prosaas_http_request_sql_seconds",
    "Time spent in the database driver per request, by view.",
    ["view"],
    buckets=SQL_TIME_BUCKETS,
)
SLOW_QUERIES = Counter(
    "prosaas_db_slow_queries",
    "SQL statements slower than SLOW_QUERY_MS, by view.",
    ["view"],
)
RESPONSES_503 = Counter(
    "prosaas_http_503_responses",
    "503 answers, by cause (the JSON body's code).",
    ["cause"],
)
POOL_SIZE = Gauge(
    "prosaas_db_pool_size",
    "Connections the pools keep (DB_POOL_SIZE), summed over live processes.",
    multiprocess_mode="livesum",
)
POOL_CHECKED_OUT = Gauge(
    "prosaas_db_pool_checked_out",
    "Connections in use, summed over live processes.",
    multiprocess_mode="livesum",
)
POOL_OVERFLOW = Gauge(
    "prosaas_db_pool_overflow",
    "Connections open beyond the pool size, summed over live processes.",
    multiprocess_mode="livesum",
)
POOL_WAITS = Counter(
    "prosaas_db_pool_waits",
    "Connection requests that found the pool and its overflow all in use and waited.",
)
POOL_TIMEOUTS = Counter(
    "prosaas_db_pool_timeouts",
    "Connection requests that waited DB_POOL_TIMEOUT in vain (answered 503).",
)
CACHE_EVENTS = Counter(
    "prosaas_cache_events",
    "Tenant cache lookups and changes, by keyspace and event.",
    ["keyspace", "event"],
)
LISTENER_UP = Gauge(
    "prosaas_cache_listener_up",
    "1 if every live process that should LISTEN for invalidations does; 0 if one does not.",
    multiprocess_mode="livemin",
)
INVALID_INDEXES = Gauge(
    "prosaas_db_invalid_indexes",
    "INVALID indexes in the schema (not counting ones being built), at the last check.",
    multiprocess_mode="livemax",
)
READY_FAILURES = Counter(
    "prosaas_health_ready_failures",
    "Readiness checks that failed, by check.",
    ["check"],
)

CACHE_EVENT_KEYS = ("hits", "misses", "invalidations", "errors")
# Seconds between two samples of state by one process. 0: at the end of every
# request; each sample is a few attribute reads and a dict copy, and a worker's last
# events would otherwise wait for its next request to be published.
SAMPLE_INTERVAL = 0.0

_sample_lock = threading.Lock()
_last_sample = 0.0
_last_cache_counts: dict[tuple[str, str], int] = {}


def record_503(cause: str) -> None:
    """Count a 503 answer; ``cause`` is a short code such as ``database_pool_exhausted``."""
    RESPONSES_503.labels(cause=cause or "unknown").inc()


def observe_request(
    *, view: str, status: int, seconds: float, queries: int | None, sql_seconds: float | None
) -> None:
    REQUEST_LATENCY.labels(view=view, status=str(status)).observe(seconds)
    if queries is not None and sql_seconds is not None:
        REQUEST_QUERIES.labels(view=view).observe(queries)
        REQUEST_SQL_SECONDS.labels(view=view).observe(sql_seconds)


def cause_of_503(response: Any) -> str:
    """The ``code`` of a JSON 503 body (every 503 of this project carries one)."""
    if "json" not in response.get("Content-Type", "") or getattr(response, "streaming", False):
        return "unknown"
    try:
        body = json.loads(response.content[:4096])
    except ValueError:
        return "unknown"
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) and code.isidentifier() else "unknown"


def sample_state(*, force: bool = False) -> None:
    """Refresh this process's pool, cache and listener series (rate-limited)."""
    global _last_sample
    now = time.monotonic()
    if not force and now - _last_sample < SAMPLE_INTERVAL:
        return
    if not _sample_lock.acquire(blocking=False):
        return  # another thread of this process is sampling
    try:
        _last_sample = now
        _sample_pool()
        _sample_caches()
    except Exception:  # metrics must never break a request
        logger.exception("Sampling the metrics failed")
    finally:
        _sample_lock.release()


def _sample_pool() -> None:
    from dj_db_conn_pool.core import pool_container

    if not pool_container.has("default"):
        return
    pool = pool_container.get("default")
    instrument_pool(pool)
    POOL_SIZE.set(pool.size())
    POOL_CHECKED_OUT.set(pool.checkedout())
    POOL_OVERFLOW.set(max(pool.overflow(), 0))


def instrument_pool(pool: Any) -> None:
    """Count checkouts that must wait: no idle connection and no overflow room left.

    SQLAlchemy's QueuePool has no event before a checkout, so its ``_do_get`` is
    wrapped once; the test looks at the queue and overflow before the real call.
    """
    if getattr(pool, "_prosaas_instrumented", False):
        return
    original = pool._do_get

    def _do_get() -> Any:
        max_overflow = pool._max_overflow
        if pool._pool.empty() and max_overflow > -1 and pool._overflow >= max_overflow:
            POOL_WAITS.inc()
        return original()

    pool._do_get = _do_get
    pool._prosaas_instrumented = True


def _sample_caches() -> None:
    from businesses.cache import get_business_settings_cache, get_membership_cache

    for keyspace, cache in (
        ("business_settings", get_business_settings_cache()),
        ("memberships", get_membership_cache()),
    ):
        counts = cache.counters()
        for event in CACHE_EVENT_KEYS:
            current = counts.get(event, 0)
            previous = _last_cache_counts.get((keyspace, event), 0)
            # The statistics may be reset (cache_stats, tests): count from zero again.
            delta = current - previous if current >= previous else current
            if delta:
                CACHE_EVENTS.labels(keyspace=keyspace, event=event).inc(delta)
            _last_cache_counts[(keyspace, event)] = current
        broadcast = cache.broadcast
    if broadcast is not None:
        status = broadcast.status()
        LISTENER_UP.set(1 if status["listening"] or not status["wanted"] else 0)


def sample_index_validity() -> None:
    """Refresh the INVALID index gauge from the readiness check's cached answer."""
    from prosaas.health import invalid_indexes

    try:
        INVALID_INDEXES.set(len(invalid_indexes()))
    except Exception:  # the database is down: readiness says so; keep the last value
        logger.warning("Could not count INVALID indexes for the metrics", exc_info=True)
