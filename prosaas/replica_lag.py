"""How far behind each read replica is, measured at most every few seconds per process.

A standby's lag is ``now() - pg_last_xact_replay_timestamp()``, but only while it
has WAL it has not replayed yet: on an idle primary nothing is written, the last
replayed transaction gets old and the standby is nonetheless fully caught up. So
"received = replayed" counts as zero lag.

The result is cached per alias with the time it was measured; a request reads the
cached value and only one thread at a time refreshes a stale one (the others use
the last known state meanwhile). A replica that errors (refused, timed out, not a
standby any more) is "unhealthy" until the next check.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connections

logger = logging.getLogger("prosaas.db.replicas")

# One round trip. NULL lag means "cannot tell" (no transaction replayed since the
# standby started while WAL is pending), which is treated as too far behind.
LAG_SQL = """
SELECT pg_is_in_recovery(),
       CASE
           WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0.0
           ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8
       END
"""


@dataclass(frozen=True)
class ReplicaState:
    alias: str
    checked_at: float  # time.monotonic() of the check
    lag_seconds: float | None  # None when unknown (error, not a standby)
    problem: str  # "" when the replica may serve reads

    def usable(self, max_lag: float) -> bool:
        return not self.problem and self.lag_seconds is not None and self.lag_seconds <= max_lag


class LagMonitor:
    """Per-process cache of each replica's measured lag."""

    def __init__(self) -> None:
        self._states: dict[str, ReplicaState] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.checks = 0  # how many measurements this process ran (tests and metrics)

    def state(self, alias: str) -> ReplicaState | None:
        """The last measurement, refreshed first if it is older than the check interval."""
        current = self._states.get(alias)
        interval = settings.REPLICA_LAG_CHECK_SECONDS
        if current is not None and time.monotonic() - current.checked_at < interval:
            return current
        lock = self._lock_for(alias)
        if not lock.acquire(blocking=current is None):
            return current  # another thread is measuring; use what we know
        try:
            current = self._states.get(alias)
            if current is None or time.monotonic() - current.checked_at >= interval:
                current = self._measure(alias)
                self._states[alias] = current
            return current
        finally:
            lock.release()

    def forget(self, alias: str | None = None) -> None:
        """Measure again on next use (after a replica failed mid-request, and in tests)."""
        if alias is None:
            self._states.clear()
        else:
            self._states.pop(alias, None)

    def remember(self, state: ReplicaState) -> None:
        """Record a measurement made elsewhere (the bench's steady state)."""
        self._states[state.alias] = state

    def snapshot(self) -> dict[str, ReplicaState]:
        """The last measurement of each replica, without measuring (for metrics)."""
        return dict(self._states)

    def _lock_for(self, alias: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(alias, threading.Lock())

    def _measure(self, alias: str) -> ReplicaState:
        self.checks += 1
        now = time.monotonic()
        connection = connections[alias]
        try:
            with connection.cursor() as cursor:
                cursor.execute(LAG_SQL)
                in_recovery, lag = cursor.fetchone()
        except Exception as error:  # refused, timed out, pool exhausted: all mean "skip it"
            # Drop the broken connection now, so the next check connects afresh.
            _close_quietly(alias)
            logger.warning("Replica %s is not usable: %s", alias, str(error).strip())
            return ReplicaState(alias, now, None, f"error: {str(error).strip()[:200]}")
        if not in_recovery:
            logger.warning("Replica %s is not in recovery (promoted?); not reading from it", alias)
            return ReplicaState(alias, now, None, "not a standby")
        if lag is None:
            return ReplicaState(alias, now, None, "lag unknown")
        lag = max(float(lag), 0.0)
        if lag > settings.REPLICA_MAX_LAG_SECONDS:
            logger.info("Replica %s lags %.1fs; reading from the primary", alias, lag)
        return ReplicaState(alias, now, lag, "")


def _close_quietly(alias: str) -> None:
    with contextlib.suppress(Exception):  # it is being thrown away anyway
        connections[alias].close()


monitor = LagMonitor()
