"""DATABASE_REPLICA_URLS and the REPLICA_* settings, read in a fresh process each."""

from __future__ import annotations

import json

import pytest

from tests.settings_process import run_with_settings

PRINT_DATABASES = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({
    "databases": settings.DATABASES,
    "aliases": settings.DATABASE_REPLICA_ALIASES,
    "routers": settings.DATABASE_ROUTERS,
    "lag": settings.REPLICA_MAX_LAG_SECONDS,
    "window": settings.REPLICA_READ_YOUR_WRITES_SECONDS,
}, default=str))
"""
REDIS = "redis://127.0.0.1:6379/0"
TWO_REPLICAS = "postgres://ro:pw@replica-a:5432/prosaas, postgres://ro@replica-b:6432/prosaas"


def start(**env: str):  # type: ignore[no-untyped-def]
    return run_with_settings(PRINT_DATABASES, **env)


def test_each_replica_url_becomes_an_alias_pooled_like_the_primary() -> None:
    result = start(DATABASE_REPLICA_URLS=TWO_REPLICAS, CACHE_URL=REDIS, DB_POOL_SIZE="4")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["aliases"] == ["replica1", "replica2"]
    assert out["routers"] == ["prosaas.db_router.ReplicaRouter"]
    primary, first, second = (out["databases"][a] for a in ("default", *out["aliases"]))
    assert (first["HOST"], first["PORT"], first["USER"]) == ("replica-a", 5432, "ro")
    assert (second["HOST"], second["PORT"]) == ("replica-b", 6432)
    for replica in (first, second):
        for key in ("ENGINE", "CONN_MAX_AGE", "DISABLE_SERVER_SIDE_CURSORS", "POOL_OPTIONS"):
            assert replica[key] == primary[key], key
        assert replica["POOL_OPTIONS"]["POOL_SIZE"] == 4
        assert replica["OPTIONS"]["connect_timeout"] == 2
        # A test run reads everything from the primary's test database.
        assert replica["TEST"]["MIRROR"] == "default"


def test_no_replicas_by_default() -> None:
    result = start()
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["aliases"] == []
    assert list(out["databases"]) == ["default"]
    assert (out["lag"], out["window"]) == (5.0, 10.0)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_REPLICA_URLS": "mysql://u@h/db"}, "DATABASE_REPLICA_URLS entry 1 must be"),
        (
            {"DATABASE_REPLICA_URLS": "postgres://u@a/db,,postgres://u@b/db"},
            "DATABASE_REPLICA_URLS has an empty entry at position 2",
        ),
        ({"DATABASE_REPLICA_URLS": "postgres://u@a/"}, "DATABASE_REPLICA_URLS entry 1 names no"),
        ({"REPLICA_MAX_LAG_SECONDS": "soon"}, "REPLICA_MAX_LAG_SECONDS='soon' is not a number"),
        ({"REPLICA_MAX_LAG_SECONDS": "0"}, "REPLICA_MAX_LAG_SECONDS='0' is below the minimum"),
        ({"REPLICA_LAG_CHECK_SECONDS": "-1"}, "REPLICA_LAG_CHECK_SECONDS='-1' is below"),
        (
            {"REPLICA_MAX_LAG_SECONDS": "20", "REPLICA_READ_YOUR_WRITES_SECONDS": "5"},
            "is shorter than REPLICA_MAX_LAG_SECONDS",
        ),
        # Read-your-writes across processes needs the cache they share.
        ({"DATABASE_REPLICA_URLS": "postgres://u@a/db"}, "needs a shared cache"),
    ],
)
def test_a_bad_replica_setting_stops_start_up_naming_it(env: dict[str, str], message: str) -> None:
    result = start(**env)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr


def test_read_your_writes_can_be_switched_off_without_a_shared_cache() -> None:
    result = start(DATABASE_REPLICA_URLS="postgres://u@a/db", REPLICA_READ_YOUR_WRITES_SECONDS="0")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["aliases"] == ["replica1"]
