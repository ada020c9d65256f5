"""``migrate`` forwards over the loaded data while writers insert and readers read.

The crm app is first migrated back to ``FROM_MIGRATION`` (untimed: that drops the sort
keys, their indexes, the counters and the triggers), then clients start and
``manage.py migrate crm`` runs forwards: the columns under a short lock_timeout, the
concurrent index builds, the counter tables, the triggers, the batched backfill. Every
client records how long each of its statements took; the result is the longest wait
any of them saw (target: no client waits more than 1 s). A "report" client holds a
read transaction on ``customer`` for a while now and then, as a slow export would: that
is what a schema change queues behind.

Run last: it leaves the schema as ``migrate`` makes it, with the clients' rows deleted.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.management import call_command
from django.db import connection

from bench.context import BenchContext
from bench.harness import percentile
from bench.results import ScenarioResult, Table
from bench.scenarios.ingestion import _connect

KEY = "migrate_under_load"
TITLE = "Migrate under load: the longest wait of any client during `migrate crm`"
FROM_MIGRATION = "0011_idx_call_log_business_created"
TARGET_WAIT_S = 1.0
MARK = "bench-migrate-"


@dataclass
class Client:
    kind: str
    waits: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _loop(
    client: Client, stop: threading.Event, step: Callable[[Any, random.Random, int], None]
) -> None:
    session = _connect()
    rng = random.Random(hash(client.kind))
    n = 0
    try:
        with session.cursor() as cursor:
            while not stop.is_set():
                began = time.perf_counter()
                try:
                    step(cursor, rng, n)
                except Exception as exc:  # a client error is a result, not a crash
                    client.errors.append(f"{type(exc).__name__}: {exc}"[:200])
                    session.rollback()
                client.waits.append(time.perf_counter() - began)
                n += 1
                time.sleep(0.005)
    finally:
        session.close()


def run(ctx: BenchContext) -> ScenarioResult:
    business_id = ctx.main.business_id
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM customer WHERE business_id = %s", [business_id])
        customers = [row[0] for row in cursor.fetchall()]
    result = ScenarioResult(
        KEY,
        TITLE,
        about=f"`migrate crm` forwards from {FROM_MIGRATION} over the loaded data "
        f"({len(customers):,} customers in the main tenant) while 3 writers insert leads and "
        "calls, 3 readers read customers and lead pages, and a report holds a 1.5 s read "
        f"transaction on customer every 3 s. Target: no client waits more than "
        f"{TARGET_WAIT_S:.0f} s.",
    )
    ctx.log(f"    migrating crm back to {FROM_MIGRATION} (not timed)")
    call_command("migrate", "crm", FROM_MIGRATION, verbosity=0)

    def write_lead(cursor: Any, rng: random.Random, n: int) -> None:
        cursor.execute(
            "INSERT INTO leads (tenant_id, customer_id, name, phone_e164, email, source,"
            " status, notes, created_at, updated_at) VALUES (%s, %s, %s, '', '', 'call',"
            " 'new', '', now(), now())",
            [business_id, rng.choice(customers), f"{MARK}{n}"],
        )

    def write_call(cursor: Any, rng: random.Random, n: int) -> None:
        cursor.execute(
            "INSERT INTO call_log (business_id, customer_id, call_sid, from_number, to_number,"
            " direction, status, duration, summary, transcript, recording_url, created_at,"
            " updated_at) VALUES (%s, %s, %s, '+1', '+2', 'inbound', 'completed', 1, '', '',"
            " '', now(), now())",
            [business_id, rng.choice(customers), f"{MARK}{rng.random()}-{n}"],
        )

    def read_customer(cursor: Any, rng: random.Random, n: int) -> None:
        cursor.execute(
            "SELECT id, name, phone_e164 FROM customer WHERE id = %s", [rng.choice(customers)]
        )
        cursor.fetchall()

    def read_leads(cursor: Any, rng: random.Random, n: int) -> None:
        cursor.execute(
            "SELECT id, status FROM leads WHERE tenant_id = %s ORDER BY created_at DESC LIMIT 50",
            [business_id],
        )
        cursor.fetchall()

    stop = threading.Event()

    def report(cursor: Any, rng: random.Random, n: int) -> None:
        cursor.connection.autocommit = False
        try:
            cursor.execute("SELECT count(*) FROM customer WHERE business_id = %s", [business_id])
            cursor.fetchall()
            stop.wait(1.5)  # the transaction stays open, holding its lock on customer
        finally:
            cursor.connection.rollback()
            cursor.connection.autocommit = True
        stop.wait(3)

    plan: list[tuple[str, Callable[[Any, random.Random, int], None]]] = [
        ("writer: lead", write_lead),
        ("writer: lead ", write_lead),
        ("writer: call", write_call),
        ("reader: customer by id", read_customer),
        ("reader: customer by id ", read_customer),
        ("reader: lead page", read_leads),
    ]
    clients = [Client(kind) for kind, _ in plan]
    threads = [
        threading.Thread(target=_loop, args=(client, stop, step))
        for client, (_, step) in zip(clients, plan, strict=True)
    ]
    report_client = Client("report (holds a read transaction)")
    threads.append(threading.Thread(target=_loop, args=(report_client, stop, report)))
    for thread in threads:
        thread.start()
    time.sleep(min(1.0, ctx.load_seconds))  # the clients run before the migration starts
    began = time.perf_counter()
    try:
        call_command("migrate", "crm", verbosity=0)
    finally:
        migrate_seconds = time.perf_counter() - began
        time.sleep(min(0.5, ctx.load_seconds))
        stop.set()
        for thread in threads:
            thread.join()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM leads WHERE name LIKE %s", [MARK + "%"])
        cursor.execute("DELETE FROM call_log WHERE call_sid LIKE %s", [MARK + "%"])

    longest = max((max(c.waits, default=0.0) for c in clients), default=0.0)
    result.metrics["migrate_seconds"] = migrate_seconds
    result.metrics["migrate_longest_client_wait_s"] = longest
    result.metrics["migrate_client_errors"] = float(sum(len(c.errors) for c in clients))
    rows = []
    for client in clients:
        waits = client.waits or [0.0]
        rows.append(
            [
                client.kind.strip(),
                len(client.waits),
                f"{percentile(waits, 99) * 1000:.0f}",
                f"{max(waits) * 1000:.0f}",
                len(client.errors),
            ]
        )
    result.tables.append(
        Table(
            title=f"statements during `migrate crm` ({migrate_seconds:.1f} s)",
            columns=["client", "statements", "p99 ms", "longest ms", "errors"],
            rows=rows,
        )
    )
    verdict = "met" if longest <= TARGET_WAIT_S else "NOT met"
    result.details.append(
        f"Longest wait of any client: {longest * 1000:.0f} ms (target ≤ "
        f"{TARGET_WAIT_S * 1000:.0f} ms: {verdict})."
    )
    errors = [e for c in clients for e in c.errors]
    if errors:
        result.details.append("Client errors (first 5):\n\n" + "\n".join(errors[:5]))
    return result
