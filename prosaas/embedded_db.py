"""The embedded PostgreSQL used when ``DATABASE_URL`` is unset (development and tests only).

It is a real PostgreSQL server from the ``pgserver`` package, kept under ``.data/``
and left running between commands so that ``make run`` and ``make test`` start
in about a second after the first time.
"""

from __future__ import annotations

import warnings
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


def stop_embedded_database(data_dir: Path) -> bool:
    """Stop the embedded server if it runs; return whether there was one."""
    pgdata = data_dir / "postgres"
    if not (pgdata / "postmaster.pid").exists():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        pgserver.get_server(pgdata, cleanup_mode="stop").cleanup()
    return True


if __name__ == "__main__":  # python -m prosaas.embedded_db stop
    import sys

    if sys.argv[1:] != ["stop"]:
        sys.exit("usage: python -m prosaas.embedded_db stop")
    data = Path(__file__).resolve().parent.parent / ".data"
    print(
        "Stopped the embedded PostgreSQL."
        if stop_embedded_database(data)
        else "It was not running."
    )
