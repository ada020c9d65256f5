"""Tenant resolution: which business a request acts for, and in which role.

The tenant is resolved once per request, at the boundary, by ``IsTenantMember``
(a DRF permission), through the membership and business settings caches. Views then
read ``request.business`` (a ``Business`` built from the cache, with ``.settings``)
and ``request.role`` and pass the business to selectors and services; nothing below
the view looks it up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import BasePermission

from businesses.models import Business, Membership
from businesses.selectors import business_from_cache, cached_business, cached_memberships

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from rest_framework.request import Request
    from rest_framework.views import APIView

BUSINESS_HEADER = "X-Business-Id"
# The business a browser session picked with the switcher (POST /api/business/switch/).
# The header wins over it; API clients with a token have no session.
SESSION_BUSINESS_KEY = "prosaas_business_id"
ALL_ROLES = frozenset(Membership.Role.values)
MANAGING_ROLES = frozenset({Membership.Role.OWNER, Membership.Role.ADMIN, Membership.Role.MANAGER})
ADMIN_ROLES = frozenset({Membership.Role.OWNER, Membership.Role.ADMIN})

_MAX_BIGINT = 2**63 - 1


def parse_id(raw: object, *, field: str) -> int:
    """Read a positive database id from user input, or raise a 400 naming ``field``.

    Only ASCII digits, nothing around them: ``int()`` would also take ``" 1 "``,
    ``"1_0"`` and other scripts' digits (Arabic-Indic, fullwidth), which no client means as an id.
    The length is checked before ``int()``, which refuses over 4300 digits itself.
    """
    text = str(raw)
    if (
        not text.isascii()
        or not text.isdigit()
        or len(text) > len(str(_MAX_BIGINT))
        or not 0 < int(text) <= _MAX_BIGINT
    ):
        raise ValidationError({field: [f"'{_printable(text)}' is not a valid id."]})
    return int(text)


def _printable(text: str) -> str:
    """At most 40 characters of ``text`` for an error message."""
    return text if len(text) <= 40 else text[:40] + "..."


def resolve_tenant(
    user: AbstractBaseUser, requested_business_id: str | None
) -> tuple[Business, str]:
    """The active business the request acts for, and the user's role there.

    With several memberships the caller names the business in ``X-Business-Id``.
    A business the user does not belong to, one that does not exist and an inactive
    one are refused with the same message, so ids reveal nothing.

    Reads go through the membership and business settings caches: a warm request
    spends no query here.
    """
    if requested_business_id is not None:
        business_id = parse_id(requested_business_id, field=BUSINESS_HEADER)
        memberships = cached_memberships(user_id=user.pk)
        role = next((m.role for m in memberships if m.business_id == business_id), None)
        business = _active_business(business_id) if role is not None else None
        if business is None or role is None:
            raise PermissionDenied(
                f"You are not a member of an active business with id {business_id}."
            )
        return business, role

    found: list[tuple[Business, str]] = []
    for membership in cached_memberships(user_id=user.pk):  # ordered by business id
        business = _active_business(membership.business_id)
        if business is not None:
            found.append((business, membership.role))
            if len(found) > 1:
                raise ValidationError(
                    {
                        BUSINESS_HEADER: [
                            "You belong to several businesses; send this header to pick one "
                            "(in the browsable API: the business switcher at the top)."
                        ]
                    }
                )
    if not found:
        raise PermissionDenied("Your account is not a member of any active business.")
    return found[0]


def member_businesses(user: AbstractBaseUser) -> list[tuple[Business, str]]:
    """The active businesses ``user`` belongs to, with the role in each (cached reads)."""
    found = []
    for membership in cached_memberships(user_id=user.pk):
        business = _active_business(membership.business_id)
        if business is not None:
            found.append((business, membership.role))
    return found


def session_business_id(request: Any) -> str | None:
    """The business this browser session picked, if it still is one of the user's.

    A stale choice (membership ended, business deactivated) is dropped, so the user
    falls back to their sole business or is asked to pick again.
    """
    session = getattr(request, "session", None)
    if session is None or SESSION_BUSINESS_KEY not in session:
        return None
    chosen = session[SESSION_BUSINESS_KEY]
    if any(business.pk == chosen for business, _ in member_businesses(request.user)):
        return str(chosen)
    del session[SESSION_BUSINESS_KEY]
    return None


def _active_business(business_id: int) -> Business | None:
    cached = cached_business(business_id=business_id)
    if cached is None or not cached[0].is_active:
        return None
    return business_from_cache(cached)


class IsTenantMember(BasePermission):
    """Resolves the tenant onto the request and checks the user's role there.

    The view lists the roles it admits in ``allowed_roles`` (all roles by default)
    or decides per action in ``get_allowed_roles()``.
    """

    message = "Your role in this business does not allow this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if not hasattr(request, "business"):
            requested = request.headers.get(BUSINESS_HEADER)
            if requested is None:  # a browser: the business picked with the switcher
                requested = session_business_id(request)
            request.business, request.role = resolve_tenant(request.user, requested)
        allowed: frozenset[str] = (
            view.get_allowed_roles()  # type: ignore[attr-defined]
            if hasattr(view, "get_allowed_roles")
            else getattr(view, "allowed_roles", ALL_ROLES)
        )
        return request.role in allowed


class TenantScopedViewMixin:
    """For views over one tenant's records: resolves the tenant, validates ids.

    ``get_queryset`` must already be restricted to ``self.request.business``, so an id
    of another tenant is simply not found (404), never a 403 that confirms it exists.
    """

    permission_classes = [IsTenantMember]
    allowed_roles: frozenset[str] = ALL_ROLES
    # Routers match ids with DRF's default ``[^/.]+``, so ``/customers/0.5/`` matched
    # no route and got Django's 404 page. Any segment reaches ``parse_id`` instead,
    # which answers every malformed id with the same 400.
    lookup_value_regex = "[^/]+"
    request: Any
    kwargs: dict[str, Any]

    def get_allowed_roles(self) -> frozenset[str]:
        return self.allowed_roles

    def get_object(self) -> Any:
        lookup = getattr(self, "lookup_url_kwarg", None) or getattr(self, "lookup_field", "pk")
        self.kwargs[lookup] = parse_id(self.kwargs[lookup], field="id")
        return super().get_object()  # type: ignore[misc]
