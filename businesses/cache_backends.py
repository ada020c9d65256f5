"""A local-memory cache backend that evicts one least-recently-used entry at a time.

Django's ``LocMemCache`` already keeps its keys in least-recently-used order, but when
it is full it drops ``len // CULL_FREQUENCY`` entries at once (a third by default),
and it culls even when the key being set is already there. For a cache that every
request reads, losing a third of the tenants at once means a burst of queries. This
subclass evicts exactly the least recently used entry, only to make room for a new
key, and counts the evictions so that the statistics can report them.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache

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
