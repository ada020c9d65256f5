"""The database's own view of a query: EXPLAIN ANALYZE times and plans."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from django.db import connection


@dataclass(frozen=True)
class Explained:
    planning_ms: float  # median over the repeats
    execution_ms: float  # median
    execution_p95_ms: float
    plan: dict[str, Any]  # the last run's plan tree (JSON form)

    @property
    def total_ms(self) -> float:
        return self.planning_ms + self.execution_ms


def explain_analyze(sql: str, *, repeat: int = 5) -> Explained:
    """Plan and run ``sql`` (a complete statement, parameters inlined) ``repeat`` times.

    ``TIMING OFF`` leaves out per-node clocks, which would otherwise inflate the total
    on plans with many nodes; the statement's own execution time is still measured.
    The first run warms the caches and is not counted.
    """
    from bench.harness import percentile

    planning: list[float] = []
    execution: list[float] = []
    plan: dict[str, Any] = {}
    for attempt in range(repeat + 1):
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, TIMING OFF, BUFFERS, FORMAT JSON) {sql}")
            (result,) = cursor.fetchone()
        top = result[0]
        plan = top["Plan"]
        if attempt:
            planning.append(top["Planning Time"])
            execution.append(top["Execution Time"])
    return Explained(
        planning_ms=statistics.median(planning),
        execution_ms=statistics.median(execution),
        execution_p95_ms=percentile(execution, 95),
        plan=plan,
    )


def plan_text(sql: str) -> str:
    """The plan as PostgreSQL prints it (for the results' Plans section)."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def plan_summary(plan: dict[str, Any]) -> str:
    """The access path in a few words: the scan nodes and the indexes they use."""
    scans: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        kind = node["Node Type"]
        if "Scan" in kind and "Subquery" not in kind and "CTE" not in kind:
            index = node.get("Index Name")
            relation = node.get("Relation Name", "")
            scans.append(f"{kind} using {index}" if index else f"{kind} on {relation}")
        elif kind in ("Sort", "Incremental Sort"):
            scans.append(kind)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan)
    unique = list(dict.fromkeys(scans))
    return "; ".join(unique[:4]) + (" …" if len(unique) > 4 else "")
