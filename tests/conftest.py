"""Shared fixtures: two tenants, a member of each role in tenant A, an outsider in B;
empty tenant caches for every test, and cache aliases for the cache tests."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
from django.contrib.auth.models import AbstractUser
from django.core.cache.backends import base as cache_base
from django.core.cache.backends import locmem
from django.db import connection
from rest_framework.test import APIClient

from businesses import cache_backends
from businesses.cache import get_business_settings_cache, get_membership_cache
from businesses.models import Business, Membership
from tests import factories


@pytest.fixture(scope="session")
def django_db_modify_db_settings() -> None:
    # A pool built before the test database exists would keep handing out
    # connections to the real database; drop any so they are rebuilt afterwards.
    from dj_db_conn_pool.core import pool_container

    pool_container.dispose()
    pool_container.clear()


@pytest.fixture(scope="session", autouse=True)
def guard_against_the_real_database(django_db_setup: None, django_db_blocker) -> None:  # type: ignore[no-untyped-def]
    if not connection.settings_dict["NAME"].startswith("test_"):
        # No test of this run uses the database: pytest-django created none, and it
        # blocks every access, so there is nothing to guard.
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        (name,) = cursor.fetchone()
    if not name.startswith("test_"):
        pytest.exit(
            f"Refusing to run: the tests are connected to {name!r}, not a test database.", 3
        )


@pytest.fixture(autouse=True)
def empty_tenant_caches() -> Iterator[None]:
    """Every test starts as a new process would: empty caches, fresh statistics.

    Only this process's view is emptied (no NOTIFY), so it needs no database.
    """
    for cache in (get_business_settings_cache(), get_membership_cache()):
        cache.clear_here()
        cache.reset_stats()
    yield


@pytest.fixture(autouse=True)
def forget_throttle_history() -> None:
    """Every test starts with no request counted against a throttle (the token
    endpoint's limits live in the default cache). Only a local-memory default is
    cleared: never flush a Redis a developer pointed CACHE_URL at."""
    from django.core.cache import caches

    default = caches["default"]
    if isinstance(default, locmem.LocMemCache):
        default.clear()


@pytest.fixture
def fresh_outage_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new process's outage log: nothing counted, the next failure logged at once."""
    from prosaas import outages

    monkeypatch.setattr(outages, "_outage_log", None)


@pytest.fixture
def business_a(db: None) -> Business:
    return factories.make_business("Business A", time_zone="Asia/Jerusalem", default_country="IL")


@pytest.fixture
def business_b(db: None) -> Business:
    return factories.make_business("Business B", time_zone="Europe/London", default_country="GB")


@pytest.fixture
def owner_a(business_a: Business) -> AbstractUser:
    return factories.make_member(business_a, Membership.Role.OWNER, "owner_a")


@pytest.fixture
def admin_a(business_a: Business) -> AbstractUser:
    return factories.make_member(business_a, Membership.Role.ADMIN, "admin_a")


@pytest.fixture
def manager_a(business_a: Business) -> AbstractUser:
    return factories.make_member(business_a, Membership.Role.MANAGER, "manager_a")


@pytest.fixture
def agent_a(business_a: Business) -> AbstractUser:
    return factories.make_member(business_a, Membership.Role.AGENT, "agent_a")


@pytest.fixture
def outsider_b(business_b: Business) -> AbstractUser:
    return factories.make_member(business_b, Membership.Role.OWNER, "outsider_b")


@pytest.fixture
def api_client_for(db: None) -> Callable[..., APIClient]:
    """An API client authenticated by token as ``user`` (optionally picking a business)."""

    def make(user: AbstractUser, business: Business | None = None) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {factories.token_for(user)}")
        if business is not None:
            client.credentials(
                HTTP_AUTHORIZATION=f"Token {factories.token_for(user)}",
                HTTP_X_BUSINESS_ID=str(business.pk),
            )
        return client

    return make


# --- Cache aliases for the cache tests -----------------------------------------------

# The Redis on this machine; the tests use their own database number and key prefix.
TEST_REDIS_URL = "redis://127.0.0.1:6379/5"


@pytest.fixture
def lru_alias(settings) -> Callable[..., str]:  # type: ignore[no-untyped-def]
    """Adds a fresh LRULocMemCache alias (its own LOCATION) with ``max_entries``."""

    def make(max_entries: int = 1000) -> str:
        name = f"test-lru-{uuid.uuid4().hex[:8]}"
        settings.CACHES = {
            **settings.CACHES,
            name: {
                "BACKEND": "businesses.cache_backends.LRULocMemCache",
                "LOCATION": name,
                "OPTIONS": {"MAX_ENTRIES": max_entries},
            },
        }
        return name

    return make


@pytest.fixture
def redis_alias(settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A Django RedisCache alias on the real Redis, under a key prefix of its own."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {
        **settings.CACHES,
        "test-redis": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": TEST_REDIS_URL,
            "KEY_PREFIX": prefix,
        },
    }
    yield "test-redis"
    client = redis.Redis.from_url(TEST_REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)


class FrozenClock:
    """Stands in for the ``time`` module of the cache backends: time moves on demand."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    clock = FrozenClock()
    for module in (cache_base, locmem, cache_backends):
        monkeypatch.setattr(module, "time", clock)
    return clock
