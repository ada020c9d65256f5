"""The scenarios, in the order they run (the load run before the cache, which reads it)."""

from __future__ import annotations

from bench.scenarios import (
    cache,
    concurrency,
    indexes,
    intelligence,
    overhead,
    replicas,
    scaling,
)

SCENARIOS = [intelligence, overhead, indexes, scaling, concurrency, cache, replicas]
