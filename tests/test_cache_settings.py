"""The cache settings come from the environment, strictly, and refuse a pooler without Redis."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.settings_process import run_with_settings

PRINT_CACHES = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps(settings.CACHES))"
)


def start_django(**env: str) -> subprocess.CompletedProcess[str]:
    return run_with_settings(PRINT_CACHES, **env)


def caches(**env: str) -> dict[str, Any]:
    result = start_django(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_by_default_each_tenant_cache_is_its_own_lru_local_memory() -> None:
    configured = caches(BUSINESS_SETTINGS_CACHE_TTL="300", BUSINESS_SETTINGS_CACHE_MAX_ENTRIES="50")
    business_settings, memberships = configured["business_settings"], configured["memberships"]
    assert business_settings == {
        "BACKEND": "businesses.cache_backends.LRULocMemCache",
        "LOCATION": "business-settings",
        "TIMEOUT": 300,
        "OPTIONS": {"MAX_ENTRIES": 50},
    }
    assert memberships["LOCATION"] == "memberships"
    assert memberships["OPTIONS"] == {"MAX_ENTRIES": 10_000}
    assert configured["default"]["LOCATION"] not in ("business-settings", "memberships")


def test_cache_url_puts_them_in_redis_with_its_key_prefix() -> None:
    configured = caches(CACHE_URL="redis://127.0.0.1:6379/5?key_prefix=prosaas")
    for alias in ("default", "business_settings", "memberships"):
        assert configured[alias]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
        assert configured[alias]["LOCATION"] == "redis://127.0.0.1:6379/5"
        assert configured[alias]["KEY_PREFIX"] == "prosaas"
    assert configured["business_settings"]["TIMEOUT"] == 600


def test_the_caches_can_be_turned_off() -> None:
    configured = caches(BUSINESS_SETTINGS_CACHE_ENABLED="false")
    dummy = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    assert (configured["business_settings"], configured["memberships"]) == (dummy, dummy)


def test_a_transaction_pooler_needs_redis() -> None:
    result = start_django(DB_TRANSACTION_POOLER="true")
    assert result.returncode != 0
    message = result.stderr.splitlines()[-1]
    assert "DB_TRANSACTION_POOLER" in message
    assert "CACHE_URL" in message
    assert caches(DB_TRANSACTION_POOLER="true", CACHE_URL="redis://127.0.0.1:6379/5")
    assert caches(DB_TRANSACTION_POOLER="true", BUSINESS_SETTINGS_CACHE_BROADCAST="false")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MEMBERSHIP_CACHE_MAX_ENTRIES", "0"),
        ("BUSINESS_SETTINGS_CACHE_ENABLED", "perhaps"),
        ("BUSINESS_SETTINGS_CACHE_BROADCAST", "2"),
    ],
)
def test_bad_value_stops_start_up_naming_the_variable(variable: str, value: str) -> None:
    result = start_django(**{variable: value})
    assert result.returncode != 0
    assert variable in result.stderr.splitlines()[-1]
