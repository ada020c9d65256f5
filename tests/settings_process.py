"""Start Django's settings in a fresh process with a chosen environment.

Settings are read once per process, so tests of start-up run a subprocess. The
project's own variables are removed from the inherited environment first, so each
test states exactly what it sets.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PREFIXES = (
    "DB_",
    "DATABASE_URL",
    "DEBUG",
    "CACHE_URL",
    "BUSINESS_SETTINGS",
    "MEMBERSHIP",
    "DATABASE_REPLICA_URLS",
    "REPLICA_",
    # HTTPS, cookies, proxies and throttling (tests/test_security_settings.py).
    "SECURE_",
    "SESSION_COOKIE",
    "CSRF_",
    "PROXY_",
    "NUM_PROXIES",
    "AUTH_TOKEN",
    "ALLOWED_HOSTS",
)
# Enough for settings to load with DEBUG off; a test overrides any of them.
BASE_ENV = {
    "DJANGO_SETTINGS_MODULE": "prosaas.settings",
    # A developer's .env (make run writes one) must not leak into start-up tests.
    "DJANGO_DOTENV": "off",
    "SECRET_KEY": "x" * 50,
    "DATABASE_URL": "postgres://app:secret@db.example.com:6543/prosaas",
}


def run_with_settings(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (which calls django.setup()) in a process with ``env`` on top."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(PROJECT_PREFIXES)}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**inherited, **BASE_ENV, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
