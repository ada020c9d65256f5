"""One kind of cached entry in a Django cache alias, safe against stale writes.

The classic cache race: a reader loads a row, a writer commits a change and deletes
the cached entry, then the reader stores the row it loaded before the change, and
the stale entry lives for a whole TTL. Here every entry is stored together with the
*tokens* that were current when its reader started loading it: a per-id generation
(bumped by every invalidation) and a keyspace-wide namespace (bumped by ``clear``).
An entry is served only while both still match, so a late stale write is never read.

Where the tokens live depends on the backend:

* a process-local backend (LocMem) keeps them in this object, next to the entries:
  nothing outside the process can invalidate it except through this object, and the
  backend's entry limit then counts entries only;
* a shared backend (Redis, memcached, ...) keeps them in the backend itself, so that
  an invalidation in one process is seen by all. A missing token (never set, expired
  or evicted) is replaced by a fresh random one, so it never validates an old entry.
  A read is one ``get_many`` of the entry and its two tokens.
"""

from __future__ import annotations

import logging
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from django.core.cache import BaseCache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from redis.exceptions import RedisError

from businesses.cache_backends import LRULocMemCache
from businesses.cache_broadcast import InvalidationBroadcast
from businesses.cache_outbox import OutboxDrainer

logger = logging.getLogger("businesses.cache")

T = TypeVar("T")
Tokens = tuple[Any, Any]  # (namespace, generation)

COUNTERS = ("hits", "misses", "sets", "invalidations", "clears", "errors")

# What an unreachable shared backend raises. A cache must not fail a request that
# the database can answer: reads then miss and writes are skipped, and it is logged.
BACKEND_ERRORS: tuple[type[Exception], ...] = (OSError, RedisError)
WARNING_INTERVAL_SECONDS = 60
# Process-local generation counters kept per entry the backend can hold, at most; past
# that the keyspace starts a new namespace (as ``clear`` does) instead of growing.
GENERATIONS_PER_ENTRY = 4
# The bound when the backend does not say how many entries it holds.
DEFAULT_MAX_GENERATIONS = 100_000


@dataclass(frozen=True)
class Lookup(Generic[T]):
    """The answer to one read: the value on a hit, and on a miss the tokens a loader
    must store its result with (``None``: do not store, the cache cannot vouch)."""

    value: T | None
    tokens: Tokens | None


