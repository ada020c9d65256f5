"""Read the read-replica settings from the environment (used by ``prosaas.settings``).

Each URL in ``DATABASE_REPLICA_URLS`` becomes a database alias ``replica1``,
``replica2``, ... configured exactly like ``default`` (same backend, pool and
options), so a replica is pooled and timed out the same way as the primary.
"""

from __future__ import annotations

import copy
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

REPLICA_ALIAS_PREFIX = "replica"

# What a replica copies from the primary's DATABASES entry: how to connect and pool,
# never where to connect.
_SHARED_KEYS = ("ENGINE", "CONN_MAX_AGE", "DISABLE_SERVER_SIDE_CURSORS", "POOL_OPTIONS")


def parse_replica_urls(raw: str, *, variable: str = "DATABASE_REPLICA_URLS") -> list[str]:
    """Split the comma-separated list; an empty item (``a,,b``) is a typo, not a skip."""
    if not raw.strip():
        return []
    urls = [item.strip() for item in raw.split(",")]
    for position, url in enumerate(urls, start=1):
        if not url:
            raise ImproperlyConfigured(
                f"{variable} has an empty entry at position {position}; separate the "
                "replica URLs with single commas."
            )
    return urls


def replica_databases(
    urls: list[str],
    *,
    primary: dict[str, Any],
    connect_timeout: int,
    variable: str = "DATABASE_REPLICA_URLS",
) -> dict[str, dict[str, Any]]:
    """DATABASES entries for the replicas, each pooled like ``primary``.

    A replica must be a PostgreSQL URL; a test run uses the primary for every read
    (``TEST.MIRROR``), so pytest-django creates no test database on a replica.
    """
    databases: dict[str, dict[str, Any]] = {}
    for position, url in enumerate(urls, start=1):
        try:
            config = environ.Env.db_url_config(url)
        except Exception as exc:  # django-environ raises several kinds for a bad URL
            raise ImproperlyConfigured(
                f"{variable} entry {position} is not a database URL: {exc}"
            ) from None
        if config.get("ENGINE") != "django.db.backends.postgresql":
            raise ImproperlyConfigured(
                f"{variable} entry {position} must be a PostgreSQL URL "
                "(postgres://user:password@host:5432/name)."
            )
        if not config.get("NAME"):
            raise ImproperlyConfigured(f"{variable} entry {position} names no database.")
        for key in _SHARED_KEYS:
            if key in primary:
                config[key] = copy.deepcopy(primary[key])
        options = {**copy.deepcopy(primary.get("OPTIONS", {})), **config.get("OPTIONS", {})}
        # A replica that does not answer is skipped, so waiting long for it only delays
        # the request that then goes to the primary anyway.
        options["connect_timeout"] = connect_timeout
        config["OPTIONS"] = options
        config["TEST"] = {"MIRROR": "default"}
        databases[f"{REPLICA_ALIAS_PREFIX}{position}"] = config
    return databases
