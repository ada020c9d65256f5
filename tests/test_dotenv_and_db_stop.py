"""The development .env rules, and `make db-stop` on an embedded server of the test's own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from prosaas import dotenv

ROOT = Path(__file__).resolve().parent.parent


def test_dotenv_is_read_in_development_and_ignored_when_debug_is_false(tmp_path: Path) -> None:
    assert dotenv.dotenv_file(tmp_path, {}) is None  # no file, nothing to read
    assert dotenv.create(tmp_path / ".env")
    assert not dotenv.create(tmp_path / ".env")  # never overwritten
    assert dotenv.dotenv_file(tmp_path, {}) == tmp_path / ".env"
    assert dotenv.dotenv_file(tmp_path, {"DEBUG": "true"}) == tmp_path / ".env"
    # Production sets DEBUG=false: a stray development file is ignored...
    assert dotenv.dotenv_file(tmp_path, {"DEBUG": "false"}) is None
    # ...unless it is named on purpose.
    named = {"DEBUG": "false", "DJANGO_DOTENV": str(tmp_path / ".env")}
    assert dotenv.dotenv_file(tmp_path, named) == tmp_path / ".env"
    assert dotenv.dotenv_file(tmp_path, {"DJANGO_DOTENV": "off"}) is None
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DOTENV"):
        dotenv.dotenv_file(tmp_path, {"DJANGO_DOTENV": str(tmp_path / "missing")})
    text = (tmp_path / ".env").read_text()
    assert "DEBUG=true" in text and "\nDATABASE_URL" not in text
    assert oct((tmp_path / ".env").stat().st_mode & 0o777) == "0o600"


def test_a_generated_dotenv_is_enough_for_manage_py(tmp_path: Path) -> None:
    dotenv.create(tmp_path / ".env")
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG, len(settings.SECRET_KEY))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **env,
            "DJANGO_SETTINGS_MODULE": "prosaas.settings",
            "DJANGO_DOTENV": str(tmp_path / ".env"),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "67"]  # token_urlsafe(50) is 67 characters


def _db_stop(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prosaas.embedded_db", "stop", "--data-dir", str(data_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_db_stop_stops_a_server_whose_starter_died_and_says_so(tmp_path: Path) -> None:
    pytest.importorskip("pgserver", reason="the embedded PostgreSQL (pgserver) is not installed")
    # A process starts the server and dies without cleaning up (as a killed `make run`
    # does): pgserver's handle list keeps its dead pid.
    start = (
        "import os, warnings, pgserver\n"
        "warnings.simplefilter('ignore')\n"
        f"pgserver.get_server({str(tmp_path / 'postgres')!r}, cleanup_mode=None)\n"
        "os._exit(0)\n"
    )
    started = subprocess.run(
        [sys.executable, "-c", start], capture_output=True, text=True, timeout=120
    )
    assert started.returncode == 0, started.stderr
    assert (tmp_path / "postgres" / ".handle_pids.json").exists()
    assert (tmp_path / "postgres" / "postmaster.pid").exists()

    stopped = _db_stop(tmp_path)
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.startswith("Stopped the embedded PostgreSQL"), stopped.stdout
    assert not (tmp_path / "postgres" / "postmaster.pid").exists()

    again = _db_stop(tmp_path)
    assert again.returncode == 0
    assert "was not running" in again.stdout

    assert "nothing to stop" in _db_stop(tmp_path / "elsewhere").stdout
