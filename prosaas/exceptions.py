"""The API's error responses: DRF's shape, also for Django's request-size errors.

Every error body is JSON: ``{"detail": "...", "code": "..."}`` for errors about the
request as a whole, ``{"<field>": ["message", ...]}`` for invalid fields (the shapes
the OpenAPI schema declares, prosaas/schema.py). Django raises its own exceptions
when a body is over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` or has too many fields; DRF
does not know them and would let them through to Django's HTML 400 page.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from rest_framework.exceptions import APIException, ParseError
from rest_framework.response import Response
from rest_framework.views import exception_handler

from prosaas.parsers import RequestTooLarge


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        # TooManyFieldsSent, TooManyFilesSent and the like: the client's request is bad.
        exc = ParseError(str(exc))
    response = exception_handler(exc, context)
    # A machine-readable code next to the message, as the 409 and 503 answers have.
    if (
        response is not None
        and isinstance(exc, APIException)
        and isinstance(response.data, dict)
        and set(response.data) == {"detail"}
    ):
        response.data["code"] = _code(exc)
    return response


def _code(exc: APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code
