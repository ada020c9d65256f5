"""Writes that no signal sees still reach every process's cache within a second.

The database triggers announce every change of a business, its settings or a
membership (pg_notify for process-local caches) and record it in the outbox, which
the serving processes drain into Redis; readers do not trust Redis while it is not
drained. Each reader here is a real separate process (tests/cache_worker.py); the
writer is this test process writing raw SQL, or a worker killed right after its commit.

The 1.5 s deadlines below are the correctness bound of the issue (every process within
1 s, with some slack for a loaded machine), not a measurement.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from django.db import connection

from businesses.models import Membership
from tests import factories
from tests.test_cache_processes import Worker

pytestmark = pytest.mark.django_db(transaction=True)

DEADLINE = 1.5
RESUME_DEADLINE = 10.0


@pytest.fixture(scope="module")
def environments(own_redis: tuple[subprocess.Popen[bytes], str]) -> dict[str, dict[str, str]]:
    """The environments of a worker: process-local caches, or the module's own Redis.

    Every Redis-mode process of one database must share one Redis: the outbox is
    drained once, into the Redis of whichever process drains it. So the module's
    workers use the Redis the module started (with short client timeouts: a frozen
    Redis costs a request at most that long), and no other test's Redis-mode worker
    runs meanwhile.
    """
    _, url = own_redis
    redis_environment = {
        "CACHE_URL": url,
        "CACHE_SOCKET_TIMEOUT": "0.2",
        "CACHE_CONNECT_TIMEOUT": "0.2",
    }
    return {"local": {}, "redis": redis_environment}


@pytest.fixture(scope="module")
def reader_of(
    django_db_setup: None, environments: dict[str, dict[str, str]]
) -> Iterator[Callable[[str], Worker]]:
    """One reader per cache mode for the whole module (starting one takes seconds)."""
    started: dict[str, Worker] = {}

    def reader(mode: str) -> Worker:
        if mode not in started:
            started[mode] = Worker(**environments[mode])
        return started[mode]

    yield reader
    for worker in started.values():
        worker.stop()


@pytest.fixture(params=["local", "redis"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def extra_workers() -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(**environment: str) -> Worker:
        started.append(Worker(**environment))
        return started[-1]

    yield start
    for worker in started:
        worker.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def own_redis() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A Redis of this module alone, on a spare port, so that it can be frozen."""
    if shutil.which("redis-server") is None:
        reason = "redis-server is not installed (apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.02)
    yield process, f"redis://127.0.0.1:{port}/0"
    process.send_signal(signal.SIGCONT)
    process.kill()
    process.wait()


def raw_sql(sql: str, params: list[Any]) -> None:
    """Autocommit (transactional test): committed when it returns, and no signal sent."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def poll(ask: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], bool]) -> bool:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if done(ask()):
            return True
        time.sleep(0.02)
    return False


def cached(worker: Worker, command: str) -> dict[str, Any]:
    """Read until the worker's cache serves it: creating the rows wrote the outbox,
    and a Redis reader trusts the cache only once a drain has emptied it."""
    answers: list[dict[str, Any]] = []
    assert poll(lambda: answers.append(worker.ask(command)) or answers[-1], lambda a: a["hit"])
    return answers[-1]


def test_a_raw_sql_update_of_settings_reaches_another_process_within_a_second(
    reader_of, mode
) -> None:
    business = factories.make_business()
    worker = reader_of(mode)
    assert cached(worker, f"read {business.pk}") == {"language": "en", "hit": True}

    raw_sql("UPDATE business_settings SET language = 'he' WHERE tenant_id = %s", [business.pk])

    assert poll(lambda: worker.read(business), lambda answer: answer["language"] == "he")
    # And the cache serves it again, fresh.
    assert cached(worker, f"read {business.pk}") == {"language": "he", "hit": True}


def test_a_membership_deleted_by_raw_sql_is_refused_within_a_second(reader_of, mode) -> None:
    business = factories.make_business()
    user = factories.make_member(business, Membership.Role.AGENT)
    worker = reader_of(mode)
    assert cached(worker, f"memberships {user.pk}") == {"businesses": [business.pk], "hit": True}

    raw_sql("DELETE FROM membership WHERE user_id = %s", [user.pk])

    assert poll(
        lambda: worker.ask(f"memberships {user.pk}"), lambda answer: answer["businesses"] == []
    )
    assert cached(worker, f"memberships {user.pk}") == {"businesses": [], "hit": True}


def test_the_outbox_is_drained_into_redis(reader_of, own_redis) -> None:
    business = factories.make_business()
    worker = reader_of("redis")
    cached(worker, f"read {business.pk}")
    entry = f":1:business-settings:v1:{business.pk}"
    client = redis.Redis.from_url(own_redis[1])
    assert client.exists(entry) == 1

    raw_sql("UPDATE business SET name = 'renamed' WHERE id = %s", [business.pk])

    def outbox_rows() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM cache_outbox")
            return cursor.fetchone()[0]

    deadline = time.monotonic() + DEADLINE
    while outbox_rows() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert outbox_rows() == 0
    assert client.exists(entry) == 0


def test_a_membership_deleted_while_redis_is_frozen_stays_refused_once_it_is_back(
    reader_of, own_redis
) -> None:
    redis_process, _ = own_redis
    business = factories.make_business()
    user = factories.make_member(business, Membership.Role.AGENT)
    worker = reader_of("redis")
    assert cached(worker, f"memberships {user.pk}") == {"businesses": [business.pk], "hit": True}

    redis_process.send_signal(signal.SIGSTOP)
    try:
        raw_sql("DELETE FROM membership WHERE user_id = %s", [user.pk])
        # Meanwhile the database answers.
        assert worker.ask(f"memberships {user.pk}")["businesses"] == []
    finally:
        redis_process.send_signal(signal.SIGCONT)

    # From Redis's recovery on: never the revoked membership, and the cache is trusted
    # again (a hit) once the outbox has reached Redis. The revocation itself was in
    # force from its commit; how soon the cache resumes also depends on how long the
    # Redis client waits before calling a Redis that failed again, hence the larger
    # bound here.
    answers: list[dict[str, Any]] = []
    deadline = time.monotonic() + RESUME_DEADLINE
    while time.monotonic() < deadline and not (answers and answers[-1]["hit"]):
        answers.append(worker.ask(f"memberships {user.pk}"))
        time.sleep(0.02)
    assert all(answer["businesses"] == [] for answer in answers), answers
    assert answers[-1] == {"businesses": [], "hit": True}, answers


def test_a_change_is_seen_even_if_the_writer_dies_right_after_its_commit(
    reader_of, extra_workers, environments, mode
) -> None:
    business = factories.make_business()
    reader = reader_of(mode)
    assert cached(reader, f"read {business.pk}") == {"language": "en", "hit": True}
    writer = extra_workers(**environments[mode])

    assert writer.process.stdin is not None
    writer.process.stdin.write(f"save-and-die {business.pk} he\n")
    writer.process.stdin.flush()
    assert writer.process.wait(timeout=60) == -signal.SIGKILL

    # It died after its commit, not before.
    with connection.cursor() as cursor:
        cursor.execute("SELECT language FROM business_settings WHERE tenant_id = %s", [business.pk])
        assert cursor.fetchone() == ("he",)
    assert poll(lambda: reader.read(business), lambda answer: answer["language"] == "he")
    assert cached(reader, f"read {business.pk}") == {"language": "he", "hit": True}
