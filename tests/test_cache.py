"""The business settings cache on its own: reads, expiry, invalidation, eviction, statistics."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, time

import pytest

from businesses import cache as cache_module
from businesses.cache import (
    BusinessData,
    BusinessSettingsCache,
    SettingsData,
    get_business_settings_cache,
    get_membership_cache,
)
from businesses.models import Business, BusinessSettings

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def business_data(business_id: int, name: str | None = None) -> BusinessData:
    return BusinessData(
        id=business_id,
        name=name or f"Business {business_id}",
        slug=f"business-{business_id}",
        is_active=True,
        created_at=NOW,
        updated_at=NOW,
    )


def settings_data(**changes: object) -> SettingsData:
    values: dict[str, object] = {
        "time_zone": "Asia/Jerusalem",
        "default_country": "IL",
        "language": "he",
        "ai_assistant_enabled": True,
        "working_hours_start": time(9),
        "working_hours_end": time(17),
        "whatsapp_greeting": "Shalom",
        "updated_at": NOW,
    }
    return SettingsData(**{**values, **changes})  # type: ignore[arg-type]


@pytest.fixture
def cache(lru_alias) -> BusinessSettingsCache:  # type: ignore[no-untyped-def]
    return BusinessSettingsCache(alias=lru_alias(max_entries=100), ttl=600)


def test_first_read_misses_and_the_next_one_hits(cache: BusinessSettingsCache) -> None:
    assert cache.get(1) is None
    cache.set(1, business_data(1), settings_data())
    assert cache.get(1) == (business_data(1), settings_data())
    assert (cache.stats()["misses"], cache.stats()["hits"]) == (1, 1)


def test_entries_are_plain_frozen_data_not_model_instances(cache: BusinessSettingsCache) -> None:
    cache.set(1, business_data(1), settings_data())
    business, business_settings = cache.get(1)  # type: ignore[misc]
    assert not isinstance(business, Business)
    assert not isinstance(business_settings, BusinessSettings)
    with pytest.raises(dataclasses.FrozenInstanceError):
        business.name = "changed"  # type: ignore[misc]


def test_a_business_without_settings_is_cached_as_such(cache: BusinessSettingsCache) -> None:
    cache.set(7, business_data(7))
    assert cache.get(7) == (business_data(7), None)


def test_entry_expires_after_the_ttl(lru_alias, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    cache = BusinessSettingsCache(alias=lru_alias(), ttl=600)
    cache.set(1, business_data(1), settings_data())
    frozen_clock.advance(599)
    assert cache.get(1) is not None
    frozen_clock.advance(2)
    assert cache.get(1) is None
    assert cache.stats()["entries"] == 0


def test_invalidate_forgets_one_business_and_leaves_the_others(
    cache: BusinessSettingsCache,
) -> None:
    cache.set(1, business_data(1), settings_data())
    cache.set(2, business_data(2), settings_data(language="en"))
    cache.invalidate_here([1])
    assert cache.get(1) is None
    assert cache.get(2) == (business_data(2), settings_data(language="en"))
    assert cache.stats()["invalidations"] == 1


def test_clear_forgets_every_business(cache: BusinessSettingsCache) -> None:
    for business_id in (1, 2, 3):
        cache.set(business_id, business_data(business_id))
    cache.clear_here()
    assert [cache.get(i) for i in (1, 2, 3)] == [None, None, None]
    assert cache.stats()["entries"] == 0


def test_at_the_limit_the_least_recently_used_entry_goes_first(lru_alias) -> None:  # type: ignore[no-untyped-def]
    cache = BusinessSettingsCache(alias=lru_alias(max_entries=3), ttl=600)
    for business_id in (1, 2, 3):
        cache.set(business_id, business_data(business_id))
    cache.get(1)  # 2 is now the least recently used
    cache.set(4, business_data(4))
    assert [cache.get(i) is not None for i in (1, 2, 3, 4)] == [True, False, True, True]
    assert cache.stats()["evictions"] == 1
    assert cache.stats()["entries"] == 3


def test_a_full_cache_evicts_one_entry_not_a_third(lru_alias) -> None:  # type: ignore[no-untyped-def]
    # Django's LocMemCache would drop max_entries // CULL_FREQUENCY (3) entries here.
    cache = BusinessSettingsCache(alias=lru_alias(max_entries=9), ttl=600)
    for business_id in range(1, 11):
        cache.set(business_id, business_data(business_id))
    assert cache.stats()["entries"] == 9
    assert cache.stats()["evictions"] == 1
    assert cache.get(1) is None
    assert all(cache.get(i) is not None for i in range(2, 11))


def test_rewriting_an_entry_of_a_full_cache_evicts_nothing(lru_alias) -> None:  # type: ignore[no-untyped-def]
    cache = BusinessSettingsCache(alias=lru_alias(max_entries=2), ttl=600)
    cache.set(1, business_data(1))
    cache.set(2, business_data(2))
    cache.set(2, business_data(2, name="Renamed"))
    assert cache.get(1) is not None
    assert cache.stats()["evictions"] == 0


def test_statistics_add_up(cache: BusinessSettingsCache) -> None:
    cache.get(1)
    cache.set(1, business_data(1))
    cache.get(1)
    cache.get(1)
    cache.get(2)
    cache.invalidate_here([1])
    cache.get(1)
    stats = cache.stats()
    assert {k: stats[k] for k in ("hits", "misses", "sets", "invalidations", "entries")} == {
        "hits": 2,
        "misses": 3,
        "sets": 1,
        "invalidations": 1,
        "entries": 0,
    }
    assert stats["hit_rate"] == pytest.approx(2 / 5)
    assert (stats["max_entries"], stats["ttl"], stats["shared"]) == (100, 600, False)
    assert stats["backend"] == "businesses.cache_backends.LRULocMemCache"


def test_hit_rate_is_unknown_before_any_lookup(cache: BusinessSettingsCache) -> None:
    assert cache.stats()["hit_rate"] is None


def test_statistics_are_shared_by_every_thread_of_the_process(
    cache: BusinessSettingsCache,
) -> None:
    cache.set(1, business_data(1))
    threads = [
        threading.Thread(target=lambda: [cache.get(i % 2) for i in range(200)]) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = cache.stats()
    assert stats["hits"] + stats["misses"] == 8 * 200
    assert stats["hits"] == 8 * 100


def test_there_is_one_cache_of_each_kind_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_module, "_business_settings_cache", None)
    found: list[object] = []
    threads = [
        threading.Thread(target=lambda: found.append(get_business_settings_cache()))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(c) for c in found}) == 1
    assert found[0] is get_business_settings_cache()
    assert get_membership_cache() is get_membership_cache()


def test_the_process_caches_use_the_configured_alias_and_ttl(settings) -> None:  # type: ignore[no-untyped-def]
    stats = get_business_settings_cache().stats()
    assert stats["ttl"] == settings.BUSINESS_SETTINGS_CACHE_TTL
    assert stats["max_entries"] == settings.BUSINESS_SETTINGS_CACHE_MAX_ENTRIES
    assert get_membership_cache().stats()["max_entries"] == settings.MEMBERSHIP_CACHE_MAX_ENTRIES


def test_a_new_schema_version_never_reads_the_old_entries(
    cache: BusinessSettingsCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache.set(1, business_data(1))
    assert ":v1:" in cache.entry_key(1)
    monkeypatch.setattr(cache_module, "BUSINESS_SETTINGS_SCHEMA_VERSION", 2)
    after_deploy = BusinessSettingsCache(alias=cache.alias, ttl=600)
    assert ":v2:" in after_deploy.entry_key(1)
    assert after_deploy.get(1) is None


def test_the_cached_data_covers_every_column_of_the_models() -> None:
    # A new column must be added to the cached data, with a new schema version.
    def columns(model: type) -> set[str]:
        return {f.name for f in model._meta.concrete_fields}

    assert {f.name for f in dataclasses.fields(BusinessData)} == columns(Business)
    assert {f.name for f in dataclasses.fields(SettingsData)} == columns(BusinessSettings) - {
        "business"
    }


def test_the_generation_counters_of_a_local_cache_stay_bounded(lru_alias) -> None:  # type: ignore[no-untyped-def]
    # Every invalidated id keeps a counter (an entry stored by a reader that loaded the
    # row before the change must not validate); past the bound the keyspace starts a
    # new namespace instead of growing.
    cache = BusinessSettingsCache(alias=lru_alias(max_entries=10), ttl=600)
    assert cache.max_generations == 40
    for business_id in range(1, 41):
        cache.invalidate_here([business_id])
    assert cache.stats()["generation_counters"] == 40
    cache.set(1, business_data(1))

    for business_id in range(41, 1000):
        cache.invalidate_here([business_id])

    assert cache.stats()["generation_counters"] <= 40
    assert cache.get(1) is None  # the new namespace dropped the entries with the counters
    cache.set(1, business_data(1))
    assert cache.get(1) == (business_data(1), None)


def test_a_stale_store_is_still_refused_after_the_counters_start_over(lru_alias) -> None:  # type: ignore[no-untyped-def]
    cache = BusinessSettingsCache(alias=lru_alias(max_entries=10), ttl=600)
    # A reader read the tokens of business 1 before the database; then 1 changed...
    found = cache.lookup(1)
    cache.invalidate_here([1])
    # ...and so many others that the counters started over.
    for business_id in range(2, 100):
        cache.invalidate_here([business_id])
    cache._store(1, (business_data(1), None), found.tokens)  # the reader's late store
    assert cache.get(1) is None
