"""Integrity of the CRM records whoever writes: a customer stays in its tenant, and a
customer deleted while one of its calls is being ingested ends cleanly, not in a 500."""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client

from crm import services
from crm.models import CallLog, Customer
from tests import factories
from tests.concurrency import TIMEOUT, run_in_threads, wait_for_a_lock_wait


@pytest.fixture
def staff_client(db: None) -> Client:
    client = Client()
    client.force_login(factories.make_user(is_staff=True, is_superuser=True))
    return client


@pytest.mark.django_db
def test_the_admin_shows_a_customers_business_read_only_and_ignores_a_posted_one(
    staff_client, business_a, business_b
) -> None:
    customer = factories.make_customer(business_a, name="Dana")
    url = f"/admin/crm/customer/{customer.pk}/change/"
    form = staff_client.get(url).content.decode()
    assert 'name="business"' not in form
    assert 'name="name"' in form

    response = staff_client.post(
        url,
        {
            "business": business_b.pk,
            "name": "Dana Cohen",
            "phone_e164": customer.phone_e164,
            "email": customer.email,
            "source": customer.source,
            "notes": "",
            "created_at_0": customer.created_at.strftime("%Y-%m-%d"),
            "created_at_1": customer.created_at.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    customer.refresh_from_db()
    assert (customer.name, customer.business_id) == ("Dana Cohen", business_a.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["save", "update", "raw_sql"])
def test_the_database_refuses_moving_a_customer_to_another_business(
    business_a, business_b, how
) -> None:
    customer = factories.make_customer(business_a)
    with pytest.raises(IntegrityError, match="cannot move"), transaction.atomic():
        if how == "save":
            customer.business = business_b
            customer.save()
        elif how == "update":
            Customer.objects.filter(pk=customer.pk).update(business=business_b)
        else:
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE customer SET business_id = %s WHERE id = %s",
                    [business_b.pk, customer.pk],
                )
    assert Customer.objects.get(pk=customer.pk).business_id == business_a.pk
    # Other changes go through.
    Customer.objects.filter(pk=customer.pk).update(name="Renamed")


def call_from(customer: Customer) -> dict[str, object]:
    return {
        "call_sid": f"CA{customer.pk:032d}",
        "from_number": customer.phone_e164,
        "to_number": "+97235550100",
        "direction": "inbound",
        "status": "completed",
    }


@pytest.mark.django_db(transaction=True)
def test_a_customer_deleted_while_its_call_is_being_ingested_waits_and_unlinks_it(
    business_a,
) -> None:
    customer = factories.make_customer(business_a)
    ingested, release = threading.Event(), threading.Event()

    def ingest():  # type: ignore[no-untyped-def]
        with transaction.atomic():
            result = services.call_log_ingest(business=business_a, **call_from(customer))
            ingested.set()
            release.wait(TIMEOUT)
        return result

    def delete() -> None:
        ingested.wait(TIMEOUT)
        services.customer_delete(customer=Customer.objects.get(pk=customer.pk))

    ingest_future, delete_future = run_in_threads(ingest, delete)
    try:
        wait_for_a_lock_wait()  # the deletion waits for the ingestion's commit
    finally:
        release.set()
    assert ingest_future.result(TIMEOUT).record.customer_id == customer.pk
    delete_future.result(TIMEOUT)
    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert list(CallLog.objects.values_list("customer_id", flat=True)) == [None]


@pytest.mark.django_db(transaction=True)
def test_a_call_ingested_while_its_customer_is_being_deleted_waits_and_is_stored_unlinked(
    business_a,
) -> None:
    customer = factories.make_customer(business_a)
    deleted, release = threading.Event(), threading.Event()

    def delete() -> None:
        with transaction.atomic():
            services.customer_delete(customer=Customer.objects.get(pk=customer.pk))
            deleted.set()
            release.wait(TIMEOUT)

    def ingest():  # type: ignore[no-untyped-def]
        deleted.wait(TIMEOUT)
        return services.call_log_ingest(business=business_a, **call_from(customer))

    delete_future, ingest_future = run_in_threads(delete, ingest)
    try:
        wait_for_a_lock_wait()  # the ingestion waits for the deletion's commit
    finally:
        release.set()
    delete_future.result(TIMEOUT)
    result = ingest_future.result(TIMEOUT)
    assert (result.created, result.record.customer_id) == (True, None)
    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert CallLog.objects.get().customer_id is None


@pytest.mark.django_db(transaction=True)
def test_a_message_for_an_explicit_customer_deleted_meanwhile_is_a_field_error(
    business_a,
) -> None:
    customer = factories.make_customer(business_a)
    stale = Customer.objects.get(pk=customer.pk)
    services.customer_delete(customer=customer)
    with pytest.raises(services.ValidationError) as error:
        services.whatsapp_message_ingest(
            business=business_a,
            provider_message_id="wamid.1",
            to_number=stale.phone_e164,
            direction="outbound",
            status="sent",
            customer=stale,
        )
    assert "customer" in error.value.message_dict


@pytest.mark.django_db
def test_the_database_refuses_renumbering_a_customer_even_with_its_rows(business_a) -> None:
    """The foreign keys are deferred, so moving a customer and its rows to a new id in one
    transaction would pass them; the stored counts would then describe the wrong rows."""
    customer = factories.make_customer(business_a)
    factories.make_call(business_a, customer)
    with (
        pytest.raises(IntegrityError, match="cannot change its id"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE customer SET id = id + 1000000 WHERE id = %s", [customer.pk])
        cursor.execute(
            "UPDATE call_log SET customer_id = customer_id + 1000000 WHERE customer_id = %s",
            [customer.pk],
        )
    assert Customer.objects.filter(pk=customer.pk).exists()
