"""The outbox drainer of one process: it drains committed rows into Redis, and Redis is
trusted only while the outbox is drained and Redis answers (in-process; the tests with
real separate processes are in tests/test_cache_outbox.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import redis
from django.db import connection

from businesses.cache import BusinessData, BusinessSettingsCache
from businesses.cache_outbox import LOCAL_RETENTION_SECONDS, OutboxDrainer

pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
WAIT_SECONDS = 10  # only reached when a test is broken


def business_data(business_id: int) -> BusinessData:
    return BusinessData(
        id=business_id, name="B", slug=f"b-{business_id}", is_active=True,
        created_at=NOW, updated_at=NOW,
    )  # fmt: skip


def wait_for(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def outbox_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cache_outbox")
        return cursor.fetchone()[0]


def add_outbox_row(keyspace: str, key: int, *, age_seconds: float = 0) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO cache_outbox (keyspace, key, created_at) "
            "VALUES (%s, %s, now() - make_interval(secs => %s))",
            [keyspace, key, age_seconds],
        )


@pytest.fixture
def drainer() -> Iterator[OutboxDrainer]:
    drainer = OutboxDrainer()
    yield drainer
    drainer.stop()


def test_rows_are_drained_into_redis_and_a_failing_redis_is_not_trusted(
    redis_alias, drainer: OutboxDrainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = BusinessSettingsCache(alias=redis_alias, ttl=600, outbox=drainer)
    drainer.drain_in_this_process()
    assert drainer.wait_until_trusted(WAIT_SECONDS)
    cache.set(1, business_data(1))
    assert cache.get(1) == (business_data(1), None)

    add_outbox_row("business-settings", 1)  # as a trigger does, committed
    assert wait_for(lambda: outbox_rows() == 0)
    assert cache.get(1) is None  # invalidated in Redis by the drain
    cache.set(1, business_data(1))
    assert cache.get(1) is not None

    def unreachable(ids: object) -> None:
        raise redis.ConnectionError("Redis is down")

    monkeypatch.setattr(cache, "drain", unreachable)
    add_outbox_row("business-settings", 2)
    assert wait_for(lambda: not drainer.status()["trusted"])
    assert cache.get(1) is None  # Redis is bypassed, though it holds the entry
    assert outbox_rows() == 1  # the row stays until Redis has it

    monkeypatch.undo()
    assert wait_for(lambda: outbox_rows() == 0 and drainer.status()["trusted"])
    assert cache.get(1) == (business_data(1), None)


def test_a_redis_error_seen_by_a_reader_stops_the_trust_until_the_next_drain(
    redis_alias, drainer: OutboxDrainer
) -> None:
    cache = BusinessSettingsCache(alias=redis_alias, ttl=600, outbox=drainer)
    drainer.drain_in_this_process()
    assert drainer.wait_until_trusted(WAIT_SECONDS)
    drainer.shared_cache_failed()  # what a reader's RedisError reports
    assert drainer.status()["trusted"] is False
    assert cache.get(1) is None
    assert wait_for(lambda: drainer.status()["trusted"])


def test_with_local_caches_old_rows_are_purged_and_recent_ones_kept(
    lru_alias, drainer: OutboxDrainer
) -> None:
    BusinessSettingsCache(alias=lru_alias(), ttl=600, outbox=drainer)
    add_outbox_row("business-settings", 1, age_seconds=LOCAL_RETENTION_SECONDS + 5)
    add_outbox_row("business-settings", 2)
    drainer.drain_in_this_process()
    drainer.ensure_running()
    assert wait_for(lambda: outbox_rows() == 1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM cache_outbox")
        assert cursor.fetchall() == [(2,)]
