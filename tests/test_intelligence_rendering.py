"""The hand-built intelligence JSON renders timestamps exactly as DRF's field does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from django.utils import timezone as django_timezone
from hypothesis import given
from hypothesis import strategies as st
from rest_framework import serializers

from intelligence.serializers import timestamp_renderer

aware_datetimes = st.datetimes(
    min_value=datetime(1971, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.sampled_from([UTC, ZoneInfo("Asia/Jerusalem"), timezone(timedelta(hours=-5))]),
)


@given(moment=aware_datetimes)
def test_timestamps_match_drf_in_utc(moment: datetime) -> None:
    assert timestamp_renderer()(moment) == serializers.DateTimeField().to_representation(moment)


@given(moment=aware_datetimes)
def test_timestamps_match_drf_in_another_current_time_zone(moment: datetime) -> None:
    with django_timezone.override(ZoneInfo("America/New_York")):
        expected = serializers.DateTimeField().to_representation(moment)
        assert timestamp_renderer()(moment) == expected


def test_no_timestamp_renders_as_null() -> None:
    assert timestamp_renderer()(None) is None
