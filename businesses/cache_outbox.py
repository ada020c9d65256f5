"""Draining the transactional outbox into a shared cache, and when Redis may be trusted.

The triggers of ``businesses.cache_triggers`` append a row to ``cache_outbox`` for
every cache entry that a committed change made stale, in the writer's transaction:
whoever wrote (ORM, raw SQL, a migration, another program) and whatever happened to
the writer after its commit, the row is there. With a shared cache (Redis) every
serving process runs one drainer thread that, every ``POLL_SECONDS``:

1. in one transaction, deletes a batch of rows (``FOR UPDATE SKIP LOCKED``, so that
   processes draining at once share the work) and invalidates their entries in
   Redis; if Redis fails, the transaction rolls back and the rows stay;
2. checks whether any row is left (rows another process is draining count);
3. pings Redis when there was nothing to drain.

Readers of this process trust Redis only while the last drain succeeded, left the
outbox empty, is recent (``TRUST_SECONDS``: a drainer stuck on a dead database or a
frozen Redis stops being trusted) and no Redis error was seen since it started.
Otherwise they bypass the cache and the database answers. So a change committed
while Redis is unreachable is in force as soon as Redis answers again and the next
drain succeeds, within ``POLL_SECONDS`` plus the Redis timeout.

It polls rather than LISTENs, so it also works behind a transaction pooler, where
LISTEN cannot (and Redis is required). With process-local caches the LISTEN/NOTIFY
broadcast does the work (``businesses.cache_broadcast``); the drainer then only
deletes rows older than ``LOCAL_RETENTION_SECONDS`` so that the table stays small.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import psycopg2
from django.db import DEFAULT_DB_ALIAS, connections

from businesses.cache_broadcast import Backoff
from businesses.cache_triggers import OUTBOX_TABLE

logger = logging.getLogger("businesses.cache")

POLL_SECONDS = 0.25
# A drain older than this no longer vouches for Redis: a change committed after the
# last drain is served stale at most this long, inside the 1 s the issue allows.
TRUST_SECONDS = 0.75
BATCH_SIZE = 1000
LOCAL_PURGE_INTERVAL_SECONDS = 30.0
LOCAL_RETENTION_SECONDS = 60
RECONNECT_DELAYS = (0.5, 1, 2, 5, 10, 30)
# How long the first cache read in a process waits for the first drain.
FIRST_DRAIN_WAIT_SECONDS = 1.0
WARNING_INTERVAL_SECONDS = 60

_DRAIN_SQL = f"""
    DELETE FROM {OUTBOX_TABLE}
    WHERE id IN (
        SELECT id FROM {OUTBOX_TABLE} ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
    )
    RETURNING keyspace, key
