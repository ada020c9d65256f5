"""The tenant statistics come from counters that the database's triggers keep exact.

Every write path (ORM, bulk_create, update(), raw SQL, deletes, time-zone changes) is
mixed at random and the endpoint is compared with a full recount of the rows
(``tenant_stats_from_rows``, the definition). "Today" is checked for zones with :30
and :45 offsets, on a DST change, and after the business changes its time zone.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from businesses.cache import get_business_settings_cache
from businesses.models import Business, BusinessSettings
from crm import stats_counters, triggers
from crm.activity import find_drift
from crm.models import CallLog, Customer, Lead, Source, WhatsAppMessage
from intelligence import selectors
from intelligence.selectors import tenant_stats, tenant_stats_from_rows
from tests import factories

pytestmark = pytest.mark.django_db

STATS = "/api/intelligence/stats/"
# 23:10 UTC on 26 March 2026: already 27 March (the 23-hour DST day) in Jerusalem, still
# the 26th in London, 04:40 on the 27th in Kolkata (+5:30), 04:55 in Kathmandu (+5:45).
NOW = datetime(2026, 3, 26, 23, 10, tzinfo=UTC)
ZONES = [
    "Asia/Jerusalem",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Australia/Lord_Howe",
    "UTC",
]
# Offsets from NOW in minutes: around every zone's midnight, and days away.
MINUTES = [-2900, -1440, -340, -325, -70, -55, -40, -25, -10, -1, 0, 20, 50, 65, 300, 1500]


def raw(sql: str, params: list[object] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def at(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def set_time_zone(business: Business, zone: str) -> Business:
    BusinessSettings.objects.filter(business=business).update(time_zone=zone)
    # Inside the test's transaction the cache's after-commit invalidation never runs.
    get_business_settings_cache().clear_here()
    return Business.objects.select_related("settings").get(pk=business.pk)


# --- Random mixes of writes -----------------------------------------------------------

minutes = st.sampled_from(MINUTES)
maybe_customer = st.one_of(st.none(), st.integers(0, 5))
operations = st.one_of(
    st.tuples(st.just("customer"), minutes),
    st.tuples(
        st.just("leads_bulk"),
        st.lists(
            st.tuples(
                maybe_customer,
                st.sampled_from([Source.CALL, Source.WHATSAPP, Source.WEB]),
                st.sampled_from(Lead.Status.values),
                minutes,
            ),
            min_size=1,
            max_size=4,
        ),
    ),
    st.tuples(st.just("call"), maybe_customer, st.booleans(), minutes),
    st.tuples(
        st.just("whatsapp_bulk"),
        st.lists(st.tuples(maybe_customer, st.booleans(), minutes), min_size=1, max_size=3),
    ),
    st.tuples(
        st.just("raw_lead_update"),
        st.integers(0, 20),
        st.sampled_from(["status", "source", "customer", "created_at"]),
        st.integers(0, 100),
    ),
    st.tuples(st.just("raw_delete"), st.sampled_from(["leads", "call_log"]), st.integers(0, 20)),
    st.tuples(st.just("calls_update"), st.booleans()),
    st.tuples(st.just("delete_customer"), st.integers(0, 5)),
    st.tuples(st.just("time_zone"), st.sampled_from(ZONES)),
)


def apply(business: Business, operation: tuple) -> Business:
    kind = operation[0]
    customers = list(Customer.objects.filter(business=business).order_by("pk"))

    def customer(index: int | None) -> Customer | None:
        return customers[index % len(customers)] if customers and index is not None else None

    if kind == "customer":
        factories.make_customer(business, created_at=at(operation[1]))
    elif kind == "leads_bulk":
        Lead.objects.bulk_create(
            Lead(
                business=business,
                customer=customer(index),
                source=source,
                status=status,
                created_at=at(offset),
            )
            for index, source, status, offset in operation[1]
        )
    elif kind == "call":
        _, index, summarised, offset = operation
        factories.make_call(
            business,
            customer(index),
            summary="Summary." if summarised else "",
            created_at=at(offset),
        )
    elif kind == "whatsapp_bulk":
        WhatsAppMessage.objects.bulk_create(
            WhatsAppMessage(
                business=business,
                customer=customer(index),
                provider_message_id=f"wamid.p{factories.next_number()}",
                to_number="+14155550000",
                direction=WhatsAppMessage.Direction.INBOUND,
                status=WhatsAppMessage.Status.RECEIVED,
                ai_generated=ai,
                created_at=at(offset),
            )
            for index, ai, offset in operation[1]
        )
    elif kind == "raw_lead_update":
        _, index, column, choice = operation
        leads = list(Lead.objects.filter(business=business).order_by("pk").values_list("pk"))
        if leads:
            value: object = {
                "status": Lead.Status.values[choice % len(Lead.Status.values)],
                "source": [Source.CALL, Source.WHATSAPP, Source.WEB][choice % 3],
                "customer": customer(choice).pk if customer(choice) else None,
                "created_at": at(MINUTES[choice % len(MINUTES)]),
            }[column]
            target = "customer_id" if column == "customer" else column
            raw(
                f"UPDATE leads SET {target} = %s WHERE id = %s",
                [value, leads[index % len(leads)][0]],
            )
    elif kind == "raw_delete":
        _, table, index = operation
        column = "tenant_id" if table == "leads" else "business_id"
        raw(
            f"DELETE FROM {table} WHERE id = (SELECT id FROM {table} WHERE {column} = %s"
            " ORDER BY id OFFSET %s LIMIT 1)",
            [business.pk, index % 5],
        )
    elif kind == "calls_update":
        CallLog.objects.filter(business=business, created_at__lt=NOW).update(
            summary="Later summary." if operation[1] else ""
        )
    elif kind == "delete_customer":
        if customers:
            customer(operation[1]).delete()
    elif kind == "time_zone":
        business = set_time_zone(business, operation[1])
    return business


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(operations, min_size=1, max_size=12), zone=st.sampled_from(ZONES))
def test_the_endpoint_matches_a_full_recount_after_any_mix_of_writes(
    api_client_for, owner_a, business_a, business_b, steps, zone
) -> None:
    # The tenants and the user come from fixtures (hashing a password per example would
    # cost more than the example); each example's writes are rolled back.
    client = api_client_for(owner_a)
    with transaction.atomic():
        business, other = set_time_zone(business_a, zone), business_b
        factories.make_lead(other, factories.make_customer(other), created_at=NOW)
        for step in steps:
            business = apply(business, step)

        # "Today" at a fixed moment near a DST change, and at the real clock via the API.
        assert tenant_stats(business=business, now=NOW) == tenant_stats_from_rows(
            business=business, now=NOW
        )
        response = client.get(STATS)
        assert response.status_code == 200
        assert response.json() == dataclasses.asdict(tenant_stats_from_rows(business=business))
        assert find_drift() == []
        assert not stats_counters.find_stats_drift(business_id=business.pk)
        assert tenant_stats(business=other, now=NOW) == tenant_stats_from_rows(
            business=other, now=NOW
        )
        transaction.set_rollback(True)
    get_business_settings_cache().clear_here()


# --- "Today" in the business's time zone ----------------------------------------------


@pytest.mark.parametrize(
    ("zone", "inside", "outside"),
    [
        # Kolkata (+5:30): local midnight of the 27th is 18:30 UTC on the 26th.
        ("Asia/Kolkata", datetime(2026, 3, 26, 18, 30, tzinfo=UTC), at(-281)),
        # Kathmandu (+5:45): local midnight is 18:15 UTC.
        ("Asia/Kathmandu", datetime(2026, 3, 26, 18, 15, tzinfo=UTC), at(-296)),
        # Jerusalem on its 23-hour day: midnight is 22:00 UTC (still +2 then).
        ("Asia/Jerusalem", datetime(2026, 3, 26, 22, 0, tzinfo=UTC), at(-71)),
        # St John's (-2:30 in DST): the 26th started at 02:30 UTC.
        ("America/St_Johns", datetime(2026, 3, 26, 2, 30, tzinfo=UTC), at(-1241)),
    ],
)
def test_today_is_exact_at_half_and_quarter_hour_offsets_and_dst(
    business_a, zone, inside, outside
) -> None:
    business = set_time_zone(business_a, zone)
    for moment in (inside, inside + timedelta(microseconds=1), outside):
        customer = factories.make_customer(business, created_at=moment)
        factories.make_lead(business, customer, created_at=moment)
    factories.make_lead(business, None, created_at=inside - timedelta(microseconds=1))
    stats = tenant_stats(business=business, now=NOW)
    assert (stats.new_customers_today, stats.new_leads_today) == (2, 2)
    assert stats == tenant_stats_from_rows(business=business, now=NOW)


def test_a_time_zone_change_moves_today_with_it(business_a) -> None:
    # 20:00 UTC on the 26th: the 26th in London, the 27th in Kathmandu (01:45).
    evening = datetime(2026, 3, 26, 20, 0, tzinfo=UTC)
    factories.make_lead(business_a, None, created_at=evening)
    london = set_time_zone(business_a, "Europe/London")
    assert tenant_stats(business=london, now=evening).new_leads_today == 1
    assert tenant_stats(business=london, now=NOW).new_leads_today == 1  # 23:10, the 26th
    kathmandu = set_time_zone(business_a, "Asia/Kathmandu")
    assert tenant_stats(business=kathmandu, now=NOW).new_leads_today == 1  # 05:05, the 27th
    # 18:00 UTC is 23:45 on the 26th in Kathmandu: the lead is tomorrow there.
    assert tenant_stats(business=kathmandu, now=evening - timedelta(hours=2)).new_leads_today == 0


def test_the_status_counts_follow_status_changes(business_a) -> None:
    lead = factories.make_lead(business_a, None, source=Source.CALL, status=Lead.Status.NEW)
    assert tenant_stats(business=business_a).call_conversion_rate == 0.0
    lead.status = Lead.Status.QUALIFIED
    lead.save()
    stats = tenant_stats(business=business_a)
    assert (stats.call_conversion_rate, stats.meeting_ready_leads) == (1.0, 1)
    Lead.objects.filter(pk=lead.pk).update(status=Lead.Status.WON)
    stats = tenant_stats(business=business_a)
    assert (stats.call_conversion_rate, stats.meeting_ready_leads) == (1.0, 0)


def test_the_triggers_and_the_definitions_use_the_same_statuses() -> None:
    assert tuple(selectors.CONVERTED_STATUSES) == triggers.CONVERTED_STATUSES
    assert selectors.MEETING_READY_STATUS == triggers.MEETING_READY_STATUS


# --- Constant cost --------------------------------------------------------------------


def test_the_stats_query_reads_only_the_counters_by_their_keys(business_a) -> None:
    customer = factories.make_customer(business_a)
    for _ in range(3):
        factories.make_lead(business_a, customer)
    with CaptureQueriesContext(connection) as queries:
        tenant_stats(business=business_a)
    [query] = [q["sql"] for q in queries.captured_queries if "tenant_stats" in q["sql"]]
    for table in ("FROM customer", "FROM leads", "FROM call_log", "FROM whatsapp_message"):
        assert table not in query
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the tables are tiny here
        cursor.execute(
            "EXPLAIN " + stats_counters.READ_STATS_SQL,
            {"business": business_a.pk, "start": NOW, "end": NOW + timedelta(days=1)},
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "tenant_stats_counter_pkey" in plan and "tenant_stats_bucket_pkey" in plan


# --- Concurrency ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_one_tenant_do_not_wait_for_each_other(business_a) -> None:
    """A session holding its counter slot (an open transaction) does not block another
    session's insert in the same tenant, which adds to another slot."""
    holder_ready, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    holder_slot: list[int] = []

    def hold() -> None:
        try:
            with transaction.atomic():
                factories.make_call(business_a, None)
                raw("SELECT 1")
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT pg_backend_pid() % {triggers.STATS_SLOTS}")
                    holder_slot.append(cursor.fetchone()[0])
                holder_ready.set()
                release.wait(10)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert holder_ready.wait(10)
    try:
        # Reconnect until this session's slot differs from the holder's (pid % slots).
        for _ in range(50):
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT pg_backend_pid() % {triggers.STATS_SLOTS}")
                if cursor.fetchone()[0] != holder_slot[0]:
                    break
            connection.close()
        raw("SET lock_timeout = '2s'")  # waiting on the holder would fail the insert
        factories.make_call(business_a, None)
        raw("RESET lock_timeout")
    finally:
        release.set()
        holder.join()
    assert errors == []
    assert tenant_stats(business=business_a).total_calls == 2


