"""gunicorn hooks for Prometheus' multiprocess mode (``--config python:prosaas.gunicorn_conf``).

With ``PROMETHEUS_MULTIPROC_DIR`` set, every worker writes its series to files there
and ``/metrics`` adds them up. The directory is emptied when the master starts (old
files would be counted again), and a worker that exits is marked dead so that its
gauges (pool usage, listener state) stop counting while its counters stay.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def on_starting(server: Any) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