class Keyspace(Generic[T]):
    """Entries of one kind (one ``name``), keyed by a database id.

    ``encode`` turns a value into plain data (dicts, lists, scalars) for the backend;
    ``decode`` turns it back and raises ``TypeError``/``KeyError``/``ValueError`` if the
    shape is not the expected one, which is then treated as a miss. Bump
    ``schema_version`` whenever the shape changes: it is part of every key, so a
    deploy never reads the entries of the previous one.
    """

    def __init__(
        self,
        *,
        name: str,
        alias: str,
        ttl: float,
        schema_version: int,
        encode: Callable[[T], Any],
        decode: Callable[[Any], T],
        broadcast: InvalidationBroadcast | None = None,
        outbox: OutboxDrainer | None = None,
        max_generations: int | None = None,
    ) -> None:
        self.name = name
        self.alias = alias
        self.ttl = ttl
        self.schema_version = schema_version
        self._encode = encode
        self._decode = decode
        self._prefix = f"{name}:v{schema_version}"
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(COUNTERS, 0)
        self._counting_since = datetime.now(UTC)
        self._evictions_at_reset = 0
        self._last_warning = -WARNING_INTERVAL_SECONDS
        self._local_namespace = 0
        self._local_generations: dict[int, int] = {}
        # Only a process-local backend needs telling other processes; a shared one is
        # already seen by all of them.
        self.broadcast = broadcast if self.is_process_local else None
        if self.broadcast is not None:
            self.broadcast.register(self)
        # The outbox vouches for a shared backend; otherwise (local memory, or caching
        # turned off) its drainer only keeps the table small.
        self.outbox = outbox
        self._drains_outbox = outbox is not None and not (self.is_process_local or self.is_disabled)
        if self._drains_outbox:
            self.outbox.register(self)  # type: ignore[union-attr]
        if max_generations is None:
            backend = self.backend
            max_generations = (
                GENERATIONS_PER_ENTRY * backend.max_entries
                if isinstance(backend, LRULocMemCache)
                else DEFAULT_MAX_GENERATIONS
            )
        self.max_generations = max_generations

    # --- the backend -----------------------------------------------------------------

    @property
    def backend(self) -> BaseCache:
        # Django hands each thread its own backend object; look it up on every use.
        return caches[self.alias]

    @property
    def is_process_local(self) -> bool:
        return isinstance(self.backend, LocMemCache)

    @property
    def is_disabled(self) -> bool:
        return isinstance(self.backend, DummyCache)

    def entry_key(self, key_id: int) -> str:
        return f"{self._prefix}:{key_id}"

    def _generation_key(self, key_id: int) -> str:
        return f"{self._prefix}:{key_id}:generation"

    @property
    def _namespace_key(self) -> str:
        return f"{self._prefix}:namespace"

    @property
    def _token_timeout(self) -> float:
        # Tokens outlive the entries they guard; each store refreshes its generation.
        return self.ttl * 2

    # --- reading ---------------------------------------------------------------------

    def lookup(self, key_id: int) -> Lookup[T]:
        if not self._trustworthy():
            self._count("misses")
            return Lookup(None, None)
        try:
            if self.is_process_local:
                raw, tokens = self._read_local(key_id)
            else:
                raw, tokens = self._read_shared(key_id)
        except BACKEND_ERRORS:
            self._backend_failed("read", key_id)
            self._count("misses")
            return Lookup(None, None)
        value = self._valid_value(raw, tokens)
        self._count("hits" if value is not None else "misses")
        return Lookup(value, None if value is not None else tokens)

    def _trustworthy(self) -> bool:
        if self.broadcast is not None and not self.broadcast.caches_trustworthy():
            return False
        if self.outbox is not None:
            if self._drains_outbox:
                return self.outbox.shared_cache_trustworthy()
            self.outbox.ensure_running()
        return True

    def _read_local(self, key_id: int) -> tuple[Any, Tokens]:
        with self._lock:
            tokens = (self._local_namespace, self._local_generations.get(key_id, 0))
        return self.backend.get(self.entry_key(key_id)), tokens

    def _read_shared(self, key_id: int) -> tuple[Any, Tokens | None]:
        entry_key, generation_key = self.entry_key(key_id), self._generation_key(key_id)
        found = self.backend.get_many([entry_key, generation_key, self._namespace_key])
        namespace = found.get(self._namespace_key) or self._new_token(
            self._namespace_key, timeout=None
        )
        generation = found.get(generation_key) or self._new_token(
            generation_key, timeout=self._token_timeout
        )
        if namespace is None or generation is None:
            return found.get(entry_key), None
        return found.get(entry_key), (namespace, generation)

    def _new_token(self, key: str, *, timeout: float | None) -> str | None:
        token = secrets.token_hex(8)
        if self.backend.add(key, token, timeout=timeout):
            return token
        # Another process got there first; use theirs.
        return self.backend.get(key)

    def _valid_value(self, raw: Any, tokens: Tokens | None) -> T | None:
        if raw is None or tokens is None:
            return None
        try:
            if tuple(raw["tokens"]) != tokens:
                return None
            return self._decode(raw["value"])
        except (TypeError, KeyError, ValueError):
            logger.warning("Ignoring a %s cache entry of an unexpected shape.", self.name)
            return None

    def get(self, key_id: int) -> T | None:
        return self.lookup(key_id).value

    def get_or_load(self, key_id: int, load: Callable[[], T | None]) -> T | None:
        """The cached value, or ``load()``'s, stored unless an invalidation overtook it."""
        found = self.lookup(key_id)
        if found.value is not None:
            return found.value
        value = load()
        if value is not None and found.tokens is not None:
            self._store(key_id, value, found.tokens)
        return value

    # --- writing ---------------------------------------------------------------------

    def put(self, key_id: int, value: T) -> None:
        """Store ``value`` as current now.

        Only for data known to be current; a read-through must use ``get_or_load`` and
        a bulk load ``warm``, which read the tokens before the database.
        """
        tokens = self._tokens_for(key_id)
        if tokens is not None:
            self._store(key_id, value, tokens)

    def warm(self, ids: Iterable[int], load_many: Callable[[list[int]], dict[int, T]]) -> int:
        """Load ``ids`` with one ``load_many`` call and store them; returns how many."""
        tokens = {key_id: self._tokens_for(key_id) for key_id in ids}
        stored = 0
        for key_id, value in load_many(list(tokens)).items():
            key_tokens = tokens.get(key_id)
            if key_tokens is not None:
                self._store(key_id, value, key_tokens)
                stored += 1
        return stored

    def _tokens_for(self, key_id: int) -> Tokens | None:
        """The tokens to store with a value read from the database after this call."""
        if not self._trustworthy():
            return None
        try:
            if self.is_process_local:
                return self._read_local(key_id)[1]
            return self._read_shared(key_id)[1]
        except BACKEND_ERRORS:
            self._backend_failed("read the tokens of", key_id)
            return None

    def _store(self, key_id: int, value: T, tokens: Tokens) -> None:
        entry = {"tokens": tokens, "value": self._encode(value)}
        try:
            self.backend.set(self.entry_key(key_id), entry, timeout=self.ttl)
            if not self.is_process_local:
                self.backend.touch(self._generation_key(key_id), timeout=self._token_timeout)
        except BACKEND_ERRORS:
            self._backend_failed("store", key_id)
            return
        self._count("sets")

    def invalidate(self, key_id: int) -> None:
        """Forget ``key_id`` now, in this process and (process-local backend) in every
        other one, once the current transaction, if any, commits."""
        self.invalidate_here([key_id])
        self.announce("invalidate", [key_id])

    def invalidate_here(self, ids: Iterable[int]) -> None:
        """Forget ``ids`` in this process's view (for a shared backend: everyone's)."""
        ids = list(ids)
        if not ids:
            return
        try:
            self._invalidate_in_backend(ids)
        except BACKEND_ERRORS:
            # With the outbox drained by the serving processes, the entries are
            # invalidated once the backend answers again, and not served before.
            self._backend_failed("invalidate", ids, stale=not self._drains_outbox)
            return
        self._count("invalidations", len(ids))

    def drain(self, ids: Iterable[int]) -> None:
        """Invalidate ``ids`` for the outbox drainer: raises if the backend fails."""
        ids = list(ids)
        self._invalidate_in_backend(ids)
        self._count("invalidations", len(ids))

    def probe(self) -> None:
        """One round trip to the backend (the outbox drainer's health check); raises if
        it fails."""
        self.backend.get(self._namespace_key)

    def _invalidate_in_backend(self, ids: list[int]) -> None:
        if self.is_process_local:
            with self._lock:
                for key_id in ids:
                    self._local_generations[key_id] = self._local_generations.get(key_id, 0) + 1
                too_many = len(self._local_generations) > self.max_generations
            if too_many:
                # The counters must outlive their entries (a reader may still store
                # what it loaded before the change), so they are not dropped one by
                # one; a new namespace makes every old entry and counter irrelevant.
                self.clear_here()
                return
        else:
            self.backend.set_many(
                {self._generation_key(i): secrets.token_hex(8) for i in ids},
                timeout=self._token_timeout,
            )
        # The new generation already hides the entries; deleting them frees the room.
        self.backend.delete_many([self.entry_key(i) for i in ids])

    def clear(self) -> None:
        """Forget every entry of this keyspace, here and in every process."""
        self.clear_here()
        self.announce("clear")

    def clear_here(self) -> None:
        if self.is_process_local:
            with self._lock:
                self._local_namespace += 1
                self._local_generations.clear()
            # The alias's LOCATION belongs to this keyspace alone (see settings).
            self.backend.clear()
        else:
            try:
                self.backend.set(self._namespace_key, secrets.token_hex(8), timeout=None)
            except BACKEND_ERRORS:
                self._backend_failed("clear", "all", stale=True)
                return
        self._count("clears")

    def announce(self, op: str, ids: Iterable[int] = (), *, using: str | None = None) -> None:
        """Tell other processes (NOTIFY on ``using``, in its transaction if one is open)."""
        if self.broadcast is not None:
            self.broadcast.send(self.name, op, ids, using=using)

    def _backend_failed(self, action: str, ids: object, *, stale: bool = False) -> None:
        self._count("errors")
        if self._drains_outbox:
            self.outbox.shared_cache_failed()  # type: ignore[union-attr]
        # One line, no traceback: while Redis is down every request would log one.
        error = sys.exc_info()[1]
        if stale:
            # An invalidation is in the outbox too (the triggers wrote it), and the
            # serving processes drain it into the backend once it answers; a clear is
            # not, so it has to be repeated.
            remedy = (
                "run 'manage.py cache_stats --clear' once the backend is back"
                if action == "clear"
                else "the outbox carries the invalidation once the backend answers"
            )
            logger.error(
                "Could not %s %s entries %s in the %r cache (%s); %s.",
                action,
                self.name,
                ids,
                self.alias,
                error,
                remedy,
            )
        elif time.monotonic() - self._last_warning >= WARNING_INTERVAL_SECONDS:
            # Every request would log this while the backend is down; once a minute
            # says it, and the errors counter keeps the full count.
            self._last_warning = time.monotonic()
            logger.warning(
                "Could not %s %s entry %s in the %r cache (%s); using the database.",
                action,
                self.name,
                ids,
                self.alias,
                error,
            )

    # --- statistics ------------------------------------------------------------------

    def _count(self, counter: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[counter] += amount

    def reset_stats(self) -> None:
        with self._lock:
            self._counts = dict.fromkeys(COUNTERS, 0)
            self._counting_since = datetime.now(UTC)
            backend = self.backend
            if isinstance(backend, LRULocMemCache):
                self._evictions_at_reset = backend.eviction_count()

    def counters(self) -> dict[str, int]:
        """This process's event counters alone (cheap: no look at the backend's entries)."""
        with self._lock:
            return dict(self._counts)

    def stats(self) -> dict[str, Any]:
        """This process's counters, and what the backend can tell about its entries."""
        with self._lock:
            counts = dict(self._counts)
            since = self._counting_since
            evictions_at_reset = self._evictions_at_reset
        lookups = counts["hits"] + counts["misses"]
        backend = self.backend
        local_lru = isinstance(backend, LRULocMemCache)
        return {
            **counts,
            "hit_rate": counts["hits"] / lookups if lookups else None,
            # Only our LocMem subclass counts evictions; Redis reports them for the
            # whole server (INFO stats), not for these keys.
            "evictions": backend.eviction_count() - evictions_at_reset if local_lru else None,
            "entries": backend.live_entry_count() if local_lru else None,
            "max_entries": backend.max_entries if local_lru else None,
            "ttl": self.ttl,
            "backend": f"{type(backend).__module__}.{type(backend).__qualname__}",
            "shared": not (self.is_process_local or self.is_disabled),
            "since": since.isoformat(),
            # Process-local backends only: bounded by max_generations.
            "generation_counters": len(self._local_generations),
        }
