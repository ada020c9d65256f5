"""The customer sort keys follow every write (the database's triggers), and drift is found
and repaired by manage.py customer_sort_keys."""

from __future__ import annotations

import io
import threading
import time
from datetime import UTC, datetime, timedelta
from io import StringIO

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from crm import triggers
from crm.activity import find_drift, recompute_sort_keys
from crm.models import CallLog, Customer, Lead
from tests import factories

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)


def keys(customer: Customer) -> tuple[int, datetime | None]:
    customer.refresh_from_db(fields=["sort_leads_count", "sort_last_interaction_at"])
    return customer.sort_leads_count, customer.sort_last_interaction_at


def test_a_new_customer_starts_with_no_activity(business_a) -> None:
    assert keys(factories.make_customer(business_a)) == (0, None)


def test_new_rows_count_leads_and_move_the_last_interaction_forward_only(business_a) -> None:
    customer = factories.make_customer(business_a)
    factories.make_lead(business_a, customer, created_at=T0)
    assert keys(customer) == (1, T0)
    factories.make_call(business_a, customer, created_at=T0 + timedelta(hours=1))
    assert keys(customer) == (1, T0 + timedelta(hours=1))
    factories.make_whatsapp(business_a, customer, created_at=T0 - timedelta(days=3))
    factories.make_lead(business_a, customer, created_at=T0 - timedelta(days=1))
    assert keys(customer) == (2, T0 + timedelta(hours=1))


def test_deleting_rows_recomputes_from_what_is_left(business_a) -> None:
    customer = factories.make_customer(business_a)
    older = factories.make_lead(business_a, customer, created_at=T0)
    newest = factories.make_call(business_a, customer, created_at=T0 + timedelta(hours=2))
    newest.delete()
    assert keys(customer) == (1, T0)
    older.delete()
    assert keys(customer) == (0, None)


def test_queryset_delete_is_followed_too(business_a) -> None:
    customer = factories.make_customer(business_a)
    for hours in range(3):
        factories.make_lead(business_a, customer, created_at=T0 + timedelta(hours=hours))
    Lead.objects.filter(created_at__gt=T0).delete()
    assert keys(customer) == (1, T0)


def test_moving_a_row_to_another_customer_updates_both(business_a) -> None:
    first, second = factories.make_customer(business_a), factories.make_customer(business_a)
    factories.make_lead(business_a, first, created_at=T0)
    moving = factories.make_lead(business_a, first, created_at=T0 + timedelta(hours=1))
    moving = Lead.objects.get(pk=moving.pk)  # as a view would load it
    moving.customer = second
    moving.save()
    assert keys(first) == (1, T0)
    assert keys(second) == (1, T0 + timedelta(hours=1))
    moving.customer = None
    moving.save()
    assert keys(second) == (0, None)


def test_changing_a_rows_time_updates_the_last_interaction(business_a) -> None:
    customer = factories.make_customer(business_a)
    call = factories.make_call(business_a, customer, created_at=T0)
    call.created_at = T0 - timedelta(days=1)
    call.save()
    assert keys(customer) == (0, T0 - timedelta(days=1))


def test_rows_without_a_customer_touch_no_customer(business_a, django_assert_num_queries) -> None:
    customer = factories.make_customer(business_a)
    with django_assert_num_queries(1):  # the INSERT alone
        factories.make_call(business_a, None, created_at=T0)
    assert keys(customer) == (0, None)


def test_a_write_costs_the_application_only_its_own_statement(
    business_a, django_assert_num_queries
) -> None:
    customer = factories.make_customer(business_a)
    with django_assert_num_queries(1):  # the INSERT; its trigger runs inside it
        call = factories.make_call(business_a, customer, status=CallLog.Status.RINGING)
    call = CallLog.objects.get(pk=call.pk)
    call.status = CallLog.Status.COMPLETED
    with django_assert_num_queries(1):  # the call's UPDATE only
        call.save()
    with django_assert_num_queries(1):
        call.save(update_fields=["summary"])
    assert keys(customer) == (0, call.created_at)


