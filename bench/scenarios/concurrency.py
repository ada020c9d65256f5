"""Under concurrency: the real server, pooled vs a new connection per request, and exhaustion.

gunicorn (2 workers × 16 threads) on loopback, driven by the bench's closed-loop client
at 8 and 32 concurrent clients, the requests spread over every bench tenant. The
"unpooled" server runs Django's plain PostgreSQL backend with ``CONN_MAX_AGE=0``: a new
connection for every request, which is what the pool replaces.

The exhaustion run squeezes the pool to one connection per worker (no overflow) and
sends many clients at a request that holds its connection for 50 ms: the surplus must
get a 503 within the pool timeout, and no request may hang.

Note: the load generator, gunicorn and PostgreSQL share the same two cores, so the
absolute numbers are low; the ratios are what carries over.
"""

from __future__ import annotations

from typing import Any

from bench.client import require_route
from bench.context import BenchContext, NotAvailable
from bench.loadgen import LoadResult, build_request, run_load
from bench.results import ScenarioResult, Table, fmt_ms, fmt_ratio
from bench.scenarios.intelligence import OVERHEAD_PATH, PRODUCT_PATH
from bench.server import HOST, BenchServer, ServerConfig
from bench.urls import HOLD_CONNECTION_PATH

KEY = "concurrency"
TITLE = "Under concurrency: pooled vs unpooled, and pool exhaustion"
CLIENT_COUNTS = (8, 32)
WARMUP_SECONDS = 1.0

EXHAUSTION = ServerConfig(pooled=True, pool_size=1, max_overflow=0, pool_timeout=0.25)
# As many clients as the server has threads: each request waits for a connection, not
# for a thread, so what is measured is the pool's timeout.
EXHAUSTION_CLIENTS = 32
EXHAUSTION_HOLD_MS = 50


def _requests(ctx: BenchContext, port: int, path: str) -> list[bytes]:
    return [build_request(HOST, port, path, tenant.token) for tenant in ctx.tenants]


def _load(ctx: BenchContext, server: BenchServer, path: str, clients: int) -> LoadResult:
    requests = _requests(ctx, server.port, path)
    run_load(
        host=HOST,
        port=server.port,
        requests=requests,
        clients=clients,
        seconds=min(WARMUP_SECONDS, ctx.load_seconds),
    )
    return run_load(
        host=HOST, port=server.port, requests=requests, clients=clients, seconds=ctx.load_seconds
    )


