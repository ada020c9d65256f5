"""The intelligence customer as JSON text built by PostgreSQL, exactly as the API writes it.

The fast path (intelligence/fast.py) selects one ``text`` column per customer that is
already the bytes DRF would render for it: the same keys in the same order, compact
separators, the same escaping, ``null`` where the serializer writes ``None`` and every
timestamp in DRF's format (UTC, ``Z``, microseconds only when non-zero). The reference
is ``CustomerIntelligenceSerializer`` + DRF's ``JSONRenderer``; the property tests in
tests/test_intelligence_fast_path.py hold the two to byte equality.

Why ``row_to_json`` over a column-aliased sub-select and not ``json_build_object``
(Django's ``JSONObject``): PostgreSQL writes ``json_build_object`` as ``{"a" : 1, "b" :
2}`` and ``json_agg`` with ``", "``, while ``row_to_json`` and ``array_to_json`` write
the compact form DRF does. The ORM has no expression for them, so the two small
expression classes below supply the templates; everything inside them (columns, the
per-channel latest-row subqueries with their tenant checks, the counts) is compiled
by the ORM from the same building blocks as the reference path.

The one difference PostgreSQL cannot take care of: DRF escapes U+2028/U+2029 after
encoding, and so does the caller, on the assembled bytes.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db.models import Expression, F, Func, JSONField, Model, OuterRef, Subquery, TextField

from crm.models import CallLog, Lead, WhatsAppMessage
from intelligence.expressions import (
    DATETIME_FIELDS,
    LAST_CALL_FIELDS,
    LAST_WHATSAPP_FIELDS,
    LATEST_LEAD_FIELDS,
)


class APITimestamp(Func):
    """A timestamptz as DRF's ``DateTimeField`` renders it in UTC: ISO 8601, ``Z``, and
    six fraction digits only when the microseconds are not zero (Python's isoformat)."""

    template = (
        "REPLACE(TO_CHAR(%(expressions)s AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '.000000Z', 'Z')"
    )
    output_field = TextField()


def _compile_all(
    compiler: Any, connection: Any, expressions: list[Expression]
) -> tuple[list[str], list[Any]]:
    parts: list[str] = []
    params: list[Any] = []
    for expression in expressions:
        sql, part_params = compiler.compile(expression)
        parts.append(sql)
        params.extend(part_params)
    return parts, params


class JSONRow(Expression):
    """A JSON object with the given keys in the given order, written compactly.

    ``(SELECT row_to_json(_r) FROM (SELECT <values>) _r("key", ...))``: the column alias
    list names the keys, whatever the value expressions are called.
    """

    output_field = JSONField()

    def __init__(self, **fields: Expression) -> None:
        super().__init__()
        self.names = list(fields)
        self.values: list[Expression] = list(fields.values())

    def get_source_expressions(self) -> list[Expression]:
        return self.values

    def set_source_expressions(self, exprs: list[Expression]) -> None:
        self.values = list(exprs)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        parts, params = _compile_all(compiler, connection, self.values)
        names = ", ".join(connection.ops.quote_name(name) for name in self.names)
        return f"(SELECT row_to_json(_r) FROM (SELECT {', '.join(parts)}) _r({names}))", params


def _api_value(name: str) -> Expression:
    return APITimestamp(F(name)) if name in DATETIME_FIELDS else F(name)


class RowAsJSON(Expression):
    """The single row of a subquery as a JSON object keyed by ``names``, or NULL.

    ``(SELECT row_to_json(_r) FROM (<subquery>) _r("key", ...))``: the subquery (built
    and compiled by the ORM) selects the values in key order; the alias list names them.
    """

    output_field = JSONField()

    def __init__(self, subquery: Subquery, names: list[str]) -> None:
        super().__init__()
        self.subquery = subquery
        self.names = names

    def get_source_expressions(self) -> list[Expression]:
        return [self.subquery]

    def set_source_expressions(self, exprs: list[Expression]) -> None:
        (self.subquery,) = exprs

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.subquery)
        names = ", ".join(connection.ops.quote_name(name) for name in self.names)
        return f"(SELECT row_to_json(_r) FROM {sql} _r({names}))", list(params)


