"""/metrics: who may read it, the series a request leaves, slow queries, and gunicorn."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from prosaas import metrics
from prosaas.query_metrics import QueryCounter
from prosaas.slow_queries import normalise_sql
from tests import factories
from tests.subprocess_env import ROOT, command_env, database_url, free_port, write_dotenv

TOKEN = "t" * 32


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one series in Prometheus' text format (0 if absent)."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_refuses_other_networks_without_the_token(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics", REMOTE_ADDR="10.9.8.7").status_code == 403
    wrong = client.get("/metrics", REMOTE_ADDR="10.9.8.7", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 403
    assert wrong.json()["code"] == "metrics_forbidden"
    good = client.get("/metrics", REMOTE_ADDR="10.9.8.7", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert good.status_code == 200
    assert good["Content-Type"].startswith("text/plain")


@pytest.mark.django_db
def test_an_api_request_leaves_latency_sql_cache_and_pool_series(
    client: Client, api_client_for: Callable[..., APIClient], owner_a
) -> None:  # type: ignore[no-untyped-def]
    view = "businesses.views.CurrentBusinessView"
    before = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    api = api_client_for(owner_a)
    assert api.get("/api/business/").status_code == 200
    assert api.get("/api/business/").status_code == 200  # warm: a cache hit
    metrics.sample_state(force=True)
    after = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("prosaas_http_request_duration_seconds_count", view=view, status="200") == 2
    assert grew("prosaas_http_request_sql_queries_count", view=view) == 2
    assert grew("prosaas_http_request_sql_queries_sum", view=view) >= 2  # tokens, at least
    assert grew("prosaas_cache_events_total", keyspace="business_settings", event="hits") >= 1
    assert grew("prosaas_cache_events_total", keyspace="business_settings", event="misses") >= 1
    assert "prosaas_db_pool_size" in after
    assert sample(after, "prosaas_db_invalid_indexes") == 0


def test_a_503_is_counted_by_its_code() -> None:
    from django.http import JsonResponse

    before = metrics.RESPONSES_503.labels(cause="database_pool_exhausted")._value.get()
    response = JsonResponse({"code": "database_pool_exhausted"}, status=503)
    metrics.record_503(metrics.cause_of_503(response))
    assert metrics.RESPONSES_503.labels(cause="database_pool_exhausted")._value.get() == before + 1
    assert metrics.cause_of_503(JsonResponse({"detail": "x"}, status=503)) == "unknown"


def test_sql_is_normalised_for_the_slow_query_log() -> None:
    sql = "SELECT * FROM leads WHERE id IN (%s, %s, %s) AND name = 'Bob''s'  AND n > 42"
    assert normalise_sql(sql) == "SELECT * FROM leads WHERE id IN (...) AND name = ? AND n > ?"


@pytest.mark.django_db
def test_a_slow_statement_is_logged_once_and_counted(
    settings, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    settings.SLOW_QUERY_MS = 20
    view = "(no request)"
    before = metrics.SLOW_QUERIES.labels(view=view)._value.get()
    counter = QueryCounter(slow_seconds=settings.SLOW_QUERY_MS / 1000)
    with (
        caplog.at_level(logging.WARNING, "prosaas.slow_queries"),
        connection.execute_wrapper(counter),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT pg_sleep(%s)", [0.05])
        cursor.execute("SELECT 1")
    records = [r for r in caplog.records if r.name == "prosaas.slow_queries"]
    assert len(records) == 1
    assert "SELECT pg_sleep(%s)" in records[0].getMessage()
    assert "SLOW_QUERY_MS=20" in records[0].getMessage()
    assert metrics.SLOW_QUERIES.labels(view=view)._value.get() == before + 1


@pytest.mark.django_db(transaction=True)
def test_gunicorn_workers_are_all_counted(tmp_path: Path, business_a) -> None:  # type: ignore[no-untyped-def]
    """Two gunicorn workers against the test database; /metrics sums both."""
    user = factories.make_member(business_a, "owner", "gunicorn_owner")
    token = factories.token_for(user)
    multiproc = tmp_path / "prom"
    multiproc.mkdir()
    env = command_env(
        write_dotenv(
            tmp_path, database_url(connection.settings_dict, connection.settings_dict["NAME"])
        ),
        PROMETHEUS_MULTIPROC_DIR=str(multiproc),
        BUSINESS_SETTINGS_CACHE_BROADCAST="false",
    )
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "prosaas.wsgi",
            "--config", "python:prosaas.gunicorn_conf",
            "--workers", "2", "--threads", "2", "--worker-class", "gthread",
            "--bind", f"127.0.0.1:{port}",
        ],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    requests = 40

    def get(path: str, headers: dict[str, str] | None = None) -> bytes:
        request = urllib.request.Request(base + path, headers=headers or {})
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.read()

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get("/health/live")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"gunicorn did not start: {server.stderr.read() if server.stderr else ''}"
                    )
                time.sleep(0.3)
        auth = {"Authorization": f"Token {token}"}
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: get("/api/business/", auth), range(requests)))
        text = get("/metrics").decode()
    finally:
        server.terminate()
        server.wait(timeout=30)

    view = "businesses.views.CurrentBusinessView"
    assert (
        sample(text, "prosaas_http_request_duration_seconds_count", view=view, status="200")
        == requests
    )
    assert sample(text, "prosaas_http_request_sql_queries_sum", view=view) >= requests
    assert sample(text, "prosaas_cache_events_total", keyspace="memberships") >= requests
    assert sample(text, "prosaas_db_pool_size") >= 2  # both workers' pools, summed
    pids = {re.search(r"_(\d+)\.db$", p.name).group(1) for p in multiproc.glob("histogram_*.db")}  # type: ignore[union-attr]
    assert len(pids) == 2, pids
