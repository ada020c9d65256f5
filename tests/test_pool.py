"""An exhausted connection pool answers 503 within the timeout, then recovers."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from dj_db_conn_pool.core import pool_container
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)

POOL_TIMEOUT = 0.5


def _drop_pool() -> None:
    connection.close()
    if pool_container.has(connection.alias):
        pool_container.pop(connection.alias).dispose()


@pytest.fixture
def tiny_pool(settings):  # type: ignore[no-untyped-def]
    """Rebuild the default pool with a single connection and a short timeout."""
    original = dict(connection.settings_dict["POOL_OPTIONS"])
    settings.DB_POOL_TIMEOUT = POOL_TIMEOUT
    _drop_pool()
    connection.settings_dict["POOL_OPTIONS"] = {
        **original,
        "POOL_SIZE": 1,
        "MAX_OVERFLOW": 0,
        "TIMEOUT": POOL_TIMEOUT,
    }
    yield
    _drop_pool()
    connection.settings_dict["POOL_OPTIONS"] = original


class ConnectionHolder(threading.Thread):
    """Checks a connection out of the pool and keeps it until released."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.holding = threading.Event()
        self.release = threading.Event()

    def run(self) -> None:
        connection.ensure_connection()
        self.holding.set()
        self.release.wait(timeout=30)
        connection.close()  # back to the pool


def test_exhausted_pool_gives_503_then_the_next_request_succeeds(
    tiny_pool, fresh_outage_log, api_client_for, owner_a, caplog
) -> None:
    client = api_client_for(owner_a)
    connection.close()  # the fixtures' connection goes back to the pool
    holder = ConnectionHolder()
    holder.start()
    assert holder.holding.wait(timeout=10)

    with caplog.at_level(logging.WARNING, logger="prosaas.outages"):
        started = time.monotonic()
        response = client.get("/api/business/")
        waited = time.monotonic() - started

    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json()["code"] == "database_pool_exhausted"
    assert POOL_TIMEOUT <= waited < POOL_TIMEOUT + 5
    [record] = [r for r in caplog.records if r.name == "prosaas.outages"]
    assert "database_pool_exhausted: 1 request answered 503" in record.getMessage()
    assert "Pool size: 1" in record.getMessage()
    assert "Current Checked out connections: 1" in record.getMessage()

    holder.release.set()
    holder.join(timeout=10)
    response = client.get("/api/business/")
    assert response.status_code == 200
