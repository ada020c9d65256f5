"""Each request's SQL: how many queries, how long, and a warning over budget.

The count and time go out in a ``Server-Timing`` header, which browsers' developer
tools and most APM agents display:

    Server-Timing: db;dur=4.12;desc="3 queries"

``dur`` is the milliseconds spent in the database driver (sending, waiting, receiving
rows), ``desc`` the number of statements. A request that runs more than
``REQUEST_QUERY_BUDGET`` queries is logged as a warning on the ``prosaas.query_metrics``
logger, naming the view, so an N+1 that slipped past the tests shows up in production
logs. The cost is one wrapper call and two clock reads per query.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse

from prosaas.slow_queries import report_slow_query

logger = logging.getLogger("prosaas.query_metrics")

HEADER = "Server-Timing"


class QueryCounter:
    """A ``connection.execute_wrapper`` that counts statements and their time.

    Given the request and a threshold, it also reports each statement slower than
    the threshold once (prosaas/slow_queries.py).
    """

    def __init__(
        self, request: HttpRequest | None = None, slow_seconds: float | None = None
    ) -> None:
        self.count = 0
        self.seconds = 0.0
        self.request = request
        self.slow_seconds = slow_seconds

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - start
            self.count += 1
            self.seconds += elapsed
            if self.slow_seconds is not None and elapsed > self.slow_seconds:
                report_slow_query(
                    view=view_name(self.request) if self.request is not None else "(no request)",
                    seconds=elapsed,
                    sql=sql,
                    threshold_ms=settings.SLOW_QUERY_MS,
                )

    @property
    def milliseconds(self) -> float:
        return self.seconds * 1000

    def server_timing(self) -> str:
        noun = "query" if self.count == 1 else "queries"
        return f'db;dur={self.milliseconds:.2f};desc="{self.count} {noun}"'


def view_name(request: HttpRequest) -> str:
    """The dotted path of the view that handled the request, or its path if none did."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return f"(no view) {request.path}"
    view = getattr(match.func, "view_class", match.func)
    return f"{view.__module__}.{view.__qualname__}"


class QueryMetricsMiddleware:
    """Counts the request's queries on every database alias; see the module docstring.

    Queries run while a streaming response is iterated, after this returns, are not
    counted.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        counter = QueryCounter(request, slow_seconds=settings.SLOW_QUERY_MS / 1000)
        # Read by the Prometheus middleware (prosaas/monitoring.py), outside this one.
        request.query_counter = counter  # type: ignore[attr-defined]
        with ExitStack() as stack:
            for alias in connections:
                stack.enter_context(connections[alias].execute_wrapper(counter))
            response = self.get_response(request)

        timing = counter.server_timing()
        existing = response.headers.get(HEADER)
        response.headers[HEADER] = f"{existing}, {timing}" if existing else timing

        budget = settings.REQUEST_QUERY_BUDGET
        if counter.count > budget:
            logger.warning(
                "%s %s ran %d SQL queries (budget %d) in %.1f ms; view %s",
                request.method,
                request.path,
                counter.count,
                budget,
                counter.milliseconds,
                view_name(request),
            )
        return response
