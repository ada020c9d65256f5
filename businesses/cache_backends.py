"""Cache backends: a local-memory LRU, and a Redis that fails fast.

``LRULocMemCache`` evicts one least-recently-used entry at a time.

Django's ``LocMemCache`` already keeps its keys in least-recently-used order, but when
it is full it drops ``len // CULL_FREQUENCY`` entries at once (a third by default),
and it culls even when the key being set is already there. For a cache that every
request reads, losing a third of the tenants at once means a burst of queries. This
subclass evicts exactly the least recently used entry, only to make room for a new
key, and counts the evictions so that the statistics can report them.

``FailFastRedisCache`` bounds every call by the client's timeouts and, after a
failure, skips Redis for a moment, so an unreachable or frozen Redis costs a request
at most one timeout while the database answers in its place.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("businesses.cache")

# Like LocMemCache's own stores, shared by every instance with the same LOCATION:
# Django gives each thread its own backend instance, and the count is per cache.
_evictions: dict[str, int] = {}


class LRULocMemCache(LocMemCache):
    """``LocMemCache`` with one-at-a-time LRU eviction and an eviction counter.

    ``OPTIONS["MAX_ENTRIES"]`` is the limit; ``CULL_FREQUENCY`` is ignored.
    """

    def __init__(self, name: str, params: dict[str, Any]) -> None:
        super().__init__(name, params)
        self._location = name
        _evictions.setdefault(name, 0)

    # Called by set() and add() with self._lock held.
    def _set(self, key: str, value: Any, timeout: float | None = DEFAULT_TIMEOUT) -> None:  # type: ignore[override]
        if key not in self._cache and len(self._cache) >= self._max_entries:
            # LocMemCache moves a key to the front whenever it is read or written,
            # so the last item is the least recently used one.
            evicted, _ = self._cache.popitem()
            del self._expire_info[evicted]
            _evictions[self._location] += 1
        self._cache[key] = value
        self._cache.move_to_end(key, last=False)
        self._expire_info[key] = self.get_backend_timeout(timeout)

    @property
    def max_entries(self) -> int:
        return self._max_entries

    def eviction_count(self) -> int:
        """Entries evicted to make room since the process started."""
        return _evictions[self._location]

    def live_entry_count(self) -> int:
        """Entries held and not yet expired."""
        now = time.time()
        with self._lock:
            return sum(1 for expiry in self._expire_info.values() if expiry is None or expiry > now)


# --- Redis that fails fast --------------------------------------------------------------


class CacheUnavailableError(RedisConnectionError):
    """Raised instead of calling a Redis that failed moments ago.

    A ``redis`` connection error, so every caller that already copes with an
    unreachable Redis (``businesses.cache_keyspace``: a miss, the database answers)
    copes with it too.
    """


class RedisCircuit:
    """Whether this process should call a Redis server now (one per server location).

    After a connection error or a timeout, calls fail at once for ``retry_interval``
    seconds instead of each waiting for its own timeout; then one call tries again
    (and every call that arrives meanwhile: a success closes the circuit, a failure
    opens it for another interval). So while Redis is frozen or down, a request waits
    for at most one socket timeout, and most for none.
    """

    def __init__(self, location: str, *, retry_interval: float) -> None:
        self.location = location
        self.retry_interval = retry_interval
        self._lock = threading.Lock()
        self._open_until = 0.0  # monotonic time; 0: closed
        self._down_since: float | None = None
        self.failures = 0  # calls that failed on Redis itself
        self.skipped = 0  # calls refused while the circuit was open

    def before_call(self) -> None:
        now = time.monotonic()
        if now < self._open_until:
            with self._lock:
                self.skipped += 1
            raise CacheUnavailableError(
                f"Redis at {self.location} failed less than {self.retry_interval}s ago; "
                "not called until then."
            )

    def failed(self, error: BaseException) -> None:
        with self._lock:
            self.failures += 1
            self._open_until = time.monotonic() + self.retry_interval
            first = self._down_since is None
            if first:
                self._down_since = time.monotonic()
        if first:
            logger.warning(
                "Redis at %s failed (%s: %s); the caches skip it for %ss at a time until "
                "it answers again.",
                self.location,
                type(error).__name__,
                error,
                self.retry_interval,
            )

    def succeeded(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            down_since, self._down_since = self._down_since, None
            self._open_until = 0.0
        if down_since is not None:
            logger.warning(
                "Redis at %s answers again after %.1fs.",
                self.location,
                time.monotonic() - down_since,
            )

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def status(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "open": self.is_open,
            "failures": self.failures,
            "skipped": self.skipped,
            "retry_interval": self.retry_interval,
        }


_circuits: dict[str, RedisCircuit] = {}
_circuits_lock = threading.Lock()


def redis_circuit(location: str, *, retry_interval: float) -> RedisCircuit:
    """The process's circuit for ``location``, shared by every alias and thread using it."""
    with _circuits_lock:
        circuit = _circuits.get(location)
        if circuit is None:
            circuit = _circuits[location] = RedisCircuit(location, retry_interval=retry_interval)
        return circuit


# What a Redis that is down, frozen or unreachable raises (a socket error may escape
# redis-py's wrapping).
_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class _GuardedRedisClient:
    """Django's ``RedisCacheClient`` with every call going through the circuit."""

    def __init__(self, client: RedisCacheClient, circuit: RedisCircuit) -> None:
        self._client = client
        self._circuit = circuit

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name.startswith("_") or not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self._circuit.before_call()
            try:
                result = attribute(*args, **kwargs)
            except _UNREACHABLE as error:
                self._circuit.failed(error)
                raise
            self._circuit.succeeded()
            return result

        return call


class FailFastRedisCache(RedisCache):
    """Django's ``RedisCache`` that gives up quickly and then leaves Redis alone.

    Set ``socket_connect_timeout`` and ``socket_timeout`` in ``OPTIONS`` (settings do,
    from ``CACHE_CONNECT_TIMEOUT``/``CACHE_SOCKET_TIMEOUT``): without them redis-py
    waits on a frozen server for as long as the kernel lets it. ``OPTIONS`` may also
    hold ``unavailable_retry_interval`` (seconds, see ``RedisCircuit``). redis-py does
    not retry a command on a pooled connection unless asked (``retry_on_error``), so
    one call costs at most one timeout.
    """

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS") or {})
        retry_interval = float(options.pop("unavailable_retry_interval", 1.0))
        super().__init__(server, {**params, "OPTIONS": options})
        self.circuit = redis_circuit(",".join(self._servers), retry_interval=retry_interval)

    @cached_property
    def _cache(self) -> _GuardedRedisClient:  # type: ignore[override]
        return _GuardedRedisClient(RedisCacheClient(self._servers, **self._options), self.circuit)
