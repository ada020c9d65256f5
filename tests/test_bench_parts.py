"""The bench's own parts that a wrong number would silently come from."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.datagen import fingerprint
from bench.harness import percentile, ratio
from bench.loadgen import run_load
from bench.report import DOCS_END, DOCS_START, update_docs
from bench.results import Case, RunResult, ScenarioResult
from bench.scales import TenantSpec


def test_percentile_is_an_observed_value_by_nearest_rank() -> None:
    samples = [float(n) for n in range(1, 21)]  # 1..20
    assert percentile(samples, 95) == 19.0
    assert percentile(samples, 50) == 10.0
    assert percentile([7.0], 95) == 7.0


def test_ratio_says_how_many_times_faster_and_nothing_without_data() -> None:
    assert ratio(300.0, 10.0) == 30.0
    assert ratio(None, 10.0) is None
    assert ratio(300.0, 0.0) is None


def test_a_case_compared_to_its_baseline_carries_the_ratio_of_medians() -> None:
    baseline = Case("page", "N+1", median_ms=200.0)
    product = Case("page", "one query", median_ms=5.0).compare_to(baseline)
    assert (product.baseline, product.ratio) == ("N+1", 40.0)


def test_the_load_generator_refuses_anything_but_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        run_load(host="10.0.0.1", port=80, requests=[b""], clients=1, seconds=0.1)


def test_a_tenant_is_reloaded_when_its_spec_changes() -> None:
    spec = TenantSpec("bench-x", 1000)
    assert fingerprint(spec) == fingerprint(TenantSpec("bench-x", 1000))
    assert fingerprint(spec) != fingerprint(TenantSpec("bench-x", 1001))
    assert fingerprint(spec) != fingerprint(TenantSpec("bench-x", 1000, whale_calls=5))


def test_docs_are_rewritten_only_between_the_markers(tmp_path: Path) -> None:
    docs = tmp_path / "performance.md"
    docs.write_text(f"# Hand-written\n\n{DOCS_START}\nold numbers\n{DOCS_END}\n\n## Why\nprose\n")
    run = RunResult(
        started_at="2026-01-01T00:00:00+00:00",
        scale="default",
        machine={
            "cores": 2,
            "cpu": "test",
            "memory_gib": 1,
            "postgresql": "15",
            "python": "3.11",
            "django": "5.2",
            "load_average_at_start": 0.1,
        },
        dataset={"tenants": {}, "generated_this_run": [], "load_seconds": 0},
        scenarios=[ScenarioResult("cache", "Cache", status="not available", reason="missing")],
    )
    update_docs(run, docs, tmp_path)
    text = docs.read_text()
    assert text.startswith("# Hand-written\n")
    assert text.endswith("## Why\nprose\n")
    assert "old numbers" not in text
    assert "**not available**: missing" in text
    assert text.count(DOCS_START) == text.count(DOCS_END) == 1
