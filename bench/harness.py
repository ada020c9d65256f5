"""Timing and query counting, the same way for every scenario.

Queries are counted in one pass and timed in others: recording queries costs a little
per query, which would tax the N+1 baseline more than the one-query page.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.test.utils import CaptureQueriesContext


@dataclass(frozen=True)
class Timing:
    samples_ms: tuple[float, ...]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95_ms(self) -> float:
        return percentile(self.samples_ms, 95)


def percentile(values: tuple[float, ...] | list[float], pct: float) -> float:
    """The nearest-rank percentile: a value that was actually observed."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def time_calls(
    call: Callable[[], object],
    *,
    repeat: int,
    warmup: int = 2,
    budget_seconds: float = 20.0,
    before: Callable[[], object] | None = None,
) -> Timing:
    """Call ``call`` ``warmup`` times untimed, then time up to ``repeat`` calls.

    Stops early (after at least three samples) once ``budget_seconds`` are spent, so a
    slow baseline cannot stretch the run. The garbage is collected once before the timed
    calls, so that a collection the garbage of an earlier case would trigger is not
    billed to this one; during them the collector runs as it does in a server. (Not
    before every call: a full collection walks the whole heap and leaves the CPU caches
    cold, which added about 1 ms to every request measured here, not what a server pays.)
    ``before`` runs ahead of every call, untimed (to empty a cache, say).
    """
    for _ in range(warmup):
        if before is not None:
            before()
        call()
    samples: list[float] = []
    gc.collect()
    deadline = time.perf_counter() + budget_seconds
    for _ in range(repeat):
        if before is not None:
            before()
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
        if len(samples) >= 3 and time.perf_counter() > deadline:
            break
    return Timing(tuple(samples))


def captured_queries(call: Callable[[], object]) -> list[str]:
    """The SQL of every query ``call`` runs on the default connection."""
    with CaptureQueriesContext(connection) as context:
        call()
    return [query["sql"] for query in context.captured_queries]


def ratio(baseline_ms: float | None, measured_ms: float | None) -> float | None:
    """How many times faster ``measured`` is than ``baseline``."""
    if not baseline_ms or not measured_ms:
        return None
    return baseline_ms / measured_ms
