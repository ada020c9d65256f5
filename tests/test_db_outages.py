"""Database faults, caused for real on the test database: a JSON 503 or a retried read.

Every fault here acts on this run's own test database only (its name comes from the
connection settings: test_<name> against a server, or the embedded one's), through
a separate administrative connection: refusing connections, terminating the app's
backends while idle and while a request waits on them, and cancelling a statement.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import pytest
from django.db import connection
from psycopg2.extensions import connection as PgConnection
from rest_framework.test import APIClient

from crm.models import Customer
from prosaas.outages import OutageCause, service_unavailable

pytestmark = pytest.mark.django_db(transaction=True)


def admin_connection(dbname: str) -> PgConnection:
    """A connection of the test's own, outside Django and its pool."""
    params = connection.settings_dict
    conn = psycopg2.connect(
        dbname=dbname,
        user=params["USER"],
        password=params["PASSWORD"] or None,
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        connect_timeout=5,
    )
    conn.autocommit = True
    return conn


def own_database() -> str:
    """This run's test database, the only one these tests may act on."""
    name = connection.settings_dict["NAME"]
    assert name.startswith("test_"), name
    return name


def terminate_app_backends(admin: PgConnection) -> int:
    """Kill every backend of the test database but ``admin``'s own; wait until gone."""
    with admin.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [own_database()],
        )
        (killed,) = cursor.fetchone()
        for _ in range(100):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                "AND pid <> pg_backend_pid()",
                [own_database()],
            )
            if cursor.fetchone()[0] == 0:
                break
            time.sleep(0.05)
    return killed


@contextmanager
def connections_refused() -> Iterator[None]:
    """The test database refuses new connections and has none open, until the end."""
    admin = admin_connection("postgres")
    quoted = '"' + own_database().replace('"', '""') + '"'
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"ALTER DATABASE {quoted} ALLOW_CONNECTIONS false")
        terminate_app_backends(admin)
        yield
    finally:
        # Whatever happened, the rest of the suite needs its database back.
        with admin.cursor() as cursor:
            cursor.execute(f"ALTER DATABASE {quoted} ALLOW_CONNECTIONS true")
        admin.close()


@contextmanager
def token_table_locked() -> Iterator[PgConnection]:
    """Every request waits on its first query (token authentication) until the end."""
    admin = admin_connection(own_database())
    admin.autocommit = False
    try:
        with admin.cursor() as cursor:
            cursor.execute("LOCK TABLE authtoken_token IN ACCESS EXCLUSIVE MODE")
        yield admin
    finally:
        admin.rollback()
        admin.close()


class BackendKiller(threading.Thread):
    """Terminates the first backend that waits on a lock, the request's, then stops."""

    def __init__(self, on_killed: Callable[[], None]) -> None:
        super().__init__(daemon=True)
        self.on_killed = on_killed
        self.killed = 0

    def run(self) -> None:
        admin = admin_connection(own_database())
        try:
            with admin.cursor() as cursor:
                for _ in range(200):
                    cursor.execute(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = %s AND wait_event_type = 'Lock'",
                        [own_database()],
                    )
                    self.killed = cursor.fetchone()[0]
                    if self.killed:
                        break
                    time.sleep(0.05)
        finally:
            admin.close()
            self.on_killed()


def assert_503(response: Any, code: OutageCause, retry_after: str) -> None:
    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == retry_after
    assert response.json()["code"] == code.value


def tracebacks_and_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.fixture
def client(api_client_for, owner_a, fresh_outage_log) -> APIClient:  # type: ignore[no-untyped-def]
    client = api_client_for(owner_a)
    assert client.get("/api/business/").status_code == 200  # connections opened, caches warm
    return client


@pytest.fixture
def causes_sent() -> Iterator[list[OutageCause]]:
    sent: list[OutageCause] = []

    def receive(sender: object, *, cause: OutageCause, **kwargs: object) -> None:
        sent.append(cause)

    service_unavailable.connect(receive)
    yield sent
    service_unavailable.disconnect(receive)


