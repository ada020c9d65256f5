"""Runs the scenarios in order and collects their results; one failing does not stop the rest."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from types import ModuleType

from django.test.utils import override_settings

from bench.context import BenchContext, NotAvailable
from bench.machine import load_average, machine_facts
from bench.results import RunResult, ScenarioResult
from bench.scenarios import SCENARIOS


def scenario_keys() -> list[str]:
    return [module.KEY for module in SCENARIOS]


def run_scenario(module: ModuleType, ctx: BenchContext) -> ScenarioResult:
    started = time.perf_counter()
    ctx.log(f"--- {module.TITLE}")
    try:
        result = module.run(ctx)
    except NotAvailable as exc:
        result = ScenarioResult(module.KEY, module.TITLE, status="not available", reason=str(exc))
    except Exception as exc:
        ctx.log(traceback.format_exc())
        result = ScenarioResult(
            module.KEY, module.TITLE, status="failed", reason=f"{type(exc).__name__}: {exc}"
        )
    result.seconds = time.perf_counter() - started
    ctx.log(f"    {result.status} in {result.seconds:.1f}s" + _missing_note(result))
    return result


def _missing_note(result: ScenarioResult) -> str:
    if result.status != "ran":
        return f": {result.reason}"
    return "".join(f"\n    not available: {item}" for item in result.missing)


def run_all(
    ctx: BenchContext,
    *,
    only: Sequence[str] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> RunResult:
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    started = clock()
    machine = machine_facts()
    selected = [m for m in SCENARIOS if not only or m.KEY in only]
    # The baselines are served by the bench's URLs, next to the product's.
    with override_settings(ROOT_URLCONF="bench.urls"):
        results = [run_scenario(module, ctx) for module in selected]
    machine["load_average_at_end"] = load_average()
    dataset = ctx.dataset
    return RunResult(
        started_at=started_at,
        scale=dataset.scale.name,
        machine=machine,
        dataset={
            "tenants": {
                slug: {
                    "customers": t.spec.customers,
                    "leads": t.spec.leads,
                    "calls": t.spec.calls,
                    "whatsapp_messages": t.spec.messages,
                    "whale_calls": t.spec.whale_calls,
                }
                for slug, t in dataset.tenants.items()
            },
            "generated_this_run": dataset.generated,
            "load_seconds": round(dataset.load_seconds, 1),
        },
        scenarios=results,
        seconds=clock() - started,
    )
