"""The intelligence pages for JSON clients: one query whose rows are the response's bytes.

The reference path loads 50 annotated ``Customer`` instances, runs the serializer over
them and renders the result; this one selects, next to each customer's keyset columns,
the customer already rendered as JSON by PostgreSQL (intelligence/json_rows.py), and
joins those texts into the paginator's envelope. Same query count (one), same tenant
filter (the selector's queryset), same keyset pagination (the paginator's own
``start`` / ``keyset_queryset`` / ``page_from_rows``), same bytes.

It serves a request only when the result is certain to be identical (see
``fast_path_applies``); anything else takes the reference path.
"""

from __future__ import annotations

from typing import Any

from django.db import router
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework.request import Request

from crm.models import Customer
from intelligence import compiled
from intelligence.json_rows import customer_json
from intelligence.selectors import customer_intelligence_list
from prosaas.pagination import KeysetPagination
from prosaas.renderers import ORJSONRenderer, PreRenderedJSON, fast_path_enabled

BODY = "intelligence_json"
# Query parameters that only choose the page, not which customers are listed.
PLAIN_PAGE_PARAMS = frozenset({"ordering", "page_size", "cursor"})
# Stands in for the results list while the envelope is rendered; a NUL never survives
# JSON encoding unescaped, so the encoded marker cannot occur in real data.
_MARKER = "\x00intelligence-rows\x00"


def fast_path_applies(request: Request) -> bool:
    """The JSON can come from PostgreSQL: the fast path is on, the client gets compact
    JSON from our renderer (not the browsable API, not indented) and timestamps are
    rendered in UTC (the SQL formats them so)."""
    renderer = getattr(request, "accepted_renderer", None)
    if not fast_path_enabled() or type(renderer) is not ORJSONRenderer:
        return False
    if renderer.get_indent(getattr(request, "accepted_media_type", None), {}):
        return False
    if renderer.ensure_ascii or not renderer.compact:
        return False
    return timezone.get_current_timezone_name() == "UTC"


def _joined(texts: list[str]) -> bytes:
    body = ",".join(texts).encode()
    if b"\xe2\x80" in body:  # U+2028 / U+2029, escaped as DRF's renderer does
        body = body.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")
    return body


def _page_query(queryset: QuerySet[Customer], paginator: KeysetPagination) -> QuerySet[Any]:
    """``queryset``'s page (keyset order, cursor, limit) as (key columns..., JSON text)."""
    return (
        paginator.keyset_queryset(queryset)
        .annotate(**{BODY: customer_json()})
        .values_list(*paginator.keyset.columns, BODY)
    )


def customer_page_json(*, view: Any, request: Request, ordering: str) -> PreRenderedJSON:
    """The paginated list response: the view's queryset (tenant-scoped, filtered), paged
    by the view's paginator, each customer rendered by PostgreSQL."""
    paginator: KeysetPagination = view.paginator
    fetched = None
    if set(request.query_params) <= PLAIN_PAGE_PARAMS:
        # No filter parameter (so nothing for the filter backend to check or apply):
        # the query's shape is compiled once (intelligence/compiled.py).
        paginator.start(request, Customer.objects.all(), view)  # key columns: model fields

        def build(business: Any, stand_in: KeysetPagination) -> QuerySet[Any]:
            selected = customer_intelligence_list(business=business, ordering=ordering)
            return _page_query(selected, stand_in)

        fetched = compiled.page_rows(
            build=build,
            business=request.business,
            paginator=paginator,
            names=(*paginator.keyset.columns, BODY),
            alias=router.db_for_read(Customer),
            ordering=ordering,
        )
    if fetched is None:
        queryset = view.filter_queryset(view.get_queryset())
        paginator.start(request, queryset, view)
        fetched = list(_page_query(queryset, paginator))
    names = (*paginator.keyset.columns, BODY)
    # Mappings by column name: page_from_rows reads each row's key from them.
    rows = paginator.page_from_rows([dict(zip(names, row, strict=True)) for row in fetched])
    texts = [row[BODY] for row in rows]
    envelope = paginator.get_paginated_response([_MARKER]).data
    rendered = ORJSONRenderer().render(envelope)
    marker = ORJSONRenderer().render([_MARKER])
    return PreRenderedJSON(rendered.replace(marker, b"[" + _joined(texts) + b"]", 1))


def _detail_query(queryset: QuerySet[Customer], customer_id: int) -> QuerySet[Any]:
    return (
        queryset.filter(pk=customer_id)
        .order_by()
        .annotate(**{BODY: customer_json()})
        .values_list(BODY)[:1]
    )


def customer_detail_json(*, business: Any, customer_id: int) -> PreRenderedJSON | None:
    """One customer of ``business`` as the detail response, or None (also for another
    tenant's id: the selector's queryset is the tenant's)."""

    def build(tenant: Any, pk: int) -> QuerySet[Any]:
        return _detail_query(customer_intelligence_list(business=tenant), pk)

    alias = router.db_for_read(Customer)
    rows = compiled.detail_rows(
        build=build, business=business, customer_id=customer_id, alias=alias
    )
    if rows is None:
        rows = list(build(business, customer_id))
    return PreRenderedJSON(_joined([rows[0][0]])) if rows else None
