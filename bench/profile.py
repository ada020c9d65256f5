"""Where a request's milliseconds go: a sampling profile of the main endpoints.

    .venv/bin/python -m bench.profile                 # every endpoint, 300 requests each
    .venv/bin/python -m bench.profile --requests 100 --only list,business
    .venv/bin/python -m bench.profile --path old      # the previous implementation

Requests run in-process through the real stack (URL routing, middleware, DRF token
authentication, tenant resolution, view, serializer, renderer) against the bench
database, as the main bench tenant's owner, after a warm-up. pyinstrument samples the
stack every ``--interval`` seconds; every sample is billed to the *innermost* frame
that belongs to a known layer (see ``LAYERS``), so time spent executing SQL inside the
paginator is "SQL execution", not "pagination". The data is the default scale's main
tenant (20,000 customers), generated on first use and shared with ``make bench``.

Writes a table of proportions per endpoint to stdout (and ``--out`` as markdown), and
pyinstrument's own call tree per endpoint under ``bench/.cache/profile/``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

# (layer, predicate on (file path, function name)); the first that matches a frame wins,
# and a sample goes to the innermost frame of its stack that any of them matches.
Rule = tuple[str, Callable[[str, str], bool]]


def _in(*fragments: str) -> Callable[[str, str], bool]:
    return lambda path, function: any(f in path for f in fragments)


def _fn(fragment: str, *functions: str) -> Callable[[str, str], bool]:
    return lambda path, function: fragment in path and function in functions


LAYERS: tuple[Rule, ...] = (
    # Waiting on PostgreSQL: the driver call (send, server work, receive, decode).
    ("SQL execution (driver, round trip, server)", _fn("django/db/backends/utils", "_execute")),
    ("SQL execution (driver, round trip, server)", _in("psycopg2", "dj_db_conn_pool", "sqlalchemy")),
    ("connection handling", _in("django/db/backends/")),
    (
        "row conversion (rows to objects)",
        _fn(
            "django/db/models/",
            "results_iter",
            "apply_converters",
            "from_db",
            "from_db_value",
            "__iter__",
            "__init__",
            "get_converters",
        ),
    ),
    ("row conversion (rows to objects)", _in("intelligence/expressions", "json/decoder")),
    ("SQL compile", _in("django/db/models/sql/compiler", "django/db/models/expressions",
                        "django/db/models/lookups", "django/db/models/functions",
                        "django/db/models/sql/where", "django/db/models/aggregates",
                        "django/db/models/fields/", "django/contrib/postgres")),
    ("queryset build", _in("django/db/models/", "intelligence/selectors",
                           "intelligence/ordering", "intelligence/fast", "crm/selectors",
                           "django_filters", "prosaas/filters")),
    ("authentication", _in("rest_framework/authentication", "rest_framework/authtoken",
                           "django/contrib/auth")),
    # The tenant-scoped views' get_object lives in businesses/tenancy.py but is the view's.
    ("DRF view dispatch", _fn("businesses/tenancy", "get_object", "get_allowed_roles")),
    ("tenant resolution", _in("businesses/")),
    ("pagination", _in("rest_framework/pagination", "prosaas/pagination", "crm/pagination")),
    ("rendering", _in("rest_framework/renderers", "json/encoder", "prosaas/renderers",
                      "rest_framework/utils/encoders", "orjson")),
    ("serialisation", _in("rest_framework/serializers", "rest_framework/fields",
                          "rest_framework/relations", "intelligence/serializers",
                          "intelligence/timeline", "crm/serializers", "businesses/serializers",
                          "django/utils/timezone", "rest_framework/utils/serializer_helpers")),
    ("DRF view dispatch", _in("rest_framework/")),
    ("middleware", _in("django/middleware", "django/contrib/sessions", "django/contrib/messages",
                       "prosaas/query_metrics", "prosaas/middleware")),
    ("request/response, URL routing", _in("django/core/handlers", "django/urls", "django/http",
                                            "django/utils")),
    ("test client (not in a real server)", _in("django/test/")),
)  # fmt: skip
OTHER = "other"


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    path: str
    params: dict[str, Any]


def layer_of(path: str, function: str) -> str | None:
    for name, matches in LAYERS:
        if matches(path, function):
            return name
    return None


# Phases of a request: a sample inside one of them is billed to the *outermost* (the
# token lookup's SQL is part of authentication's cost), everything else to "view".
PHASES = ("authentication", "tenant resolution", "pagination", "serialisation", "rendering")
VIEW_PHASE = "view: queryset, SQL, rows"
PLUMBING = ("middleware", "request/response, URL routing", "test client (not in a real server)",
            "DRF view dispatch")  # fmt: skip


def attribute(root: Any) -> dict[str, dict[str, float]]:
    """Seconds per layer, two ways.

    ``kind``: each frame's own time goes to its innermost known layer (what the CPU
    was doing: compiling SQL, waiting on the driver, building objects...).
    ``phase``: the same time goes to the outermost request phase it happened in
    (authentication, tenant resolution, pagination, serialisation, rendering), so a
    phase's own queries count towards it; the rest is the view's or the plumbing's.
    """
    kinds: dict[str, float] = defaultdict(float)
    phases: dict[str, float] = defaultdict(float)

    def walk(frame: Any, inherited: str, phase: str | None) -> None:
        own = layer_of(frame.file_path or "", frame.function or "") or inherited
        if phase is None and own in PHASES:
            phase = own
        children = frame.children
        child_time = sum(child.time for child in children)
        seconds = max(0.0, frame.time - child_time)
        kinds[own] += seconds
        if phase is not None:
            phases[phase] += seconds
        elif own in PLUMBING or own == OTHER:
            phases["middleware, routing, dispatch"] += seconds
        else:
            phases[VIEW_PHASE] += seconds
        for child in children:
            walk(child, own, phase)

    walk(root, OTHER, None)
    return {"kind": dict(kinds), "phase": dict(phases)}


def targets(client: Any, main: Any) -> list[Target]:
    from crm.models import Customer

    customer = Customer.objects.filter(business_id=main.business_id).order_by("-created_at").first()
    assert customer is not None
    return [
        Target("list", "GET /api/intelligence/customers/ (page 1 of 50)", "/api/intelligence/customers/", {}),
        Target("detail", "GET /api/intelligence/customers/{id}/", f"/api/intelligence/customers/{customer.pk}/", {}),
        Target("stats", "GET /api/intelligence/stats/", "/api/intelligence/stats/", {}),
        Target("business", "GET /api/business/", "/api/business/", {}),
        Target("leads", "GET /api/leads/ (CRM list, page of 50)", "/api/leads/", {}),
    ]  # fmt: skip


def profile_target(
    client: Any, target: Target, *, requests: int, interval: float, out: Path
) -> dict[str, Any]:
    import time

    from pyinstrument import Profiler

    for _ in range(5):  # warm caches, the pool and the query plans
        client.get(target.path, target.params)
    profiler = Profiler(interval=interval, async_mode="disabled")
    started = time.perf_counter()
    profiler.start()
    for _ in range(requests):
        client.get(target.path, target.params)
    profiler.stop()
    wall = time.perf_counter() - started
    session = profiler.last_session
    assert session is not None
    root = session.root_frame()
    layers = attribute(root) if root is not None else {}
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{target.key}.txt").write_text(profiler.output_text(unicode=True, color=False))
    return {"target": target, "layers": layers, "wall_ms_per_request": wall * 1000 / requests}


def render_table(results: list[dict[str, Any]]) -> str:
    kinds = list(dict.fromkeys([name for name, _ in LAYERS] + [OTHER]))
    phases = ["middleware, routing, dispatch", *PHASES, VIEW_PHASE]
    return (
        "*By what the CPU was doing (innermost layer)*\n\n"
        + _table(results, "kind", kinds)
        + "\n\n*By request phase (a phase's own SQL included)*\n\n"
        + _table(results, "phase", phases)
    )


def _table(results: list[dict[str, Any]], how: str, ordered: list[str]) -> str:
    lines = [
        "| layer | " + " | ".join(r["target"].key for r in results) + " |",
        "|---|" + "---|" * len(results),
    ]
    for name in ordered:
        cells = []
        for r in results:
            layers = r["layers"][how]
            total = sum(layers.values()) or 1.0
            share = layers.get(name, 0.0) / total
            cells.append(f"{share:.0%}" if share >= 0.005 else "·")
        if any(c != "·" for c in cells):
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append(
        "| **ms per request (profiled)** | "
        + " | ".join(f"{r['wall_ms_per_request']:.2f}" for r in results)
        + " |"
    )
    return "\n".join(lines)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.profile", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--interval", type=float, default=0.001, help="sampling interval (s)")
    parser.add_argument("--only", type=lambda raw: [k.strip() for k in raw.split(",") if k.strip()])
    parser.add_argument(
        "--path",
        choices=["new", "old"],
        default="new",
        help="'old' runs the previous implementation (API_FAST_PATH off), for comparison",
    )
    parser.add_argument("--out", type=Path, help="also write the table here (markdown)")
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.test.utils import override_settings

    from bench.client import TenantClient
    from bench.database import ensure_database
    from bench.datagen import ensure_dataset
    from bench.machine import load_average
    from bench.scales import SCALES, Scale

    default = SCALES["default"]
    # The default scale's main tenant and two small ones (shared with `make bench`),
    # without the 100k-customer tenant that only the scaling scenario needs.
    scale = Scale(name="profile", main=default.main, others=default.others[:2])
    ensure_database()
    dataset = ensure_dataset(scale, progress=sys.stderr.isatty(), log=print)
    client = TenantClient(dataset.main)
    chosen = [t for t in targets(client, dataset.main) if not args.only or t.key in args.only]
    print(f"load average at start: {load_average()}")
    results = []
    with override_settings(API_FAST_PATH=args.path == "new"):
        for target in chosen:
            print(f"profiling {target.label} ({args.requests} requests)", flush=True)
            results.append(
                profile_target(
                    client,
                    target,
                    requests=args.requests,
                    interval=args.interval,
                    out=REPO / "bench" / ".cache" / "profile" / args.path,
                )
            )
    table = render_table(results)
    note = f"\n\nPath: {args.path}. Load average at the end: {load_average()}.\n"
    print(table + note)
    if args.out:
        args.out.write_text(table + note)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
