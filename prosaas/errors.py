"""Errors under /api/ are JSON, whoever produced them.

DRF answers its own errors in JSON, but some answers under /api/ come from Django:
the 404 of a path no route matches (``/api/customers/0.5/``), the 400 of a
``SuspiciousOperation``, the 403 of a failed CSRF check on the login form, the 405 of
Django's own views (``/api/auth/logout/``), and the 500 of an unhandled exception.
They are HTML pages (or empty) by default, which an API client cannot read. This
middleware replaces any error response under ``API_PREFIX`` that is not JSON with
``{"detail": ..., "code": ...}`` and the same status; other paths (admin, the root
redirect) keep Django's pages, and so do DRF's browsable API pages asked for by a
browser.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.renderers import BrowsableAPIRenderer

API_PREFIX = "/api/"

_DETAILS = {
    400: ("Bad request.", "bad_request"),
    403: ("Forbidden.", "permission_denied"),
    404: ("Not found.", "not_found"),
    405: ("Method not allowed.", "method_not_allowed"),
    500: ("Internal server error.", "server_error"),
}


def is_json(response: HttpResponse) -> bool:
    content_type = response.get("Content-Type", "")
    return content_type.split(";")[0].strip().endswith(("/json", "+json"))


def is_browsable_api_page(response: HttpResponse) -> bool:
    """DRF's HTML page for a browser (Accept: text/html): it shows the error already,
    with a login link, and stays."""
    return isinstance(getattr(response, "accepted_renderer", None), BrowsableAPIRenderer)


def json_error(status: int) -> JsonResponse:
    detail, code = _DETAILS.get(status) or (HTTPStatus(status).phrase + ".", f"http_{status}")
    return JsonResponse({"detail": detail, "code": code}, status=status)


class JSONErrorsForAPIMiddleware:
    """Outermost: sees the final response, including Django's 404 and 500 pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith(API_PREFIX)
            and not response.streaming
            and not is_json(response)
            and not is_browsable_api_page(response)
        ):
            replacement = json_error(response.status_code)
            for header in ("Allow", "Retry-After", "WWW-Authenticate", "Server-Timing"):
                if header in response:
                    replacement[header] = response[header]
            return replacement
        return response
