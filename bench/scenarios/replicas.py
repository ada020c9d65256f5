"""Read replicas: intelligence throughput on the primary alone vs primary + one replica.

A copy of the bench database is restored into a primary of the scenario's own
(tests/replica.py: initdb on a spare port), which ``pg_basebackup -R`` then copies
into a streaming hot standby. gunicorn serves the intelligence page at 32 clients
twice against that same primary: without replicas, then with
``DATABASE_REPLICA_URLS`` naming the standby, so the two runs differ only in the
router sending the reads to the standby.

The router's own cost per request is measured in-process: the routing steps of one
replica-eligible request (state, read-your-writes lookup in the cache, the cached
lag state, the alias for each query) with a replica whose lag is already known.

Note: both servers, gunicorn and the load generator share this machine's cores,
so a replica cannot add capacity here; the run shows routing under load and its
cost, not the gain a replica on its own machine gives.
"""

from __future__ import annotations

import time
from typing import Any

from django.db import connection
from django.test.utils import override_settings

from bench.client import require_route
from bench.context import BenchContext, NotAvailable
from bench.loadgen import LoadResult, build_request, run_load
from bench.results import ScenarioResult, Table, fmt_ms, fmt_ratio
from bench.scenarios.intelligence import PRODUCT_PATH
from bench.server import HOST, BenchServer, ServerConfig

KEY = "replicas"
TITLE = "Read replicas: intelligence at 32 clients, primary only vs primary + 1 replica"
CLIENTS = 32
WARMUP_SECONDS = 1.0
ROUTING_REPEAT = 20_000
# The bench's copy gets more memory than the tests' throwaway pair.
SERVER_SETTINGS = {"shared_buffers": "'256MB'", "max_connections": 120, "fsync": "off"}


def run(ctx: BenchContext) -> ScenarioResult:
    require_route(PRODUCT_PATH, "the product's intelligence list")
    try:
        from tests.replica import ReplicaPair, ReplicationUnavailable
    except ImportError as exc:  # the bench runs from a checkout, where tests/ exists
        raise NotAvailable(f"tests/replica.py is missing: {exc}") from None

    result = ScenarioResult(KEY, TITLE)
    result.metrics["router_overhead_us"] = router_overhead_us()
    try:
        pair = ReplicaPair(SERVER_SETTINGS)
        pair.start_primary()
    except ReplicationUnavailable as exc:
        raise NotAvailable(f"cannot start a primary/standby pair: {exc}") from None
    try:
        name = str(connection.settings_dict["NAME"])
        started = time.perf_counter()
        copy_database(pair, name)
        pair.add_standby()
        pair.wait_until_replayed(timeout=600)
        ctx.log(
            f"    copied {name} and started the standby in {time.perf_counter() - started:.0f}s"
        )
        primary_url = f"postgres://postgres@127.0.0.1:{pair.primary.port}/{name}"
        replica_url = f"postgres://postgres@127.0.0.1:{pair.standby.port}/{name}"
        base = (("DATABASE_URL", primary_url), ("BENCH_DATABASE_NAME", name))
        runs: dict[str, LoadResult] = {}
        for label, extra in (
            ("primary only", ()),
            (
                "primary + 1 replica",
                (
                    ("DATABASE_REPLICA_URLS", replica_url),
                    # The load only reads; read-your-writes would need Redis for nothing.
                    ("REPLICA_READ_YOUR_WRITES_SECONDS", "0"),
                ),
            ),
        ):
            with BenchServer(ServerConfig(env=base + extra)) as server:
                runs[label] = load(ctx, server)
                served = served_by(ctx, server)
            ctx.log(f"    {label}: {runs[label].throughput:,.0f} req/s, served by {served}")
            result.metrics[f"served_by_{'replica' if extra else 'primary'}"] = served
    finally:
        pair.stop()

    only, replicated = runs["primary only"], runs["primary + 1 replica"]
    result.metrics["throughput_primary_only"] = only.throughput
    result.metrics["throughput_with_replica"] = replicated.throughput
    result.metrics["replica_throughput_ratio"] = replicated.throughput / max(only.throughput, 1e-9)
    result.tables.append(
        Table(
            title=f"{CLIENTS} clients, {ctx.load_seconds:g}s after a {WARMUP_SECONDS:g}s warm-up; "
            f"server {ServerConfig().describe()}",
            columns=["setup", "requests", "req/s (2xx)", "p50 ms", "p95 ms", "non-2xx"],
            rows=[
                [label, f"{r.requests:,}", f"{r.throughput:,.0f}", fmt_ms(r.p50_ms),
                 fmt_ms(r.p95_ms), r.requests - r.ok]
                for label, r in runs.items()
            ],
        )
    )  # fmt: skip
    result.tables.append(
        Table(
            title="Replica ÷ primary only, and the router's own cost",
            columns=["throughput ratio", "router overhead per request"],
            rows=[[
                fmt_ratio(result.metrics["replica_throughput_ratio"]),
                f"{result.metrics['router_overhead_us']:.1f} µs",
            ]],
        )
    )  # fmt: skip
    result.about = (
        "Closed loop on the intelligence list, every bench tenant's token in turn. The "
        "replica is a streaming hot standby of the scenario's own copy of the bench database."
    )
    return result


