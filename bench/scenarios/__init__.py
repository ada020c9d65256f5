"""The scenarios, in the order they run (the load run before the cache, which reads it;
the migration under load last, as it rebuilds part of the schema)."""

from __future__ import annotations

from bench.scenarios import (
    cache,
    concurrency,
    indexes,
    ingestion,
    intelligence,
    migrate_under_load,
    overhead,
    scaling,
    stats,
)

SCENARIOS = [
    intelligence,
    overhead,
    indexes,
    scaling,
    concurrency,
    cache,
    # issue 12: derived data kept by triggers, migrations under load
    stats,
    ingestion,
    migrate_under_load,
]
