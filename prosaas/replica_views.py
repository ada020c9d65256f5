"""Mark a DRF view as tolerant of replica lag: ``replica_reads = True``.

Only GET/HEAD requests of such a view (and, on a viewset, only the actions listed in
``replica_read_actions``) move to a replica, after authentication and the tenant
check, which therefore always read the primary. If the replica fails while the
view runs, the handler runs once more on the primary (``fall_back_to_primary``),
so a replica going away costs that request some time, never an error.
"""

from __future__ import annotations

from typing import Any

from django.db import InterfaceError, OperationalError
from rest_framework.request import Request
from rest_framework.response import Response

from prosaas import db_routing

REPLICA_METHODS = frozenset({"GET", "HEAD"})


class ReplicaReadsMixin:
    replica_reads: bool = True
    # For viewsets: the actions that may read from a replica (``None``: every action).
    replica_read_actions: frozenset[str] | None = None

    request: Request
    args: Any
    kwargs: Any

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        if self._may_read_replica(request):
            user = request.user
            db_routing.route_reads_to_replica(user.pk if user.is_authenticated else None)

    def _may_read_replica(self, request: Request) -> bool:
        if not self.replica_reads or request.method not in REPLICA_METHODS:
            return False
        actions = self.replica_read_actions
        return actions is None or getattr(self, "action", None) in actions

    def handle_exception(self, exc: Exception) -> Response:
        # A connection error while reading from a replica: the same GET once more on
        # the primary. Anything else (and a second failure) takes the normal path.
        if isinstance(exc, OperationalError | InterfaceError) and (
            db_routing.fall_back_to_primary()
        ):
            handler = getattr(self, self.request.method.lower())
            try:
                return handler(self.request, *self.args, **self.kwargs)
            except Exception as again:  # handed to DRF like the first one
                return super().handle_exception(again)  # type: ignore[misc]
        return super().handle_exception(exc)  # type: ignore[misc]
