"""Migration operations that keep schema changes from queueing in front of all traffic.

A statement that needs a strong lock (``ALTER TABLE``, ``CREATE TRIGGER``) waits behind
any long transaction on the table, and while it waits *every* later query on the table
queues behind it. ``WithLockTimeout`` runs its operations in a transaction of their own
with a short ``lock_timeout``: if the lock is not granted in time the transaction rolls
back, releases its place in the queue, and tries again after a growing pause. The
migration using it must be ``atomic = False`` so that each attempt is its own
transaction (a failed statement aborts the whole surrounding transaction otherwise).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, transaction
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

logger = logging.getLogger("prosaas.migrations")

# SQLSTATE of "could not obtain lock" (lock_timeout expired).
LOCK_NOT_AVAILABLE = "55P03"


def is_lock_timeout(error: BaseException) -> bool:
    cause = error.__cause__ or error
    return getattr(cause, "pgcode", None) == LOCK_NOT_AVAILABLE


class WithLockTimeout(Operation):
    """Run ``operations`` under ``SET LOCAL lock_timeout``, retrying with backoff.

    Each attempt is one transaction: the inner operations and the SQL they defer (for
    example a foreign key's constraint) commit together or not at all. After
    ``attempts`` failures the last lock timeout is raised and nothing is changed.
    """

    reversible = True
    reduces_to_sql = True
    atomic = False

    def __init__(
        self,
        operations: Sequence[Operation],
        *,
        lock_timeout_ms: int = 500,
        attempts: int = 20,
        first_pause: float = 0.5,
        max_pause: float = 5.0,
    ) -> None:
        if lock_timeout_ms <= 0 or attempts < 1 or first_pause < 0:
            raise ValueError("lock_timeout_ms and attempts must be positive.")
        self.operations = list(operations)
        self.lock_timeout_ms = lock_timeout_ms
        self.attempts = attempts
        self.first_pause = first_pause
        self.max_pause = max_pause

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (
            f"{self.__class__.__module__}.{self.__class__.__qualname__}",
            [self.operations],
            {
                "lock_timeout_ms": self.lock_timeout_ms,
                "attempts": self.attempts,
                "first_pause": self.first_pause,
                "max_pause": self.max_pause,
            },
        )

    def describe(self) -> str:
        inner = "; ".join(operation.describe() for operation in self.operations)
        return f"With lock_timeout {self.lock_timeout_ms} ms and retries: {inner}"

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        for operation in self.operations:
            operation.state_forwards(app_label, state)

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        def apply() -> None:
            state = from_state
            for operation in self.operations:
                after = state.clone()
                operation.state_forwards(app_label, after)
                operation.database_forwards(app_label, schema_editor, state, after)
                state = after

        self._run(schema_editor, apply)

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        def apply() -> None:
            # The state before each operation, computed forwards from the target state
            # (as SeparateDatabaseAndState does), then the operations undone in reverse.
            before: list[ProjectState] = []
            state = to_state
            for operation in self.operations:
                before.append(state)
                state = state.clone()
                operation.state_forwards(app_label, state)
            for operation, earlier in zip(reversed(self.operations), reversed(before), strict=True):
                operation.database_backwards(app_label, schema_editor, state, earlier)
                state = earlier

        self._run(schema_editor, apply)

    def _run(self, schema_editor: BaseDatabaseSchemaEditor, apply: Any) -> None:
        setting = f"SET LOCAL lock_timeout = '{int(self.lock_timeout_ms)}ms'"
        if schema_editor.collect_sql:  # sqlmigrate: show what one attempt runs
            schema_editor.execute("BEGIN")
            schema_editor.execute(setting)
            apply()
            self._flush_deferred(schema_editor, already=[])
            schema_editor.execute("COMMIT")
            return
        connection = schema_editor.connection
        if connection.in_atomic_block:
            raise ImproperlyConfigured(
                "WithLockTimeout retries in transactions of its own: "
                "its migration needs `atomic = False`."
            )
        pause = self.first_pause
        for attempt in range(1, self.attempts + 1):
            deferred_before = list(schema_editor.deferred_sql)
            try:
                with transaction.atomic(using=connection.alias):
                    schema_editor.execute(setting)
                    apply()
                    self._flush_deferred(schema_editor, already=deferred_before)
                return
            except OperationalError as error:
                schema_editor.deferred_sql[:] = deferred_before
                if not is_lock_timeout(error) or attempt == self.attempts:
                    raise
                logger.warning(
                    "%s: lock not granted within %d ms (attempt %d of %d); retrying in %.1f s",
                    self.describe(),
                    self.lock_timeout_ms,
                    attempt,
                    self.attempts,
                    pause,
                )
                time.sleep(pause)
                pause = min(pause * 2, self.max_pause)

    @staticmethod
    def _flush_deferred(schema_editor: BaseDatabaseSchemaEditor, *, already: list[Any]) -> None:
        """Run, inside this attempt, the SQL the inner operations deferred to the end."""
        mine = [sql for sql in schema_editor.deferred_sql if sql not in already]
        for sql in mine:
            schema_editor.execute(sql)
        schema_editor.deferred_sql[:] = [
            sql for sql in schema_editor.deferred_sql if sql not in mine
        ]
