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
        assert configured[alias]["BACKEND"] == "businesses.cache_backends.FailFastRedisCache"
        assert configured[alias]["LOCATION"] == "redis://127.0.0.1:6379/5"
        assert configured[alias]["KEY_PREFIX"] == "prosaas"
    assert configured["business_settings"]["TIMEOUT"] == 600


def test_the_caches_can_be_turned_off() -> None:
    configured = caches(BUSINESS_SETTINGS_CACHE_ENABLED="false")
    dummy = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    assert (configured["business_settings"], configured["memberships"]) == (dummy, dummy)


@pytest.mark.parametrize(
    "env",
    [
        {},
        # Local memory spelled as a URL is still local to each process.
        {"CACHE_URL": "locmemcache://"},
        # Without the broadcast, changes by other processes would never be seen.
        {"BUSINESS_SETTINGS_CACHE_BROADCAST": "false"},
    ],
)
def test_a_transaction_pooler_refuses_any_process_local_cache(env: dict[str, str]) -> None:
    result = start_django(DB_TRANSACTION_POOLER="true", **env)
    assert result.returncode != 0
    message = result.stderr.splitlines()[-1]
    assert "ImproperlyConfigured" in message
    assert "DB_TRANSACTION_POOLER" in message
    assert "CACHE_URL" in message


def test_a_transaction_pooler_starts_with_redis_or_without_caches() -> None:
    assert caches(DB_TRANSACTION_POOLER="true", CACHE_URL="redis://127.0.0.1:6379/5")
    assert caches(DB_TRANSACTION_POOLER="true", BUSINESS_SETTINGS_CACHE_ENABLED="false")


def test_the_redis_client_fails_fast_with_timeouts_from_the_environment() -> None:
    configured = caches(
        CACHE_URL="redis://127.0.0.1:6379/5",
        CACHE_CONNECT_TIMEOUT="0.05",
        CACHE_SOCKET_TIMEOUT="0.15",
        CACHE_RETRY_INTERVAL="2",
    )
    for alias in ("default", "business_settings", "memberships"):
        assert configured[alias]["OPTIONS"] == {
            "socket_connect_timeout": 0.05,
            "socket_timeout": 0.15,
            "unavailable_retry_interval": 2.0,
        }
    defaults = caches(CACHE_URL="redis://127.0.0.1:6379/5")["business_settings"]["OPTIONS"]
    assert (defaults["socket_connect_timeout"], defaults["socket_timeout"]) == (0.1, 0.2)


def test_a_redis_timeout_in_the_url_is_refused_in_favour_of_the_variable() -> None:
    result = start_django(CACHE_URL="redis://127.0.0.1:6379/5?socket_timeout=30")
    assert result.returncode != 0
    assert "CACHE_SOCKET_TIMEOUT" in result.stderr.splitlines()[-1]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MEMBERSHIP_CACHE_MAX_ENTRIES", "0"),
        ("BUSINESS_SETTINGS_CACHE_ENABLED", "perhaps"),
        ("BUSINESS_SETTINGS_CACHE_BROADCAST", "2"),
        ("CACHE_CONNECT_TIMEOUT", "0"),
    ],
)
def test_bad_value_stops_start_up_naming_the_variable(variable: str, value: str) -> None:
    result = start_django(**{variable: value})
    assert result.returncode != 0
    assert variable in result.stderr.splitlines()[-1]