def test_a_partly_loaded_row_can_still_be_saved(business_a) -> None:
    customer = factories.make_customer(business_a)
    lead = factories.make_lead(business_a, customer, created_at=T0)
    partial = Lead.objects.only("id", "status").get(pk=lead.pk)
    partial.status = Lead.Status.WON
    partial.save(update_fields=["status"])
    assert keys(customer) == (1, T0)


def test_deleting_a_business_with_rows_works(business_b) -> None:
    customer = factories.make_customer(business_b)
    factories.make_lead(business_b, customer)
    factories.make_call(business_b, customer)
    business_b.delete()
    assert not Customer.objects.filter(pk=customer.pk).exists()


def test_deleting_a_customer_keeps_its_rows_unlinked(business_a) -> None:
    customer = factories.make_customer(business_a)
    lead = factories.make_lead(business_a, customer)
    customer.delete()
    lead.refresh_from_db()
    assert lead.customer_id is None


def test_bulk_create_update_and_queryset_delete_keep_the_keys(business_a) -> None:
    first, second = factories.make_customer(business_a), factories.make_customer(business_a)
    Lead.objects.bulk_create(
        Lead(business=business_a, customer=first, created_at=T0 + timedelta(minutes=i))
        for i in range(3)
    )
    assert keys(first) == (3, T0 + timedelta(minutes=2))
    Lead.objects.filter(created_at__gte=T0 + timedelta(minutes=1)).update(customer=second)
    assert keys(first) == (1, T0)
    assert keys(second) == (2, T0 + timedelta(minutes=2))
    Lead.objects.filter(customer=second).update(created_at=T0 - timedelta(days=1))
    assert keys(second) == (2, T0 - timedelta(days=1))
    Lead.objects.all().delete()
    assert keys(first) == (0, None) and keys(second) == (0, None)
    assert find_drift() == []


