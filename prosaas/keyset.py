"""Keyset orderings: a total order on (sort columns, id), the key of a row, and the
condition "strictly after this key" that a page starts from.

A page never skips rows by counting (OFFSET): it starts right after the previous
page's boundary row, by comparing every sort column and the id with that row's values.
Because the id ends every ordering, no two rows share a key, so a walk returns each
row exactly once however many rows share a sort value.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

from django.db.models import BooleanField, Expression, F, Field, Model, Q, QuerySet, Value
from django.db.models.expressions import OrderBy
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact, GreaterThan, LessThan

ID = "id"

# The comparison that means "after" for an ascending and a descending column.
_AFTER = {False: ">", True: "<"}
_AFTER_LOOKUP = {False: GreaterThan, True: LessThan}

Key = tuple[Any, ...]


class RowComparison(Expression):
    """``(a, b, c) < (x, y, z)``: PostgreSQL's row-value comparison.

    Compared column by column, left to right, which is exactly "after this key" when
    every column sorts in the same direction. PostgreSQL turns it into an index range
    on an index with these columns in this order (``Index Cond: ROW(a, b) < ROW(...)``)
    and, on an index that holds only a prefix of them, into a bound on that prefix.
    """

    output_field = BooleanField()
    conditional = True

    def __init__(self, lhs: Sequence[Any], op: str, rhs: Sequence[Any]) -> None:
        if op not in ("<", ">") or len(lhs) != len(rhs) or not lhs:
            raise ValueError("A row comparison needs two rows of the same length and < or >.")
        super().__init__()
        self.lhs, self.op, self.rhs = list(lhs), op, list(rhs)

    def get_source_expressions(self) -> list[Any]:
        return [*self.lhs, *self.rhs]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        half = len(exprs) // 2
        self.lhs, self.rhs = list(exprs[:half]), list(exprs[half:])

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        sides, params = [], []
        for row in (self.lhs, self.rhs):
            parts = []
            for expression in row:
                sql, part_params = compiler.compile(expression)
                parts.append(sql)
                params.extend(part_params)
            sides.append(f"({', '.join(parts)})")
        return f"{sides[0]} {self.op} {sides[1]}", params


@dataclass(frozen=True)
class SortKey:
    """One column of a keyset ordering.

    ``name`` is where a row holds the value: a model field or an annotation, read as
    an attribute of a model instance or as a key of a mapping. ``nulls_as`` makes a
    nullable column sortable and comparable: the ordering uses
    ``COALESCE(name, nulls_as)`` (index that expression), and a NULL in a key stands
    for ``nulls_as`` (for example ``-infinity``, so that NULLs sort last descending).
    """

    name: str
    descending: bool = False
    nulls_as: Expression | None = None

    def expression(self) -> Expression:
        column = F(self.name)
        return Coalesce(column, self.nulls_as) if self.nulls_as is not None else column

    def value(self, raw: Any, output_field: Field) -> Expression:
        """The boundary value ``raw`` as an expression of the column's type."""
        if raw is None:
            if self.nulls_as is None:
                raise ValueError(f"{self.name} cannot be NULL in a key.")
            return self.nulls_as
        return Value(raw, output_field=output_field)

    @property
    def label(self) -> str:
        return f"-{self.name}" if self.descending else self.name


@dataclass(frozen=True)
class KeysetOrdering:
    """A total order: the sort keys, then ``id`` in the direction of the last one."""

    keys: tuple[SortKey, ...]
    # Columns PostgreSQL must return for the key to be read off a row (see key_of).
    columns: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        keys = tuple(self.keys)
        if not keys:
            raise ValueError("A keyset ordering needs at least one sort key.")
        if keys[-1].name != ID:
            keys = (*keys, SortKey(ID, descending=keys[-1].descending))
        if [key.name for key in keys].count(ID) != 1:
            raise ValueError("id must come last, once.")
        object.__setattr__(self, "keys", keys)
        object.__setattr__(self, "columns", tuple(key.name for key in keys))

    @classmethod
    def of(cls, *fields: str | SortKey) -> KeysetOrdering:
        """``KeysetOrdering.of("-created_at")`` orders by ``created_at DESC, id DESC``."""
        return cls(
            tuple(
                SortKey(item.lstrip("-"), descending=item.startswith("-"))
                if isinstance(item, str)
                else item
                for item in fields
            )
        )

    @property
    def tag(self) -> str:
        """A name of the ordering, stored in cursors so that one cannot be used with another."""
        return ",".join(key.label for key in self.keys)

    @property
    def uniform(self) -> bool:
        return len({key.descending for key in self.keys}) == 1

    def order_by(self, *, reverse: bool = False) -> list[OrderBy]:
        """ORDER BY terms; ``reverse`` walks backwards (every direction flipped)."""
        return [
            key.expression().desc() if key.descending != reverse else key.expression().asc()
            for key in self.keys
        ]

    def key_of(self, row: Model | Mapping[str, Any] | Sequence[Any]) -> Key:
        """The key of ``row``: a model instance, a mapping by column name, or a sequence
        of the values in ``columns`` order (for rows fetched with ``values_list``)."""
        if isinstance(row, Model):
            return tuple(getattr(row, name) for name in self.columns)
        if isinstance(row, Mapping):
            return tuple(row[name] for name in self.columns)
        values = tuple(row)
        if len(values) != len(self.columns):
            raise ValueError(f"A key has {len(self.columns)} values, got {len(values)}.")
        return values

    def after(self, key: Key, fields: Sequence[Field], *, reverse: bool = False) -> Expression | Q:
        """The condition "strictly after ``key``" in this order (before it if ``reverse``).

        When every column sorts the same way this is one row comparison, which an index
        on the same columns turns into a range. Mixed directions take the expanded form
        ``a > x OR (a = x AND b < y) OR ...``.
        """
        columns = [key_.expression() for key_ in self.keys]
        values = [
            sort_key.value(raw, output_field)
            for sort_key, raw, output_field in zip(self.keys, key, fields, strict=True)
        ]
        if self.uniform:
            return RowComparison(columns, _AFTER[self.keys[0].descending != reverse], values)
        branches = []
        for position, sort_key in enumerate(self.keys):
            equal = [Exact(columns[i], values[i]) for i in range(position)]
            after = _AFTER_LOOKUP[sort_key.descending != reverse](
                columns[position], values[position]
            )
            branches.append(Q(*equal, after))
        return reduce(operator.or_, branches)


def key_fields(queryset: QuerySet[Any], ordering: KeysetOrdering) -> list[Field]:
    """The field that holds each column of ``ordering`` in ``queryset``'s rows."""
    return [_field(queryset, name) for name in ordering.columns]


def _field(queryset: QuerySet[Any], name: str) -> Field:
    annotation = queryset.query.annotations.get(name)
    if annotation is not None:
        return annotation.output_field
    return queryset.model._meta.get_field(name)
