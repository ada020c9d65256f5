"""URL routes of the businesses app."""

from __future__ import annotations

from django.urls import path

from businesses.views import BusinessSettingsView, CacheStatsView, CurrentBusinessView

urlpatterns = [
    path("business/", CurrentBusinessView.as_view(), name="business-current"),
    path("business/settings/", BusinessSettingsView.as_view(), name="business-settings"),
    path("ops/cache-stats/", CacheStatsView.as_view(), name="ops-cache-stats"),
]
