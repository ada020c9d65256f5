"""Request middleware: a database fault becomes a JSON 503, or a retried read."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from prosaas.db_faults import discard_broken_connections, one_line, outage_cause
from prosaas.outages import OutageCause, get_outage_log, service_unavailable_response

logger = logging.getLogger("prosaas.db.pool")

# Requests that change nothing: running one twice is the same as running it once.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def pool_status(alias: str = "default") -> str:
    """Describe the alias's pool (checked out / overflow / idle), or say there is none."""
    from dj_db_conn_pool.core import pool_container

    pool = pool_container.get(alias) if pool_container.has(alias) else None
    return pool.status() if pool is not None else "no pool yet"


class _RetryOnFreshConnection(HttpResponse):
    """Handed from ``process_exception`` back to ``__call__``: run the view again.

    Retrying here rather than inside ``process_exception`` keeps the second attempt
    out of the first one's exception handling (and its stack).
    """


class DatabaseOutageMiddleware:
    """Answer a database outage with a JSON 503 + ``Retry-After``, or retry a read.

    * A safe request (GET/HEAD/OPTIONS) whose connection dropped under it (a
      restart, a failover, ``pg_terminate_backend``, a pooler restart) runs once
      more on a fresh connection: it changed nothing, so running it again is safe,
      and the client never sees the fault.
    * Otherwise a refused, timed-out, dropped or exhausted database gives a 503 with
      a stable ``code`` (``prosaas.outages.OutageCause``), logged once per interval
      with a count rather than once per request with a traceback.

    It must be the innermost middleware: ``process_exception`` sees the exceptions
    of views, and DRF re-raises the ones it does not know (database errors), so API
    views reach it too. A database error raised by another middleware is not seen
    (none of this project's middleware queries the database).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if isinstance(response, _RetryOnFreshConnection):
            request._database_retried = True  # type: ignore[attr-defined]
            response = self.get_response(request)
        get_outage_log().flush()
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        cause = outage_cause(exception)
        if cause is None:
            return None
        # Whatever the cause, a connection that no longer answers must not go back to
        # the pool (nor serve this thread's next request).
        dropped = discard_broken_connections()
        if (
            dropped
            and cause is OutageCause.DATABASE_UNAVAILABLE
            and request.method in SAFE_METHODS
            and not getattr(request, "_database_retried", False)
        ):
            logger.info(
                "Retrying %s %s on a fresh connection after: %s",
                request.method,
                request.path,
                one_line(exception),
            )
            return _RetryOnFreshConnection()
        detail = one_line(exception)
        if cause is OutageCause.DATABASE_POOL_EXHAUSTED:
            from prosaas.metrics import POOL_TIMEOUTS

            POOL_TIMEOUTS.inc()
            detail = f"no connection free after {settings.DB_POOL_TIMEOUT}s; pool: {pool_status()}"
        get_outage_log().record(cause, f"{request.method} {request.path}: {detail}")
        return service_unavailable_response(cause, request)


# The name this middleware had when it only handled an exhausted pool.
DatabasePoolExhaustedMiddleware = DatabaseOutageMiddleware
