"""Database router: reads go where the request's routing says, writes to the primary.

The decision is made per request (``prosaas.db_routing``); this only applies it, so
outside a request (commands, the shell, migrations, tests without a request) every
query goes to the primary.
"""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Model

from prosaas import db_routing


class ReplicaRouter:
    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        return db_routing.read_alias()

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        # Replicas hold the primary's data: an object read from one may be related
        # to one read from another.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        # A standby is read-only; its schema arrives by replication.
        return db == DEFAULT_DB_ALIAS