def test_a_database_refusing_connections_gets_503s_logged_once_then_recovers(
    client: APIClient, caplog: pytest.LogCaptureFixture, causes_sent: list[OutageCause]
) -> None:
    with caplog.at_level(logging.INFO), connections_refused():
        responses = [client.get("/api/business/") for _ in range(20)]
        responses.append(client.post("/api/customers/", {"name": "Dana"}, format="json"))

    for response in responses:
        assert_503(response, OutageCause.DATABASE_UNAVAILABLE, retry_after="5")
    assert causes_sent == [OutageCause.DATABASE_UNAVAILABLE] * 21
    # One line for the whole outage (the interval is 10 s), no traceback, and not
    # Django's own "Service Unavailable" line per request.
    outage_lines = [r for r in caplog.records if r.name == "prosaas.outages"]
    assert len(outage_lines) == 1
    assert "database_unavailable: 1 request answered 503" in outage_lines[0].getMessage()
    assert "not currently accepting connections" in outage_lines[0].getMessage()
    assert tracebacks_and_errors(caplog) == []
    assert not [r for r in caplog.records if r.name == "django.request"]

    assert client.get("/api/business/").status_code == 200


def test_killing_idle_pooled_connections_fails_no_request(
    client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    connection.close()  # this thread's connection goes back to the pool, idle
    admin = admin_connection(own_database())
    try:
        assert terminate_app_backends(admin) >= 1
    finally:
        admin.close()
    with caplog.at_level(logging.INFO):
        assert client.get("/api/business/").status_code == 200
    assert tracebacks_and_errors(caplog) == []


def test_a_get_on_a_connection_killed_between_requests_is_retried(
    client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    # The test client keeps this thread's connection open between requests, as a
    # thread of a server does while its connection is checked out.
    admin = admin_connection(own_database())
    try:
        assert terminate_app_backends(admin) >= 1
    finally:
        admin.close()
    with caplog.at_level(logging.INFO):
        response = client.get("/api/business/")
    assert response.status_code == 200
    assert [r for r in caplog.records if "Retrying GET /api/business/" in r.getMessage()]
    assert tracebacks_and_errors(caplog) == []
    assert client.get("/api/business/").status_code == 200


def test_a_get_whose_connection_is_killed_mid_request_is_retried_and_succeeds(
    client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO), token_table_locked() as locker:
        # The request waits on the lock; the killer terminates it there, then lets
        # the retry through by releasing the lock.
        killer = BackendKiller(on_killed=locker.rollback)
        killer.start()
        response = client.get("/api/business/")
        killer.join(timeout=15)

    assert killer.killed == 1
    assert response.status_code == 200
    assert response.json()["name"] == "Business A"
    assert [r for r in caplog.records if "Retrying GET" in r.getMessage()]
    assert tracebacks_and_errors(caplog) == []


def test_a_post_whose_connection_is_killed_is_not_retried_and_writes_nothing(
    client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO), token_table_locked() as locker:
        killer = BackendKiller(on_killed=locker.rollback)
        killer.start()
        response = client.post(
            "/api/customers/", {"name": "Dana", "phone_e164": "050-123-4567"}, format="json"
        )
        killer.join(timeout=15)

    assert killer.killed == 1
    assert_503(response, OutageCause.DATABASE_UNAVAILABLE, retry_after="5")
    assert not [r for r in caplog.records if "Retrying" in r.getMessage()]
    assert tracebacks_and_errors(caplog) == []
    assert not Customer.objects.exists()
    # The dropped connection was not put back: the next request gets a working one.
    assert client.get("/api/business/").status_code == 200


def test_a_statement_cancelled_by_statement_timeout_gets_503_database_timeout(
    client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 200")
    try:
        with caplog.at_level(logging.INFO), token_table_locked():
            response = client.get("/api/business/")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")

    assert_503(response, OutageCause.DATABASE_TIMEOUT, retry_after="5")
    assert not [r for r in caplog.records if "Retrying" in r.getMessage()]
    [line] = [r for r in caplog.records if r.name == "prosaas.outages"]
    assert "canceling statement due to statement timeout" in line.getMessage()
    assert tracebacks_and_errors(caplog) == []
    assert client.get("/api/business/").status_code == 200
