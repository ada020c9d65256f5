"""URL routes of the businesses app."""

from __future__ import annotations

from django.urls import path

from businesses.views import (
    BusinessSettingsView,
    BusinessSwitchView,
    CacheStatsView,
    CurrentBusinessView,
)

urlpatterns = [
    path("business/", CurrentBusinessView.as_view(), name="business-current"),
    path("business/settings/", BusinessSettingsView.as_view(), name="business-settings"),
    path("business/switch/", BusinessSwitchView.as_view(), name="business-switch"),
    path("ops/cache-stats/", CacheStatsView.as_view(), name="ops-cache-stats"),
]
