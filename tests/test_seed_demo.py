"""seed_demo creates a usable demo once and changes nothing the second time."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F
from rest_framework.authtoken.models import Token

from businesses.models import Business, Membership
from crm.models import CallLog, Customer, Lead, LeadStatusHistory, WhatsAppMessage

pytestmark = pytest.mark.django_db

MODELS = (Business, Membership, Customer, Lead, LeadStatusHistory, CallLog, WhatsAppMessage)


def snapshot() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def seed(**options) -> str:  # type: ignore[no-untyped-def]
    out = StringIO()
    call_command("seed_demo", customers=15, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def test_seed_demo_creates_linked_records_and_prints_how_to_log_in(settings) -> None:
    settings.DEBUG = True
    output = seed()
    counts = snapshot()
    assert counts["Business"] == 3
    assert counts["Customer"] == 45
    assert counts["Lead"] > 0 and counts["CallLog"] > 0 and counts["WhatsAppMessage"] > 0
    # Every lead starts its history with a "new" entry and ends at its current status.
    assert (
        LeadStatusHistory.objects.filter(old_status="", new_status="new").count() == counts["Lead"]
    )
    for lead in Lead.objects.annotate(n=Count("status_history"))[:20]:
        assert lead.status_history.order_by("-created_at", "-id").first().new_status == lead.status
    # Records never cross tenants.
    assert not Lead.objects.exclude(customer__business_id=F("business_id")).exists()
    assert not CallLog.objects.exclude(customer__business_id=F("business_id")).exists()
    assert "prosaas-demo" in output and "acme_owner" in output


def test_seed_demo_twice_changes_nothing(settings) -> None:
    settings.DEBUG = True
    seed()
    first = snapshot()
    tokens = set(Token.objects.values_list("key", flat=True))
    output = seed()
    assert snapshot() == first
    assert set(Token.objects.values_list("key", flat=True)) == tokens
    assert all(key in output for key in tokens)


def test_seed_demo_is_deterministic(settings) -> None:
    settings.DEBUG = True
    seed()
    names = list(Customer.objects.order_by("phone_e164").values_list("name", "phone_e164")[:10])
    for model in reversed(MODELS):
        model.objects.all().delete()
    seed()
    assert (
        list(Customer.objects.order_by("phone_e164").values_list("name", "phone_e164")[:10])
        == names
    )


def test_seed_demo_refuses_production_without_flag(settings) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        seed()
