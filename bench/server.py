"""The real server for load runs: gunicorn (threaded workers) on a loopback port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Any

from django.db import connection

from bench.context import PORT_RANGE

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ServerConfig:
    pooled: bool = True
    pool_size: int = 10
    max_overflow: int = 10
    pool_timeout: float = 5.0
    workers: int = 2
    threads: int = 16
    # Extra environment for the server (the replica scenario points it at other servers).
    env: tuple[tuple[str, str], ...] = ()
    # False: the previous request path (API_FAST_PATH off), for issue 13's comparison.
    fast_path: bool = True

    def describe(self) -> str:
        if not self.fast_path:
            return f"{replace(self, fast_path=True).describe()}, previous request path"
        if not self.pooled:
            return f"{self.workers} workers × {self.threads} threads, new connection per request"
        return (
            f"{self.workers} workers × {self.threads} threads, pool {self.pool_size}"
            f"+{self.max_overflow} per worker, timeout {self.pool_timeout:g}s"
        )


def free_port() -> int:
    for port in PORT_RANGE:
        with socket.socket() as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"No free port in {PORT_RANGE.start}-{PORT_RANGE.stop - 1}.")


class BenchServer:
    """Starts gunicorn serving ``bench.settings`` against the current database; stops it.

    Workers write their business-settings cache statistics on exit (see
    ``bench.gunicorn_conf``); ``worker_stats()`` reads them after the server stopped.
    """

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._stats_dir = tempfile.TemporaryDirectory(prefix="bench-stats-")
        # Owned by the server object for its whole life; closed when it is collected.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "bench.settings",
                "BENCH_DATABASE_NAME": str(connection.settings_dict["NAME"]),
                "BENCH_DB_POOL": "true" if self.config.pooled else "false",
                "DB_POOL_SIZE": str(self.config.pool_size),
                "DB_MAX_OVERFLOW": str(self.config.max_overflow),
                "DB_POOL_TIMEOUT": str(self.config.pool_timeout),
                "BENCH_STATS_DIR": self._stats_dir.name,
                "API_FAST_PATH": "true" if self.config.fast_path else "false",
            }
        )
        env.update(dict(self.config.env))
        # The project's settings need DEBUG (or a SECRET_KEY) to start; bench.settings
        # turns DEBUG off again once they are read.
        env.setdefault("DEBUG", "true")
        return env

    def __enter__(self) -> BenchServer:
        self.port = free_port()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "prosaas.wsgi:application",
            "--config",
            "python:bench.gunicorn_conf",
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(self.config.workers),
            "--threads",
            str(self.config.threads),
        ]
        self.process = subprocess.Popen(
            command,
            cwd=REPO,
            env=self.environment(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_ready()
        return self

    def _wait_until_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://{HOST}:{self.port}/api/"
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited during start-up:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer {url} within {timeout:.0f}s")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # SIGTERM: a graceful stop, so that each worker runs its exit hook.
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def log_tail(self, size: int = 3000) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-size:]

    def worker_stats(self) -> list[dict[str, Any]]:
        return [
            json.loads(path.read_text())
            for path in sorted(Path(self._stats_dir.name).glob("worker-*.json"))
        ]