# --- The safety net -------------------------------------------------------------------


def test_check_reports_counter_drift_and_fix_repairs_it(business_a, business_b) -> None:
    customer = factories.make_customer(business_a, created_at=NOW)
    factories.make_lead(business_a, customer, created_at=NOW, source=Source.CALL)
    factories.make_lead(business_b, None, created_at=NOW)
    raw(
        "UPDATE tenant_stats_counter SET leads = leads + 5, calls = calls - 1"
        " WHERE business_id = %s",
        [business_a.pk],
    )
    raw("UPDATE tenant_stats_bucket SET customers = 0 WHERE business_id = %s", [business_a.pk])
    out = StringIO()
    with pytest.raises(CommandError, match="1 businesses have drifted statistics counters"):
        call_command("customer_sort_keys", "--check", stdout=out)
    assert "leads off by +5" in out.getvalue() and "calls off by -1" in out.getvalue()
    assert "1 15-minute buckets wrong" in out.getvalue()

    out = StringIO()
    call_command("customer_sort_keys", "--fix", stdout=out)
    assert "1 businesses' counters repaired" in out.getvalue()
    call_command("customer_sort_keys", "--check", stdout=StringIO())
    assert tenant_stats(business=business_a, now=NOW) == tenant_stats_from_rows(
        business=business_a, now=NOW
    )


