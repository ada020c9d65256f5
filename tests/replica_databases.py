"""Point Django's ``default`` (and replica aliases) at other servers for a while.

The replica tests need ``default`` to be a primary that has a standby, which the
test run's own server is not (see tests/replica.py). Connections and pools of the
swapped aliases are dropped on the way in and out, so nothing keeps talking to
the previous server: django-db-connection-pool keeps one pool per alias, bound to
the parameters of its first connection.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from typing import Any

from django.db import connections

from tests.replica import Server

DATABASE = "test_replication"


def _drop(aliases: list[str]) -> None:
    from dj_db_conn_pool.core import pool_container

    for alias in aliases:
        if alias in connections.settings:
            with contextlib.suppress(Exception):
                connections[alias].close()
        with contextlib.suppress(AttributeError):
            del connections[alias]
        with pool_container.lock:
            pool = pool_container.pop(alias, None)
        if pool is not None:
            pool.dispose()


def _entry(template: dict[str, Any], server: Server, **extra: Any) -> dict[str, Any]:
    entry = copy.deepcopy(template)
    entry.update({"NAME": DATABASE, "USER": "postgres", "PASSWORD": ""})
    entry.update({"HOST": "127.0.0.1", "PORT": str(server.port)})
    entry.update(extra)
    return entry


@contextlib.contextmanager
def databases_swapped_to(primary: Server, replicas: dict[str, Server]) -> Iterator[None]:
    original = connections.settings
    template = original["default"]
    swapped = dict(original)
    swapped["default"] = _entry(template, primary, TEST={"NAME": DATABASE})
    for alias, server in replicas.items():
        options = {**template.get("OPTIONS", {}), "connect_timeout": 2}
        swapped[alias] = _entry(template, server, OPTIONS=options, TEST={"MIRROR": "default"})
    aliases = ["default", *replicas]
    _drop(aliases)
    connections.settings = swapped
    try:
        yield
    finally:
        _drop(aliases)
        connections.settings = original
