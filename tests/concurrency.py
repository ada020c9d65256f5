"""Helpers for tests that race two database sessions on purpose.

Each worker thread gets its own Django connection (connections are per thread) and
must hand it back when done, or the transactional test's final TRUNCATE would wait
for it forever. ``wait_for_a_lock_wait`` lets a test order a race deterministically:
hold a row or key in one session, start the other, and continue only once PostgreSQL
reports the second one waiting for that lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from django.db import connection

T = TypeVar("T")

TIMEOUT = 10.0  # seconds; only ever reached when a test is broken


def in_own_connection(work: Callable[[], T]) -> Callable[[], T]:
    def run() -> T:
        try:
            return work()
        finally:
            connection.close()

    return run


def run_in_threads(*works: Callable[[], Any]) -> list[Future[Any]]:
    pool = ThreadPoolExecutor(max_workers=len(works))
    futures = [pool.submit(in_own_connection(work)) for work in works]
    pool.shutdown(wait=False)
    return futures


def wait_for_a_lock_wait() -> None:
    """Return once another session of this database is waiting for a lock."""
    deadline = time.monotonic() + TIMEOUT
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE NOT l.granted AND a.datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("No session started waiting for a lock.")
