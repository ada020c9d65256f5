"""Command line of ``python -m bench``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench import report
from bench.context import BenchContext
from bench.database import ensure_database
from bench.datagen import ensure_dataset
from bench.runner import run_all, scenario_keys
from bench.scales import SCALES

REPO = Path(__file__).resolve().parent.parent


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Generate (or reuse) the benchmark data, run every scenario, write the "
        "results, charts and the results section of docs/performance.md.",
    )
    parser.add_argument("--scale", choices=sorted(SCALES), default="default")
    parser.add_argument(
        "--only",
        type=lambda raw: [k.strip() for k in raw.split(",") if k.strip()],
        help=f"comma-separated scenarios to run (of: {', '.join(scenario_keys())})",
    )
    parser.add_argument(
        "--regenerate", action="store_true", help="reload the data even if it is already there"
    )
    parser.add_argument("--repeat", type=int, help="timed requests per case (scale default)")
    parser.add_argument(
        "--out",
        type=Path,
        help="where results go (default: bench/results for a full run at the default "
        "scale, bench/.cache/results-<scale> otherwise)",
    )
    parser.add_argument(
        "--docs",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="rewrite the results section of docs/performance.md (default: only for a full "
        "run at the default scale)",
    )
    args = parser.parse_args(argv)
    unknown = set(args.only or ()) - set(scenario_keys())
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    return args


def say(line: str) -> None:
    print(line, flush=True)  # promptly, also when piped into a log


def run_cli(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    scale = SCALES[args.scale]
    started = time.perf_counter()
    ensure_database()
    dataset = ensure_dataset(
        scale, regenerate=args.regenerate, progress=sys.stderr.isatty(), log=say
    )
    say(
        f"data ready in {dataset.load_seconds:.0f}s (loaded: {', '.join(dataset.generated) or 'none, reused'})"
    )
    ctx = BenchContext(
        log=say,
        dataset=dataset,
        repeat=args.repeat or scale.repeat,
        load_seconds=scale.load_seconds,
        work_dir=REPO / "bench" / ".cache",
    )
    result = run_all(ctx, only=args.only)
    result.seconds = time.perf_counter() - started
    # Only a full run at the default scale is "the" result; others go to the cache.
    complete = scale.name == "default" and not args.only
    default_out = REPO / "bench" / ("results" if complete else f".cache/results-{scale.name}")
    out = args.out or default_out
    written = report.write_run(result, out)
    update_docs = args.docs if args.docs is not None else complete
    if update_docs:
        written.append(report.update_docs(result, REPO / "docs" / "performance.md", out))
    for path in written:
        say(f"wrote {path}")
    say(f"bench finished in {result.seconds / 60:.1f} min")
    return 0 if all(s.status != "failed" for s in result.scenarios) else 1
