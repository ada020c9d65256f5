"""Request middleware: turn an exhausted database pool into a clean 503."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

logger = logging.getLogger("prosaas.db.pool")


def pool_status(alias: str = "default") -> str:
    """Describe the alias's pool (checked out / overflow / idle), or say there is none."""
    from dj_db_conn_pool.core import pool_container

    pool = pool_container.get(alias) if pool_container.has(alias) else None
    return pool.status() if pool is not None else "no pool yet"


def pool_exhausted_response() -> JsonResponse:
    response = JsonResponse(
        {
            "detail": "The service is busy: no database connection became free in time. "
            "Retry shortly.",
            "code": "database_pool_exhausted",
        },
        status=503,
    )
    response["Retry-After"] = str(settings.DB_POOL_RETRY_AFTER)
    return response


class DatabasePoolExhaustedMiddleware:
    """Answer 503 + Retry-After when the connection pool times out.

    The pool raises ``sqlalchemy.exc.TimeoutError``, which is not a Django database
    error, so without this it would surface as a 500 with a traceback. DRF re-raises
    exceptions it does not know, so API views reach ``process_exception`` too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, PoolTimeoutError):
            return None
        from prosaas.metrics import POOL_TIMEOUTS

        POOL_TIMEOUTS.inc()
        logger.warning(
            "Database pool exhausted after %ss on %s %s; pool: %s",
            settings.DB_POOL_TIMEOUT,
            request.method,
            request.path,
            pool_status(),
        )
        return pool_exhausted_response()
