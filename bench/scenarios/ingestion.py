"""Ingestion throughput of calls, 16 concurrent writers in one tenant, without and with
the triggers that keep the sort keys and the statistics counters.

Each writer is a thread with its own PostgreSQL session (psycopg2 releases the GIL while
the server works, so the client is not the bottleneck) inserting one call per statement
in autocommit, as the ingestion API does, each for a random customer of the main tenant.
Three runs:

- **before (signals)**: what ingestion cost before the triggers. The triggers are
  disabled (``ALTER TABLE ... DISABLE TRIGGER USER``; foreign-key checks stay) and each
  writer follows its INSERT with the statement the old ``post_save`` receiver ran, in
  its own autocommit transaction as a bare ``save()`` did: ``UPDATE customer SET
  sort_last_interaction_at = GREATEST(...)``. The stats then cost nothing at write time.
- **no maintenance**: the INSERT alone with the triggers disabled (a floor, for scale).
- **after (triggers)**: the INSERT alone; the triggers keep the sort keys and counters.

The rows of the runs without triggers are deleted with the triggers still disabled, the
others with them enabled, so the counters end as they began.
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
TITLE = "Ingestion: calls/s with 16 writers in one tenant, before (signals) vs after (triggers)"
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


# What crm.activity's post_save receiver ran after each new call (before issue 12).
SIGNAL_ERA_UPDATE = """
    UPDATE customer SET sort_last_interaction_at = GREATEST(sort_last_interaction_at, now())
    WHERE id = %s
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


def measure(
    business_id: int, customers: list[int], seconds: float, run: str, *, signal_update: bool
) -> dict[str, float]:
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
                    customer = rng.choice(customers)
                    cursor.execute(
                        INSERT,
                        [
                            business_id,
                            customer,
                            f"{MARK}{run}-{index}-{counts[index]}",
                            "AI summary." if rng.random() < 0.5 else "",
                        ],
                    )
                    if signal_update:
                        cursor.execute(SIGNAL_ERA_UPDATE, [customer])
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
    seconds = ctx.load_seconds
    result = ScenarioResult(
        KEY,
        TITLE,
        about=f"{WRITERS} threads, each its own session, inserting single calls in autocommit "
        f"for {seconds:.1f} s per run into the main tenant ({len(customers):,} customers): "
        "before (triggers off, the signal-era customer UPDATE after each insert), after "
        "(the triggers), and no maintenance (triggers off, insert only). Target: after at "
        f"most {TARGET_SLOWDOWN:.0%} fewer calls per second than before.",
    )
    _delete_inserted()
    _set_triggers(False)
    try:
        bare = measure(business_id, customers, seconds, "bare", signal_update=False)
        before = measure(business_id, customers, seconds, "before", signal_update=True)
        _delete_inserted()  # still without triggers: the counters never saw these rows
    finally:
        _set_triggers(True)
    after = measure(business_id, customers, seconds, "after", signal_update=False)
    _delete_inserted()  # with triggers: they take back what they added
    if not before["rows"] or not after["rows"]:
        raise RuntimeError("a run inserted no rows; raise the load period")
    slowdown = 1 - after["per_second"] / before["per_second"]
    result.metrics["ingestion_no_maintenance_per_s"] = bare["per_second"]
    result.metrics["ingestion_before_signals_per_s"] = before["per_second"]
    result.metrics["ingestion_after_triggers_per_s"] = after["per_second"]
    result.metrics["ingestion_slowdown"] = slowdown
    runs = (
        ("before: signal-era UPDATE after each INSERT", before),
        ("after: triggers", after),
        ("no maintenance at all (floor)", bare),
    )
    result.tables.append(
        Table(
            title="calls inserted per second (all writers together)",
            columns=["run", "calls/s", "calls", "slowest insert (ms)"],
            rows=[
                [
                    name,
                    f"{run['per_second']:.0f}",
                    int(run["rows"]),
                    f"{run['worst_ms']:.1f}",
                ]
                for name, run in runs
            ],
        )
    )
    result.details.append(
        f"After vs before: {-slowdown:+.1%} calls/s (target: no worse than {-TARGET_SLOWDOWN:.0%})."
    )
    return result
