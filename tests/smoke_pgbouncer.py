"""The service behind PgBouncer in transaction mode (``make test-pgbouncer``; CI runs it).

The fixture starts Debian's ``pgbouncer`` on a spare port, in front of the server
that holds this run's test database, from a config written to a temporary
directory. The API then runs in child processes (tests/pgbouncer_client.py) with
``DB_TRANSACTION_POOLER=true`` and a Redis cache: once over a direct connection and
once through PgBouncer, and the answers must be the same; then a short concurrent
load through PgBouncer must have no errors.

The suite itself cannot run behind a transaction pooler (docs/scaling.md): creating
and dropping the test database, LISTEN/NOTIFY and the fault tests need a direct
connection, so only these children go through PgBouncer.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.db import connection

pytestmark = [pytest.mark.pgbouncer, pytest.mark.django_db]

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/9"


def missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the PgBouncer suite: {reason}")
    pytest.skip(reason)


def spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_address() -> tuple[str, str]:
    """host (or unix socket directory) and port of the test database's server."""
    params = connection.get_connection_params()
    return str(params.get("host") or "127.0.0.1"), str(params.get("port") or 5432)


def direct_url(database: str) -> str:
    host, port = server_address()
    if host.startswith("/"):
        return f"postgres://postgres@/{database}?host={host}&port={port}"
    return f"postgres://postgres@{host}:{port}/{database}"


@pytest.fixture(scope="module")
def pgbouncer() -> Iterator[str]:
    """Starts PgBouncer; yields its URL for the test database."""
    binary = shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer",) if Path(p).exists()), None
    )
    if binary is None:
        missing("pgbouncer is not installed (apt-get install pgbouncer)")
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as error:
        missing(f"no Redis at {REDIS_URL}: {error}")

    host, port = server_address()
    listen_port = spare_port()
    workdir = Path(tempfile.mkdtemp(prefix="prosaas-pgbouncer-"))
    (workdir / "userlist.txt").write_text('"postgres" ""\n')
    (workdir / "pgbouncer.ini").write_text(
        f"""[databases]
* = host={host} port={port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen_port}
unix_socket_dir =
auth_type = trust
auth_file = {workdir}/userlist.txt
pool_mode = transaction
default_pool_size = 5
max_client_conn = 200
logfile = {workdir}/pgbouncer.log
pidfile = {workdir}/pgbouncer.pid
"""
    )
    command = [binary, str(workdir / "pgbouncer.ini")]
    if os.geteuid() == 0:
        # PgBouncer refuses to run as root: run it as Debian's postgres user (or nobody).
        import pwd

        try:
            user = pwd.getpwnam("postgres").pw_name
        except KeyError:
            user = "nobody"
        for path in (workdir, *workdir.iterdir()):
            shutil.chown(path, user)
        command[1:1] = ["-u", user]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", listen_port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (workdir / "pgbouncer.log").read_text(errors="replace")[-2000:]
                    error = process.stderr.read().decode() if process.stderr else ""
                    pytest.fail(f"pgbouncer did not start: {error}{log}")
                time.sleep(0.1)
        yield f"postgres://postgres@127.0.0.1:{listen_port}/{connection.settings_dict['NAME']}"
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def run_client(database_url: str, *args: str) -> object:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "DB_", "CACHE_URL", "REPLICA_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "prosaas.settings",
            "DEBUG": "true",
            "DATABASE_URL": database_url,
            "DB_TRANSACTION_POOLER": "true",
            "CACHE_URL": f"{REDIS_URL}?key_prefix=pgbouncer-{uuid.uuid4().hex[:8]}",
        }
    )
    result = subprocess.run(
        [sys.executable, "-m", "tests.pgbouncer_client", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_endpoint_answers_the_same_through_pgbouncer(pgbouncer: str) -> None:
    # Each run commits its own tenant to the test database and deletes it at the end.
    direct = run_client(direct_url(connection.settings_dict["NAME"]), "sequence", "smoke-direct")
    pooled = run_client(pgbouncer, "sequence", "smoke-pooled")
    assert isinstance(direct, list) and len(direct) > 20
    statuses = {answer["status"] for answer in direct}
    assert {200, 201, 204, 400, 404} <= statuses  # writes, errors and not-found are covered
    assert pooled == direct
    assert direct[-1]["body"] == ["UTC"]


def test_a_concurrent_load_through_pgbouncer_has_no_errors(pgbouncer: str) -> None:
    outcomes = run_client(pgbouncer, "load", "smoke-load", "8", "24")
    assert isinstance(outcomes, dict)
    assert sum(outcomes.values()) == 8 * 24
    assert set(outcomes) <= {"200", "201"}, outcomes
