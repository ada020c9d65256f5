"""Which database exceptions are an outage, and getting rid of a broken connection.

Django wraps the driver's errors in ``django.db.OperationalError`` and
``InterfaceError`` for anything from "connection refused" to a deadlock; the
driver's own error (``__cause__``) and its SQLSTATE tell them apart. Errors that
are the request's fault or a bug (syntax, constraint, data) are not outages and are
left alone.
"""

from __future__ import annotations

from django.db import InterfaceError, OperationalError, connections
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from prosaas.outages import OutageCause

# SQLSTATEs (PostgreSQL appendix A) by what a client should make of them.
_TIMEOUT_STATES = {
    "57014",  # query_canceled: statement_timeout (or a cancel request)
    "55P03",  # lock_not_available: lock_timeout
}
_CONFLICT_CLASS = "40"  # transaction_rollback: serialization failure, deadlock
_UNAVAILABLE_CLASSES = {
    "08",  # connection exception
    "53",  # insufficient resources: too many connections, out of memory, disk full
    "57",  # operator intervention: admin/crash shutdown, cannot connect now
}


def outage_cause(exception: BaseException) -> OutageCause | None:
    """The outage ``exception`` stands for, or ``None`` if it is not one."""
    if isinstance(exception, PoolTimeoutError):
        return OutageCause.DATABASE_POOL_EXHAUSTED
    if isinstance(exception, InterfaceError):
        # "connection already closed": the driver found the connection dead.
        return OutageCause.DATABASE_UNAVAILABLE
    if not isinstance(exception, OperationalError):
        return None
    state = getattr(exception.__cause__, "pgcode", None)
    if state is None:
        # No SQLSTATE: the driver failed below SQL, at connect (refused, timed out,
        # database not accepting connections) or when the socket closed mid-query.
        return OutageCause.DATABASE_UNAVAILABLE
    if state in _TIMEOUT_STATES:
        return OutageCause.DATABASE_TIMEOUT
    if state.startswith(_CONFLICT_CLASS):
        return OutageCause.DATABASE_CONFLICT
    if state[:2] in _UNAVAILABLE_CLASSES:
        return OutageCause.DATABASE_UNAVAILABLE
    return None


def one_line(exception: BaseException) -> str:
    """The driver's message on one line, for a log record without a traceback."""
    text = " ".join(str(exception).split())
    return f"{type(exception).__name__}: {text}" if text else type(exception).__name__


def discard_broken_connections() -> bool:
    """Close every connection of this thread that failed and no longer answers.

    The pooled connection is invalidated rather than returned: returning it would
    make the pool roll it back (which fails and logs a traceback) and could hand the
    dead connection to the next request. Returns whether one was discarded, that is
    whether the failure was a connection that dropped (rather than one that never
    opened).
    """
    discarded = False
    for wrapper in connections.all(initialized_only=True):
        if wrapper.connection is None or not wrapper.errors_occurred:
            continue
        if wrapper.in_atomic_block:
            # Still inside a transaction (a test's, or an outer atomic()): a healthy
            # connection would fail the check below too; its owner rolls it back.
            continue
        if wrapper.is_usable():  # a statement failed, the connection is fine
            continue
        invalidate = getattr(wrapper.connection, "invalidate", None)  # SQLAlchemy's proxy
        if invalidate is not None:
            invalidate()
        wrapper.close()
        discarded = True
    return discarded
