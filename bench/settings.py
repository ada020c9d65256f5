"""Settings for benchmark runs: the project's own settings, pointed at the benchmark database.

The benchmark loads about two million rows, so it never shares a database with
development or tests. It uses its own database on the same server:
``BENCH_DATABASE_NAME``, by default the configured database's name with ``_bench``
appended (kept as it is when it already ends in ``_bench``). ``python -m bench``
creates and migrates it when it is missing.

Everything else is the product's configuration, with two deliberate differences:
``DEBUG`` is off (Django would otherwise record every query, which costs time on
the N+1 baseline above all), and ``ROOT_URLCONF`` adds the bench-only baseline views
next to the product's URLs. ``BENCH_DB_POOL=false`` swaps the pooled backend for
Django's plain PostgreSQL backend (a new connection for every request) — the
"before" side of the pool comparison, used only by the load runs.
"""

from __future__ import annotations

import os

from prosaas.env import read_bool
from prosaas.settings import *  # noqa: F403
from prosaas.settings import DATABASES

BENCH_SUFFIX = "_bench"


def bench_database_name(configured: str) -> str:
    explicit = os.environ.get("BENCH_DATABASE_NAME", "").strip()
    if explicit:
        return explicit
    return configured if configured.endswith(BENCH_SUFFIX) else configured + BENCH_SUFFIX


DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "bench.urls"

DATABASES["default"]["NAME"] = bench_database_name(DATABASES["default"]["NAME"])

BENCH_DB_POOL = read_bool("BENCH_DB_POOL", default=True)
if not BENCH_DB_POOL:
    DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
    DATABASES["default"].pop("POOL_OPTIONS", None)
    # CONN_MAX_AGE stays 0: Django opens a connection per request and closes it after.

# Errors only: the load runs make tens of thousands of requests, and pool-exhaustion
# warnings (expected in the exhaustion run) would flood the output.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "ERROR"},
}
