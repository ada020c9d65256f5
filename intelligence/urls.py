"""URL routes of the intelligence app (included under /api/)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from intelligence.views import (
    CustomerIntelligenceDetailView,
    CustomerIntelligenceListView,
    TenantStatsView,
)

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "intelligence/customers/",
        CustomerIntelligenceListView.as_view(),
        name="intelligence-customer-list",
    ),
    # <str:pk>, not <int:pk>: a malformed id is a 400 naming the field, not a bare 404.
    path(
        "intelligence/customers/<str:pk>/",
        CustomerIntelligenceDetailView.as_view(),
        name="intelligence-customer-detail",
    ),
    path("intelligence/stats/", TenantStatsView.as_view(), name="intelligence-stats"),
]
