"""Cross-process invalidation for process-local caches, over PostgreSQL LISTEN/NOTIFY.

A local-memory cache lives inside one process; under gunicorn every worker has its
own. When one of them changes a business, the others must drop their copies too.
The writer sends ``NOTIFY`` on the database connection that made the change, inside
the same transaction, so PostgreSQL delivers it exactly when the change commits and
never when it rolls back. Every serving process runs one listener thread on a
dedicated connection (``LISTEN``) and applies what it hears to its own caches.

LISTEN is session state: a transaction pooler (PgBouncer, Supavisor in transaction
mode) hands each transaction to any server connection and cannot carry it. Behind
one, use a shared cache (``CACHE_URL=redis://…``) instead; settings refuse the
combination.

While a process that wants to listen is not listening (starting, or reconnecting
after an error), it cannot know what it missed, so its caches answer nothing and
every read goes to the database; on (re)connecting it empties them and trusts them
again.
"""

from __future__ import annotations

import json
import logging
import os
import select
import threading
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg2
from django.db import DEFAULT_DB_ALIAS, connections

logger = logging.getLogger("businesses.cache")

CHANNEL = "prosaas_cache_invalidation"
# NOTIFY payloads must stay under 8000 bytes; ids are sent in batches this size.
IDS_PER_NOTIFICATION = 500
# How long the listener waits in select() before checking whether it should stop.
POLL_SECONDS = 1.0
RECONNECT_DELAYS = (0.5, 1, 2, 5, 10, 30)
# How long the first cache read in a process waits for its new listener to connect.
FIRST_CONNECT_WAIT_SECONDS = 1.0


class Receiver(Protocol):
    """What the broadcast delivers to: one cache keyspace of this process."""

    name: str

    def invalidate_here(self, ids: Iterable[int]) -> None: ...

    def clear_here(self) -> None: ...


@dataclass(frozen=True)
class Message:
    sender: str
    keyspace: str
    op: str  # "invalidate" or "clear"
    ids: tuple[int, ...] = ()

    def to_payload(self) -> str:
        return json.dumps(
            {"sender": self.sender, "keyspace": self.keyspace, "op": self.op, "ids": self.ids},
            separators=(",", ":"),
        )

    @classmethod
    def from_payload(cls, payload: str) -> Message:
        data = json.loads(payload)
        return cls(
            sender=str(data["sender"]),
            keyspace=str(data["keyspace"]),
            op=str(data["op"]),
            ids=tuple(int(i) for i in data.get("ids", ())),
        )


class Backoff:
    """Delays between reconnection attempts: longer after each failure in a row, back to
    the first once a connection succeeds (a database that comes back after an outage
    is reconnected to within the first delay, however many outages came before)."""

    def __init__(self, delays: tuple[float, ...]) -> None:
        self.delays = delays
        self.failures = 0

    def next_delay(self) -> float:
        delay = self.delays[min(self.failures, len(self.delays) - 1)]
        self.failures += 1
        return delay

    def reset(self) -> None:
        self.failures = 0


def _batches(ids: Iterable[int]) -> Iterator[tuple[int, ...]]:
    batch: list[int] = []
    for business_id in ids:
        batch.append(business_id)
        if len(batch) == IDS_PER_NOTIFICATION:
            yield tuple(batch)
            batch = []
    if batch:
        yield tuple(batch)


