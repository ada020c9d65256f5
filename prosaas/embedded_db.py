"""The embedded PostgreSQL used when ``DATABASE_URL`` is unset (development and tests only).

It is a real PostgreSQL server from the ``pgserver`` package, kept under ``.data/``
and left running between commands so that ``make run`` and ``make test`` start
in about a second after the first time.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

DATABASE_NAME = "prosaas"


def embedded_database_settings(data_dir: Path) -> dict[str, Any]:
    """Start (or reuse) the embedded server and return a Django DATABASES entry for it."""
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset; pgserver copes without it.
            warnings.simplefilter("ignore")
            import pgserver
    except ImportError as exc:
        raise ImproperlyConfigured(
            "DATABASE_URL is not set and the embedded PostgreSQL (the 'pgserver' package "
            "from requirements-dev.txt) is not installed. Run 'make run' or 'make test', "
            "which install it, or set DATABASE_URL=postgres://user:pass@host:5432/dbname."
        ) from exc

    pgdata = data_dir / "postgres"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    try:
        # cleanup_mode=None keeps the server running after this process exits, so the
        # next command reuses it instead of paying for a start-up.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = pgserver.get_server(pgdata, cleanup_mode=None)
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
        if "(1 row)" not in exists:
            server.psql(f"CREATE DATABASE {DATABASE_NAME};")
        info = server.get_postmaster_info()
    except Exception as exc:  # pgserver raises plain exceptions from initdb/pg_ctl
        log_file = pgdata / "log"
        raise ImproperlyConfigured(
            f"The embedded PostgreSQL under {pgdata} could not start: {exc}. "
            f"Look at {log_file} if it exists; delete {data_dir} to start from scratch, "
            "or set DATABASE_URL to use another PostgreSQL."
        ) from exc

    return {
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(info.socket_dir) if info.socket_dir else "127.0.0.1",
        "PORT": "" if info.socket_dir else str(info.port),
    }


@dataclass(frozen=True)
class StopOutcome:
    """What ``stop_embedded_database`` did, in words, and whether it worked."""

    ok: bool
    message: str


def _pg_ctl(pgdata: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run pgserver's own ``pg_ctl`` on ``pgdata``, as the user that owns the server.

    PostgreSQL refuses to run as root; pgserver then runs the server as its
    ``pgserver`` system user, so pg_ctl must run as that user too.
    """
    from pgserver._commands import POSTGRES_BIN_PATH

    binary = Path(POSTGRES_BIN_PATH) / "pg_ctl"
    user = "pgserver" if os.geteuid() == 0 else None
    return subprocess.run(
        [str(binary), "-D", str(pgdata), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        user=user,
        stdin=subprocess.DEVNULL,
    )


def stop_embedded_database(data_dir: Path) -> StopOutcome:
    """Stop the embedded server, whatever started or ended the processes that used it.

    pgserver's own list of the processes holding the server (``.handle_pids.json``)
    keeps the ids of processes that died without cleaning up, so it cannot say whether
    the server runs. ``pg_ctl status`` asks the data directory's postmaster itself, and
    ``pg_ctl stop -m fast`` ends it even while ``make run`` is serving (its open
    connections are closed).
    """
    pgdata = data_dir / "postgres"
    if not (pgdata / "PG_VERSION").is_file():
        return StopOutcome(True, f"No embedded PostgreSQL under {pgdata}: nothing to stop.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            status = _pg_ctl(pgdata, "status", timeout=30)
        except (OSError, ImportError, subprocess.SubprocessError) as exc:
            return StopOutcome(False, f"Could not ask the embedded PostgreSQL its status: {exc}")
    # pg_ctl status: 0 running, 3 not running, 4 no accessible data directory.
    if status.returncode == 3:
        _forget_handles(pgdata)
        return StopOutcome(True, f"The embedded PostgreSQL under {pgdata} was not running.")
    if status.returncode != 0:
        said = (status.stderr or status.stdout).strip()
        return StopOutcome(False, f"Could not tell whether it runs: pg_ctl status said: {said}")
    pid = _postmaster_pid(status.stdout)
    try:
        result = _pg_ctl(pgdata, "stop", "-m", "fast", "-w", "-t", "30")
    except (OSError, subprocess.SubprocessError) as exc:
        return StopOutcome(False, f"Could not stop the embedded PostgreSQL under {pgdata}: {exc}")
    if result.returncode != 0:
        said = (result.stderr or result.stdout).strip()
        return StopOutcome(
            False, f"Could not stop the embedded PostgreSQL under {pgdata}: pg_ctl said: {said}"
        )
    _forget_handles(pgdata)
    return StopOutcome(True, f"Stopped the embedded PostgreSQL under {pgdata}{pid}.")


def _postmaster_pid(status_output: str) -> str:
    match = re.search(r"PID: (\d+)", status_output)
    return f" (process {match.group(1)})" if match else ""


def _forget_handles(pgdata: Path) -> None:
    # The server is down: every process on pgserver's list is stale.
    (pgdata / ".handle_pids.json").unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    """``python -m prosaas.embedded_db stop [--data-dir DIR]``; exit 1 if it could not stop."""
    parser = argparse.ArgumentParser(prog="python -m prosaas.embedded_db")
    parser.add_argument("action", choices=["stop"])
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(__file__).resolve().parent.parent / ".data",
        help="The directory holding postgres/ (default: the checkout's .data).",
    )
    options = parser.parse_args(argv)
    outcome = stop_embedded_database(options.data_dir)
    print(outcome.message, file=sys.stdout if outcome.ok else sys.stderr)
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