def _hit_rates(reports: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Hits, misses and hit rate of each tenant cache, summed over the workers."""
    rates: dict[str, dict[str, Any]] = {}
    for name in ("business_settings", "memberships"):
        hits = sum(int(r[name].get("hits", 0)) for r in reports if name in r)
        misses = sum(int(r[name].get("misses", 0)) for r in reports if name in r)
        if hits + misses:
            rates[name] = {
                "hits": hits,
                "misses": misses,
                "rate": hits / (hits + misses),
                "workers": len(reports),
            }
    return rates


def run(ctx: BenchContext) -> ScenarioResult:
    result = ScenarioResult(KEY, TITLE)
    endpoints = [("GET /api/business/", "business", OVERHEAD_PATH)]
    try:
        require_route(PRODUCT_PATH, "the product's intelligence list")
        endpoints.append(("GET /api/intelligence/customers/", "intelligence", PRODUCT_PATH))
    except NotAvailable as exc:
        result.missing.append(f"load on the intelligence page: {exc}")

    rows: list[list[Any]] = []
    throughput: dict[str, dict[tuple[str, int], float]] = {"pooled": {}, "unpooled": {}}
    _previous_path(ctx, endpoints, rows, result)
    # One server per mode, serving every endpoint in turn: the cache statistics its
    # workers report cover all of the pooled load runs.
    for pooled in (True, False):
        mode = "pooled" if pooled else "unpooled"
        config = ServerConfig(pooled=pooled)
        with BenchServer(config) as server:
            ctx.log(f"    {mode}: {config.describe()}")
            for label, key, path in endpoints:
                for clients in CLIENT_COUNTS:
                    load = _load(ctx, server, path, clients)
                    throughput[mode][(key, clients)] = load.throughput
                    rows.append(_row(label, mode, load))
        if pooled:
            rates = _hit_rates(server.worker_stats())
            if "business_settings" in rates:
                result.metrics["cache_hit_rate_load"] = rates["business_settings"]["rate"]
                ctx.shared["cache_load"] = rates
    rows.sort(key=lambda row: (row[0], row[1] != "pooled"))
    for _, key, _ in endpoints:
        for clients in CLIENT_COUNTS:
            gain = throughput["pooled"][(key, clients)] / max(
                throughput["unpooled"][(key, clients)], 1e-9
            )
            result.metrics[f"pool_throughput_ratio_{key}_{clients}"] = gain
            result.metrics[f"throughput_{key}_{clients}"] = throughput["pooled"][(key, clients)]
            previous = result.metrics.get(f"previous_path_throughput_{key}_{clients}")
            if previous:
                result.metrics[f"fast_path_throughput_ratio_{key}_{clients}"] = (
                    throughput["pooled"][(key, clients)] / previous
                )
    result.tables.append(
        Table(
            title=f"Load runs: {ctx.load_seconds:g}s each after a {WARMUP_SECONDS:g}s warm-up, "
            f"{len(ctx.tenants)} tenants; server {ServerConfig().describe()} (pooled)",
            columns=["endpoint", "server", "clients", "requests", "req/s (2xx)",
                     "p50 ms", "p95 ms", "max ms", "non-2xx"],
            rows=rows,
        )
    )  # fmt: skip
    result.tables.append(_ratio_table(endpoints, result))
    result.series["throughput"] = {
        "groups": [f"{label.split()[1]}\n{c} clients" for label, _, _ in endpoints for c in CLIENT_COUNTS],
        "series": {
            mode: [throughput[mode][(key, c)] for _, key, _ in endpoints for c in CLIENT_COUNTS]
            for mode in ("pooled", "unpooled")
        },
    }  # fmt: skip
    _exhaustion(ctx, result)
    result.about = (
        "Closed loop: each client sends its next request when the previous answer arrives. "
        "Every request carries a real token of one of the bench tenants, round robin."
    )
    return result


def _previous_path(
    ctx: BenchContext,
    endpoints: list[tuple[str, str, str]],
    rows: list[list[Any]],
    result: ScenarioResult,
) -> None:
    """The pooled server with the previous request path (API_FAST_PATH off): the
    "today" of issue 13's throughput target, in the same run."""
    throughput: dict[tuple[str, int], float] = {}
    config = ServerConfig(pooled=True, fast_path=False)
    with BenchServer(config) as server:
        ctx.log(f"    previous path: {config.describe()}")
        for label, key, path in endpoints:
            for clients in CLIENT_COUNTS:
                load = _load(ctx, server, path, clients)
                throughput[(key, clients)] = load.throughput
                rows.append(_row(label, "pooled, previous request path", load))
    result.metrics.update(
        {f"previous_path_throughput_{key}_{c}": value for (key, c), value in throughput.items()}
    )


def _row(label: str, mode: str, load: LoadResult) -> list[Any]:
    errors = load.requests - load.ok
    return [
        label,
        mode,
        load.clients,
        f"{load.requests:,}",
        f"{load.throughput:,.0f}",
        fmt_ms(load.p50_ms),
        fmt_ms(load.p95_ms),
        fmt_ms(load.max_ms),
        f"{errors} ({dict(load.statuses)})" if errors else "0",
    ]


def _ratio_table(endpoints: list[tuple[str, str, str]], result: ScenarioResult) -> Table:
    return Table(
        title="Pooled throughput ÷ unpooled throughput",
        columns=["endpoint", *(f"{c} clients" for c in CLIENT_COUNTS)],
        rows=[
            [label, *(fmt_ratio(result.metrics[f"pool_throughput_ratio_{key}_{c}"]) for c in CLIENT_COUNTS)]
            for label, key, _ in endpoints
        ],
    )  # fmt: skip


def _exhaustion(ctx: BenchContext, result: ScenarioResult) -> None:
    path = f"{HOLD_CONNECTION_PATH}?ms={EXHAUSTION_HOLD_MS}"
    with BenchServer(EXHAUSTION) as server:
        load = run_load(
            host=HOST,
            port=server.port,
            requests=_requests(ctx, server.port, path),
            clients=EXHAUSTION_CLIENTS,
            seconds=ctx.load_seconds,
        )
    share_503 = load.share(503)
    # Generous slack for the two shared cores; a hang would be the client's 30 s timeout.
    bound_ms = EXHAUSTION.pool_timeout * 1000 + EXHAUSTION_HOLD_MS + 1000
    result.metrics["exhaustion_503_share"] = share_503
    result.metrics["exhaustion_p95_ms"] = load.p95_ms
    result.metrics["exhaustion_max_ms"] = load.max_ms
    result.tables.append(
        Table(
            title=(
                f"Exhaustion: {EXHAUSTION.describe()}; {EXHAUSTION_CLIENTS} clients on a request "
                f"that holds its connection {EXHAUSTION_HOLD_MS} ms"
            ),
            columns=["requests", "200", "503", "other", "share 503", "p95 ms", "max ms",
                     "bounded (max < timeout + hold + 1 s)"],
            rows=[[
                f"{load.requests:,}",
                load.statuses[200],
                load.statuses[503],
                load.requests - load.statuses[200] - load.statuses[503],
                f"{share_503:.1%}",
                fmt_ms(load.p95_ms),
                fmt_ms(load.max_ms),
                "yes" if load.max_ms < bound_ms else f"NO: {fmt_ms(load.max_ms)} ms ≥ {bound_ms:.0f}",
            ]],
        )
    )  # fmt: skip
