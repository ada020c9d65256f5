"""Run the project's commands in subprocesses against a database of the test's own.

The README's commands are run "as a user would after ``make run``": with no DEBUG or
SECRET_KEY in the environment, only a development ``.env`` written by the same code
``make run`` uses (prosaas/dotenv.py). That file is a temporary one named by
``DJANGO_DOTENV`` and points ``DATABASE_URL`` at a database the test created, so the
user's own ``.env`` and data are never touched.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import quote

from prosaas.dotenv import development_dotenv

ROOT = Path(__file__).resolve().parent.parent

# What a developer's shell would not have: the project's variables, set by make or CI.
_STRIPPED_PREFIXES = (
    "DEBUG",
    "SECRET_KEY",
    "DATABASE_URL",
    "CACHE_URL",
    "DB_",
    "BUSINESS_SETTINGS",
    "MEMBERSHIP",
    "DJANGO_",
    "METRICS_",
    "PROMETHEUS_",
    "SLOW_QUERY",
)


def database_url(settings_dict: dict[str, Any], name: str) -> str:
    """A postgres:// URL for database ``name`` on the server of ``settings_dict``.

    The embedded server listens on a unix socket: its directory goes in ``?host=``,
    which django-environ passes on to libpq as the socket directory.
    """
    user = quote(settings_dict.get("USER") or "postgres", safe="")
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}" if password else user
    host = settings_dict.get("HOST") or ""
    port = settings_dict.get("PORT") or ""
    if host.startswith("/"):
        return f"postgres://{auth}@/{name}?host={quote(host)}"
    return f"postgres://{auth}@{host or '127.0.0.1'}:{port or 5432}/{name}"


def write_dotenv(directory: Path, url: str) -> Path:
    path = directory / ".env"
    path.write_text(development_dotenv() + f"DATABASE_URL={url}\n")
    return path


def command_env(dotenv: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_STRIPPED_PREFIXES)}
    env["DJANGO_DOTENV"] = str(dotenv)
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
