"""The intelligence queries' plans at realistic, skewed volume, with default planner settings.

Thousands of customers, leads, calls and messages, one customer with far more rows than
the rest, ANALYZEd. Then EXPLAIN (ANALYZE, FORMAT JSON) must show, for every ordering:
the customers read from the ordering's index with no sort; each latest row an index scan
under a Limit that stops after one row; each count an index(-only) scan; and no table of
leads, calls or messages scanned sequentially.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from crm.activity import recompute_sort_keys
from intelligence.ordering import ORDERINGS
from intelligence.selectors import customer_intelligence_list
from prosaas import cursors
from prosaas.cursors import KeysetCursor
from prosaas.pagination import KeysetPagination

pytestmark = pytest.mark.django_db

ACTIVITY_TABLES = ("leads", "call_log", "whatsapp_message")
CUSTOMER_INDEX = {
    "-created_at": "idx_customer_business_created",
    "name": "idx_customer_business_name",
    "-leads_count": "idx_customer_business_leads_count",
    "-last_interaction": "idx_customer_business_last_interaction",
}

VOLUME_SQL = """
WITH new_customers AS (
    INSERT INTO customer (business_id, name, phone_e164, email, source, notes, created_at,
                          updated_at, sort_leads_count)
    SELECT %(tenant)s, 'Customer ' || (g %% 400), '+1404' || lpad(g::text, 7, '0'), '',
           'call', '', now() - g * interval '1 minute', now(), 0
    FROM generate_series(1, %(customers)s) AS g
    RETURNING id
)
SELECT min(id), max(id) FROM new_customers
"""
# Rows spread with a heavy skew (random()^3 favours the first customers), plus a block
# for one customer with far more rows than any other.
ROWS_SQL = {
    "leads": """
        INSERT INTO leads (tenant_id, customer_id, name, phone_e164, email, source, status,
                           notes, created_at, updated_at)
        SELECT %(tenant)s, CASE WHEN g <= %(heavy_rows)s THEN %(heavy)s
                                ELSE %(first)s + floor(%(span)s * random() ^ 3)::bigint END,
               '', '', '', 'call', 'new', '', now() - g * interval '1 second', now()
        FROM generate_series(1, %(rows)s) AS g
    """,
    "call_log": """
        INSERT INTO call_log (business_id, customer_id, call_sid, from_number, to_number,
                              direction, status, duration, summary, transcript,
                              recording_url, created_at, updated_at)
        SELECT %(tenant)s, CASE WHEN g <= %(heavy_rows)s THEN %(heavy)s
                                ELSE %(first)s + floor(%(span)s * random() ^ 3)::bigint END,
               'CAplan' || %(tenant)s || '-' || g, '+14040000000', '+14049999999', 'inbound', 'completed', 60,
               '', '', '', now() - g * interval '1 second', now()
        FROM generate_series(1, %(rows)s) AS g
    """,
    "whatsapp_message": """
        INSERT INTO whatsapp_message (business_id, customer_id, provider_message_id,
                                      to_number, direction, status, body, ai_generated,
                                      created_at)
        SELECT %(tenant)s, CASE WHEN g <= %(heavy_rows)s THEN %(heavy)s
                                ELSE %(first)s + floor(%(span)s * random() ^ 3)::bigint END,
               'wamid.plan.' || g, '+14040000000', 'inbound', 'received', 'Hi', false,
               now() - g * interval '1 second'
        FROM generate_series(1, %(rows)s) AS g
    """,
}


@pytest.fixture
def skewed_volume(business_a, business_b) -> None:
    with connection.cursor() as cursor:
        for tenant, customers, rows, heavy_rows in (
            (business_a.pk, 3000, 12000, 6000),
            (business_b.pk, 1000, 4000, 0),
        ):
            cursor.execute(VOLUME_SQL, {"tenant": tenant, "customers": customers})
            first, last = cursor.fetchone()
            for table in ACTIVITY_TABLES:
                cursor.execute(
                    ROWS_SQL[table],
                    {
                        "tenant": tenant,
                        "first": first,
                        "span": last - first + 1,
                        "heavy": first + 10,
                        "heavy_rows": heavy_rows,
                        "rows": rows,
                    },
                )
        recompute_sort_keys()
        cursor.execute("ANALYZE customer, leads, call_log, whatsapp_message")


def explain(queryset: QuerySet[Any]) -> dict[str, Any]:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def subplans(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [node for node in nodes(plan) if node.get("Parent Relationship") == "SubPlan"]


def assert_activity_read_through_indexes(plan: dict[str, Any]) -> None:
    for node in nodes(plan):
        assert node["Node Type"] not in {"Seq Scan", "Bitmap Heap Scan", "Sort"}, node

    latest, counts = {}, {}
    for subplan in subplans(plan):
        [scan] = subplan["Plans"]
        table = scan["Relation Name"]
        assert scan["Index Name"] == f"idx_{table}_customer_created"
        if subplan["Node Type"] == "Limit":
            # The latest row: the first entry of the index, then stop.
            assert scan["Node Type"] == "Index Scan"
            assert scan["Actual Rows"] <= 1
            latest[table] = scan
        else:
            assert subplan["Node Type"] == "Aggregate"
            assert scan["Node Type"] in {"Index Only Scan", "Index Scan"}
            counts[table] = scan
    assert set(latest) == set(counts) == set(ACTIVITY_TABLES)


def test_each_ordering_reads_its_pages_through_indexes_only(
    skewed_volume, business_a, subtests
) -> None:
    # One volume for every ordering (building it is most of this module's time).
    for ordering, index in CUSTOMER_INDEX.items():
        with subtests.test(ordering=ordering):
            queryset = customer_intelligence_list(business=business_a, ordering=ordering)
            plan = explain(queryset[:51])
            assert plan["Node Type"] == "Limit"
            [outer] = plan["Plans"]
            assert (outer["Node Type"], outer["Index Name"]) == ("Index Scan", index)
            assert outer["Actual Rows"] == 51  # stopped at the page, not the tenant's 3000
            assert_activity_read_through_indexes(plan)


def page_after(queryset: QuerySet[Any], ordering: str, key: tuple[Any, ...]) -> QuerySet[Any]:
    """The page query the list runs for a cursor just after the row whose key is ``key``."""
    paginator = KeysetPagination()
    paginator.ordering = ORDERINGS[ordering]
    cursor = cursors.encode(KeysetCursor(key=key), ORDERINGS[ordering])
    paginator.start(Request(APIRequestFactory().get("/", {"cursor": cursor})), queryset)
    return paginator.keyset_queryset(queryset)


def test_a_later_page_starts_inside_its_index(skewed_volume, business_a, subtests) -> None:
    for ordering, index in CUSTOMER_INDEX.items():
        queryset = customer_intelligence_list(business=business_a, ordering=ordering)
        first_page = list(queryset.values(*ORDERINGS[ordering].columns)[:50])
        # After page one; and, for the activity orderings, inside the big tie at the
        # end (no leads / never active: the "-infinity" key), where most customers are.
        keys = [ORDERINGS[ordering].key_of(first_page[-1])]
        if ordering == "-leads_count":
            keys.append((0, 2**62))
        if ordering == "-last_interaction":
            keys.append((None, 2**62))
        for key in keys:
            with subtests.test(ordering=ordering, key=key):
                plan = explain(page_after(queryset, ordering, key))
                [outer] = plan["Plans"]
                assert outer["Index Name"] == index
                # The whole (sort key, id) comparison bounds the index scan: it starts
                # right after the previous page and filters nothing out.
                assert "ROW(" in outer["Index Cond"] and "Filter" not in outer, outer
                assert outer["Actual Rows"] == 51


def test_the_heavy_customers_detail_still_reads_one_row_per_latest_item(
    skewed_volume, business_a
) -> None:
    queryset = customer_intelligence_list(business=business_a).order_by()
    heavy = queryset.order_by("-leads_count")[0]
    assert heavy.leads_count > 6000 and heavy.calls_count > 6000
    plan = explain(queryset.filter(pk=heavy.pk))
    assert plan["Index Name"] == "customer_pkey"
    assert_activity_read_through_indexes(plan)
