"""/health/live and /health/ready against the real test database, and its faults."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg2
import pytest
from django.db import IntegrityError, connection
from django.test import Client

from prosaas import health


def set_allow_connections(name: str, allow: bool) -> None:
    db = connection.settings_dict
    maintenance = psycopg2.connect(
        dbname="postgres",
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
    )
    maintenance.autocommit = True
    try:
        with maintenance.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allow).lower()}')
    finally:
        maintenance.close()


@pytest.fixture(autouse=True)
def fresh_health_answers() -> Iterator[None]:
    health.forget_memoised()
    yield
    health.forget_memoised()


def test_live_answers_without_touching_the_database(client: Client) -> None:
    # No django_db mark: pytest-django makes any database access raise here.
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db(transaction=True)
def test_ready_turns_503_while_the_database_refuses_connections_and_200_after(
    client: Client,
) -> None:
    ok = client.get("/health/ready")
    assert ok.status_code == 200, ok.content
    assert set(ok.json()["checks"]) == {"database", "migrations", "indexes", "cache"}

    name = connection.settings_dict["NAME"]
    assert name.startswith("test_")
    # New connections to the test database are refused, as with a stopped server;
    # open ones stay, and the shared server is never touched. (A database cannot
    # refuse connections to itself: the switch is thrown from the maintenance one.)
    set_allow_connections(name, False)
    try:
        down = client.get("/health/ready")
    finally:
        set_allow_connections(name, True)
    assert down.status_code == 503
    assert down["Retry-After"] == str(health.RETRY_AFTER_SECONDS)
    body = down.json()
    assert body["failing"] == ["database", "migrations", "indexes"]
    assert "not currently accepting connections" in body["checks"]["database"]["detail"]
    assert body["checks"]["cache"]["ok"] is True

    assert client.get("/health/ready").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_ready_names_an_invalid_index(client: Client) -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE health_probe_t (x int)")
        cursor.execute("INSERT INTO health_probe_t VALUES (1), (1)")
        # A failed concurrent build leaves an INVALID index behind.
        with contextlib.suppress(IntegrityError):
            cursor.execute(
                "CREATE UNIQUE INDEX CONCURRENTLY health_probe_uniq ON health_probe_t (x)"
            )
    try:
        response = client.get("/health/ready")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE health_probe_t")
    assert response.status_code == 503
    assert response.json()["failing"] == ["indexes"]
    assert "health_probe_uniq" in response.json()["checks"]["indexes"]["detail"]


@pytest.mark.django_db
def test_unapplied_migrations_are_named() -> None:
    with connection.cursor() as cursor:
        assert health.unapplied_migrations(cursor) == []
        cursor.execute("DELETE FROM django_migrations WHERE app = 'crm' AND name = '0001_initial'")
        assert health.unapplied_migrations(cursor) == ["crm.0001_initial"]
