"""A request that holds its database connection for a set time, for the exhaustion run.

The pool's behaviour when every connection is busy should not depend on how fast some
endpoint happens to be on the day: this one holds its connection for ``ms``
milliseconds (``pg_sleep``), after the same authentication and tenant resolution as
any API request.
"""

from __future__ import annotations

from django.db import connection
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from businesses.tenancy import IsTenantMember, parse_id

MAX_HOLD_MS = 2_000


class HoldConnectionView(APIView):
    """GET /bench/hold-connection/?ms=50"""

    permission_classes = [IsTenantMember]

    def get(self, request: Request) -> Response:
        ms = min(parse_id(request.query_params.get("ms", "50"), field="ms"), MAX_HOLD_MS)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(%s)", [ms / 1000])
        return Response({"held_ms": ms})
