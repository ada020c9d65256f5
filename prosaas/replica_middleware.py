"""Per-request database routing: sets it up, records writes, reports the serving database.

Adds to ``Server-Timing`` the alias that served the request's reads, and why a
``replica_reads`` view read from the primary instead (only when replicas are
configured)::

    Server-Timing: db-served;desc="replica1"
    Server-Timing: db-served;desc="default (lagging)"

and remembers, for read-your-writes, that an authenticated user just wrote
(an unsafe method that did not fail).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from prosaas import db_routing
from prosaas.query_metrics import HEADER

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
METRIC = "db-served"


def served_by(routing: db_routing.RequestRouting) -> str:
    if routing.fallback:
        return f"{routing.read_alias} ({routing.fallback})"
    return routing.read_alias


class ReplicaRoutingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        routing, token = db_routing.begin_request()
        try:
            response = self.get_response(request)
        finally:
            db_routing.end_request(token)
        db_routing.count_request(routing)

        if settings.DATABASE_REPLICA_ALIASES:
            # Without replicas every request is served by the primary: nothing to say.
            timing = f'{METRIC};desc="{served_by(routing)}"'
            existing = response.headers.get(HEADER)
            response.headers[HEADER] = f"{existing}, {timing}" if existing else timing

        if request.method not in SAFE_METHODS and response.status_code < 400:
            # DRF copies the user it authenticated (token included) onto the request.
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                db_routing.record_write(user.pk)
        return response
