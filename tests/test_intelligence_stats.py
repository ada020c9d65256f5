"""Tenant totals and rates, each as docs/intelligence.md defines it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from crm.models import CallLog, Lead, Source, WhatsAppMessage
from intelligence.selectors import rate, tenant_stats, today_bounds
from tests import factories

pytestmark = pytest.mark.django_db

STATS = "/api/intelligence/stats/"
JERUSALEM = ZoneInfo("Asia/Jerusalem")


def test_every_total_and_rate_follows_its_definition(
    api_client_for, owner_a, business_a, business_b
) -> None:
    customer = factories.make_customer(business_a)
    factories.make_customer(business_a)
    for status in ("qualified", "won", "new", "lost"):
        factories.make_lead(business_a, customer, source=Source.CALL, status=status)
    for status in ("won", "new", "new"):
        factories.make_lead(business_a, customer, source=Source.WHATSAPP, status=status)
    factories.make_lead(business_a, None, source=Source.WEB, status=Lead.Status.QUALIFIED)
    factories.make_call(business_a, customer, summary="Wants a quote.")
    factories.make_call(business_a, customer, summary="Booked a visit.")
    factories.make_call(business_a, None, summary="", status=CallLog.Status.NO_ANSWER)
    factories.make_whatsapp(business_a, customer, ai_generated=True)
    for _ in range(3):
        factories.make_whatsapp(business_a, customer, ai_generated=False)
    # Another tenant's rows count for nobody here.
    other = factories.make_customer(business_b)
    factories.make_lead(business_b, other, source=Source.CALL, status=Lead.Status.WON)
    factories.make_call(business_b, other, summary="Not ours.")

    response = api_client_for(owner_a).get(STATS)
    assert response.status_code == 200
    assert response.json() == {
        "total_customers": 2,
        "new_customers_today": 2,
        "total_leads": 8,
        "new_leads_today": 8,
        "total_calls": 3,
        "total_whatsapp": 4,
        "call_conversion_rate": 0.5,  # qualified + won of the 4 call leads
        "whatsapp_conversion_rate": 0.3333,  # won of the 3 WhatsApp leads
        "meeting_ready_leads": 2,  # the qualified call lead and the qualified web lead
        "ai_processed_interactions": 3,  # 2 summarised calls + 1 AI WhatsApp message
    }


def test_an_empty_tenant_has_zeros_and_zero_rates(api_client_for, owner_a, business_a) -> None:
    stats = api_client_for(owner_a).get(STATS).json()
    assert set(stats.values()) == {0}
    assert stats["call_conversion_rate"] == 0.0
    assert isinstance(stats["whatsapp_conversion_rate"], float)


def test_rates_with_leads_but_no_channel_leads_are_zero(business_a) -> None:
    factories.make_lead(business_a, None, source=Source.WEB, status=Lead.Status.WON)
    stats = tenant_stats(business=business_a)
    assert (stats.call_conversion_rate, stats.whatsapp_conversion_rate) == (0.0, 0.0)
    assert rate(0, 0) == 0.0 and rate(1, 3) == 0.3333 and rate(3, 3) == 1.0


def test_today_is_today_in_the_business_time_zone(business_a, business_b) -> None:
    # 22:30 UTC on 10 March is already 00:30 on 11 March in Jerusalem (UTC+2).
    now = datetime(2026, 3, 10, 22, 30, tzinfo=UTC)
    just_after_midnight = datetime(2026, 3, 10, 22, 10, tzinfo=UTC)  # 00:10 local, 11th
    just_before_midnight = datetime(2026, 3, 10, 21, 50, tzinfo=UTC)  # 23:50 local, 10th
    for business in (business_a, business_b):
        for at in (just_after_midnight, just_before_midnight):
            customer = factories.make_customer(business, created_at=at)
            factories.make_lead(business, customer, created_at=at)
        factories.make_lead(business, None, created_at=now + timedelta(days=1))  # tomorrow

    jerusalem = tenant_stats(business=business_a, now=now)
    assert (jerusalem.new_customers_today, jerusalem.new_leads_today) == (1, 1)
    # business_b is in London (UTC+0 in March): both moments are on the 10th there.
    london = tenant_stats(business=business_b, now=now)
    assert (london.new_customers_today, london.new_leads_today) == (2, 2)


def test_today_bounds_are_local_midnights() -> None:
    start, end = today_bounds("Asia/Jerusalem", now=datetime(2026, 3, 10, 22, 30, tzinfo=UTC))
    assert start == datetime(2026, 3, 11, tzinfo=JERUSALEM)
    assert end == datetime(2026, 3, 12, tzinfo=JERUSALEM)
    assert start.astimezone(UTC) == datetime(2026, 3, 10, 22, 0, tzinfo=UTC)
    # The day the clocks go forward (27 March 2026 in Israel) is 23 hours long.
    start, end = today_bounds("Asia/Jerusalem", now=datetime(2026, 3, 27, 12, tzinfo=UTC))
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=23)


def test_the_endpoint_counts_today_in_the_business_time_zone(
    api_client_for, owner_a, business_a
) -> None:
    local_midnight = (
        timezone.now().astimezone(JERUSALEM).replace(hour=0, minute=0, second=0, microsecond=0)
    )
    factories.make_lead(business_a, None, created_at=local_midnight)
    factories.make_lead(business_a, None, created_at=local_midnight - timedelta(microseconds=1))
    factories.make_whatsapp(business_a, None, created_at=local_midnight - timedelta(days=3))
    stats = api_client_for(owner_a).get(STATS).json()
    assert (stats["total_leads"], stats["new_leads_today"]) == (2, 1)
    assert stats["total_whatsapp"] == 1
    assert WhatsAppMessage.objects.count() == 1
