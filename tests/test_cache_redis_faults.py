"""A Redis that freezes or stops costs a request at most one timeout; the database answers.

Each test starts its own redis-server on a free port and freezes it (SIGSTOP, as a
stuck node behaves: connections are accepted, nothing is answered) or stops it. The
tenant caches use it through the project's FailFastRedisCache.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import redis
from django.core.cache import caches
from rest_framework.test import APIClient

from businesses.cache import get_business_settings_cache, get_membership_cache
from businesses.cache_backends import FailFastRedisCache, RedisCircuit

CONNECT_TIMEOUT = 0.1
SOCKET_TIMEOUT = 0.2
# Long enough that the circuit cannot close by itself during a test's few requests.
RETRY_INTERVAL = 3.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def freeze(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None:
            self.thaw()  # a stopped process ignores SIGTERM until continued
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        message = "redis-server is not installed (Debian package redis-server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    server = RedisServer(port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def tenant_caches_in(settings) -> Callable[[RedisServer], RedisCircuit]:  # type: ignore[no-untyped-def]
    """Point both tenant caches at ``server`` as CACHE_URL=redis://... would."""

    def configure(server: RedisServer) -> RedisCircuit:
        backend = {
            "BACKEND": "businesses.cache_backends.FailFastRedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": "faults",
            "OPTIONS": {
                "socket_connect_timeout": CONNECT_TIMEOUT,
                "socket_timeout": SOCKET_TIMEOUT,
                "unavailable_retry_interval": RETRY_INTERVAL,
            },
        }
        settings.CACHES = {**settings.CACHES, "business_settings": backend, "memberships": backend}
        cache = caches["business_settings"]
        assert isinstance(cache, FailFastRedisCache)
        return cache.circuit

    return configure


def errors() -> int:
    return (
        get_business_settings_cache().stats()["errors"] + get_membership_cache().stats()["errors"]
    )


def wait_for_cache_hits(client: APIClient) -> None:
    """Poll until a request is answered from Redis again (the circuit has closed)."""
    for _ in range(100):
        hits = get_business_settings_cache().stats()["hits"]
        assert client.get("/api/business/settings/").status_code == 200
        if get_business_settings_cache().stats()["hits"] > hits:
            return
        time.sleep(0.1)
    raise AssertionError("the caches never used Redis again")


def test_the_redis_client_is_configured_to_fail_fast(own_redis, tenant_caches_in) -> None:  # type: ignore[no-untyped-def]
    tenant_caches_in(own_redis)
    pool = caches["business_settings"]._cache._get_connection_pool(False)
    assert pool.connection_kwargs["socket_connect_timeout"] == CONNECT_TIMEOUT
    assert pool.connection_kwargs["socket_timeout"] == SOCKET_TIMEOUT
    # One attempt per command: a retry would double the wait on a frozen server.
    connection = pool.connection_class(**pool.connection_kwargs)
    assert connection.retry.get_retries() == 0


def test_a_frozen_redis_costs_one_timeout_then_is_skipped_until_it_answers(
    own_redis, tenant_caches_in, api_client_for, owner_a, django_assert_num_queries, caplog
) -> None:  # type: ignore[no-untyped-def]
    circuit = tenant_caches_in(own_redis)
    client = api_client_for(owner_a)
    assert client.get("/api/business/settings/").status_code == 200  # warms Redis
    with django_assert_num_queries(1):  # 1 token+user; tenant from Redis
        assert client.get("/api/business/settings/").status_code == 200

    own_redis.freeze()
    try:
        for _ in range(3):
            # 1 token+user, 2 memberships, 3 business joined with its settings
            with django_assert_num_queries(3):
                response = client.get("/api/business/settings/")
            assert (response.status_code, response.json()["time_zone"]) == (200, "Asia/Jerusalem")
    finally:
        own_redis.thaw()

    # Only the first call waited for the frozen server (one socket timeout); every
    # later one, in that request and the next ones, skipped it at once.
    assert circuit.failures == 1
    assert circuit.skipped >= 5
    assert errors() >= 3
    circuit_lines = [r for r in caplog.records if "the caches skip it" in r.getMessage()]
    assert len(circuit_lines) == 1

    wait_for_cache_hits(client)
    assert not circuit.is_open
    assert any("answers again" in r.getMessage() for r in caplog.records)
    with django_assert_num_queries(1):
        assert client.get("/api/business/settings/").status_code == 200


def test_a_stopped_redis_is_bypassed_and_used_again_once_restarted(
    own_redis, tenant_caches_in, api_client_for, owner_a, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    circuit = tenant_caches_in(own_redis)
    client = api_client_for(owner_a)
    assert client.get("/api/business/settings/").status_code == 200

    own_redis.stop()
    for _ in range(3):
        with django_assert_num_queries(3):
            response = client.get("/api/business/settings/")
        assert (response.status_code, response.json()["time_zone"]) == (200, "Asia/Jerusalem")
    assert circuit.failures == 1
    assert circuit.is_open

    own_redis.start()  # the same port, empty
    wait_for_cache_hits(client)
    with django_assert_num_queries(1):
        assert client.get("/api/business/settings/").status_code == 200
