"""The business settings cache on a shared backend: the Redis on this machine.

Two cache objects on the same alias stand for two processes here (they share nothing
but Redis); tests/test_cache_processes.py runs real separate processes.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import redis
from django.core.cache import caches

from businesses.cache import BusinessData, BusinessSettingsCache, SettingsData
from tests.conftest import TEST_REDIS_URL

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def business_data(business_id: int) -> BusinessData:
    return BusinessData(
        id=business_id,
        name=f"Business {business_id}",
        slug=f"business-{business_id}",
        is_active=True,
        created_at=NOW,
        updated_at=NOW,
    )


SETTINGS = SettingsData(
    time_zone="Europe/London",
    default_country="GB",
    language="en",
    ai_assistant_enabled=False,
    working_hours_start=None,
    working_hours_end=None,
    whatsapp_greeting="",
    updated_at=NOW,
)


@pytest.fixture
def here(redis_alias: str) -> BusinessSettingsCache:
    return BusinessSettingsCache(alias=redis_alias, ttl=600)


@pytest.fixture
def there(redis_alias: str) -> BusinessSettingsCache:
    return BusinessSettingsCache(alias=redis_alias, ttl=600)


@pytest.fixture
def client() -> redis.Redis:
    return redis.Redis.from_url(TEST_REDIS_URL)


def test_an_entry_stored_by_one_process_is_a_hit_for_another(
    here: BusinessSettingsCache, there: BusinessSettingsCache
) -> None:
    assert there.get(1) is None
    here.set(1, business_data(1), SETTINGS)
    assert there.get(1) == (business_data(1), SETTINGS)
    assert (there.stats()["misses"], there.stats()["hits"]) == (1, 1)


def test_an_invalidation_in_one_process_is_seen_by_the_others(
    here: BusinessSettingsCache, there: BusinessSettingsCache
) -> None:
    here.set(1, business_data(1), SETTINGS)
    here.set(2, business_data(2))
    assert there.get(1) is not None
    here.invalidate_here([1])
    assert there.get(1) is None
    assert there.get(2) == (business_data(2), None)


def test_a_clear_in_one_process_is_seen_by_the_others(
    here: BusinessSettingsCache, there: BusinessSettingsCache
) -> None:
    for business_id in (1, 2):
        here.set(business_id, business_data(business_id))
    here.clear_here()
    assert [there.get(1), there.get(2)] == [None, None]
    there.set(1, business_data(1))
    assert here.get(1) == (business_data(1), None)


def test_entries_expire_in_redis_after_the_ttl(redis_alias: str, client: redis.Redis) -> None:
    cache = BusinessSettingsCache(alias=redis_alias, ttl=90)
    cache.set(1, business_data(1))
    key = caches[redis_alias].make_key(cache.entry_key(1))
    assert 85 <= client.ttl(key) <= 90


def test_keys_carry_the_prefix_and_the_schema_version(
    here: BusinessSettingsCache, client: redis.Redis
) -> None:
    here.set(42, business_data(42))
    prefix = caches[here.alias].key_prefix
    assert client.exists(f"{prefix}:1:business-settings:v1:42")


@pytest.mark.parametrize("token", ["42:generation", "namespace"])
def test_a_lost_token_never_validates_an_old_entry(
    here: BusinessSettingsCache, client: redis.Redis, token: str
) -> None:
    # Redis may evict or expire a token; the entry it guarded must not come back.
    here.set(42, business_data(42))
    prefix = caches[here.alias].key_prefix
    assert client.delete(f"{prefix}:1:business-settings:v1:{token}") == 1
    assert here.get(42) is None
    here.set(42, business_data(42))
    assert here.get(42) is not None


def test_statistics_say_what_redis_cannot_tell(here: BusinessSettingsCache) -> None:
    here.get(1)
    here.set(1, business_data(1))
    here.get(1)
    stats = here.stats()
    assert (stats["hits"], stats["misses"], stats["sets"]) == (1, 1, 1)
    assert stats["shared"] is True
    assert stats["backend"] == "django.core.cache.backends.redis.RedisCache"
    assert (stats["entries"], stats["evictions"], stats["max_entries"]) == (None, None, None)


@pytest.fixture
def unreachable_redis(settings) -> str:  # type: ignore[no-untyped-def]
    down = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
    settings.CACHES = {**settings.CACHES, "redis-down": down}
    return "redis-down"


def test_an_unreachable_redis_turns_reads_into_misses_and_writes_into_log_lines(
    unreachable_redis: str, caplog: pytest.LogCaptureFixture
) -> None:
    cache = BusinessSettingsCache(alias=unreachable_redis, ttl=600)
    assert cache.get(1) is None
    assert cache.get_or_load(1, lambda: (business_data(1), None)) == (business_data(1), None)
    cache.set(1, business_data(1))
    cache.invalidate_here([1])
    cache.clear_here()
    stats = cache.stats()
    assert (stats["misses"], stats["sets"], stats["invalidations"], stats["clears"]) == (2, 0, 0, 0)
    assert stats["errors"] == 5  # 2 reads, the token read of set(), invalidate, clear
    assert "the outbox carries the invalidation" in caplog.text
    assert "cache_stats --clear" in caplog.text
    assert "Traceback" not in caplog.text


@pytest.mark.django_db
def test_the_api_answers_from_the_database_while_redis_is_unreachable(
    settings, api_client_for, owner_a, django_assert_num_queries
) -> None:
    down = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
    settings.CACHES = {**settings.CACHES, "business_settings": down, "memberships": down}
    client = api_client_for(owner_a)
    # 1 token+user, 2 memberships, 3 business joined with its settings
    with django_assert_num_queries(3):
        response = client.get("/api/business/settings/")
    assert (response.status_code, response.json()["time_zone"]) == (200, "Asia/Jerusalem")
