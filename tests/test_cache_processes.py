"""A change committed in one process reaches the caches of the others.

Each worker is a real separate process (tests/cache_worker.py) that reads through the
cache as a server process does. This test process is the writer.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from businesses import cache as cache_module
from businesses.cache import BusinessSettingsCache, get_business_settings_cache
from businesses.models import Business, BusinessSettings
from tests import factories
from tests.conftest import TEST_REDIS_URL

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent
# Bounds for waiting on another process, not expectations: they only stop a broken
# run from hanging. The measured delivery time is in docs/cache.md.
ANSWER_TIMEOUT = 60
INVALIDATION_TIMEOUT = 20


class Worker:
    def __init__(self, **environment: str) -> None:
        settings_dict = connection.settings_dict
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DATABASE_URL", "CACHE_URL", "BUSINESS_SETTINGS"))
        }
        env.update(
            {
                "DEBUG": "true",
                # Any PostgreSQL URL, so that settings do not start the embedded server;
                # WORKER_DATABASE then points the worker at this run's test database.
                "DATABASE_URL": "postgres://unused@127.0.0.1:5432/unused",
                "WORKER_DATABASE": json.dumps(
                    {k: settings_dict[k] for k in ("NAME", "USER", "PASSWORD", "HOST", "PORT")}
                ),
                **environment,
            }
        )
        self.errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by stop())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.cache_worker"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            text=True,
        )
        self.started = self._answer()

    def ask(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._answer()

    def _answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], ANSWER_TIMEOUT)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            self.errors.seek(0)
            raise AssertionError(f"The worker did not answer. Its stderr:\n{self.errors.read()}")
        return json.loads(line)

    def read(self, business: Business) -> dict[str, Any]:
        return self.ask(f"read {business.pk}")

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.errors.close()


@pytest.fixture
def start_worker() -> Iterator[Callable[..., Worker]]:
    workers: list[Worker] = []

    def start(**environment: str) -> Worker:
        worker = Worker(**environment)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def change_language(business: Business, language: str) -> None:
    business_settings = BusinessSettings.objects.get(business=business)
    business_settings.language = language
    business_settings.save()  # autocommit: commits, and PostgreSQL delivers the NOTIFY


def test_local_memory_caches_of_other_processes_drop_a_committed_change(start_worker) -> None:
    business = factories.make_business()
    workers = [start_worker(), start_worker()]
    for worker in workers:
        assert worker.started == {"ready": True, "listening": True, "shared": False}
        assert worker.read(business) == {"language": "en", "hit": False}
        assert worker.read(business) == {"language": "en", "hit": True}

    change_language(business, "he")

    for worker in workers:
        assert worker.ask(f"wait invalidations 1 {INVALIDATION_TIMEOUT}") == {"invalidations": 1}
        assert worker.read(business) == {"language": "he", "hit": False}
        assert worker.read(business) == {"language": "he", "hit": True}


def test_a_clear_reaches_the_local_memory_caches_of_other_processes(start_worker) -> None:
    business = factories.make_business()
    worker = start_worker()
    worker.read(business)
    assert worker.read(business)["hit"] is True

    get_business_settings_cache().clear()  # as manage.py cache_stats --clear does

    # Its first clear was on connecting its listener; this is the second.
    assert worker.ask(f"wait clears 2 {INVALIDATION_TIMEOUT}") == {"clears": 2}
    assert worker.read(business) == {"language": "en", "hit": False}


def test_processes_sharing_redis_see_a_committed_change_on_their_next_read(
    start_worker, redis_alias, monkeypatch
) -> None:
    from django.core.cache import caches

    prefix = caches[redis_alias].key_prefix
    monkeypatch.setattr(
        cache_module,
        "_business_settings_cache",
        BusinessSettingsCache(alias=redis_alias, ttl=600),
    )
    business = factories.make_business()
    worker = start_worker(CACHE_URL=f"{TEST_REDIS_URL}?key_prefix={prefix}")
    assert worker.started == {"ready": True, "listening": False, "shared": True}
    assert worker.read(business) == {"language": "en", "hit": False}
    # The worker's entry is in Redis: this process hits it.
    assert get_business_settings_cache().get(business.pk)[1].language == "en"  # type: ignore[index]

    change_language(business, "he")  # this process's on_commit invalidates it in Redis

    assert worker.read(business) == {"language": "he", "hit": False}
    assert get_business_settings_cache().get(business.pk)[1].language == "he"  # type: ignore[index]
