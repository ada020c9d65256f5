"""manage.py cache_stats: what it prints, whose numbers they are, --clear, --warm, --url."""

from __future__ import annotations

import io
import json
import os
import urllib.request

import pytest
from django.core.management import CommandError, call_command

from businesses.cache import get_business_settings_cache
from businesses.models import Membership
from businesses.selectors import cached_business
from tests import factories

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("cache_stats", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_prints_the_backend_limits_and_whose_numbers_they_are(business_a) -> None:
    cached_business(business_id=business_a.pk)
    cached_business(business_id=business_a.pk)
    out, _ = run()
    assert "Statistics of this command's own process" in out
    assert f"Process {os.getpid()}" in out
    assert "no process can read another's local memory" in out
    assert "--url" in out
    lines = {line.split("  ")[0]: line for line in out.splitlines()}
    assert "businesses.cache_backends.LRULocMemCache" in lines["backend"]
    assert lines["ttl (seconds)"].split()[2:] == ["600", "600"]
    assert lines["max entries"].split()[2:] == ["1000", "10000"]
    assert lines["hits"].split()[1] == "1"
    assert lines["hit rate"].split()[2] == "50.0%"


def test_json_output_has_every_statistic(business_a) -> None:
    cached_business(business_id=business_a.pk)
    out, _ = run("--json")
    report = json.loads(out)
    assert report["scope"]["pid"] == os.getpid()
    assert {
        "hits",
        "misses",
        "hit_rate",
        "sets",
        "invalidations",
        "evictions",
        "entries",
        "max_entries",
        "ttl",
    } <= set(report["business_settings"])
    assert (report["business_settings"]["misses"], report["business_settings"]["entries"]) == (1, 1)


def test_clear_refuses_without_confirmation(business_a, monkeypatch) -> None:
    cached_business(business_id=business_a.pk)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CommandError, match="--yes"):
        run("--clear")
    assert get_business_settings_cache().stats()["entries"] == 1


def test_clear_asks_and_empties_the_caches(business_a, monkeypatch) -> None:
    cached_business(business_id=business_a.pk)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    _, err = run("--clear")
    assert "Cleared both caches in this process, and announced to every process" in err
    assert get_business_settings_cache().stats()["entries"] == 0


def test_clear_with_yes_empties_the_caches_and_tells_the_other_processes(
    business_a, django_assert_num_queries
) -> None:
    cached_business(business_id=business_a.pk)
    # 1 NOTIFY clear for the business settings, 2 for the memberships
    with django_assert_num_queries(2):
        run("--clear", "--yes", "--json")
    assert get_business_settings_cache().get(business_a.pk) is None


def test_warm_loads_every_active_business(business_a, business_b) -> None:
    inactive = factories.make_business()
    inactive.is_active = False
    inactive.save()
    out, err = run("--warm", "--json")
    assert "Loaded 2 active businesses" in err
    assert "this process's local memory only" in err
    cache = get_business_settings_cache()
    assert json.loads(out)["business_settings"]["entries"] == 2
    assert cache.get(business_a.pk)[1].time_zone == "Asia/Jerusalem"  # type: ignore[index]
    assert cache.get(inactive.pk) is None


@pytest.mark.django_db(transaction=True)
def test_url_reads_a_running_servers_statistics(live_server) -> None:
    business = factories.make_business()
    member = factories.make_member(business, Membership.Role.AGENT)
    staff_token = factories.token_for(factories.make_user(is_staff=True))

    for _ in range(3):
        request = urllib.request.Request(
            f"{live_server.url}/api/business/",
            headers={"Authorization": f"Token {factories.token_for(member)}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200

    out, _ = run("--url", live_server.url, "--token", staff_token)
    assert "Statistics of a server process, as it reported them." in out
    lines = {line.split("  ")[0]: line for line in out.splitlines()}
    assert lines["hits"].split()[1:] == ["2", "2"]
    assert lines["misses"].split()[1:] == ["1", "1"]


def test_url_needs_a_token_and_only_reads(monkeypatch) -> None:
    monkeypatch.delenv("CACHE_STATS_TOKEN", raising=False)
    with pytest.raises(CommandError, match="token"):
        run("--url", "http://127.0.0.1:9")
    with pytest.raises(CommandError, match="only reads"):
        run("--url", "http://127.0.0.1:9", "--clear", "--yes")


def test_url_reports_a_server_that_is_not_there() -> None:
    with pytest.raises(CommandError, match="Could not read"):
        run("--url", "http://127.0.0.1:9", "--token", "x")
