"""The benchmark suite runs end to end at the small scale (no timing is asserted here).

It loads the small data set into the test database, runs every scenario — including
the gunicorn load runs — and writes the results, as ``make bench`` does. What it
asserts is that each scenario really ran (nothing "not available", nothing failed)
and that the product's intelligence page costs one data query.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from bench import report
from bench.context import BenchContext
from bench.datagen import ensure_dataset
from bench.runner import run_all, scenario_keys
from bench.scales import SCALES
from tests.budgets import REQUEST_OVERHEAD

# The load runs' gunicorn reads the rows, so they must be committed, not in a test transaction.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def small_run(tmp_path: Path):  # type: ignore[no-untyped-def]
    dataset = ensure_dataset(SCALES["small"], progress=False, regenerate=True)
    context = BenchContext(
        dataset=dataset, repeat=2, load_seconds=0.3, log=lambda line: None, work_dir=tmp_path
    )
    yield run_all(context)
    # The bench's bookkeeping tables are not the app's: the flush after this test would
    # leave them behind for the rest of the session.
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_dataset, bench_index_backup")


def test_every_scenario_runs_and_the_product_page_is_one_data_query(
    small_run, tmp_path: Path
) -> None:
    outcomes = {s.key: (s.status, s.reason, s.missing) for s in small_run.scenarios}
    assert list(outcomes) == scenario_keys()
    assert outcomes == {key: ("ran", "", []) for key in scenario_keys()}

    # 1 token + user, 2 tenant (or none when cached), then the page itself in one query.
    assert small_run.metric("ordinary_product_queries") == REQUEST_OVERHEAD + 1
    assert small_run.metric("whale_product_queries") == REQUEST_OVERHEAD + 1
    # The N+1 baseline is faithful: four queries for each of the 50 customers.
    assert small_run.metric("ordinary_n1_queries") == REQUEST_OVERHEAD + 1 + 4 * 50

    written = report.write_run(small_run, tmp_path)
    names = {path.name for path in written}
    assert {"latest-small.md", "latest-small.json"} <= names
    assert {
        f"{name}.png" for name in ("intelligence", "indexes", "scaling", "concurrency")
    } <= names
    assert "## Targets" in (tmp_path / "latest-small.md").read_text()
