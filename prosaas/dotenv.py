"""The development ``.env``: which file settings read, and how ``make run`` creates it.

A checkout is meant to work from the first command: ``make run`` writes a git-ignored
``.env`` (DEBUG on, a generated SECRET_KEY, no DATABASE_URL so the embedded PostgreSQL
is used), and every later ``python manage.py …`` reads it, so the README's commands
work as written without exporting anything.

Production must not pick up a stray development file by accident, so the rule is:

* ``DJANGO_DOTENV=off`` (or ``false``/``no``/``0``): no file is read.
* ``DJANGO_DOTENV=/path/to/file``: that file is read, whatever else is set. This is
  how production "tells" settings to read one; a named file that does not exist
  stops start-up.
* ``DJANGO_DOTENV`` unset: ``<project>/.env`` is read if it exists, *unless* the real
  environment sets ``DEBUG`` to false. Production runs with ``DEBUG=false`` (README),
  so it ignores the file.

Values from the file never override variables set in the real environment.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

VARIABLE = "DJANGO_DOTENV"
_OFF = {"off", "false", "no", "0", "none"}
_FALSE = {"0", "false", "no", "off"}


def dotenv_file(base_dir: Path, environ: dict[str, str] | None = None) -> Path | None:
    """The dotenv file settings should read, or None; see the module docstring."""
    environ = dict(os.environ) if environ is None else environ
    chosen = environ.get(VARIABLE, "").strip()
    if chosen.lower() in _OFF:
        return None
    if chosen:
        path = Path(chosen)
        if not path.is_file():
            raise ImproperlyConfigured(f"{VARIABLE}={chosen!r} names no readable file.")
        return path
    if environ.get("DEBUG", "").strip().lower() in _FALSE:
        return None
    default = base_dir / ".env"
    return default if default.is_file() else None


def development_dotenv() -> str:
    """The text of a new development ``.env``: DEBUG on and a fresh secret key."""
    return (
        "# Development settings, written by `make run` on first use; git-ignored.\n"
        "# Read by prosaas/settings.py unless DEBUG=false is set in the real\n"
        "# environment (production) or DJANGO_DOTENV=off. Real environment\n"
        "# variables win over these. Every variable is described in .env.example.\n"
        "DEBUG=true\n"
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
        "# Unset: the embedded PostgreSQL under .data/. To use another server:\n"
        "# DATABASE_URL=postgres://postgres@127.0.0.1:5432/prosaas\n"
    )


def create(path: Path) -> bool:
    """Write a development ``.env`` at ``path`` unless one exists; return whether written."""
    if path.exists():
        return False
    # Owner-only: it holds the secret key.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(development_dotenv())
    return True


if __name__ == "__main__":  # python -m prosaas.dotenv create [PATH]
    if sys.argv[1:2] != ["create"] or len(sys.argv) > 3:
        sys.exit("usage: python -m prosaas.dotenv create [PATH]")
    target = Path(sys.argv[2]) if len(sys.argv) == 3 else Path(__file__).parent.parent / ".env"
    if create(target):
        print(f"Wrote {target}: development settings (DEBUG on, a new SECRET_KEY).")
