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
    replicas,
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
    replicas,
    # issue 12: derived data kept by triggers, migrations under load (last: it migrates)
    stats,
    ingestion,
    migrate_under_load,
]
