"""The intelligence page query, compiled by the ORM once per shape and reused.

Building the annotated queryset and compiling it to SQL cost more than executing it
(docs/performance.md), yet from one request to the next only the tenant, the cursor's
key and the limit change. A *shape* is everything that changes the SQL text: the
database alias, the ordering, the direction and presence of a cursor (and which of
its values are NULL, which compile to an expression rather than a parameter), the
page size (Django inlines LIMIT). For each shape the ORM builds and compiles the very
queryset the reference path would, once, with placeholder values of the right types
in the parameter slots; later requests execute that SQL with their own values.

Only pages without filters use it: ``source`` and ``search`` go through the
FilterSet's validation and phone parsing, which a placeholder cannot; such pages are
compiled per request as before. If a placeholder cannot be found exactly once among
the compiled parameters, or the selected columns would need a converter, the shape is
marked uncacheable and served the ordinary way: a cache that might be wrong is never
used.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connections
from django.db.models import Field, QuerySet

from businesses.models import Business
from crm.models import Customer
from prosaas.cursors import KeysetCursor
from prosaas.keyset import key_fields
from prosaas.pagination import KeysetPagination

_INT_PLACEHOLDER = 8_765_432_109_876_543_000
_TIME_PLACEHOLDER = datetime(1111, 11, 11, 11, 11, 11, tzinfo=UTC)
_MAX_SHAPES = 512  # orderings x directions x page sizes x aliases stay far below


@dataclass(frozen=True)
class CompiledPage:
    sql: str
    # Per parameter: the index of the request value it takes (0: the tenant id, 1..: the
    # cursor's key values), or None for a constant compiled into the shape.
    slots: tuple[int | None, ...]
    constants: tuple[Any, ...]
    key_fields: tuple[Field, ...]


_shapes: dict[tuple[Any, ...], CompiledPage | None] = {}
_lock = threading.Lock()


def _placeholder(field: Field, position: int) -> Any:
    internal = field.get_internal_type()
    if internal in {"DateTimeField"}:
        return _TIME_PLACEHOLDER + timedelta(microseconds=position)
    if internal in {"CharField", "TextField", "EmailField", "SlugField"}:
        return f"\x01placeholder-{position}\x01"
    if internal in {"BigAutoField", "AutoField", "IntegerField", "BigIntegerField",
                    "PositiveIntegerField", "SmallIntegerField"}:  # fmt: skip
        return _INT_PLACEHOLDER + position
    raise TypeError(internal)


def page_rows(
    *,
    build: Any,
    business: Business,
    paginator: KeysetPagination,
    names: tuple[str, ...],
    alias: str,
    ordering: str,
) -> list[tuple[Any, ...]] | None:
    """The page's rows (``names`` columns) from the compiled shape; None: not cacheable.

    ``build(business, paginator)`` returns the values_list queryset the reference
    would run for that tenant and paginator state; it is called only to compile.
    """
    cursor = paginator.cursor
    key = (
        alias,
        ordering,
        paginator.page_size,
        None if cursor is None else (cursor.reverse, tuple(v is None for v in cursor.key)),
    )
    compiled = _shapes.get(key, False)
    if compiled is False:
        with _lock:
            compiled = _shapes.get(key, False)
            if compiled is False:
                compiled = _compile(build, paginator, names, alias)
                if len(_shapes) < _MAX_SHAPES:
                    _shapes[key] = compiled
    if compiled is None:
        return None
    connection = connections[alias]
    values: list[Any] = [business.pk]
    if cursor is not None:
        values += [
            None if raw is None else field.get_db_prep_value(raw, connection)
            for raw, field in zip(cursor.key, compiled.key_fields, strict=True)
        ]
    return _execute(compiled, values, alias)


def _compile(
    build: Any, paginator: KeysetPagination, names: tuple[str, ...], alias: str
) -> CompiledPage | None:
    fields = key_fields(Customer.objects.all(), paginator.keyset)
    stand_in = copy.copy(paginator)
    placeholders: list[Any] = [_INT_PLACEHOLDER - 1]  # the tenant id
    if paginator.cursor is not None:
        try:
            cursor_values = [
                None if raw is None else _placeholder(field, i)
                for i, (raw, field) in enumerate(zip(paginator.cursor.key, fields, strict=True))
            ]
        except TypeError:
            return None
        stand_in.cursor = KeysetCursor(key=tuple(cursor_values), reverse=paginator.cursor.reverse)
        placeholders += cursor_values
    queryset: QuerySet[Any] = build(Business(pk=placeholders[0]), stand_in)
    if len(queryset.query.values_select) + len(queryset.query.annotation_select) != len(names):
        return None
    return _with_slots(queryset, placeholders, alias, tuple(fields))


def _with_slots(
    queryset: QuerySet[Any], placeholders: list[Any], alias: str, fields: tuple[Field, ...] = ()
) -> CompiledPage | None:
    """Compile ``queryset`` and map each placeholder to its one parameter position."""
    compiler = queryset.query.get_compiler(alias)
    sql, params = compiler.as_sql()
    if any(compiler.get_converters([col for col, _sql, _alias in compiler.select])):
        return None
    slots: list[int | None] = []
    constants: list[Any] = []
    for param in params:
        matches = [
            i
            for i, p in enumerate(placeholders)
            if p is not None and type(p) is type(param) and p == param
        ]
        slots.append(matches[0] if matches else None)
        constants.append(None if matches else param)
    wanted = [i for i, p in enumerate(placeholders) if p is not None]
    if sorted(s for s in slots if s is not None) != wanted:
        return None  # a placeholder missing or repeated: do not guess
    return CompiledPage(sql=sql, slots=tuple(slots), constants=tuple(constants), key_fields=fields)


def _execute(compiled: CompiledPage, values: list[Any], alias: str) -> list[tuple[Any, ...]]:
    params = [
        compiled.constants[i] if slot is None else values[slot]
        for i, slot in enumerate(compiled.slots)
    ]
    with connections[alias].cursor() as db_cursor:
        db_cursor.execute(compiled.sql, params)
        return db_cursor.fetchall()


def detail_rows(
    *, build: Any, business: Business, customer_id: int, alias: str
) -> list[tuple[Any, ...]] | None:
    """The detail query's rows from its compiled shape (one per alias); None: not
    cacheable. ``build(business, customer_id)`` returns the reference's queryset."""
    key = ("detail", alias)
    compiled = _shapes.get(key, False)
    if compiled is False:
        with _lock:
            compiled = _shapes.get(key, False)
            if compiled is False:
                tenant, customer = _INT_PLACEHOLDER - 1, _INT_PLACEHOLDER - 2
                compiled = _with_slots(
                    build(Business(pk=tenant), customer), [tenant, customer], alias
                )
                _shapes[key] = compiled
    if compiled is None:
        return None
    return _execute(compiled, [business.pk, customer_id], alias)
