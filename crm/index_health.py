"""Are the indexes the models declare present, valid and defined as declared?

The expected set is read from the models (``Meta.indexes`` and the constraints that
are enforced by an index), never from a hand-kept list, so a new index is checked the
moment its model declares it. The expected definition is the one PostgreSQL prints
for the SQL Django generates: that SQL is run against empty temporary copies of the
tables inside a transaction that is rolled back, and ``pg_get_indexdef`` of the result
is compared with ``pg_get_indexdef`` of the real index. So a column order, a
direction, an opclass or a condition that differs is caught, with no parsing of SQL.

Repairs use only concurrent DDL, so writes to the tables go on meanwhile.
Used by ``manage.py db_indexes``; see docs/indexes.md.
"""

from __future__ import annotations

import re
import sysconfig
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection, models, transaction

# PostgreSQL names the temporary indexes of REINDEX CONCURRENTLY <name>_ccnew[N] and
# <name>_ccold[N]; after a failure they are left behind, INVALID.
REINDEX_LEFTOVER = re.compile(r"_cc(new|old)\d*$")
TEMPORARY_SCHEMA = re.compile(r" ON pg_temp(_\d+)?\.")


class Status(StrEnum):
    OK = "ok"
    MISSING = "missing"
    INVALID = "INVALID"
    DIFFERS = "differs"


@dataclass(frozen=True)
class DeclaredIndex:
    """An index a model asks for, and the Django object that generates its SQL."""

    name: str
    table: str
    model: type[models.Model]
    source: str  # e.g. "crm.Lead Meta.indexes"
    declaration: models.Index | models.BaseConstraint

    @property
    def is_meta_index(self) -> bool:
        return isinstance(self.declaration, models.Index)

    def create_sql(self, *, concurrently: bool = False) -> str:
        editor = connection.schema_editor(collect_sql=True)  # builds SQL, runs nothing
        if isinstance(self.declaration, models.Index):
            return str(self.declaration.create_sql(self.model, editor, concurrently=concurrently))
        return str(self.declaration.create_sql(self.model, editor))


@dataclass
class IndexReport:
    name: str
    table: str
    status: Status
    source: str  # where it is declared, or what else it is
    definition: str | None  # pg_get_indexdef of the real index
    expected_definition: str | None
    valid: bool | None
    size_bytes: int | None
    scans: int | None  # pg_stat_user_indexes.idx_scan, since the statistics were reset
    detail: str = ""  # what is wrong, in words

    @property
    def is_problem(self) -> bool:
        return self.status is not Status.OK

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": str(self.status)}


@dataclass(frozen=True)
class _ExpectedIndex:
    definition: str
    is_constraint: bool  # a unique constraint (not merely a unique index) of that name


@dataclass(frozen=True)
class _ActualIndex:
    name: str
    table: str
    schema: str
    definition: str
    valid: bool
    size_bytes: int
    scans: int | None
    primary: bool
    constraint: str | None