def test_a_deleted_business_leaves_counter_rows_that_fix_removes(business_b) -> None:
    customer = factories.make_customer(business_b)
    factories.make_lead(business_b, customer)
    factories.make_call(business_b, customer)
    business_id = business_b.pk
    business_b.delete()
    assert stats_counters.orphan_counter_rows() > 0
    with pytest.raises(CommandError, match="orphaned counter rows"):
        call_command("customer_sort_keys", "--check", stdout=StringIO())
    call_command("customer_sort_keys", "--fix", stdout=StringIO())
    assert stats_counters.orphan_counter_rows() == 0
    assert not Business.objects.filter(pk=business_id).exists()


def test_compact_folds_old_buckets_into_one_row_each_and_keeps_them_exact(business_a) -> None:
    customer = factories.make_customer(business_a, created_at=at(-5 * 1440))
    for minutes_ago in (5 * 1440, 5 * 1440, 3 * 1440 + 20, 30):
        factories.make_lead(business_a, customer, created_at=at(-minutes_ago))

    def rows() -> list[tuple[datetime, int, int, int]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT bucket_start, slot, customers, leads FROM tenant_stats_bucket"
                " WHERE business_id = %s ORDER BY 1, 2",
                [business_a.pk],
            )
            return cursor.fetchall()

    # As if other sessions had written the same buckets: each bucket's counts spread over
    # three slots (the sums stay what the rows say), and one old row that sums to nothing.
    for bucket_start, slot, _, _ in rows():
        for other in ((slot + 1) % triggers.STATS_SLOTS, (slot + 2) % triggers.STATS_SLOTS):
            raw(
                "INSERT INTO tenant_stats_bucket (business_id, bucket_start, slot, customers,"
                " leads) VALUES (%s, %s, %s, 1, 1)",
                [business_a.pk, bucket_start, other],
            )
        raw(
            "UPDATE tenant_stats_bucket SET customers = customers - 2, leads = leads - 2"
            " WHERE business_id = %s AND bucket_start = %s AND slot = %s",
            [business_a.pk, bucket_start, slot],
        )
    raw(
        "INSERT INTO tenant_stats_bucket (business_id, bucket_start, slot, customers, leads)"
        " VALUES (%s, %s, 3, 0, 0)",
        [business_a.pk, at(-4 * 1440).replace(minute=0)],
    )
    call_command("customer_sort_keys", "--check", stdout=StringIO())
    recent_before = [row for row in rows() if row[0] >= at(-1440)]
    expected = tenant_stats_from_rows(business=business_a, now=NOW)

    removed = stats_counters.compact_buckets(business_id=business_a.pk, before=at(-2 * 1440))

    old = [row for row in rows() if row[0] < at(-2 * 1440)]
    # Two old buckets (5 days and 3 days ago), one row each, in slot 0; the empty row gone.
    assert [(slot, customers, leads) for _, slot, customers, leads in old] == [
        (0, 1, 2),
        (0, 0, 1),
    ]
    assert removed == 2 * 2 + 1
    assert [row for row in rows() if row[0] >= at(-1440)] == recent_before
    call_command("customer_sort_keys", "--check", stdout=StringIO())
    assert tenant_stats(business=business_a, now=NOW) == expected

    out = StringIO()
    call_command("customer_sort_keys", "--compact", stdout=out)
    # The real clock is long after NOW: the recent bucket is folded too (3 rows to 1).
    assert "2 rows fewer" in out.getvalue()
    call_command("customer_sort_keys", "--check", stdout=StringIO())