def latest_row_json(model: type[Model], fields: Collection[str]) -> RowAsJSON:
    """The outer customer's newest row of ``model`` (ties: higher id) as API JSON, or NULL.

    The same subquery as ``intelligence.expressions.latest_row`` (one index entry of
    idx_*_customer_created, the tenant checked on the heap row), rendering the row's
    fields as the API does.
    """
    names = list(fields)
    rows = (
        model.objects.filter(customer=OuterRef("pk"), business=OuterRef("business_id"))
        .order_by("-created_at", "-id")
        .values(**{f"_{name}": _api_value(name) for name in names})[:1]
    )
    return RowAsJSON(Subquery(rows), names)


# Keys of the customer object, in the API's order (CustomerIntelligenceSerializer).
CUSTOMER_KEYS = (
    "id",
    "name",
    "phone_e164",
    "email",
    "source",
    "created_at",
    "leads_count",
    "calls_count",
    "whatsapp_count",
    "last_interaction",
    "latest_lead",
    "last_call",
    "recent_activity",
)


class CustomerJSON(Expression):
    """The whole intelligence customer, as the API renders it, in one text column.

    The three latest rows are read once each (a FROM-less sub-select holds them) and
    reused for ``recent_activity``: up to three items, newest first, equal times in the
    order lead, call, WhatsApp (as intelligence.timeline does); ``last_interaction`` is
    the first item's timestamp. Each item's time is parsed back from the rendered
    timestamp, which is exact (microseconds, UTC).
    """

    output_field = TextField()
    channels = ("lead", "call", "whatsapp")

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[Expression] = [
            F("id"),
            F("name"),
            F("phone_e164"),
            F("email"),
            F("source"),
            APITimestamp(F("created_at")),
            # The counts the triggers keep on the customer row (crm/triggers.py): a column
            # read instead of a count of the customer's index entries, which for a
            # customer with 200,000 calls was most of the page. The reference path
            # (intelligence/expressions.py) counts the rows; the property tests hold
            # the two equal.
            F("sort_leads_count"),
            F("stored_calls_count"),
            F("stored_whatsapp_count"),
            latest_row_json(Lead, LATEST_LEAD_FIELDS),
            latest_row_json(CallLog, LAST_CALL_FIELDS),
            latest_row_json(WhatsAppMessage, LAST_WHATSAPP_FIELDS),
        ]

    def get_source_expressions(self) -> list[Expression]:
        return self.sources

    def set_source_expressions(self, exprs: list[Expression]) -> None:
        self.sources = list(exprs)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        parts, params = _compile_all(compiler, connection, self.sources)
        own, (lead, call, whatsapp) = parts[:9], parts[9:]
        q = connection.ops.quote_name
        item_keys = ", ".join(q(k) for k in ("type", "id", "status", "timestamp"))
        activity = (
            "SELECT COALESCE(array_to_json(array_agg(_i.item ORDER BY _i.at DESC, _i.k)), "
            "'[]'::json) AS items FROM ("
            "SELECT _v.k, (_v.j ->> 'created_at')::timestamptz AS at, "
            "(SELECT row_to_json(_t) FROM (SELECT _v.kind, (_v.j ->> 'id')::bigint, "
            f"_v.j ->> 'status', _v.j ->> 'created_at') _t({item_keys})) AS item "
            "FROM (VALUES (0, 'lead', _l.lead), (1, 'call', _l.call), "
            "(2, 'whatsapp', _l.whatsapp)) _v(k, kind, j) WHERE _v.j IS NOT NULL) _i"
        )
        values = [*own, "_a.items -> 0 -> 'timestamp'", "_l.lead", "_l.call", "_a.items"]
        names = ", ".join(q(k) for k in CUSTOMER_KEYS)
        sql = (
            f"(SELECT row_to_json(_c)::text FROM (SELECT {', '.join(values)} "
            # OFFSET 0 keeps PostgreSQL from inlining _l, which would run each latest-row
            # subquery once per reference instead of once.
            f"FROM (SELECT {lead} AS lead, {call} AS call, {whatsapp} AS whatsapp OFFSET 0) _l "
            f"CROSS JOIN LATERAL ({activity}) _a) _c({names}))"
        )
        return sql, params


def customer_json() -> Expression:
    """The expression to select (as text) next to a customer queryset's own columns."""
    return CustomerJSON()
