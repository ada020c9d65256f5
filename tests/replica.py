"""A real primary + hot standby pair for the replica tests, started by the test run.

The fixture does not copy the test run's own server: ``pg_basebackup`` copies a
whole cluster, and the shared server at 127.0.0.1:5432 holds everyone's databases
(and may refuse replication connections). Instead it ``initdb``s a small primary
of its own in a temporary directory, on a spare port, with ``wal_level=replica``;
``pg_basebackup -R`` copies that into a standby (``-R`` writes ``standby.signal``
and ``primary_conninfo``), which starts on another spare port as a hot standby.
So it behaves the same whether the suite runs on the embedded PostgreSQL or on
``DATABASE_URL``.

The binaries are the embedded server's (the ``pgserver`` package, always installed
for the tests), or else the Debian ones. PostgreSQL refuses to run as root, so as
root the servers run as the ``pgserver`` system user, as the embedded one does.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2

SERVER_USER = "pgserver"
START_TIMEOUT = 60


class ReplicationUnavailable(Exception):
    """This machine cannot start a primary/standby pair (the reason says why)."""


def postgres_bin_dir() -> Path:
    try:
        from pgserver._commands import POSTGRES_BIN_PATH

        if (POSTGRES_BIN_PATH / "pg_basebackup").exists():
            return POSTGRES_BIN_PATH
    except ImportError:
        pass
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "pg_basebackup").exists():
            return candidate
    raise ReplicationUnavailable(
        "no PostgreSQL server binaries (initdb, pg_basebackup): install requirements-dev.txt "
        "(pgserver) or Debian's postgresql package"
    )


def spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    data_dir: Path
    port: int

    def dsn(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def django_settings(self, database: str) -> dict[str, Any]:
        return {"NAME": database, "USER": "postgres", "HOST": "127.0.0.1", "PORT": str(self.port)}

    def query(self, sql: str, database: str = "test_replication") -> list[tuple[Any, ...]]:
        with contextlib.closing(psycopg2.connect(self.dsn(database), connect_timeout=5)) as conn:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall() if cursor.description else []


class ReplicaPair:
    """A primary and its streaming hot standby under one temporary directory."""

    def __init__(self, server_settings: dict[str, object] | None = None) -> None:
        # Extra postgresql.conf lines for both servers (the bench gives more memory).
        self.server_settings = dict(server_settings or {})
        self.bin_dir = postgres_bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="prosaas-replication-"))
        self.run_as: str | None = None
        if os.geteuid() == 0:
            self._prepare_for_server_user()
        self.primary = Server("primary", self.root / "primary", spare_port())
        self.standby = Server("standby", self.root / "standby", spare_port())

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        self.start_primary()
        self.add_standby()

    def start_primary(self) -> None:
        self._run("initdb", "-D", str(self.primary.data_dir), "--auth=trust", "-U", "postgres",
                  "--encoding=UTF8", "--no-sync")  # fmt: skip
        self._configure(self.primary, wal_senders=True)
        self._pg_ctl(self.primary, "start")

    def add_standby(self) -> None:
        """Copies the primary as it is now (pg_basebackup -R) and starts the copy."""
        self._run("pg_basebackup", "-R", "-X", "stream", "-c", "fast", "--no-sync",
                  "-D", str(self.standby.data_dir),
                  "-d", f"host=127.0.0.1 port={self.primary.port} user=postgres")  # fmt: skip
        self._configure(self.standby, wal_senders=False)
        self.start_standby()

    def start_standby(self) -> None:
        self._pg_ctl(self.standby, "start")

    def stop_standby(self) -> None:
        """Stops it at once, as a crash would: clients see their connections drop."""
        self._pg_ctl(self.standby, "stop", "-m", "immediate")

    def stop(self) -> None:
        for server in (self.standby, self.primary):
            if (server.data_dir / "postmaster.pid").exists():
                with contextlib.suppress(subprocess.CalledProcessError):
                    self._pg_ctl(server, "stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    # --- replication control -------------------------------------------------------------

    def create_database(self, name: str) -> None:
        self.primary.query(f"CREATE DATABASE {name}", database="postgres")

    def wait_until_replayed(self, timeout: float = 30) -> None:
        """Waits until the standby has replayed everything the primary wrote so far."""
        (target,) = self.primary.query("SELECT pg_current_wal_lsn()::text", "postgres")[0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            (done,) = self.standby.query(
                f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn", "postgres"
            )[0]
            if done:
                return
            time.sleep(0.05)
        raise AssertionError(f"the standby did not replay up to {target} in {timeout}s")

    def wait_until_received(self, timeout: float = 30) -> None:
        """Waits until the standby has received (not necessarily replayed) all WAL."""
        (target,) = self.primary.query("SELECT pg_current_wal_lsn()::text", "postgres")[0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            (done,) = self.standby.query(
                f"SELECT pg_last_wal_receive_lsn() >= '{target}'::pg_lsn", "postgres"
            )[0]
            if done:
                return
            time.sleep(0.05)
        raise AssertionError(f"the standby did not receive WAL up to {target} in {timeout}s")

    def pause_replay(self, timeout: float = 30) -> None:
        """Pauses replay and waits until it has really stopped (the request is async)."""
        self.standby.query("SELECT pg_wal_replay_pause()", "postgres")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            (state,) = self.standby.query("SELECT pg_get_wal_replay_pause_state()", "postgres")[0]
            if state == "paused":
                return
            time.sleep(0.02)
        raise AssertionError(f"the standby's replay did not pause in {timeout}s")

    def resume_replay(self) -> None:
        self.standby.query("SELECT pg_wal_replay_resume()", "postgres")

    # --- internals -----------------------------------------------------------------------

    def _prepare_for_server_user(self) -> None:
        import pwd

        from pgserver.utils import ensure_prefix_permissions, ensure_user_exists

        ensure_user_exists(SERVER_USER)
        ensure_prefix_permissions(self.root)
        ensure_prefix_permissions(self.bin_dir)
        entry = pwd.getpwnam(SERVER_USER)
        os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.run_as = SERVER_USER

    def _configure(self, server: Server, *, wal_senders: bool) -> None:
        settings = {
            "port": server.port,
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.root}'",
            "max_connections": 40,
            "shared_buffers": "'16MB'",
            "fsync": "off",  # a throwaway cluster: speed over durability
            "full_page_writes": "off",
            "hot_standby": "on",
            "logging_collector": "off",
        }
        if wal_senders:
            settings.update({"wal_level": "replica", "max_wal_senders": 4})
        settings.update(self.server_settings)
        lines = "".join(f"{key} = {value}\n" for key, value in settings.items())
        with (server.data_dir / "postgresql.conf").open("a") as conf:
            conf.write(f"\n# prosaas replica test fixture\n{lines}")

    def _pg_ctl(self, server: Server, action: str, *extra: str) -> None:
        log = self.root / f"{server.name}.log"
        self._run("pg_ctl", "-D", str(server.data_dir), "-l", str(log), "-w",
                  "-t", str(START_TIMEOUT), action, *extra)  # fmt: skip

    def run_client(self, program: str, *args: str) -> None:
        """Runs a client program of the same PostgreSQL version (pg_dump, pg_restore)."""
        self._run(program, *args)

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin_dir / program), *args]
        try:
            subprocess.run(
                command,
                check=True,
                capture_output=True,
                text=True,
                timeout=START_TIMEOUT + 30,
                user=self.run_as,
                cwd=self.root,
                # The children must not inherit a pipe they keep open (pg_ctl's server).
                stdin=subprocess.DEVNULL,
            )
        except subprocess.CalledProcessError as error:
            logs = "".join(
                f"\n--- {log.name}:\n{log.read_text()[-2000:]}" for log in self.root.glob("*.log")
            )
            raise ReplicationUnavailable(
                f"{program} failed ({error.returncode}): {error.stderr.strip()}{logs}"
            ) from None


@contextlib.contextmanager
def replica_pair() -> Iterator[ReplicaPair]:
    pair = ReplicaPair()
    try:
        pair.start()
        yield pair
    finally:
        pair.stop()
