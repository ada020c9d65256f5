"""Lead status changes: one history row per real change, right under concurrency,
and the same through the admin site."""

from __future__ import annotations

import threading

import pytest
from django.db import transaction
from django.test import Client

from crm import services
from crm.models import Lead, LeadStatusHistory
from tests import factories
from tests.concurrency import TIMEOUT, run_in_threads, wait_for_a_lock_wait

pytestmark = pytest.mark.django_db


def transitions(lead: Lead) -> list[tuple[str, str, str]]:
    return list(
        lead.status_history.order_by("created_at", "id").values_list(
            "old_status", "new_status", "channel"
        )
    )


def test_a_change_and_its_history_row_are_written_together(business_a, owner_a) -> None:
    lead = factories.make_lead(business_a, status="new")
    change = services.lead_change_status(
        lead=lead, status="won", by=owner_a, channel="call", reason="Signed"
    )
    assert change is not None
    assert (change.old_status, change.new_status, change.channel) == ("new", "won", "call")
    assert lead.status == "won"
    assert Lead.objects.get(pk=lead.pk).status == "won"


def test_a_failed_history_write_rolls_the_status_back(business_a, owner_a) -> None:
    lead = factories.make_lead(business_a, status="new")
    with pytest.raises(ValueError), transaction.atomic():
        services.lead_change_status(lead=lead, status="won", by=owner_a, channel="api")
        raise ValueError("the caller's transaction fails after the change")
    assert Lead.objects.get(pk=lead.pk).status == "new"
    assert not LeadStatusHistory.objects.exists()


def test_an_unknown_status_is_refused(business_a, owner_a) -> None:
    from django.core.exceptions import ValidationError

    lead = factories.make_lead(business_a)
    with pytest.raises(ValidationError):
        services.lead_change_status(lead=lead, status="maybe", by=owner_a, channel="api")
    assert not LeadStatusHistory.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_changes_each_record_the_status_they_really_replaced(
    business_a, owner_a, agent_a
) -> None:
    lead = factories.make_lead(business_a, status="new")
    changed, release = threading.Event(), threading.Event()

    def first():  # type: ignore[no-untyped-def]
        with transaction.atomic():
            services.lead_change_status(lead=lead, status="contacted", by=owner_a, channel="api")
            changed.set()
            release.wait(TIMEOUT)

    def second():  # type: ignore[no-untyped-def]
        changed.wait(TIMEOUT)
        # Loaded before the first change committed: it still says "new".
        stale = Lead.objects.get(pk=lead.pk)
        assert stale.status == "new"
        services.lead_change_status(lead=stale, status="won", by=agent_a, channel="call")

    first_future, second_future = run_in_threads(first, second)
    wait_for_a_lock_wait()  # the second waits for the first one's row lock
    release.set()
    first_future.result(TIMEOUT)
    second_future.result(TIMEOUT)
    assert transitions(lead) == [("new", "contacted", "api"), ("contacted", "won", "call")]


# --- The admin site --------------------------------------------------------------------


@pytest.fixture
def staff_client(db) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(factories.make_user(is_staff=True, is_superuser=True))
    return client


def admin_form(lead: Lead, **changes) -> dict:  # type: ignore[no-untyped-def]
    data = {
        "customer": lead.customer_id or "",
        "name": lead.name,
        "phone_e164": lead.phone_e164,
        "email": lead.email,
        "source": lead.source,
        "status": lead.status,
        "notes": lead.notes,
        "created_at_0": lead.created_at.strftime("%Y-%m-%d"),
        "created_at_1": lead.created_at.strftime("%H:%M:%S"),
        "status_history-TOTAL_FORMS": "0",
        "status_history-INITIAL_FORMS": "0",
    }
    return {**data, **changes}


def test_a_status_changed_in_the_admin_is_recorded_with_channel_admin(
    staff_client, business_a
) -> None:
    lead = factories.make_lead(business_a, status="new")
    response = staff_client.post(
        f"/admin/crm/lead/{lead.pk}/change/", admin_form(lead, status="qualified", notes="x")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    lead.refresh_from_db()
    assert (lead.status, lead.notes) == ("qualified", "x")
    assert transitions(lead) == [("new", "qualified", "admin")]


def test_an_admin_save_without_a_status_change_records_nothing(staff_client, business_a) -> None:
    lead = factories.make_lead(business_a, status="contacted")
    response = staff_client.post(f"/admin/crm/lead/{lead.pk}/change/", admin_form(lead, notes="x"))
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.notes) == ("contacted", "x")
    assert transitions(lead) == []


def test_an_admin_save_records_the_status_it_really_replaced(staff_client, business_a) -> None:
    lead = factories.make_lead(business_a, status="new")
    form = admin_form(lead, notes="edited")  # loaded while the lead was "new"
    services.lead_change_status(lead=lead, status="won", by=None, channel="api")
    # The admin has no edit conflict detection: the posted status is applied, but the
    # history says truthfully what it replaced.
    response = staff_client.post(f"/admin/crm/lead/{lead.pk}/change/", form)
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.notes) == ("new", "edited")
    assert transitions(lead) == [("new", "won", "api"), ("won", "new", "admin")]


def test_a_lead_added_in_the_admin_starts_its_history(staff_client, business_a) -> None:
    customer = factories.make_customer(business_a)
    data = admin_form(Lead(business=business_a), customer=customer.pk, name="Walk-in")
    data.update(business=business_a.pk, status="contacted", source="manual")
    data.pop("customer")  # linked by its phone number, as in the API
    data["phone_e164"] = customer.phone_e164
    response = staff_client.post("/admin/crm/lead/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    lead = Lead.objects.get(name="Walk-in")
    assert lead.customer == customer
    assert transitions(lead) == [("", "contacted", "admin")]


def test_the_admin_refuses_another_business_customer(staff_client, business_a, business_b) -> None:
    foreign = factories.make_customer(business_b)
    lead = factories.make_lead(business_a)
    response = staff_client.post(
        f"/admin/crm/lead/{lead.pk}/change/", admin_form(lead, customer=foreign.pk)
    )
    assert response.status_code == 200  # the form again, with the error
    assert "belongs to another business" in response.content.decode()
    lead.refresh_from_db()
    assert lead.customer_id is None
