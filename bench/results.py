"""What a run produces: per-scenario results, and their markdown and JSON forms."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from bench.harness import Timing, ratio

Status = Literal["ran", "not available", "failed"]


@dataclass
class Case:
    """One measured variant, e.g. "N+1, ordinary page"; ``ratio`` is against ``baseline``."""

    case: str
    variant: str
    queries: int | None = None
    median_ms: float | None = None
    p95_ms: float | None = None
    samples: int = 0
    baseline: str | None = None
    ratio: float | None = None
    note: str = ""

    @classmethod
    def timed(
        cls, case: str, variant: str, timing: Timing, *, queries: int | None = None, note: str = ""
    ) -> Case:
        return cls(
            case=case,
            variant=variant,
            queries=queries,
            median_ms=timing.median_ms,
            p95_ms=timing.p95_ms,
            samples=len(timing.samples_ms),
            note=note,
        )

    def compare_to(self, baseline: Case) -> Case:
        self.baseline = baseline.variant
        self.ratio = ratio(baseline.median_ms, self.median_ms)
        return self


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Any]]
    title: str = ""


@dataclass
class ScenarioResult:
    key: str
    title: str
    status: Status = "ran"
    reason: str = ""  # why it did not run, or how it failed
    # Parts that could not run because the product code they measure is not there yet.
    missing: list[str] = field(default_factory=list)
    about: str = ""  # what was measured, in a sentence or two
    cases: list[Case] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    # Named numbers that the targets, the claims table and the charts read.
    metrics: dict[str, float] = field(default_factory=dict)
    # Series for charts, e.g. {"scaling": {"-created_at": [[1000, 4.2], ...]}}.
    series: dict[str, Any] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)  # markdown blocks (plans)
    seconds: float = 0.0

    def case(self, case: str, variant: str) -> Case | None:
        for item in self.cases:
            if item.case == case and item.variant == variant:
                return item
        return None


@dataclass
class RunResult:
    started_at: str
    scale: str
    machine: dict[str, Any]
    dataset: dict[str, Any]
    scenarios: list[ScenarioResult]
    seconds: float = 0.0

    def scenario(self, key: str) -> ScenarioResult | None:
        return next((s for s in self.scenarios if s.key == key), None)

    def metric(self, name: str) -> float | None:
        for scenario in self.scenarios:
            if name in scenario.metrics:
                return scenario.metrics[name]
        return None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, default=str)

    @classmethod
    def from_json(cls, text: str) -> RunResult:
        raw = json.loads(text)
        scenarios = []
        for item in raw.pop("scenarios"):
            item["cases"] = [Case(**case) for case in item["cases"]]
            item["tables"] = [Table(**table) for table in item["tables"]]
            scenarios.append(ScenarioResult(**item))
        return cls(scenarios=scenarios, **raw)


# --- formatting -------------------------------------------------------------------------------


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 10:
        return f"{value:,.0f}×"
    return f"{value:.2f}×"


def fmt_speedup(value: float | None, than: str) -> str:
    """ "3.2× faster than X", or "1.4× slower than X" when it is not faster."""
    if value is None:
        return "–"
    if value >= 1:
        return f"{fmt_ratio(value)} faster than {than}"
    return f"{fmt_ratio(1 / value)} slower than {than}"


def fmt_cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return fmt_ms(value)
    return str(value)


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def clean(cell: Any) -> str:
        return fmt_cell(cell).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(clean(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def cases_table(cases: Sequence[Case]) -> str:
    columns = ["case", "variant", "queries", "median ms", "p95 ms", "vs baseline", "note"]
    rows = [
        [
            c.case,
            c.variant,
            c.queries,
            fmt_ms(c.median_ms),
            fmt_ms(c.p95_ms),
            fmt_speedup(c.ratio, c.baseline) if c.baseline else "baseline",
            c.note,
        ]
        for c in cases
    ]
    return markdown_table(columns, rows)


def scenario_markdown(result: ScenarioResult, *, level: int = 3) -> str:
    heading = "#" * level
    parts = [f"{heading} {result.title}"]
    if result.status != "ran":
        parts.append(f"**{result.status}**: {result.reason}")
        return "\n\n".join(parts)
    if result.about:
        parts.append(result.about)
    parts += [f"**not available**: {item}" for item in result.missing]
    if result.cases:
        parts.append(cases_table(result.cases))
    for table in result.tables:
        if table.title:
            parts.append(f"*{table.title}*")
        parts.append(markdown_table(table.columns, table.rows))
    return "\n\n".join(parts)
