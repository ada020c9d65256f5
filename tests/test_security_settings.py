"""Production settings: `check --deploy` is clean with the README's environment, and
the HTTPS, proxy and throttle settings come from the environment, strictly."""

from __future__ import annotations

import json
import re
import secrets

import pytest

from tests.settings_process import ROOT, run_with_settings

PRINT_SECURITY = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({k: getattr(s, k, None) for k in ("
    "'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', "
    "'SECURE_HSTS_PRELOAD', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', "
    "'SECURE_PROXY_SSL_HEADER')} | {'rest': {k: s.REST_FRAMEWORK[k] for k in "
    "('NUM_PROXIES', 'DEFAULT_THROTTLE_RATES')}}))"
)
CHECK_DEPLOY = (
    "import sys, django; django.setup(); from django.core.management import call_command; "
    "call_command('check', deploy=True, fail_level='WARNING')"
)


def readme_production_environment() -> dict[str, str]:
    """The ``export`` lines of the README's production block, ``…`` filled in."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration for production", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    env = {}
    for name, value in re.findall(r"^export (\w+)=(\S*)", block, re.MULTILINE):
        if name == "SECRET_KEY":
            value = secrets.token_urlsafe(50)
        env[name] = value.replace("…", "secret")
    return env


def test_the_readme_block_sets_the_variables_production_needs() -> None:
    env = readme_production_environment()
    assert env["DEBUG"] == "false"
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"} <= env.keys()


def test_check_deploy_is_clean_with_the_readme_environment() -> None:
    result = run_with_settings(CHECK_DEPLOY, **readme_production_environment())
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout + result.stderr


def test_check_deploy_names_a_weakened_setting() -> None:
    env = {**readme_production_environment(), "SECURE_HSTS_SECONDS": "0"}
    result = run_with_settings(CHECK_DEPLOY, **env)
    assert result.returncode != 0
    assert "security.W004" in result.stderr


def production_settings(**env: str) -> dict:
    result = run_with_settings(PRINT_SECURITY, DEBUG="false", ALLOWED_HOSTS="x.example", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_defaults_are_the_safe_ones() -> None:
    values = production_settings()
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] == 31_536_000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    # Only the operator knows whether a proxy overwrites X-Forwarded-Proto.
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["rest"]["NUM_PROXIES"] == 0
    assert values["rest"]["DEFAULT_THROTTLE_RATES"] == {
        "token_address": "30/minute",
        "token_username": "10/minute",
    }


def test_each_setting_comes_from_the_environment() -> None:
    values = production_settings(
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="300",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="false",
        SECURE_HSTS_PRELOAD="false",
        PROXY_SETS_X_FORWARDED_PROTO="true",
        NUM_PROXIES="1",
        AUTH_TOKEN_RATE_PER_ADDRESS="100/hour",
        AUTH_TOKEN_RATE_PER_USERNAME="5/minute",
    )
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 300
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert values["SECURE_HSTS_PRELOAD"] is False
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["rest"]["NUM_PROXIES"] == 1
    assert values["rest"]["DEFAULT_THROTTLE_RATES"] == {
        "token_address": "100/hour",
        "token_username": "5/minute",
    }


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SECURE_HSTS_SECONDS", "a year"),
        ("SECURE_HSTS_SECONDS", "-1"),
        ("SECURE_SSL_REDIRECT", "sure"),
        ("PROXY_SETS_X_FORWARDED_PROTO", "nginx"),
        ("NUM_PROXIES", "-1"),
        ("AUTH_TOKEN_RATE_PER_ADDRESS", "10"),
        ("AUTH_TOKEN_RATE_PER_USERNAME", "ten/minute"),
        ("AUTH_TOKEN_RATE_PER_USERNAME", "0/minute"),
        ("AUTH_TOKEN_RATE_PER_USERNAME", "10/fortnight"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(variable: str, value: str) -> None:
    result = run_with_settings("import django; django.setup()", **{variable: value})
    assert result.returncode != 0
    assert variable in result.stderr.splitlines()[-1]
