"""The targets of issues 6, 12 and 13 and the claims of the original change, judged against a run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.results import RunResult, fmt_ratio

Getter = Callable[[RunResult], float | None]


def metric(name: str) -> Getter:
    return lambda run: run.metric(name)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _pct_signed(value: float | None) -> str:
    return "–" if value is None else f"{value:+.0%}"


@dataclass(frozen=True)
class Check:
    """A measured number, what it should be, and how to show it."""

    what: str
    wanted: str
    get: Getter
    passes: Callable[[float], bool]
    show: Callable[[float | None], str] = fmt_ratio

    def judge(self, run: RunResult) -> tuple[str, str]:
        value = self.get(run)
        if value is None:
            return "–", "not measured"
        return self.show(value), "met" if self.passes(value) else "missed"


def _min_of(*names: str) -> Getter:
    def get(run: RunResult) -> float | None:
        values = [run.metric(name) for name in names]
        present = [v for v in values if v is not None]
        return min(present) if len(present) == len(values) else None

    return get


def _index_min(run: RunResult) -> float | None:
    values = [v for k, v in _index_ratios(run).items()]
    return min(values) if values else None


def _index_ratios(run: RunResult) -> dict[str, float]:
    scenario = run.scenario("indexes")
    if scenario is None:
        return {}
    return {k: v for k, v in scenario.metrics.items() if k.endswith("_without_index_ratio")}


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} ms"


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} s"


def _yes_no(value: float | None) -> str:
    return "–" if value is None else ("yes" if value else "no")


TARGETS = [
    # Issue 13 split issue 6's "≥ 30× on both pages": 30× ordinary, 10× whale.
    Check(
        "intelligence page vs N+1: ordinary page",
        "≥ 30×",
        metric("ordinary_product_vs_n1"),
        lambda v: v >= 30,
    ),
    Check(
        "intelligence page vs N+1: whale page",
        "≥ 10×",
        metric("whale_product_vs_n1"),
        lambda v: v >= 10,
    ),
    Check(
        "ordinary page: endpoint / its SQL's execution + planning",
        "≤ 3×",
        metric("overhead_ratio_sql_ordinary"),
        lambda v: v <= 3,
    ),
    Check(
        "GET /api/business/: endpoint median over its SQL",
        "≤ 1.5 ms",
        metric("overhead_over_sql_ms_business"),
        lambda v: v <= 1.5,
        _ms,
    ),
    Check(
        "intelligence throughput at 32 clients vs the previous request path (pooled)",
        "≥ 2×",
        metric("fast_path_throughput_ratio_intelligence_32"),
        lambda v: v >= 2,
    ),
    Check(
        "pooled vs unpooled throughput at 32 clients: intelligence page (issue 13)",
        "≥ 2×",
        metric("pool_throughput_ratio_intelligence_32"),
        lambda v: v >= 2,
    ),
    Check(
        "GET /api/intelligence/stats/: SQL execution at 100k customers",
        "≤ 20 ms",
        metric("stats_sql_ms_100000"),
        lambda v: v <= 20,
        _ms,
    ),
    Check(
        "stats counters equal a full recount (1k, 20k and 100k customers)",
        "yes",
        _min_of(
            "stats_matches_recount_1000",
            "stats_matches_recount_20000",
            "stats_matches_recount_100000",
        ),
        lambda v: v == 1,
        _yes_no,
    ),
    Check(
        "call ingestion, 16 writers: triggers vs the signal-era update (fewer calls/s)",
        "≤ 15%",
        metric("ingestion_slowdown"),
        lambda v: v <= 0.15,
        _pct_signed,
    ),
    Check(
        "migrate under load: longest wait of any reader or writer",
        "≤ 1 s",
        metric("migrate_longest_client_wait_s"),
        lambda v: v <= 1,
        _seconds,
    ),
    Check(
        "intelligence page vs aggregated 5–7 queries (the smaller)",
        "> 1× (faster)",
        _min_of("ordinary_product_vs_aggregated", "whale_product_vs_aggregated"),
        lambda v: v > 1,
    ),
    Check(
        "endpoint time / SQL execution time (ordinary page)",
        "≤ 3×",
        metric("overhead_ratio_ordinary"),
        lambda v: v <= 3,
    ),
    Check(
        "each index on its pattern (the smallest gain)",
        "≥ 10×",
        _index_min,
        lambda v: v >= 10,
    ),
    Check(
        "default-ordering page latency, 100k vs 1k customers",
        "within ±25%",
        metric("scaling_default_change"),
        lambda v: abs(v) <= 0.25,
        _pct_signed,
    ),
    Check(
        "pooled vs unpooled throughput at 32 clients: GET /api/business/",
        "≥ 1.5×",
        metric("pool_throughput_ratio_business_32"),
        lambda v: v >= 1.5,
    ),
    Check(
        "pooled vs unpooled throughput at 32 clients: intelligence page",
        "≥ 1.5×",
        metric("pool_throughput_ratio_intelligence_32"),
        lambda v: v >= 1.5,
    ),
    Check(
        "cache hit rate during the load run",
        "> 99%",
        metric("cache_hit_rate_load"),
        lambda v: v > 0.99,
        _pct,
    ),
]

CLAIMS = [
    Check(
        "97% fewer queries (intelligence page, 50 customers)",
        "≥ 97%",
        metric("ordinary_query_reduction"),
        lambda v: v >= 0.97,
        _pct,
    ),
    Check(
        "70–80% faster customer endpoint (vs N+1)",
        "≥ 70% less time",
        lambda run: (
            None
            if run.metric("ordinary_product_vs_n1") is None
            else 1 - 1 / run.metric("ordinary_product_vs_n1")  # type: ignore[operator]
        ),
        lambda v: v >= 0.70,
        _pct,
    ),
    Check(
        "10–100× faster filtered queries (each index, the smallest gain)",
        "≥ 10×",
        _index_min,
        lambda v: v >= 10,
    ),
    Check(
        "2× concurrency from the pool (throughput at 32 clients, GET /api/business/)",
        "≥ 2×",
        metric("pool_throughput_ratio_business_32"),
        lambda v: v >= 2,
    ),
    Check(
        "2× concurrency from the pool (throughput at 32 clients, intelligence page)",
        "≥ 2×",
        metric("pool_throughput_ratio_intelligence_32"),
        lambda v: v >= 2,
    ),
    Check(
        ">90% cache hit rate (load run)",
        "> 90%",
        metric("cache_hit_rate_load"),
        lambda v: v > 0.90,
        _pct,
    ),
]


def verdict_rows(checks: list[Check], run: RunResult) -> list[list[str]]:
    rows = []
    for check in checks:
        shown, verdict = check.judge(run)
        rows.append([check.what, check.wanted, shown, verdict])
    return rows
