"""Which database errors are outages, and the rate-limited log of the 503s they cause."""

from __future__ import annotations

import json
import logging
import socket

import pytest
from django.db import DatabaseError, connection

from prosaas.db_faults import outage_cause
from prosaas.outages import (
    OutageCause,
    OutageLog,
    service_unavailable,
    service_unavailable_response,
)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sqlstate", "cause"),
    [
        ("57014", OutageCause.DATABASE_TIMEOUT),  # query_canceled
        ("55P03", OutageCause.DATABASE_TIMEOUT),  # lock_not_available
        ("40001", OutageCause.DATABASE_CONFLICT),  # serialization_failure
        ("40P01", OutageCause.DATABASE_CONFLICT),  # deadlock_detected
        ("57P01", OutageCause.DATABASE_UNAVAILABLE),  # admin_shutdown
        ("53300", OutageCause.DATABASE_UNAVAILABLE),  # too_many_connections
        ("54000", None),  # program_limit_exceeded: a bug, not an outage
        ("22012", None),  # division_by_zero
        ("42601", None),  # syntax_error
    ],
)
def test_errors_raised_by_the_server_are_classified_by_their_sqlstate(
    sqlstate: str, cause: OutageCause | None
) -> None:
    with pytest.raises(DatabaseError) as raised, connection.cursor() as cursor:
        cursor.execute(
            f"DO $$ BEGIN RAISE EXCEPTION 'raised by the test' USING ERRCODE = '{sqlstate}'; END $$"
        )
    assert outage_cause(raised.value) is cause


def test_the_outage_log_reports_the_count_once_per_interval(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    now = [1000.0]
    monkeypatch.setattr("prosaas.outages.time.monotonic", lambda: now[0])
    log = OutageLog(interval=10, log=logging.getLogger("test.outages"))
    with caplog.at_level(logging.WARNING, logger="test.outages"):
        for _ in range(50):
            log.record(OutageCause.DATABASE_UNAVAILABLE, "refused")
            now[0] += 0.1  # 50 failures over 5 s
        log.flush()  # not due yet
        now[0] += 6
        log.flush()  # due: the 49 counted since the first line
        log.flush()  # nothing left
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "database_unavailable: 1 request answered 503 in the last 0.0s; latest error: refused",
        "database_unavailable: 49 requests answered 503 in the last 11.0s; latest error: refused",
    ]


def test_a_failing_receiver_of_the_signal_does_not_turn_the_503_into_a_500(rf) -> None:  # type: ignore[no-untyped-def]
    def broken(sender: object, **kwargs: object) -> None:
        raise RuntimeError("metrics exporter down")

    service_unavailable.connect(broken)
    try:
        response = service_unavailable_response(OutageCause.DATABASE_CONFLICT, rf.get("/api/"))
    finally:
        service_unavailable.disconnect(broken)
    assert (response.status_code, response["Retry-After"]) == (503, "1")
    assert json.loads(response.content)["code"] == "database_conflict"


def test_a_server_that_never_answers_is_given_up_after_the_connect_timeout(
    django_db_blocker,  # type: ignore[no-untyped-def]
) -> None:
    # A socket that listens but never accepts: the kernel completes the handshake,
    # then nothing answers libpq's start-up packet, as with a hung server.
    from dj_db_conn_pool.backends.postgresql.base import DatabaseWrapper
    from dj_db_conn_pool.core import pool_container

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        settings_dict = {
            **connection.settings_dict,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "OPTIONS": {"connect_timeout": 2},
        }
        wrapper = DatabaseWrapper(settings_dict, alias="silent-server")
        try:
            with django_db_blocker.unblock(), pytest.raises(DatabaseError) as raised:
                wrapper.ensure_connection()
        finally:
            if pool_container.has("silent-server"):
                pool_container.pop("silent-server").dispose()
    assert outage_cause(raised.value) is OutageCause.DATABASE_UNAVAILABLE
    assert "timeout expired" in str(raised.value)
