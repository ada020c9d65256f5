"""The query-metrics middleware: Server-Timing on every response, a warning over budget."""

from __future__ import annotations

import logging
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories
from tests.budgets import AUTH_QUERIES, COLD_TENANT_QUERIES, REQUEST_OVERHEAD
from tests.test_settings_env import start_django

pytestmark = pytest.mark.django_db

LIST = "/api/intelligence/customers/"
SERVER_TIMING = re.compile(r'^db;dur=(?P<ms>\d+\.\d{2});desc="(?P<n>\d+) quer(?:y|ies)"$')
LOGGER = "prosaas.query_metrics"


def timing(response) -> tuple[float, int]:
    match = SERVER_TIMING.match(response["Server-Timing"])
    assert match, response["Server-Timing"]
    return float(match["ms"]), int(match["n"])


def test_server_timing_reports_the_requests_query_count(
    api_client_for, owner_a, business_a
) -> None:
    factories.make_customer(business_a)
    client = api_client_for(owner_a)
    client.get(LIST)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(LIST)
    milliseconds, count = timing(response)
    # auth + tenant + the page: the same number the query-budget tests assert.
    assert count == len(captured) == REQUEST_OVERHEAD + 1
    assert milliseconds > 0


def test_a_request_without_queries_reports_zero(client) -> None:
    response = client.get("/api/")
    assert timing(response) == (0.0, 0)
    assert response["Server-Timing"] == 'db;dur=0.00;desc="0 queries"'


def test_error_responses_carry_the_header_too(api_client_for, agent_a) -> None:
    client = api_client_for(agent_a)
    cold = client.get(LIST)
    warm = client.get(LIST)
    assert (cold.status_code, warm.status_code) == (403, 403)
    assert timing(cold)[1] == AUTH_QUERIES + COLD_TENANT_QUERIES
    assert timing(warm)[1] == REQUEST_OVERHEAD


def test_over_budget_logs_a_warning_naming_the_view(
    api_client_for, owner_a, business_a, settings, caplog
) -> None:
    settings.REQUEST_QUERY_BUDGET = REQUEST_OVERHEAD
    client = api_client_for(owner_a)
    client.get(LIST)  # warm-up: the tenant caches
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        client.get(LIST)
    [record] = [r for r in caplog.records if r.name == LOGGER]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "intelligence.views.CustomerIntelligenceListView" in message
    assert f"ran {REQUEST_OVERHEAD + 1} SQL queries (budget {REQUEST_OVERHEAD})" in message
    assert f"GET {LIST}" in message


def test_at_budget_logs_nothing(api_client_for, owner_a, business_a, settings, caplog) -> None:
    settings.REQUEST_QUERY_BUDGET = REQUEST_OVERHEAD + 1
    client = api_client_for(owner_a)
    client.get(LIST)  # warm-up: the tenant caches
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        client.get(LIST)
    assert [r for r in caplog.records if r.name == LOGGER] == []


def test_an_existing_server_timing_header_is_kept(rf) -> None:
    from django.http import HttpResponse

    from prosaas.query_metrics import QueryMetricsMiddleware

    def view(request):
        response = HttpResponse()
        response["Server-Timing"] = "cache;desc=hit"
        return response

    response = QueryMetricsMiddleware(view)(rf.get("/"))
    assert response["Server-Timing"] == 'cache;desc=hit, db;dur=0.00;desc="0 queries"'


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_a_bad_budget_stops_start_up_naming_the_variable(value) -> None:
    result = start_django(REQUEST_QUERY_BUDGET=value)
    assert result.returncode != 0
    assert "REQUEST_QUERY_BUDGET" in result.stderr
