"""gunicorn hooks for the bench's load runs (loaded with ``--config python:bench.gunicorn_conf``).

Each worker has its own tenant caches (local memory by default), so the load run's
hit rate is the sum over workers. On a graceful stop every worker writes its cache
report (both caches' statistics) to BENCH_STATS_DIR, where the bench reads them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

worker_class = "gthread"
keepalive = 5
timeout = 60
graceful_timeout = 20
loglevel = "warning"


def worker_exit(server: Any, worker: Any) -> None:
    stats_dir = os.environ.get("BENCH_STATS_DIR")
    if not stats_dir:
        return
    try:
        from businesses.cache import cache_report
    except ImportError:  # a checkout without the tenant caches
        return
    path = Path(stats_dir) / f"worker-{os.getpid()}.json"
    path.write_text(json.dumps(cache_report(), default=str))


# Prometheus multiprocess mode (issue 14): the same hooks as production's config.
from prosaas.gunicorn_conf import child_exit, on_starting  # noqa: E402, F401
