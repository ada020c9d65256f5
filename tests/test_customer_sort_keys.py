"""The customer sort keys follow every ORM write, and drift is found and repaired."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from crm.activity import find_drift, recompute_sort_keys
from crm.models import CallLog, Customer, Lead, WhatsAppMessage
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


def test_a_new_row_costs_one_update_and_an_unrelated_change_none(
    business_a, django_assert_num_queries
) -> None:
    customer = factories.make_customer(business_a)
    with django_assert_num_queries(2):  # INSERT, then the customer's key UPDATE
        call = factories.make_call(business_a, customer, status=CallLog.Status.RINGING)
    call = CallLog.objects.get(pk=call.pk)
    call.status = CallLog.Status.COMPLETED
    with django_assert_num_queries(1):  # the call's UPDATE only
        call.save()
    with django_assert_num_queries(1):
        call.save(update_fields=["summary"])


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


def bulk_rows(business, customer) -> None:
    Lead.objects.bulk_create(
        Lead(business=business, customer=customer, created_at=T0 + timedelta(minutes=i))
        for i in range(3)
    )
    WhatsAppMessage.objects.bulk_create(
        [
            WhatsAppMessage(
                business=business,
                customer=customer,
                provider_message_id="wamid.bulk",
                to_number=customer.phone_e164,
                direction=WhatsAppMessage.Direction.INBOUND,
                status=WhatsAppMessage.Status.RECEIVED,
                created_at=T0 + timedelta(days=1),
            )
        ]
    )


def test_bulk_writes_drift_until_recomputed(business_a, business_b) -> None:
    drifting = factories.make_customer(business_a)
    other = factories.make_customer(business_b)
    bulk_rows(business_a, drifting)
    [drift] = find_drift()
    assert (drift.customer_id, drift.stored_leads_count, drift.leads_count) == (drifting.pk, 0, 3)
    assert drift.last_interaction_at == T0 + timedelta(days=1)
    assert recompute_sort_keys(business_id=business_b.pk) == 0
    assert recompute_sort_keys(business_id=business_a.pk) == 1
    assert find_drift() == []
    assert keys(drifting) == (3, T0 + timedelta(days=1))
    assert keys(other) == (0, None)
    assert recompute_sort_keys() == 0  # writes only what is wrong


def test_command_check_reports_drift_and_fails_then_fix_repairs_it(business_a) -> None:
    customer = factories.make_customer(business_a)
    bulk_rows(business_a, customer)
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
    assert find_drift() == []
