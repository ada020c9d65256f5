"""Every command in the README's tables runs, as written, in a checkout after ``make run``.

The commands are read from README.md itself, so the test follows the document. A
command's optional parts (``[--check]``) are run one at a time after the bare command.
Placeholders are filled the way a reader would: ``URL`` with a running server,
``KEY`` with the admin's token that ``seed_demo`` (so ``make run``) printed, ``ID``
with a business id; ``http://127.0.0.1:8000`` becomes the test's own server.

Precondition, as after ``make run``: a migrated and seeded database. It is a database
of this test's own, created next to the test database and dropped afterwards.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from tests.subprocess_env import ROOT, command_env, database_url, free_port, write_dotenv

README = ROOT / "README.md"
COMMAND_PREFIXES = ("python manage.py", "curl ", "make ")
# Commands in the tables that cannot run as they stand, and why.
NOT_RUNNABLE = {
    'curl -H "Authorization: Token <key>" …': "a pattern with <key> and … to fill in",
}
DOCUMENTED_SERVER = "http://127.0.0.1:8000"


def table_commands(text: str) -> list[str]:
    """The commands of the README's table rows, in document order.

    A command is a backticked span that opens a cell; one mentioned inside a sentence
    (``with a key printed by `make run` ``) is prose, not a row's command.
    """
    commands = []
    for line in text.splitlines():
        if not line.startswith("|"):
            continue
        for cell in line.strip("|").split(" | "):
            match = re.match(r"\s*`([^`]+)`", cell)
            if match and match.group(1).startswith(COMMAND_PREFIXES):
                commands.append(match.group(1))
    return commands


def expand(command: str) -> list[str]:
    """``cmd [--a] [--b X]`` -> ``cmd``, ``cmd --a``, ``cmd --b X``."""
    options = re.findall(r"\[([^\]]+)\]", command)
    base = re.sub(r"\s*\[[^\]]+\]", "", command).strip()
    return [base] + [f"{base} {option}" for option in options]


def test_the_readme_tables_list_the_operating_commands() -> None:
    commands = table_commands(README.read_text())
    assert "python manage.py migrate" in commands
    assert any(c.startswith("python manage.py db_indexes") for c in commands)
    assert expand("python manage.py x [--a] [--b ID]") == [
        "python manage.py x",
        "python manage.py x --a",
        "python manage.py x --b ID",
    ]
    for command in NOT_RUNNABLE:  # an exclusion must not outlive its command
        assert command in commands


@pytest.fixture
def readme_database() -> Iterator[str]:
    name = f"{connection.settings_dict['NAME']}_readme"
    assert name.startswith("test_")
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(connection.settings_dict, name)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    argv = shlex.split(command)
    if argv[0] == "python":
        argv[0] = sys.executable  # the checkout's virtualenv, as `make run` set it up
    return subprocess.run(
        argv,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def wait_until_serving(base_url: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"runserver exited: {server.stderr.read() if server.stderr else ''}")
        try:
            urllib.request.urlopen(f"{base_url}/health/live", timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail("runserver did not answer within 30 s")


# transaction=True: CREATE DATABASE cannot run inside the test's transaction.
@pytest.mark.django_db(transaction=True)
def test_every_readme_table_command_exits_0(readme_database: str, tmp_path: Path) -> None:
    env = command_env(write_dotenv(tmp_path, readme_database))
    # What `make run` does before serving.
    for step in ("python manage.py migrate --noinput", "python manage.py seed_demo"):
        done = run(step, env)
        assert done.returncode == 0, f"{step}\n{done.stdout}\n{done.stderr}"
    token = re.search(r"^\s+admin\s+([0-9a-f]{40})", done.stdout, re.MULTILINE)
    assert token, f"seed_demo printed no token for the admin:\n{done.stdout}"

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_serving(base_url, server)
        ran = []
        for documented in table_commands(README.read_text()):
            if documented in NOT_RUNNABLE:
                continue
            for command in expand(documented):
                filled = (
                    command.replace("URL", base_url)
                    .replace("KEY", token.group(1))
                    .replace(" ID", " 1")
                    .replace(DOCUMENTED_SERVER, base_url)
                )
                done = run(filled, env)
                assert done.returncode == 0, (
                    f"`{command}` exited {done.returncode}\n{done.stdout}\n{done.stderr}"
                )
                if filled.startswith("curl"):
                    assert '"token"' in done.stdout, done.stdout
                ran.append(command)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert len(ran) >= 10, ran
