"""The LISTEN/NOTIFY broadcast that keeps local-memory caches of many processes coherent."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from django.db import connection

from businesses import cache_broadcast
from businesses.cache import BusinessData, BusinessSettingsCache
from businesses.cache_broadcast import (
    CHANNEL,
    IDS_PER_NOTIFICATION,
    InvalidationBroadcast,
    Message,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
# Bound for waiting on the listener thread, so that a broken run cannot hang.
WAIT_SECONDS = 20


def business_data(business_id: int) -> BusinessData:
    return BusinessData(
        id=business_id,
        name="B",
        slug=f"b-{business_id}",
        is_active=True,
        created_at=NOW,
        updated_at=NOW,
    )


def wait_for(condition, seconds: float = WAIT_SECONDS) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


@pytest.fixture
def broadcast() -> Iterator[InvalidationBroadcast]:
    broadcast = InvalidationBroadcast()
    yield broadcast
    broadcast.stop()


def test_a_process_that_should_listen_but_cannot_serves_nothing_from_its_cache(
    lru_alias, broadcast: InvalidationBroadcast, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        broadcast,
        "_connection_params",
        lambda: {"host": "127.0.0.1", "port": 1, "dbname": "none", "connect_timeout": 1},
    )
    cache = BusinessSettingsCache(alias=lru_alias(), ttl=600, broadcast=broadcast)
    cache.set(1, business_data(1))
    assert cache.get(1) == (business_data(1), None)  # nobody needs to listen yet

    broadcast.listen_in_this_process()
    assert cache.get(1) is None
    cache.set(2, business_data(2))
    assert cache.get(2) is None
    assert wait_for(lambda: broadcast.status()["connection_failures"] >= 1)
    assert broadcast.status()["listening"] is False


@pytest.mark.django_db
def test_the_listener_empties_the_caches_on_connecting_and_after_losing_its_connection(
    lru_alias, broadcast: InvalidationBroadcast
) -> None:
    cache = BusinessSettingsCache(alias=lru_alias(), ttl=600, broadcast=broadcast)
    broadcast.listen_in_this_process()
    assert broadcast.wait_until_listening(WAIT_SECONDS)
    assert cache.stats()["clears"] == 1
    cache.set(1, business_data(1))
    assert cache.get(1) is not None

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s AND datname = current_database()",
            ["prosaas cache invalidation listener"],
        )
        assert cursor.fetchone() == (1,)

    # Whatever was sent while it was not listening is lost: it starts from empty.
    assert wait_for(lambda: cache.stats()["clears"] == 2 and broadcast.status()["listening"])
    assert broadcast.status()["connection_failures"] == 1
    assert cache.get(1) is None
    cache.set(1, business_data(1))
    assert cache.get(1) is not None


@pytest.mark.django_db
def test_the_reconnect_backoff_starts_over_after_a_successful_connection(
    lru_alias, broadcast: InvalidationBroadcast, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Short delays, the last one long: a listener still backing off from the failures
    # before its last connection would wait it out and fail the test.
    monkeypatch.setattr(cache_broadcast, "RECONNECT_DELAYS", (0.05, 0.1, 0.2, 3600))
    real_params = broadcast._connection_params
    attempts = {"count": 0}

    def params() -> dict[str, object]:
        attempts["count"] += 1
        if attempts["count"] <= 3:  # the database is down for three attempts
            return {"host": "127.0.0.1", "port": 1, "dbname": "none", "connect_timeout": 1}
        return real_params()

    monkeypatch.setattr(broadcast, "_connection_params", params)
    BusinessSettingsCache(alias=lru_alias(), ttl=600, broadcast=broadcast)
    broadcast.listen_in_this_process()
    assert broadcast.wait_until_listening(WAIT_SECONDS)
    assert broadcast.status()["connection_failures"] == 3
    assert broadcast.status()["last_reconnect_delay"] == 0.2

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s AND datname = current_database()",
            ["prosaas cache invalidation listener"],
        )
        assert cursor.fetchone() == (1,)

    assert wait_for(lambda: broadcast.status()["connection_failures"] == 4)
    assert broadcast.status()["last_reconnect_delay"] == 0.05
    assert wait_for(lambda: broadcast.status()["listening"], seconds=5)


def test_a_process_applies_the_others_messages_and_ignores_its_own(
    lru_alias, broadcast: InvalidationBroadcast
) -> None:
    cache = BusinessSettingsCache(alias=lru_alias(), ttl=600, broadcast=broadcast)
    for business_id in (1, 2, 3):
        cache.set(business_id, business_data(business_id))

    own = Message(broadcast.process_token, cache.name, "invalidate", (1,))
    broadcast._deliver(own.to_payload())
    assert cache.get(1) is not None

    other = Message("another-process", cache.name, "invalidate", (1, 2))
    broadcast._deliver(other.to_payload())
    assert [cache.get(i) is not None for i in (1, 2, 3)] == [False, False, True]

    broadcast._deliver("not json")
    broadcast._deliver(Message("another-process", "unknown", "clear").to_payload())
    assert cache.get(3) is not None

    broadcast._deliver(Message("another-process", cache.name, "clear").to_payload())
    assert cache.get(3) is None
    assert broadcast.status()["received"] == 2  # the two for a keyspace it has


@pytest.mark.django_db
def test_many_ids_are_sent_in_notifications_that_fit_postgresqls_limit(
    broadcast: InvalidationBroadcast, django_assert_num_queries
) -> None:
    ids = range(10**12, 10**12 + 2 * IDS_PER_NOTIFICATION + 1)
    # 1-3 one NOTIFY per batch of ids
    with django_assert_num_queries(3) as queries:
        broadcast.send("business-settings", "invalidate", ids)
    assert all(CHANNEL in q["sql"] for q in queries.captured_queries)
    assert max(len(q["sql"].encode()) for q in queries.captured_queries) < 8000


def test_a_forked_worker_still_listens_with_a_listener_and_identity_of_its_own(
    broadcast: InvalidationBroadcast, monkeypatch: pytest.MonkeyPatch
) -> None:
    # gunicorn --preload: the master imports the WSGI module (which asks to listen)
    # and forks the workers; each must start its own listener on its first read.
    from businesses import cache_broadcast

    started: list[InvalidationBroadcast] = []
    monkeypatch.setattr(
        cache_broadcast.InvalidationBroadcast, "_ensure_thread", lambda self: started.append(self)
    )
    broadcast.listen_in_this_process()
    parent_token = broadcast.process_token

    cache_broadcast._after_fork_in_child()

    assert broadcast.status()["wanted"] is True
    assert broadcast.process_token != parent_token
    assert broadcast.caches_trustworthy() is False  # not listening yet
    assert started == [broadcast]