class InvalidationBroadcast:
    """One per process: sends this process's invalidations and hears the others'."""

    def __init__(self, *, database_alias: str = DEFAULT_DB_ALIAS) -> None:
        self.database_alias = database_alias
        self._receivers: dict[str, Receiver] = {}
        self._wanted = False
        self._reset_process_state()
        _broadcasts.add(self)

    def _reset_process_state(self) -> None:
        # A forked child (gunicorn --preload) inherits the wish to listen but neither
        # the thread nor its connection, and must not mistake its parent's
        # notifications for its own.
        self.process_token = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._thread: _ListenerThread | None = None
        self._listening = threading.Event()
        self.received = 0
        self.connection_failures = 0
        self.last_reconnect_delay: float | None = None

    # --- sending ---------------------------------------------------------------------

    def register(self, receiver: Receiver) -> None:
        self._receivers[receiver.name] = receiver

    def send(
        self, keyspace: str, op: str, ids: Iterable[int] = (), *, using: str | None = None
    ) -> None:
        """NOTIFY the other processes, in ``using``'s current transaction if there is one."""
        messages = (
            [Message(self.process_token, keyspace, op, batch) for batch in _batches(ids)]
            if op == "invalidate"
            else [Message(self.process_token, keyspace, op)]
        )
        with connections[using or self.database_alias].cursor() as cursor:
            for message in messages:
                cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, message.to_payload()])

    # --- receiving -------------------------------------------------------------------

    def listen_in_this_process(self) -> None:
        """Ask for a listener in every process that reads the caches from now on.

        The WSGI and ASGI entry points call this; tests, shells and one-off commands do
        not, so they open no extra connection. The thread itself starts on the first
        cache read in each process, which keeps it out of a pre-forking master.
        """
        self._wanted = True

    def caches_trustworthy(self) -> bool:
        """Whether a process-local cache may answer: always, unless it should be listening
        and is not (yet, or any more)."""
        if not self._wanted:
            return True
        if self._ensure_thread():
            # The process's first read: give the new listener a moment to connect, so
            # the first requests can already fill the cache instead of bypassing it.
            self._listening.wait(FIRST_CONNECT_WAIT_SECONDS)
        return self._listening.is_set()

    def wait_until_listening(self, timeout: float) -> bool:
        self._ensure_thread()
        return self._listening.wait(timeout)

    def status(self) -> dict[str, Any]:
        return {
            "wanted": self._wanted,
            "listening": self._listening.is_set(),
            "channel": CHANNEL,
            "received": self.received,
            "connection_failures": self.connection_failures,
            "last_reconnect_delay": self.last_reconnect_delay,
        }

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening (tests); caches in this process are trusted again."""
        with self._lock:
            thread, self._thread, self._wanted = self._thread, None, False
        if thread is not None:
            thread.stop_requested.set()
            thread.join(timeout)
        self._listening.clear()

    def _ensure_thread(self) -> bool:
        """Start the listener thread unless it runs; return whether this call started it."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            return False
        with self._lock:
            if not self._wanted or (self._thread is not None and self._thread.is_alive()):
                return False
            self._listening.clear()
            self._thread = _ListenerThread(self)
            self._thread.start()
            return True

    def _connection_params(self) -> dict[str, Any]:
        params = connections[self.database_alias].get_connection_params()
        # Django's own cursor class needs a Django connection wrapper around it.
        params.pop("cursor_factory", None)
        # Notice a dead peer within about a minute even when nothing is being sent.
        params.setdefault("keepalives", 1)
        params.setdefault("keepalives_idle", 30)
        params.setdefault("keepalives_interval", 10)
        params.setdefault("keepalives_count", 3)
        params["application_name"] = "prosaas cache invalidation listener"
        return params

    def _connected(self) -> None:
        # Whatever was sent while nobody listened is lost: start from empty caches.
        for receiver in self._receivers.values():
            receiver.clear_here()
        self._listening.set()

    def _disconnected(self) -> None:
        self._listening.clear()
        self.connection_failures += 1

    def _deliver(self, payload: str) -> None:
        try:
            message = Message.from_payload(payload)
        except (ValueError, KeyError, TypeError):
            logger.warning("Ignoring a malformed cache invalidation message: %r", payload[:200])
            return
        if message.sender == self.process_token:
            return  # this process applied it already, when its transaction committed
        receiver = self._receivers.get(message.keyspace)
        if receiver is None:
            return
        self.received += 1
        if message.op == "clear":
            receiver.clear_here()
        elif message.op == "invalidate":
            receiver.invalidate_here(message.ids)


class _ListenerThread(threading.Thread):
    def __init__(self, broadcast: InvalidationBroadcast) -> None:
        super().__init__(name="cache-invalidation-listener", daemon=True)
        self.broadcast = broadcast
        self.stop_requested = threading.Event()

    def run(self) -> None:
        backoff = Backoff(RECONNECT_DELAYS)
        while not self.stop_requested.is_set():
            try:
                self._listen(on_listening=backoff.reset)
            except Exception:
                delay = backoff.next_delay()
                self.broadcast.last_reconnect_delay = delay
                logger.warning(
                    "Cache invalidation listener lost its connection; caches in this "
                    "process are bypassed until it reconnects (retry in %ss).",
                    delay,
                    exc_info=True,
                )
                self.broadcast._disconnected()
                self.stop_requested.wait(delay)

    def _listen(self, on_listening: Callable[[], None]) -> None:
        connection = psycopg2.connect(**self.broadcast._connection_params())
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f"LISTEN {CHANNEL}")
            on_listening()
            self.broadcast._connected()
            logger.info("Cache invalidation listener is listening on %s.", CHANNEL)
            while not self.stop_requested.is_set():
                readable, _, _ = select.select([connection], [], [], POLL_SECONDS)
                if not readable:
                    continue
                connection.poll()
                while connection.notifies:
                    self.broadcast._deliver(connection.notifies.pop(0).payload)
        finally:
            connection.close()


_broadcasts: weakref.WeakSet[InvalidationBroadcast] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for broadcast in list(_broadcasts):
        broadcast._reset_process_state()


os.register_at_fork(after_in_child=_after_fork_in_child)
