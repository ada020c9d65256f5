"""URL routes of the crm app (mounted under /api/)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from crm.views import (
    CallLogViewSet,
    CustomerViewSet,
    LeadStatusHistoryView,
    LeadViewSet,
    WhatsAppMessageViewSet,
)

router = SimpleRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("leads", LeadViewSet, basename="lead")
router.register("calls", CallLogViewSet, basename="call")
router.register("whatsapp/messages", WhatsAppMessageViewSet, basename="whatsapp-message")

urlpatterns: list[URLPattern | URLResolver] = [
    # Any text reaches the view, so a malformed id is a 400 naming it, not a 404.
    path(
        "leads/<str:lead_id>/status-history/",
        LeadStatusHistoryView.as_view(),
        name="lead-status-history",
    ),
    *router.urls,
]
