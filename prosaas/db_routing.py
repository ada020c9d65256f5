"""Which database serves this request's reads: the per-request routing state.

A request starts on the primary. A view marked ``replica_reads`` (see
``prosaas.replica_views``) may, once its user is authenticated, move the request's
reads to a replica that is within ``REPLICA_MAX_LAG_SECONDS``; ``prosaas.db_router``
then consults this state for every read. The state lives in a context variable
set by ``prosaas.replica_middleware`` for the length of the request, so nothing
leaks into the next request served by the same thread.

Reads stay on (or return to) the primary:

* outside a request, and in every view not marked ``replica_reads``;
* inside a transaction on the primary (``in_atomic_block``): it may hold writes
  the replica cannot have yet;
* for a user who wrote within ``REPLICA_READ_YOUR_WRITES_SECONDS`` (any request);
* when no replica is within the lag limit, or the chosen one failed.

A ``replica_reads`` view must only read. Every write of this code base runs in a
service's ``transaction.atomic``, so reads that follow one in the same request go
to the primary by the transaction rule. (The router cannot notice a write by
itself: Django calls ``db_for_write`` for plain reads too, e.g. ``get_or_create``
and assigning a related object.)

``routing_stats()`` is the hook for metrics (issue 14): per-alias request counts and
fallbacks by reason, plus the last measured lag of each replica.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections

from prosaas.replica_lag import monitor

logger = logging.getLogger("prosaas.db.replicas")

PRIMARY = DEFAULT_DB_ALIAS


@dataclass
class RequestRouting:
    """The routing of one request; mutated by the view, read by the router."""

    read_alias: str = PRIMARY
    # Why the request reads from the primary although its view allows a replica.
    fallback: str = ""

    def on_replica(self) -> bool:
        return self.read_alias != PRIMARY


_current: contextvars.ContextVar[RequestRouting | None] = contextvars.ContextVar(
    "prosaas_request_routing", default=None
)


def current_routing() -> RequestRouting | None:
    return _current.get()


def begin_request() -> tuple[RequestRouting, contextvars.Token[RequestRouting | None]]:
    routing = RequestRouting()
    return routing, _current.set(routing)


def end_request(token: contextvars.Token[RequestRouting | None]) -> None:
    _current.reset(token)


def read_alias() -> str:
    """The alias a read should use now (called by the router for every query)."""
    routing = _current.get()
    if routing is None or not routing.on_replica():
        return PRIMARY
    if connections[PRIMARY].in_atomic_block:
        return PRIMARY
    return routing.read_alias


# --- Choosing a replica ----------------------------------------------------------------

# Round robin over the replicas; next() on a count is atomic under the GIL.
_turns = itertools.count()


def route_reads_to_replica(user_id: int | None) -> str:
    """Move this request's reads to a healthy replica if the rules allow; return the alias.

    Called once per request by a ``replica_reads`` view after authentication.
    """
    routing = _current.get()
    aliases: list[str] = list(getattr(settings, "DATABASE_REPLICA_ALIASES", []))
    if routing is None or not aliases:
        return PRIMARY
    if user_id is not None and wrote_recently(user_id):
        return _stay_on_primary(routing, "read_your_writes")
    max_lag = settings.REPLICA_MAX_LAG_SECONDS
    start = next(_turns)
    reasons = []
    for offset in range(len(aliases)):
        alias = aliases[(start + offset) % len(aliases)]
        state = monitor.state(alias)
        if state is not None and state.usable(max_lag):
            routing.read_alias, routing.fallback = alias, ""
            return alias
        reasons.append("lagging" if state is not None and not state.problem else "unavailable")
    return _stay_on_primary(routing, "lagging" if "lagging" in reasons else "unavailable")


def fall_back_to_primary(reason: str = "failed") -> bool:
    """The replica failed during the request: read from the primary from now on.

    Returns whether there was a replica to leave (so the caller retries once only).
    The replica is measured again before the next request uses it.
    """
    routing = _current.get()
    if routing is None or not routing.on_replica():
        return False
    failed = routing.read_alias
    logger.warning("Replica %s failed during a request; retrying on the primary", failed)
    monitor.forget(failed)
    with contextlib.suppress(Exception):  # a dead connection may fail to close
        connections[failed].close()
    _stay_on_primary(routing, reason)
    return True


def _stay_on_primary(routing: RequestRouting, reason: str) -> str:
    routing.read_alias, routing.fallback = PRIMARY, reason
    return PRIMARY


# --- Read-your-writes ------------------------------------------------------------------
#
# The last write time is kept in the default cache keyed by user id, so it works the
# same for token, session and any other authentication, and across processes when
# the cache is shared (settings require CACHE_URL with replicas). A cookie would not
# reach token clients, which rarely keep cookies.


def _last_write_key(user_id: int) -> str:
    return f"prosaas:replica:last-write:{user_id}"


def record_write(user_id: int) -> None:
    window = settings.REPLICA_READ_YOUR_WRITES_SECONDS
    if window <= 0 or not getattr(settings, "DATABASE_REPLICA_ALIASES", []):
        return
    try:
        cache.set(_last_write_key(user_id), time.time(), timeout=int(window) + 1)
    except Exception:  # the write itself succeeded; only the hint is lost
        logger.warning("Could not record user %s's write time for read-your-writes", user_id)


def wrote_recently(user_id: int) -> bool:
    window = settings.REPLICA_READ_YOUR_WRITES_SECONDS
    if window <= 0:
        return False
    try:
        written_at = cache.get(_last_write_key(user_id))
    except Exception:  # unknown means "maybe": the primary is always right
        return True
    return written_at is not None and time.time() - float(written_at) < window


# --- Metrics hook ----------------------------------------------------------------------

_served: Counter[str] = Counter()
_fallbacks: Counter[str] = Counter()
_stats_lock = threading.Lock()


def count_request(routing: RequestRouting) -> None:
    with _stats_lock:
        _served[routing.read_alias] += 1
        if routing.fallback:
            _fallbacks[routing.fallback] += 1


def routing_stats() -> dict[str, Any]:
    """This process's counters since start (for Prometheus, issue 14).

    ``served``: requests by the alias that served their reads; ``fallbacks``:
    requests of ``replica_reads`` views that read from the primary, by reason
    (read_your_writes, lagging, unavailable, failed); ``replicas``: each
    replica's last measured lag in seconds (None if unknown) and problem.
    """
    with _stats_lock:
        served, fallbacks = dict(_served), dict(_fallbacks)
    replicas = {
        alias: {"lag_seconds": state.lag_seconds, "problem": state.problem}
        for alias, state in monitor.snapshot().items()
    }
    return {"served": served, "fallbacks": fallbacks, "replicas": replicas}


def reset_routing_stats() -> None:
    with _stats_lock:
        _served.clear()
        _fallbacks.clear()
