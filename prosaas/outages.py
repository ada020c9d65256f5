"""What the service answers when a dependency fails: one JSON 503 per cause.

A failing dependency (the database, its pool) must cost the client a clear, cheap
answer it can act on, ``503`` with ``Retry-After`` and a stable ``code``, and cost
the operator one log line per interval, not a traceback per request. This module
owns the causes, the response and the rate-limited log; ``prosaas.db_faults``
decides which exceptions are which cause.

Other parts count the 503s through the ``service_unavailable`` signal:

    from prosaas.outages import service_unavailable

    def count(sender, *, cause, request, **kwargs): ...
    service_unavailable.connect(count)

``cause`` is an ``OutageCause`` (a ``str``: its value is the response's ``code``).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.dispatch import Signal
from django.http import HttpRequest, JsonResponse

logger = logging.getLogger("prosaas.outages")


class OutageCause(StrEnum):
    """Why a request got a 503; the value is the ``code`` of the JSON body."""

    # Every pooled connection stayed busy for DB_POOL_TIMEOUT seconds.
    DATABASE_POOL_EXHAUSTED = "database_pool_exhausted"
    # The server refused, did not answer within connect_timeout, or dropped the
    # connection (restart, failover, pg_terminate_backend, a pooler restart).
    DATABASE_UNAVAILABLE = "database_unavailable"
    # A statement or a lock wait ran past statement_timeout / lock_timeout.
    DATABASE_TIMEOUT = "database_timeout"
    # A serialization failure or a deadlock: the transaction was rolled back and
    # the same request is expected to succeed when retried.
    DATABASE_CONFLICT = "database_conflict"


_DETAILS: dict[OutageCause, str] = {
    OutageCause.DATABASE_POOL_EXHAUSTED: (
        "The service is busy: no database connection became free in time. Retry shortly."
    ),
    OutageCause.DATABASE_UNAVAILABLE: (
        "The database is unavailable at the moment. Retry after the time in Retry-After."
    ),
    OutageCause.DATABASE_TIMEOUT: (
        "The database did not answer in time. Retry after the time in Retry-After."
    ),
    OutageCause.DATABASE_CONFLICT: (
        "The request conflicted with a concurrent one and was rolled back; nothing was "
        "saved. Retry it."
    ),
}

# Sent once per 503 answered for a cause above, with ``cause`` and ``request``.
service_unavailable = Signal()


def retry_after_seconds(cause: OutageCause) -> int:
    """What ``Retry-After`` says: a busy pool or a conflict clears fast, an outage not."""
    if cause in (OutageCause.DATABASE_POOL_EXHAUSTED, OutageCause.DATABASE_CONFLICT):
        return int(settings.DB_POOL_RETRY_AFTER)
    return int(settings.DB_OUTAGE_RETRY_AFTER)


def service_unavailable_response(cause: OutageCause, request: HttpRequest) -> JsonResponse:
    """The JSON 503 for ``cause``; tells the ``service_unavailable`` receivers."""
    response = JsonResponse({"detail": _DETAILS[cause], "code": cause.value}, status=503)
    response["Retry-After"] = str(retry_after_seconds(cause))
    # Django would log every 5xx response on its own ("Service Unavailable: /path"),
    # one line per request during an outage; OutageLog reports them instead.
    response._has_been_logged = True  # type: ignore[attr-defined]
    # A broken receiver (a metrics exporter) must not turn the 503 into a 500.
    for receiver, error in service_unavailable.send_robust(
        sender=OutageCause, cause=cause, request=request
    ):
        if isinstance(error, Exception):
            logger.debug("service_unavailable receiver %r failed: %s", receiver, error)
    return response


@dataclass
class _Tally:
    unreported: int = 0
    last_logged: float | None = None
    latest: str = ""
    since: float = 0.0


class OutageLog:
    """Logs each cause at most once per ``interval`` seconds, with the count since.

    The first failure of a quiet period is logged at once (the operator learns of
    the outage immediately); later ones are counted and reported by the next failure
    or request after the interval (``flush``), so no count is lost when the outage
    ends. The records carry no traceback: the cause and the driver's one-line
    message say what happened, and a traceback per request is what floods logs.
    """

    def __init__(self, *, interval: float, log: logging.Logger = logger) -> None:
        self.interval = interval
        self._log = log
        self._lock = threading.Lock()
        self._tallies: dict[OutageCause, _Tally] = {}
        self._pending = False  # a cheap check for flush(), which runs on every request

    def record(self, cause: OutageCause, message: str) -> None:
        now = time.monotonic()
        with self._lock:
            tally = self._tallies.get(cause)
            if tally is None:
                tally = self._tallies[cause] = _Tally(since=now)
            tally.unreported += 1
            tally.latest = message
            self._pending = True
            due = self._due(tally, now)
            if due:
                count, since = self._take(tally, now)
        if due:
            self._emit(cause, count, since, message, now)

    def flush(self) -> None:
        """Report the counts whose interval has passed."""
        if not self._pending:
            return
        now = time.monotonic()
        reports: list[tuple[OutageCause, int, float, str]] = []
        with self._lock:
            for cause, tally in self._tallies.items():
                if tally.unreported and self._due(tally, now):
                    count, since = self._take(tally, now)
                    reports.append((cause, count, since, tally.latest))
            self._pending = any(t.unreported for t in self._tallies.values())
        for cause, count, since, message in reports:
            self._emit(cause, count, since, message, now)

    def _due(self, tally: _Tally, now: float) -> bool:
        return tally.last_logged is None or now - tally.last_logged >= self.interval

    @staticmethod
    def _take(tally: _Tally, now: float) -> tuple[int, float]:
        count, since = tally.unreported, tally.since
        tally.unreported, tally.last_logged, tally.since = 0, now, now
        return count, since

    def _emit(self, cause: OutageCause, count: int, since: float, message: str, now: float) -> None:
        noun = "request" if count == 1 else "requests"
        self._log.warning(
            "%s: %d %s answered 503 in the last %.1fs; latest error: %s",
            cause.value,
            count,
            noun,
            now - since,
            message,
        )


_outage_log: OutageLog | None = None
_outage_log_lock = threading.Lock()


def get_outage_log() -> OutageLog:
    """The process's outage log (one per process, like the pools it reports on)."""
    global _outage_log
    if _outage_log is None:
        with _outage_log_lock:
            if _outage_log is None:
                _outage_log = OutageLog(interval=settings.OUTAGE_LOG_INTERVAL)
    return _outage_log