def project_models() -> list[type[models.Model]]:
    """The managed models of this project's own apps (not Django's, not installed ones)."""
    base = Path(settings.BASE_DIR).resolve()
    installed = {Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")}
    found = []
    for app in apps.get_app_configs():
        path = Path(app.path).resolve()
        if not path.is_relative_to(base) or any(path.is_relative_to(lib) for lib in installed):
            continue
        found += [
            model for model in app.get_models() if model._meta.managed and not model._meta.proxy
        ]
    return found


def declared_indexes(models_: Iterable[type[models.Model]] | None = None) -> list[DeclaredIndex]:
    declared = []
    for model in models_ if models_ is not None else project_models():
        label, table = model._meta.label, model._meta.db_table
        declared += [
            DeclaredIndex(index.name, table, model, f"{label} Meta.indexes", index)
            for index in model._meta.indexes
        ]
        declared += [
            DeclaredIndex(constraint.name, table, model, f"{label} Meta.constraints", constraint)
            for constraint in model._meta.constraints
            # Check constraints have no index; unique (and exclusion) constraints do.
            if not isinstance(constraint, models.CheckConstraint)
        ]
    return declared


def inspect(models_: Iterable[type[models.Model]] | None = None) -> list[IndexReport]:
    """Every index on the project's tables, and every declared one that is missing."""
    models_ = list(models_ if models_ is not None else project_models())
    declared = declared_indexes(models_)
    actual = {index.name: index for index in _actual_indexes([m._meta.db_table for m in models_])}
    expected = _expected_definitions(declared)
    reports = []
    for wanted in declared:
        found = actual.pop(wanted.name, None)
        status, detail = _compare(found, expected.get(wanted.name))
        reports.append(
            _report(wanted, status, detail, found=found, expected=expected.get(wanted.name))
        )
    for found in actual.values():  # primary keys, field indexes, anything made by hand
        status, detail = (Status.OK, "") if found.valid else (Status.INVALID, "not used by queries")
        reports.append(_report(found, status, detail, found=found, expected=None))
    return sorted(reports, key=lambda report: (report.table, report.name))


def statistics_reset_at() -> str | None:
    """When this database's statistics (and so the scan counts) were last reset."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()"
        )
        row = cursor.fetchone()
    return row[0].isoformat() if row and row[0] else None


def repair_plan(reports: Iterable[IndexReport]) -> list[tuple[str, list[str]]]:
    """The concurrent statements that rebuild each INVALID index, by index name.

    A declared ``Meta.indexes`` entry is dropped and created again from the model, so
    it ends up exactly as declared. A leftover of a failed REINDEX CONCURRENTLY is
    garbage and only dropped. Anything else is rebuilt as it is defined, in place.
    """
    declared = {index.name: index for index in declared_indexes()}
    plan = []
    for report in reports:
        if report.status is not Status.INVALID:
            continue
        name = connection.ops.quote_name(report.name)
        wanted = declared.get(report.name)
        if wanted is not None and wanted.is_meta_index:
            steps = [
                f"DROP INDEX CONCURRENTLY IF EXISTS {name}",
                wanted.create_sql(concurrently=True),
            ]
        elif REINDEX_LEFTOVER.search(report.name):
            steps = [f"DROP INDEX CONCURRENTLY IF EXISTS {name}"]
        else:
            steps = [f"REINDEX INDEX CONCURRENTLY {name}"]
        plan.append((report.name, steps))
    return plan


def run_repair_step(index_name: str, statement: str) -> None:
    """Run one concurrent statement; if a REINDEX fails, drop what it left behind."""
    if connection.in_atomic_block:
        raise RuntimeError("Concurrent index DDL cannot run inside a transaction.")
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    except DatabaseError:
        if statement.startswith("REINDEX"):
            _drop_reindex_leftovers(index_name)
        raise


def _drop_reindex_leftovers(index_name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE NOT i.indisvalid AND c.relname ~ %s",
            [f"^{re.escape(index_name)}_cc(new|old)[0-9]*$"],
        )
        for (leftover,) in cursor.fetchall():
            cursor.execute(
                f"DROP INDEX CONCURRENTLY IF EXISTS {connection.ops.quote_name(leftover)}"
            )


def _compare(found: _ActualIndex | None, expected: _ExpectedIndex | None) -> tuple[Status, str]:
    if found is None:
        return Status.MISSING, "not in the database (migrations not applied, or dropped)"
    if not found.valid:
        return Status.INVALID, "a failed concurrent build: not used by queries, still maintained"
    if expected is None or found.definition != expected.definition:
        return Status.DIFFERS, "defined differently from the model"
    if (found.constraint is not None) != expected.is_constraint:
        return Status.DIFFERS, (
            "a unique index without its constraint"
            if expected.is_constraint
            else "a constraint where the model declares an index"
        )
    return Status.OK, ""


def _report(
    subject: DeclaredIndex | _ActualIndex,
    status: Status,
    detail: str,
    *,
    found: _ActualIndex | None,
    expected: _ExpectedIndex | None,
) -> IndexReport:
    source = subject.source if isinstance(subject, DeclaredIndex) else _undeclared_source(subject)
    return IndexReport(
        name=subject.name,
        table=subject.table,
        status=status,
        source=source,
        definition=found.definition if found else None,
        expected_definition=expected.definition if expected else None,
        valid=found.valid if found else None,
        size_bytes=found.size_bytes if found else None,
        scans=found.scans if found else None,
        detail=detail,
    )


def _undeclared_source(found: _ActualIndex) -> str:
    if found.primary:
        return "primary key"
    if found.constraint:
        return f"constraint {found.constraint} (not in Meta)"
    if REINDEX_LEFTOVER.search(found.name) and not found.valid:
        return "leftover of a failed REINDEX CONCURRENTLY"
    return "not in Meta (a field's index, or made by hand)"


def _actual_indexes(tables: list[str]) -> Iterator[_ActualIndex]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, t.relname, n.nspname, pg_get_indexdef(i.indexrelid),
                   i.indisvalid, pg_relation_size(i.indexrelid), s.idx_scan,
                   i.indisprimary, con.conname
            FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid
            JOIN pg_class t ON t.oid = i.indrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = i.indexrelid
            LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x')
            WHERE t.relname = ANY(%s) AND n.nspname = ANY(current_schemas(false))
            """,
            [tables],
        )
        for row in cursor.fetchall():
            yield _ActualIndex(*row)


def _expected_definitions(declared: list[DeclaredIndex]) -> dict[str, _ExpectedIndex]:
    """``pg_get_indexdef`` of each declared index as Django would create it.

    The SQL runs against empty temporary tables shaped like the real ones; temporary
    tables come first in the search path, so Django's unqualified table names resolve
    to them, and creating indexes on empty tables takes no lock on the real ones.
    Tables that do not exist yet get no expected definition (their indexes are missing).
    """
    if not declared:
        return {}
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.relname, n.nspname FROM pg_class t JOIN pg_namespace n "
            "ON n.oid = t.relnamespace WHERE t.relkind IN ('r', 'p') AND t.relname = ANY(%s) "
            "AND n.nspname = ANY(current_schemas(false))",
            [sorted({index.table for index in declared})],
        )
        schemas = dict(cursor.fetchall())
        for table, schema in schemas.items():
            cursor.execute(
                f"CREATE TEMPORARY TABLE {quote(table)} (LIKE {quote(schema)}.{quote(table)})"
            )
        for index in declared:
            if index.table in schemas:
                cursor.execute(index.create_sql())
        cursor.execute(
            "SELECT c.relname, t.relname, pg_get_indexdef(c.oid), "
            "EXISTS (SELECT FROM pg_constraint con WHERE con.conindid = c.oid) "
            "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_class t ON t.oid = i.indrelid WHERE t.relnamespace = pg_my_temp_schema() "
            # Only the tables made here: a pooled session may hold other temporary tables.
            "AND t.relname = ANY(%s)",
            [sorted(schemas)],
        )
        rows = cursor.fetchall()
        transaction.set_rollback(True)
    # Print each as it reads on the real table: PostgreSQL shows our temporary schema as
    # pg_temp (or pg_temp_N); the real one is shown as an identifier (quoted if need be).
    return {
        name: _ExpectedIndex(
            TEMPORARY_SCHEMA.sub(f" ON {_identifier(schemas[table])}.", definition, count=1),
            is_constraint,
        )
        for name, table, definition, is_constraint in rows
    }


def _identifier(name: str) -> str:
    return name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else connection.ops.quote_name(name)
