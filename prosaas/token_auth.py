"""POST /api/auth/token/: DRF's token view with password guessing throttled.

Two limits, both counted in the default cache (shared by every process when
``CACHE_URL`` is Redis): per client address (``AUTH_TOKEN_RATE_PER_ADDRESS``), which
stops one client trying many passwords or usernames, and per username
(``AUTH_TOKEN_RATE_PER_USERNAME``), which stops many addresses trying one account.
Over either limit the answer is 429 with ``Retry-After``. Failed and successful
attempts count alike: counting only failures would tell an attacker which one worked.
"""

from __future__ import annotations

import hashlib
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView


class TokenAddressThrottle(SimpleRateThrottle):
    """Token requests per client address (REMOTE_ADDR, or per NUM_PROXIES)."""

    scope = "token_address"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.method != "POST":
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenUsernameThrottle(SimpleRateThrottle):
    """Token requests per username, whichever address they come from."""

    scope = "token_username"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.method != "POST":
            return None
        username = request.data.get("username") if hasattr(request.data, "get") else None
        if not isinstance(username, str) or not username:
            return None  # the serializer refuses the request
        # Hashed: a username may hold characters a cache key must not (memcached).
        digest = hashlib.sha256(username.casefold().encode("utf-8", "replace")).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": digest}


class ThrottledObtainAuthToken(ObtainAuthToken):
    """A token for a username and password; the user's existing token if it has one."""

    throttle_classes = (TokenAddressThrottle, TokenUsernameThrottle)
    # DRF's view names its own parsers; the project's refuse deep or broken JSON.
    parser_classes = APIView.parser_classes

    @extend_schema(
        request=AuthTokenSerializer,
        responses={
            200: OpenApiResponse(
                response={"type": "object", "properties": {"token": {"type": "string"}}},
                description="The user's API token.",
            ),
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().post(request, *args, **kwargs)


obtain_auth_token = ThrottledObtainAuthToken.as_view()