"""
_ANY_LEFT_SQL = f"SELECT EXISTS (SELECT 1 FROM {OUTBOX_TABLE})"
_PURGE_SQL = f"DELETE FROM {OUTBOX_TABLE} WHERE created_at < now() - make_interval(secs => %s)"


class SharedKeyspace(Protocol):
    """What the drainer needs of a keyspace kept in a shared backend."""

    name: str

    def drain(self, ids: Iterable[int]) -> None:
        """Invalidate ``ids`` in the shared backend; raise if it cannot."""

    def probe(self) -> None:
        """One round trip to the shared backend; raise if it cannot."""


class OutboxDrainer:
    """One per process: drains the outbox into the shared caches and says whether they
    may be trusted."""

    def __init__(self, *, database_alias: str = DEFAULT_DB_ALIAS) -> None:
        self.database_alias = database_alias
        self._keyspaces: dict[str, SharedKeyspace] = {}
        self._wanted = False
        self._reset_process_state()
        _drainers.add(self)

    def _reset_process_state(self) -> None:
        # A forked child inherits neither the thread nor its connection.
        self._lock = threading.Lock()
        self._thread: _DrainerThread | None = None
        self._wake = threading.Event()
        self._drained = threading.Event()  # the first drain of this process succeeded
        self._failures_seen = 0  # Redis errors reported by readers and writers
        self._trusted_until = 0.0  # monotonic; 0: not trusted
        self.drained_rows = 0
        self.more_to_drain = False
        self.drain_failures = 0
        self.connection_failures = 0

    # --- configuration ---------------------------------------------------------------

    def register(self, keyspace: SharedKeyspace) -> None:
        self._keyspaces[keyspace.name] = keyspace

    @property
    def shared(self) -> bool:
        return bool(self._keyspaces)

    def drain_in_this_process(self) -> None:
        """Serving processes (WSGI/ASGI) drain; tests, shells and commands do not."""
        self._wanted = True

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            thread, self._thread, self._wanted = self._thread, None, False
        if thread is not None:
            thread.stop_requested.set()
            self._wake.set()
            thread.join(timeout)
        self._trusted_until = 0.0
        self._drained.clear()

    # --- what readers ask ------------------------------------------------------------

    def shared_cache_trustworthy(self) -> bool:
        """Whether a shared cache may answer in this process now."""
        if not self._wanted:
            return True  # a process that does not drain trusts Redis as it always did
        if self._ensure_thread():
            self._drained.wait(FIRST_DRAIN_WAIT_SECONDS)
        return time.monotonic() < self._trusted_until

    def wait_until_trusted(self, timeout: float) -> bool:
        """Wait for a drain that vouches for the shared cache (tests, start-up)."""
        deadline = time.monotonic() + timeout
        self._ensure_thread()
        while time.monotonic() < deadline:
            if time.monotonic() < self._trusted_until:
                return True
            time.sleep(0.01)
        return False

    def shared_cache_failed(self) -> None:
        """A reader or writer could not reach Redis: stop trusting it until a drain
        succeeds (what was invalidated meanwhile is in the outbox)."""
        with self._lock:
            self._failures_seen += 1
            self._trusted_until = 0.0
        self._wake.set()

    def status(self) -> dict[str, Any]:
        return {
            "wanted": self._wanted,
            "shared": self.shared,
            "trusted": time.monotonic() < self._trusted_until,
            "drained_rows": self.drained_rows,
            "drain_failures": self.drain_failures,
            "connection_failures": self.connection_failures,
        }

    # --- draining --------------------------------------------------------------------

    def drain_once(self, connection: Any) -> bool:
        """Drain one batch on ``connection`` (psycopg2, not autocommit); return whether the
        outbox is empty and the shared backend answered, i.e. whether it may be trusted."""
        with self._lock:
            failures_before = self._failures_seen
        try:
            with connection.cursor() as cursor:
                cursor.execute(_DRAIN_SQL, [BATCH_SIZE])
                rows = cursor.fetchall()
                by_keyspace: dict[str, list[int]] = defaultdict(list)
                for keyspace_name, key in rows:
                    by_keyspace[keyspace_name].append(int(key))
                for keyspace_name, ids in by_keyspace.items():
                    keyspace = self._keyspaces.get(keyspace_name)
                    if keyspace is not None:
                        keyspace.drain(sorted(set(ids)))
                if not rows:
                    for keyspace in self._keyspaces.values():
                        keyspace.probe()
                cursor.execute(_ANY_LEFT_SQL)
                (left,) = cursor.fetchone()
            connection.commit()
        except psycopg2.Error:
            connection.rollback()
            raise  # the database: reconnect
        except Exception:
            # The shared backend: the rows stay for the next attempt.
            connection.rollback()
            self.more_to_drain = False
            self.drain_failures += 1
            self._untrust()
            _warn_now_and_then("Could not drain the cache outbox into the shared cache.")
            return False
        self.drained_rows += len(rows)
        # A full batch with rows left: go on at once rather than after a poll interval.
        self.more_to_drain = bool(left) and len(rows) == BATCH_SIZE
        with self._lock:
            clean = not left and self._failures_seen == failures_before
            self._trusted_until = time.monotonic() + TRUST_SECONDS if clean else 0.0
        if clean:
            self._drained.set()
        return clean

    def purge_once(self, connection: Any) -> None:
        """Process-local caches: delete rows the broadcast has long delivered."""
        with connection.cursor() as cursor:
            cursor.execute(_PURGE_SQL, [LOCAL_RETENTION_SECONDS])
        connection.commit()

    def _untrust(self) -> None:
        with self._lock:
            self._trusted_until = 0.0

    def _ensure_thread(self) -> bool:
        if not self._wanted:
            return False
        thread = self._thread
        if thread is not None and thread.is_alive():
            return False
        with self._lock:
            if not self._wanted or (self._thread is not None and self._thread.is_alive()):
                return False
            self._thread = _DrainerThread(self)
            self._thread.start()
            return True

    def ensure_running(self) -> None:
        """Start the thread if this process drains (the process-local mode has no reads
        that would start it)."""
        self._ensure_thread()

    def _connection_params(self) -> dict[str, Any]:
        params = connections[self.database_alias].get_connection_params()
        params.pop("cursor_factory", None)
        params.setdefault("keepalives", 1)
        params.setdefault("keepalives_idle", 30)
        params.setdefault("keepalives_interval", 10)
        params.setdefault("keepalives_count", 3)
        params["application_name"] = "prosaas cache outbox drainer"
        return params


_last_warning = -float(WARNING_INTERVAL_SECONDS)


def _warn_now_and_then(message: str) -> None:
    # Every poll would log it while Redis is down; once a minute says it.
    global _last_warning
    if time.monotonic() - _last_warning >= WARNING_INTERVAL_SECONDS:
        _last_warning = time.monotonic()
        logger.warning(message, exc_info=True)


class _DrainerThread(threading.Thread):
    def __init__(self, drainer: OutboxDrainer) -> None:
        super().__init__(name="cache-outbox-drainer", daemon=True)
        self.drainer = drainer
        self.stop_requested = threading.Event()

    def run(self) -> None:
        backoff = Backoff(RECONNECT_DELAYS)
        while not self.stop_requested.is_set():
            try:
                if self.drainer.shared:
                    self._drain_connected(on_connect=backoff.reset)
                else:
                    self._purge()
                    backoff.reset()
                    self.stop_requested.wait(LOCAL_PURGE_INTERVAL_SECONDS)
            except Exception:
                delay = backoff.next_delay()
                self.drainer.connection_failures += 1
                self.drainer._untrust()
                _warn_now_and_then(
                    "Cache outbox drainer lost its database connection; shared caches in "
                    f"this process are bypassed until it drains again (retry in {delay}s)."
                )
                self.stop_requested.wait(delay)

    def _drain_connected(self, on_connect: Callable[[], None]) -> None:
        """Drain every POLL_SECONDS (at once after a full batch) on one connection."""
        connection = psycopg2.connect(**self.drainer._connection_params())
        try:
            on_connect()
            while not self.stop_requested.is_set():
                self.drainer.drain_once(connection)
                if self.drainer.more_to_drain:
                    continue
                self.drainer._wake.wait(POLL_SECONDS)
                self.drainer._wake.clear()
        finally:
            connection.close()

    def _purge(self) -> None:
        """Process-local caches: a short connection every LOCAL_PURGE_INTERVAL_SECONDS,
        rather than one more held open next to the listener's."""
        connection = psycopg2.connect(**self.drainer._connection_params())
        try:
            self.drainer.purge_once(connection)
        finally:
            connection.close()


_drainers: weakref.WeakSet[OutboxDrainer] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for drainer in list(_drainers):
        drainer._reset_process_state()


os.register_at_fork(after_in_child=_after_fork_in_child)