def copy_database(pair: Any, name: str) -> None:
    """Copy the bench database into the pair's primary (before the standby exists).

    A plain-SQL dump, filtered: the machine's PostgreSQL may carry per-column options
    (``SET (pg_attver=...)``) that a stock server refuses, and they mean nothing to
    the copy.
    """
    params = connection.get_connection_params()
    host = str(params.get("host") or "127.0.0.1")
    port = str(params.get("port") or 5432)
    dump, filtered = pair.root / "bench.sql", pair.root / "bench-filtered.sql"
    pair.run_client("pg_dump", "-h", host, "-p", port, "-U", "postgres", "-f", str(dump), name)
    with dump.open() as source, filtered.open("w") as target:
        for line in source:
            if not ("ALTER COLUMN" in line and "SET (pg_attver=" in line):
                target.write(line)
    filtered.chmod(0o644)
    pair.create_database(name)
    pair.run_client("psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                    "-p", str(pair.primary.port), "-U", "postgres", "-d", name,
                    "-f", str(filtered))  # fmt: skip
    pair.primary.query("ANALYZE", database=name)


def load(ctx: BenchContext, server: BenchServer) -> LoadResult:
    requests = [build_request(HOST, server.port, PRODUCT_PATH, t.token) for t in ctx.tenants]
    run_load(host=HOST, port=server.port, requests=requests, clients=CLIENTS,
             seconds=min(WARMUP_SECONDS, ctx.load_seconds))  # fmt: skip
    return run_load(host=HOST, port=server.port, requests=requests, clients=CLIENTS,
                    seconds=ctx.load_seconds)  # fmt: skip


def served_by(ctx: BenchContext, server: BenchServer) -> str:
    """The Server-Timing ``db-served`` of one request ("-" without replicas)."""
    import urllib.request

    request = urllib.request.Request(
        f"http://{HOST}:{server.port}{PRODUCT_PATH}",
        headers={"Authorization": f"Token {ctx.tenants[0].token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        timing = response.headers.get("Server-Timing", "")
    marker = 'db-served;desc="'
    return timing.split(marker, 1)[1].split('"', 1)[0] if marker in timing else "-"


def router_overhead_us() -> float:
    """Microseconds the routing adds to one request that reads from a replica."""
    from prosaas import db_routing
    from prosaas.replica_lag import ReplicaState, monitor

    queries_per_request = 4  # auth, membership, business, page: each asks the router
    with override_settings(
        DATABASE_REPLICA_ALIASES=["bench-replica"],
        REPLICA_LAG_CHECK_SECONDS=3600,
        REPLICA_READ_YOUR_WRITES_SECONDS=10,
        REPLICA_MAX_LAG_SECONDS=5,
    ):
        # A replica measured just now and caught up: the steady state between checks.
        monitor.remember(ReplicaState("bench-replica", time.monotonic(), 0.0, ""))
        try:
            started = time.perf_counter()
            for _ in range(ROUTING_REPEAT):
                routing, token = db_routing.begin_request()
                db_routing.route_reads_to_replica(1)
                for _ in range(queries_per_request):
                    db_routing.read_alias()
                db_routing.count_request(routing)
                db_routing.end_request(token)
            elapsed = time.perf_counter() - started
        finally:
            monitor.forget("bench-replica")
            db_routing.reset_routing_stats()
    return elapsed / ROUTING_REPEAT * 1_000_000
