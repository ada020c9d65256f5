"""The API's front page for the browsable UI, and the schema's UI page."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer, TemplateHTMLRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse


@extend_schema(exclude=True)  # a page of links for people, not part of the API contract
@api_view(["GET"])
@permission_classes([AllowAny])
def api_root(request: Request) -> Response:
    """Where to go next: every top-level endpoint of the API."""
    names = {
        "auth_token": "api-token",
        "schema": "schema",
        "docs": "docs",
        "redoc": "redoc",
    }
    links = {key: reverse(name, request=request) for key, name in names.items()}
    links.update(
        {
            "business": request.build_absolute_uri("/api/business/"),
            "business_settings": request.build_absolute_uri("/api/business/settings/"),
            "customers": request.build_absolute_uri("/api/customers/"),
            "leads": request.build_absolute_uri("/api/leads/"),
            "calls": request.build_absolute_uri("/api/calls/"),
            "whatsapp_messages": request.build_absolute_uri("/api/whatsapp/messages/"),
            "intelligence_customers": request.build_absolute_uri("/api/intelligence/customers/"),
            "intelligence_stats": request.build_absolute_uri("/api/intelligence/stats/"),
            "cache_stats (staff)": request.build_absolute_uri("/api/ops/cache-stats/"),
        }
    )
    return Response(links)


class SwaggerUIView(SpectacularSwaggerView):
    """The Swagger UI page; every answer other than the page itself is JSON.

    drf-spectacular's view renders everything with ``TemplateHTMLRenderer``, so its
    ``OPTIONS`` answer (a dict, no template) crashed with ``TemplateDoesNotExist``.
    """

    def get_renderers(self) -> list[BaseRenderer]:
        if self.request.method in ("GET", "HEAD"):
            return [TemplateHTMLRenderer()]
        return [JSONRenderer()]
