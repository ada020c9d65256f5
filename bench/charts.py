"""PNG charts of a run (matplotlib, no display needed)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; must precede pyplot

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from bench.results import RunResult, ScenarioResult, fmt_ms, fmt_ratio

# What is replaced in warm colours, what replaces it in green.
OLD, OLDER, NEW = "#b9473a", "#d99a3e", "#2f7d4f"
COLORS = [OLD, OLDER, NEW, "#3b6ea8", "#7a5195", "#6b6b6b"]


def draw_all(run: RunResult, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    drawn = []
    for name, draw in CHARTS.items():
        scenario = run.scenario(name.split("-")[0])
        if scenario is None or scenario.status != "ran":
            continue
        figure = draw(scenario)
        if figure is None:
            continue
        path = out / f"{name}.png"
        figure.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(figure)
        drawn.append(path)
    return drawn


def _plain_log_y(ax: Axes) -> None:
    """A log scale labelled 0.1, 1, 10, 100 rather than 10^-1, 10^0 ..."""
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _grouped_bars(
    ax: Axes,
    groups: list[str],
    series: dict[str, list[float | None]],
    *,
    log: bool = True,
    value_label: Callable[[float], str] = fmt_ms,
    colors: list[str] = COLORS,
) -> None:
    width = 0.8 / max(1, len(series))
    for index, (label, values) in enumerate(series.items()):
        xs = [g + (index - (len(series) - 1) / 2) * width for g in range(len(groups))]
        present = [(x, v) for x, v in zip(xs, values, strict=True) if v is not None]
        if not present:
            continue
        bars = ax.bar(
            [x for x, _ in present],
            [v for _, v in present],
            width * 0.95,
            label=label,
            color=colors[index % len(colors)],
        )
        ax.bar_label(bars, labels=[value_label(v) for _, v in present], fontsize=8, padding=2)
    ax.set_xticks(range(len(groups)), groups)
    if log:
        _plain_log_y(ax)
    ax.margins(y=0.15)
    # Below the plot, where it cannot cover a bar.
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=len(series))
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)


def intelligence_chart(scenario: ScenarioResult) -> Figure | None:
    pages = list(dict.fromkeys(c.case for c in scenario.cases))
    variants = list(dict.fromkeys(c.variant for c in scenario.cases))
    if not pages:
        return None
    series = {
        variant: [
            (lambda c: c.median_ms if c else None)(scenario.case(page, variant)) for page in pages
        ]
        for variant in variants
    }
    figure, ax = plt.subplots(figsize=(9, 5))
    palette = {"N+1": OLD, "aggregated": OLDER, "one query": NEW}
    colors = [next(c for k, c in palette.items() if v.startswith(k)) for v in variants]
    # Linear: the bars span less than a decade, where a log axis shows one tick label.
    _grouped_bars(ax, [p.split(" (")[0] for p in pages], series, colors=colors, log=False)
    ax.set_ylabel("median latency per request, ms")
    title = "Customer intelligence page, 50 customers"
    ratios = [
        f"{key}: product {fmt_ratio(scenario.metrics.get(f'{key}_product_vs_n1'))} faster than N+1"
        for key in ("ordinary", "whale")
        if scenario.metrics.get(f"{key}_product_vs_n1")
    ]
    ax.set_title(title + ("\n" + "; ".join(ratios) if ratios else ""), fontsize=11)
    return figure


def overhead_chart(scenario: ScenarioResult) -> Figure | None:
    bars = scenario.series.get("breakdown")
    if not bars:
        return None
    labels = [b["label"] for b in bars]
    figure, ax = plt.subplots(figsize=(9, 1.2 + 0.7 * len(bars)))
    parts = [
        ("database: planning + execution (EXPLAIN ANALYZE)", "db_ms", COLORS[3]),
        ("everything else (Python, network, rendering)", "rest_ms", COLORS[1]),
    ]
    left = [0.0] * len(bars)
    for label, key, color in parts:
        values = [b[key] for b in bars]
        ax.barh(labels, values, left=left, color=color, label=label)
        left = [a + b for a, b in zip(left, values, strict=True)]
    for y, bar in enumerate(bars):
        ax.text(left[y], y, f"  {fmt_ms(bar['total_ms'])} ms", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("ms per request (median)")
    ax.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, frameon=False)
    ax.set_title("Where an endpoint's time goes", fontsize=11, pad=22)
    ax.set_xlim(0, max(left) * 1.25)
    return figure


def indexes_chart(scenario: ScenarioResult) -> Figure | None:
    data = scenario.series.get("indexes")
    if not data:
        return None
    patterns = [d["pattern"] for d in data]
    variants = list(data[0]["ms"].keys())
    series = {v: [d["ms"].get(v) for d in data] for v in variants}
    figure, ax = plt.subplots(figsize=(10, 5))
    _grouped_bars(ax, patterns, series, colors=[NEW, OLDER, OLD])
    ax.set_ylabel("SQL execution time, ms (median, log scale)")
    ax.set_title("The four indexes: each pattern with and without its index", fontsize=11)
    ax.tick_params(axis="x", labelsize=8)
    return figure


def scaling_chart(scenario: ScenarioResult) -> Figure | None:
    data = scenario.series.get("scaling")
    if not data:
        return None
    figure, ax = plt.subplots(figsize=(8, 5))
    sizes: list[int] = []
    for index, (ordering, points) in enumerate(data.items()):
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        sizes = xs
        ax.plot(xs, ys, marker="o", label=ordering, color=COLORS[index % len(COLORS)])
    ax.set_xscale("log")
    ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_ylim(bottom=0)
    ax.set_xlabel("customers in the tenant (log scale)")
    ax.set_ylabel("median latency of page 1, ms")
    ax.set_title("Intelligence page latency vs tenant size, per ordering", fontsize=11)
    ax.legend(title="ordering", fontsize=8)
    ax.grid(alpha=0.3)
    return figure


def concurrency_chart(scenario: ScenarioResult) -> Figure | None:
    data = scenario.series.get("throughput")
    if not data:
        return None
    groups = list(data["groups"])
    figure, ax = plt.subplots(figsize=(9, 5))
    _grouped_bars(
        ax,
        groups,
        data["series"],
        log=False,
        value_label=lambda v: f"{v:,.0f}",
        colors=[NEW, OLDER],
    )
    ax.set_ylabel("successful requests per second")
    ax.set_title("Throughput under load: pooled vs a new connection per request", fontsize=11)
    ax.tick_params(axis="x", labelsize=8)
    return figure


CHARTS: dict[str, Callable[[ScenarioResult], Figure | None]] = {
    "intelligence": intelligence_chart,
    "overhead": overhead_chart,
    "indexes": indexes_chart,
    "scaling": scaling_chart,
    "concurrency": concurrency_chart,
}
