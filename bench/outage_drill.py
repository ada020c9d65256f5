"""Outage drill: stop and restart PostgreSQL and Redis under load, count the answers.

    python -m bench.outage_drill [--clients 8] [--outage 5]

It starts everything it acts on itself, so it can be run next to other work: a
PostgreSQL (pgserver, in a temporary directory), a Redis on a free port, and the
demo (migrated and seeded) under gunicorn with the production settings (DEBUG off,
CACHE_URL=redis://...). Client threads send the API's reads and some writes all the
time while the drill goes through these phases:

    warm            both up
    postgres down   the server stopped (pg_ctl stop -m fast): connections refused
    postgres back   restarted: the pooled connections are dead, new ones work
    redis frozen    SIGSTOP: connections accepted, nothing answered
    redis back      SIGCONT
    redis down      the server stopped: connections refused
    redis restarted a new, empty server on the same port

It prints, per phase, the answers by status, and checks what the README promises:
no 500; every 503 is JSON with Retry-After; no traceback and a bounded number of
log lines; every request of the last phase answered 200. Exit status 1 if not.
Timings are printed (the slowest answer per phase), not judged.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Postgres:
    """A PostgreSQL of the drill's own (pgserver), stopped and started with pg_ctl."""

    def __init__(self, data_dir: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver
            from pgserver._commands import pg_ctl

        self._pg_ctl = pg_ctl
        server = pgserver.get_server(data_dir / "postgres", cleanup_mode=None)
        server.psql("CREATE DATABASE prosaas;")
        self.pgdata = server.pgdata
        self.log = server.log
        self.user = server.system_user  # pgserver runs it as its own user under root
        self.socket_dir = str(server.get_postmaster_info().socket_dir)

    @property
    def url(self) -> str:
        return f"postgres://postgres@/prosaas?host={self.socket_dir}"

    def stop(self, mode: str = "fast") -> None:
        # fast: sessions are terminated, then new connections are refused.
        self._pg_ctl(["-w", "-m", mode, "stop"], pgdata=self.pgdata, user=self.user)

    def start(self) -> None:
        self._pg_ctl(
            ["-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.log), "start"],
            pgdata=self.pgdata,
            user=self.user,
        )

    def destroy(self) -> None:
        with contextlib.suppress(Exception):  # already stopped
            self.stop(mode="immediate")


class Redis:
    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.3)

    def freeze(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None:
            self.thaw()
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@dataclass
class Answer:
    phase: str
    status: int
    seconds: float
    json_body: bool
    retry_after: str | None
    code: str | None


@dataclass
class Load:
    """Client threads sending requests until told to stop; every answer recorded."""

    base_url: str
    token: str
    clients: int
    phase: str = "warm"
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, number: int) -> None:
        requests = 0
        while not self._stop.is_set():
            requests += 1
            if requests % 10 == 0:
                phone = f"+1415{number:02d}{requests % 100_000:05d}"
                body = json.dumps({"name": f"Drill {number}-{requests}", "phone_e164": phone})
                self._send("POST", "/api/customers/", body.encode())
                continue
            elif requests % 2:
                self._send("GET", "/api/business/settings/", None)
            else:
                self._send("GET", "/api/intelligence/customers/?page_size=20", None)

    def _send(self, method: str, path: str, body: bytes | None) -> None:
        request = urllib.request.Request(
            self.base_url + path,
            data=body,
            method=method,
            headers={"Authorization": f"Token {self.token}", "Content-Type": "application/json"},
        )
        phase, started = self.phase, time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, headers, content = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, headers, content = error.code, error.headers, error.read()
        except OSError:
            status, headers, content = 0, None, b""  # the server itself did not answer
        seconds = time.monotonic() - started
        is_json = bool(headers) and headers.get("Content-Type", "").startswith("application/json")
        code = None
        if is_json and status >= 500:
            code = json.loads(content).get("code")
        answer = Answer(
            phase,
            status,
            seconds,
            is_json,
            headers.get("Retry-After") if headers else None,
            code,
        )
        with self._lock:
            self.answers.append(answer)

    def __enter__(self) -> Load:
        self._threads = [
            threading.Thread(target=self.run, args=(n,), daemon=True) for n in range(self.clients)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True
    )
    if result.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def wait_for_http(url: str) -> None:
    for _ in range(300):
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--outage", type=float, default=5.0, help="seconds each fault lasts")
    options = parser.parse_args()
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not installed")

    workdir = Path(tempfile.mkdtemp(prefix="prosaas-drill-"))
    postgres, redis = Postgres(workdir), Redis()
    redis.start()
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DB_", "CACHE_"))},
        "DJANGO_SETTINGS_MODULE": "prosaas.settings",
        "DEBUG": "false",
        "SECRET_KEY": "drill-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": postgres.url,
        "CACHE_URL": redis.url,
        "DB_POOL_TIMEOUT": "2",
        "DB_CONNECT_TIMEOUT": "2",
    }
    log_path = workdir / "gunicorn.log"
    gunicorn: subprocess.Popen[bytes] | None = None
    try:
        print(f"Working in {workdir}; migrating and seeding the demo...", flush=True)
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "seed_demo", "-v0", "--allow-production")  # a throwaway database
        token = manage(
            env,
            "shell",
            "-c",
            "from rest_framework.authtoken.models import Token; "
            "print(Token.objects.get(user__username='acme_owner').key)",
        ).splitlines()[-1]
        with log_path.open("wb") as log:
            gunicorn = subprocess.Popen(
                [
                    *(PYTHON, "-m", "gunicorn", "prosaas.wsgi", "--workers", "2"),
                    *("--threads", "4", "--worker-class", "gthread"),
                    *("--bind", f"127.0.0.1:{port}", "--graceful-timeout", "5"),
                ],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for_http(f"http://127.0.0.1:{port}/api/")
        outage = options.outage
        phases: list[tuple[str, float, object]] = [
            ("warm", 2, None),
            ("postgres down", outage, postgres.stop),
            ("postgres back", outage, postgres.start),
            ("redis frozen", outage, redis.freeze),
            ("redis back", 2, redis.thaw),
            ("redis down", outage, redis.stop),
            ("redis restarted", 2, redis.start),
            ("all up", 3, None),
        ]
        log_lines: dict[str, int] = {}
        with Load(f"http://127.0.0.1:{port}", token, options.clients) as load:
            for name, seconds, action in phases:
                lines_before = len(log_path.read_bytes().splitlines())
                load.phase = name
                if callable(action):
                    action()
                time.sleep(seconds)
                log_lines[name] = len(log_path.read_bytes().splitlines()) - lines_before
        return report(load.answers, [p[0] for p in phases], log_lines, log_path)
    finally:
        if gunicorn is not None:
            gunicorn.send_signal(signal.SIGTERM)
            gunicorn.wait(timeout=30)
        redis.stop()
        postgres.destroy()
        shutil.rmtree(workdir / "postgres", ignore_errors=True)


def report(
    answers: list[Answer], phases: list[str], log_lines: dict[str, int], log_path: Path
) -> int:
    problems: list[str] = []
    print(f"\n{'phase':<16} {'answers':>8}  {'by status':<40} {'slowest':>8}  log lines")
    for phase in phases:
        mine = [a for a in answers if a.phase == phase]
        statuses = collections.Counter(a.status for a in mine)
        codes = collections.Counter(a.code for a in mine if a.code)
        by_status = ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))
        if codes:
            by_status += " (" + ", ".join(f"{c} {n}" for c, n in codes.items()) + ")"
        slowest = max((a.seconds for a in mine), default=0.0)
        print(f"{phase:<16} {len(mine):>8}  {by_status:<40} {slowest:>7.2f}s  {log_lines[phase]}")
        if not mine:
            problems.append(f"{phase}: no answer at all")
        for answer in mine:
            if answer.status == 0 or (answer.status >= 500 and answer.status != 503):
                problems.append(f"{phase}: a {answer.status or 'connection failure'}")
            if answer.status == 503 and not (answer.json_body and answer.retry_after):
                problems.append(f"{phase}: a 503 without JSON and Retry-After")
    if [a for a in answers if a.phase == phases[-1] and a.status >= 400]:
        problems.append(f"{phases[-1]}: not every request answered 2xx after the recovery")
    text = log_path.read_text(errors="replace")
    errors = [line for line in text.splitlines() if " ERROR " in line]
    if errors:
        problems.append(f"{len(errors)} ERROR lines in the server log")
    # The tenant caches warn (with a traceback) at most once a minute per cache and
    # process that Redis failed; anything more is a flood.
    print(f"\nServer log: {len(text.splitlines())} lines, {text.count('Traceback')} tracebacks")
    for line in text.splitlines():
        if "prosaas" in line or "businesses" in line:
            print("  " + line[:200])
    for problem in sorted(set(problems)):
        print("PROBLEM:", problem)
    print("OK: no 500, every 503 with Retry-After, full recovery." if not problems else "")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
