"""URL configuration: the API under /api/, the admin, the schema and its UI."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from prosaas import health
from prosaas.monitoring import metrics_view
from prosaas.token_auth import obtain_auth_token
from prosaas.views import SwaggerUIView, api_root

urlpatterns = [
    path("", RedirectView.as_view(url="/api/", permanent=False)),
    path("admin/", admin.site.urls),
    # Operations: probes and Prometheus, outside /api/ and its auth.
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("metrics", metrics_view, name="metrics"),
    path("api/", api_root, name="api-root"),
    path("api/auth/token/", obtain_auth_token, name="api-token"),
    path("api/auth/", include("rest_framework.urls", namespace="rest_framework")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SwaggerUIView.as_view(url_name="schema"), name="docs"),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="prosaas/redoc.html"),
        name="redoc",
    ),
    path("api/", include("businesses.urls")),
    path("api/", include("crm.urls")),
    path("api/", include("intelligence.urls")),
]
