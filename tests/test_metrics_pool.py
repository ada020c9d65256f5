"""Pool waits, timeouts and the 503s they cause are counted (a real exhausted pool)."""

from __future__ import annotations

import pytest
from django.db import connection

from prosaas import metrics
from tests.test_pool import ConnectionHolder, tiny_pool  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.usefixtures("tiny_pool")
def test_an_exhausted_pool_counts_a_wait_a_timeout_and_a_503(api_client_for, owner_a) -> None:  # type: ignore[no-untyped-def]
    client = api_client_for(owner_a)
    assert client.get("/api/business/").status_code == 200  # the pool is instrumented
    assert metrics.POOL_SIZE._value.get() == 1
    waits = metrics.POOL_WAITS._value.get()
    timeouts = metrics.POOL_TIMEOUTS._value.get()
    exhausted = metrics.RESPONSES_503.labels(cause="database_pool_exhausted")._value.get()

    connection.close()  # the fixtures' connection goes back to the pool
    holder = ConnectionHolder()
    holder.start()
    assert holder.holding.wait(timeout=10)
    try:
        assert client.get("/api/business/").status_code == 503
        assert metrics.POOL_CHECKED_OUT._value.get() == 1  # the holder's
    finally:
        holder.release.set()
        holder.join(timeout=10)

    assert metrics.POOL_WAITS._value.get() == waits + 1
    assert metrics.POOL_TIMEOUTS._value.get() == timeouts + 1
    assert (
        metrics.RESPONSES_503.labels(cause="database_pool_exhausted")._value.get() == exhausted + 1
    )
