"""Ingestion throughput of calls, 16 concurrent writers in one tenant, without and with
the triggers that keep the sort keys and the statistics counters.

Each writer is a thread with its own PostgreSQL session (psycopg2 releases the GIL while
the server works, so the client is not the bottleneck) inserting one call per statement
in autocommit, as the ingestion API does, each for a random customer of the main tenant.
"Without" disables the tables' user triggers for the run (``ALTER TABLE ... DISABLE
TRIGGER USER``: the foreign-key checks stay); the rows of each run are deleted
afterwards, the first batch with the triggers still disabled, so the counters end as
they began.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import psycopg2
from django.db import connection

from bench.context import BenchContext
from bench.results import ScenarioResult, Table

KEY = "ingestion"
TITLE = "Ingestion: calls/s with 16 writers in one tenant, without vs with the triggers"
WRITERS = 16
TARGET_SLOWDOWN = 0.15
MARK = "bench-ingest-"

INSERT = """
    INSERT INTO call_log (business_id, customer_id, call_sid, from_number, to_number,
        direction, status, duration, summary, transcript, recording_url, created_at,
        updated_at)
    VALUES (%s, %s, %s, '+14155550100', '+14155550199', 'inbound', 'completed', 30,
        %s, '', '', now(), now())
"""


def _connect() -> Any:
    params = connection.settings_dict
    args = {
        "dbname": params["NAME"],
        "user": params.get("USER") or None,
        "password": params.get("PASSWORD") or None,
        "host": params.get("HOST") or None,
        "port": params.get("PORT") or None,
    }
    session = psycopg2.connect(**{k: v for k, v in args.items() if v is not None})
    session.autocommit = True
    return session


def _customer_ids(business_id: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM customer WHERE business_id = %s", [business_id])
        return [row[0] for row in cursor.fetchall()]


def measure(business_id: int, customers: list[int], seconds: float, run: str) -> dict[str, float]:
    """Insert for ``seconds`` with WRITERS sessions; calls per second and latencies."""
    start = threading.Barrier(WRITERS + 1)
    stop = threading.Event()
    counts = [0] * WRITERS
    worst = [0.0] * WRITERS
    errors: list[BaseException] = []

    def write(index: int) -> None:
        session = _connect()
        rng = random.Random(index)
        try:
            with session.cursor() as cursor:
                start.wait()
                while not stop.is_set():
                    began = time.perf_counter()
                    cursor.execute(
                        INSERT,
                        [
                            business_id,
                            rng.choice(customers),
                            f"{MARK}{run}-{index}-{counts[index]}",
                            "AI summary." if rng.random() < 0.5 else "",
                        ],
                    )
                    worst[index] = max(worst[index], time.perf_counter() - began)
                    counts[index] += 1
        except BaseException as exc:  # reported by the scenario
            errors.append(exc)
        finally:
            session.close()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise errors[0]
    return {"per_second": sum(counts) / elapsed, "rows": sum(counts), "worst_ms": max(worst) * 1000}


def _set_triggers(enabled: bool) -> None:
    action = "ENABLE" if enabled else "DISABLE"
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE call_log {action} TRIGGER USER")


def _delete_inserted() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM call_log WHERE call_sid LIKE %s", [MARK + "%"])


def run(ctx: BenchContext) -> ScenarioResult:
    business_id = ctx.main.business_id
    customers = _customer_ids(business_id)
    seconds = max(2.0, ctx.load_seconds)
    result = ScenarioResult(
        KEY,
        TITLE,
        about=f"{WRITERS} threads, each its own session, inserting single calls in autocommit "
        f"for {seconds:.0f} s into the main tenant ({len(customers):,} customers), first with "
        "the user triggers of call_log disabled, then enabled. Target: at most "
        f"{TARGET_SLOWDOWN:.0%} fewer calls per second with the triggers.",
    )
    _delete_inserted()
    _set_triggers(False)
    try:
        without = measure(business_id, customers, seconds, "without")
        _delete_inserted()  # still without triggers: the counters never saw these rows
    finally:
        _set_triggers(True)
    with_triggers = measure(business_id, customers, seconds, "with")
    _delete_inserted()  # with triggers: they take back what they added
    slowdown = 1 - with_triggers["per_second"] / without["per_second"]
    result.metrics["ingestion_without_triggers_per_s"] = without["per_second"]
    result.metrics["ingestion_with_triggers_per_s"] = with_triggers["per_second"]
    result.metrics["ingestion_slowdown"] = slowdown
    result.tables.append(
        Table(
            title="calls inserted per second (all writers together)",
            columns=["triggers", "calls/s", "calls", "slowest insert (ms)"],
            rows=[
                [
                    name,
                    f"{run['per_second']:.0f}",
                    int(run["rows"]),
                    f"{run['worst_ms']:.1f}",
                ]
                for name, run in (("without", without), ("with", with_triggers))
            ],
        )
    )
    result.details.append(
        f"Slowdown with the triggers: {slowdown:+.1%} (target ≤ {TARGET_SLOWDOWN:.0%})."
    )
    return result
