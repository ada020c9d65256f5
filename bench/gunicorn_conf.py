"""gunicorn hooks for the bench's load runs (loaded with ``--config python:bench.gunicorn_conf``).

Each worker has its own business-settings cache (LocMem by default), so the load
run's hit rate is the sum over workers. On a graceful stop every worker writes its
statistics to BENCH_STATS_DIR, where the bench reads them.
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
        from businesses.cache import get_business_settings_cache
    except ImportError:  # the cache has not landed in this checkout
        return
    stats = get_business_settings_cache().stats()
    path = Path(stats_dir) / f"worker-{os.getpid()}.json"
    path.write_text(json.dumps(stats, default=str))