def raw(sql: str, params: list[object] | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def test_raw_sql_insert_update_delete_keep_the_keys(business_a) -> None:
    first, second = factories.make_customer(business_a), factories.make_customer(business_a)
    raw(
        "INSERT INTO leads (tenant_id, customer_id, name, phone_e164, email, source, status,"
        " notes, created_at, updated_at)"
        " SELECT %s, %s, '', '', '', 'call', 'new', '', %s + i * interval '1 hour', now()"
        " FROM generate_series(0, 4) AS i",
        [business_a.pk, first.pk, T0],
    )
    assert keys(first) == (5, T0 + timedelta(hours=4))
    # Move the two newest to the other customer, re-time one of the rest, delete one.
    raw(
        "UPDATE leads SET customer_id = %s WHERE created_at >= %s",
        [second.pk, T0 + timedelta(hours=3)],
    )
    assert keys(first) == (3, T0 + timedelta(hours=2))
    assert keys(second) == (2, T0 + timedelta(hours=4))
    raw("UPDATE leads SET created_at = created_at - interval '10 days' WHERE created_at = %s", [T0])
    raw("DELETE FROM leads WHERE created_at = %s", [T0 + timedelta(hours=2)])
    assert keys(first) == (2, T0 + timedelta(hours=1))
    assert find_drift() == []


def test_copy_of_calls_and_messages_keeps_the_keys(business_a) -> None:
    customer = factories.make_customer(business_a)
    calls = "".join(
        f"{business_a.pk}\t{customer.pk}\tCAcopy{i}\t+1\t+2\tinbound\tcompleted\t0\t\t\t\t"
        f"{(T0 + timedelta(minutes=i)).isoformat()}\t{T0.isoformat()}\n"
        for i in range(50)
    )
    with connection.cursor() as cursor:
        cursor.copy_expert(
            "COPY call_log (business_id, customer_id, call_sid, from_number, to_number,"
            " direction, status, duration, summary, transcript, recording_url, created_at,"
            " updated_at) FROM STDIN",
            io.StringIO(calls),
        )
    assert keys(customer) == (0, T0 + timedelta(minutes=49))
    assert find_drift() == []


def test_a_stale_customer_saved_in_full_does_not_overwrite_the_keys(business_a) -> None:
    customer = factories.make_customer(business_a)
    stale = Customer.objects.get(pk=customer.pk)  # loaded with (0, None)
    factories.make_lead(business_a, customer, created_at=T0)
    stale.name = "Renamed in the admin"
    stale.save()
    stale.refresh_from_db()
    assert stale.name == "Renamed in the admin"
    assert keys(stale) == (1, T0)
    # Nor can a deliberate write outside the repair code set them.
    Customer.objects.filter(pk=customer.pk).update(sort_leads_count=42)
    raw("UPDATE customer SET sort_last_interaction_at = NULL WHERE id = %s", [customer.pk])
    assert keys(customer) == (1, T0)


def test_a_customer_inserted_with_made_up_keys_gets_the_real_ones(business_a) -> None:
    customer = Customer.objects.create(
        business=business_a, name="Imported", phone_e164="+14155550123", sort_leads_count=7
    )
    assert keys(customer) == (0, None)


def make_drift(customer: Customer) -> None:
    """Break the keys the way only a bug in the repair path could."""
    with transaction.atomic():
        raw("SELECT set_config('crm.sort_keys_writer', 'on', true)")
        raw("UPDATE customer SET sort_leads_count = 0 WHERE id = %s", [customer.pk])


def test_drift_is_found_and_repaired_for_one_business_only(business_a, business_b) -> None:
    drifting = factories.make_customer(business_a)
    other = factories.make_customer(business_b)
    for at in (T0, T0 + timedelta(days=1)):
        factories.make_lead(business_a, drifting, created_at=at)
    factories.make_lead(business_b, other, created_at=T0)
    make_drift(drifting)
    [drift] = find_drift()
    assert (drift.customer_id, drift.stored_leads_count, drift.leads_count) == (drifting.pk, 0, 2)
    assert drift.last_interaction_at == T0 + timedelta(days=1)
    assert recompute_sort_keys(business_id=business_b.pk) == 0
    assert recompute_sort_keys(business_id=business_a.pk) == 1
    assert find_drift() == []
    assert keys(drifting) == (2, T0 + timedelta(days=1))
    assert keys(other) == (1, T0)
    assert recompute_sort_keys() == 0  # writes only what is wrong


def test_command_check_reports_drift_and_fails_then_fix_repairs_it(business_a) -> None:
    customer = factories.make_customer(business_a)
    for _ in range(3):
        factories.make_lead(business_a, customer, created_at=T0)
    make_drift(customer)
    out = StringIO()
    with pytest.raises(CommandError, match="1 customers have drifted"):
        call_command("customer_sort_keys", "--check", stdout=out)
    assert f"customer {customer.pk}: leads 0 (actual 3)" in out.getvalue()

    out = StringIO()
    call_command("customer_sort_keys", "--fix", "--business", business_a.slug, stdout=out)
    assert "1 customers changed" in out.getvalue()
    out = StringIO()
    call_command("customer_sort_keys", "--check", "--business", str(business_a.pk), stdout=out)
    assert "match" in out.getvalue()


def test_command_needs_a_mode_and_an_existing_business(business_a) -> None:
    with pytest.raises(CommandError):
        call_command("customer_sort_keys")
    with pytest.raises(CommandError, match="No business"):
        call_command("customer_sort_keys", "--check", "--business", "no-such-slug")
    with pytest.raises(CommandError, match="batch-size"):
        call_command("customer_sort_keys", "--backfill", "--batch-size", "0")


def test_backfill_fills_rows_written_without_triggers_in_batches(business_a) -> None:
    customers = [factories.make_customer(business_a) for _ in range(5)]
    # As a restore with triggers disabled (pg_restore --disable-triggers) would leave it.
    raw("SET LOCAL session_replication_role = replica")
    for index, customer in enumerate(customers):
        factories.make_lead(business_a, customer, created_at=T0 + timedelta(hours=index))
    raw("SET LOCAL session_replication_role = origin")
    assert len(find_drift()) == 5
    out, err = StringIO(), StringIO()
    call_command("customer_sort_keys", "--backfill", "--batch-size", "2", stdout=out, stderr=err)
    assert "5 customers changed" in out.getvalue()
    assert "statistics counters repaired in 1 of" in out.getvalue()
    call_command("customer_sort_keys", "--check", stdout=StringIO())
    # Resuming from the last id touches only that batch, and finds nothing left to do.
    out = StringIO()
    call_command("customer_sort_keys", "--backfill", "--from-id", str(customers[-1].pk), stdout=out)
    assert "0 customers changed" in out.getvalue()


def test_seed_demo_leaves_no_drift(settings) -> None:
    settings.DEBUG = True
    call_command("seed_demo", customers=10, stdout=StringIO(), stderr=StringIO())
    assert Lead.objects.exists()
    assert find_drift() == []
    assert Customer.objects.filter(sort_last_interaction_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_lose_no_count(business_a) -> None:
    customer = factories.make_customer(business_a)
    doomed = [factories.make_lead(business_a, customer, created_at=T0) for _ in range(6)]
    writers, per_writer = 4, 8
    start = threading.Barrier(writers + 1)
    errors: list[BaseException] = []

    def write(index: int) -> None:
        try:
            start.wait()
            for n in range(per_writer):
                with transaction.atomic():
                    factories.make_lead(business_a, customer, created_at=T0 + timedelta(seconds=n))
                    factories.make_call(business_a, customer, created_at=T0)
                    factories.make_whatsapp(business_a, customer, created_at=T0)
                    if index == 0 and n < len(doomed):
                        Lead.objects.get(pk=doomed[n].pk).delete()
        except BaseException as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    start.wait()
    for thread in threads:
        thread.join()
    assert errors == []
    assert keys(customer) == (writers * per_writer, T0 + timedelta(seconds=per_writer - 1))
    assert counts(customer) == (writers * per_writer,) * 3
    assert find_drift() == []


def counts(customer: Customer) -> tuple[int, int, int]:
    customer.refresh_from_db(
        fields=["sort_leads_count", "stored_calls_count", "stored_whatsapp_count"]
    )
    return (
        customer.sort_leads_count,
        customer.stored_calls_count,
        customer.stored_whatsapp_count,
    )


def test_call_and_whatsapp_counts_follow_every_write_path(business_a) -> None:
    first, second = factories.make_customer(business_a), factories.make_customer(business_a)
    factories.make_call(business_a, first)
    CallLog.objects.bulk_create(
        CallLog(business=business_a, customer=first, call_sid=f"CAbulk{i}") for i in range(3)
    )
    factories.make_whatsapp(business_a, first)
    messages = "".join(
        f"{business_a.pk}\t{second.pk}\twamid.copy{i}\t+14155550000\tinbound\treceived\thi\t"
        f"f\t{T0.isoformat()}\n"
        for i in range(4)
    )
    with connection.cursor() as cursor:
        cursor.copy_expert(
            "COPY whatsapp_message (business_id, customer_id, provider_message_id, to_number,"
            " direction, status, body, ai_generated, created_at) FROM STDIN",
            io.StringIO(messages),
        )
    assert counts(first) == (0, 4, 1) and counts(second) == (0, 0, 4)

    # Moved by update(), by raw SQL, unlinked, deleted: each customer's counts follow.
    CallLog.objects.filter(call_sid__in=["CAbulk0", "CAbulk1"]).update(customer=second)
    raw(
        "UPDATE whatsapp_message SET customer_id = %s WHERE customer_id = %s", [first.pk, second.pk]
    )
    assert counts(first) == (0, 2, 5) and counts(second) == (0, 2, 0)
    raw("UPDATE call_log SET customer_id = NULL WHERE call_sid = 'CAbulk0'")
    raw("DELETE FROM whatsapp_message WHERE provider_message_id LIKE 'wamid.copy%%'")
    CallLog.objects.filter(customer=first).delete()
    assert counts(first) == (0, 0, 1) and counts(second) == (0, 1, 0)

    # A stale instance saved in full, and a direct write, leave the counts alone.
    stale = Customer.objects.get(pk=second.pk)
    factories.make_call(business_a, second)
    stale.save()
    Customer.objects.filter(pk=second.pk).update(stored_calls_count=99, stored_whatsapp_count=7)
    assert counts(second) == (0, 2, 0)
    assert find_drift() == []


def test_check_reports_drifted_call_counts_and_fix_repairs_them(business_a) -> None:
    customer = factories.make_customer(business_a)
    factories.make_call(business_a, customer)
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('crm.sort_keys_writer', 'on', true)")
        cursor.execute(
            "UPDATE customer SET stored_calls_count = 5, stored_whatsapp_count = 2 WHERE id = %s",
            [customer.pk],
        )
        cursor.execute("SELECT set_config('crm.sort_keys_writer', '', true)")
    out = StringIO()
    with pytest.raises(CommandError, match="1 customers have drifted sort keys"):
        call_command("customer_sort_keys", "--check", stdout=out)
    assert "calls 5 (actual 1), WhatsApp 2 (actual 0)" in out.getvalue()
    call_command("customer_sort_keys", "--fix", stdout=StringIO())
    assert counts(customer) == (0, 1, 0)
    assert find_drift() == []


def test_an_update_that_changes_a_rows_id_too_still_moves_it(business_a) -> None:
    first, second = factories.make_customer(business_a), factories.make_customer(business_a)
    call = factories.make_call(business_a, first, created_at=T0)
    factories.make_call(business_a, first, created_at=T0 - timedelta(days=1))
    raw(
        "UPDATE call_log SET id = id + 1000000, customer_id = %s, created_at = %s WHERE id = %s",
        [second.pk, T0 + timedelta(hours=1), call.pk],
    )
    assert counts(first) == (0, 1, 0) and keys(first) == (0, T0 - timedelta(days=1))
    assert counts(second) == (0, 1, 0) and keys(second) == (0, T0 + timedelta(hours=1))
    assert find_drift() == []


def _slot() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_backend_pid() % {triggers.STATS_SLOTS}")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_two_sessions_of_one_counter_slot_do_not_deadlock_over_a_customer(business_a) -> None:
    """A transaction that wrote for Y and then writes for X, against a single insert for X
    from another session that adds to the same counter slot: the single insert waits for
    the slot before it locks X, so the first transaction finishes and then the second."""
    x, y = factories.make_customer(business_a), factories.make_customer(business_a)
    holder_slot: list[int] = []
    holding, waiter_started = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            with transaction.atomic():
                factories.make_call(business_a, y)
                holder_slot.append(_slot())
                holding.set()
                assert waiter_started.wait(10)
                time.sleep(0.5)  # the waiter is now blocked on the slot (or on X)
                factories.make_call(business_a, x)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    def wait() -> None:
        # Another program's session (plain psycopg2): new connections until one's pid
        # lands in the holder's slot.
        settings = connection.settings_dict
        params = {
            "dbname": settings["NAME"],
            "user": settings["USER"],
            "host": settings["HOST"],
            "port": settings["PORT"],
        }
        session = None
        try:
            assert holding.wait(10)
            for _ in range(500):
                session = psycopg2.connect(**{k: v for k, v in params.items() if v})
                session.autocommit = True
                if session.info.backend_pid % triggers.STATS_SLOTS == holder_slot[0]:
                    break
                session.close()
            else:
                raise AssertionError("no session landed in the holder's slot")
            waiter_started.set()
            with session.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO call_log (business_id, customer_id, call_sid, from_number,"
                    " to_number, direction, status, duration, summary, transcript,"
                    " recording_url, created_at, updated_at) VALUES"
                    " (%s, %s, 'CAwaiter', '+1', '+2', 'inbound', 'completed', 0, '', '', '',"
                    " now(), now())",
                    [business_a.pk, x.pk],
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            waiter_started.set()
            if session is not None:
                session.close()

    threads = [threading.Thread(target=hold), threading.Thread(target=wait)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert counts(x) == (0, 2, 0) and counts(y) == (0, 1, 0)
    assert find_drift() == []
