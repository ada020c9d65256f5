"""Tenant resolution: which business a request acts for, and in which role.

The tenant is resolved once per request, at the boundary, by ``IsTenantMember``
(a DRF permission). Views then read ``request.business`` and ``request.role`` and
pass the business to selectors and services; nothing below the view looks it up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import BasePermission

from businesses.models import Membership

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from rest_framework.request import Request
    from rest_framework.views import APIView

BUSINESS_HEADER = "X-Business-Id"
ALL_ROLES = frozenset(Membership.Role.values)
MANAGING_ROLES = frozenset({Membership.Role.OWNER, Membership.Role.ADMIN, Membership.Role.MANAGER})
ADMIN_ROLES = frozenset({Membership.Role.OWNER, Membership.Role.ADMIN})

_MAX_BIGINT = 2**63 - 1


def parse_id(raw: object, *, field: str) -> int:
    """Read a positive database id from user input, or raise a 400 naming ``field``."""
    text = str(raw).strip()
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= _MAX_BIGINT:
        raise ValidationError({field: [f"'{raw}' is not a valid id."]})
    return int(text)


def resolve_membership(user: AbstractBaseUser, requested_business_id: str | None) -> Membership:
    """The user's membership of an active business, with the business and its settings.

    With several memberships the caller names the business in ``X-Business-Id``.
    A business the user does not belong to, one that does not exist and an inactive
    one are refused with the same message, so ids reveal nothing.
    """
    memberships = Membership.objects.filter(user=user, business__is_active=True).select_related(
        "business", "business__settings"
    )
    if requested_business_id is not None:
        business_id = parse_id(requested_business_id, field=BUSINESS_HEADER)
        membership = memberships.filter(business_id=business_id).first()
        if membership is None:
            raise PermissionDenied(
                f"You are not a member of an active business with id {business_id}."
            )
        return membership

    found = list(memberships.order_by("business_id")[:2])
    if not found:
        raise PermissionDenied("Your account is not a member of any active business.")
    if len(found) > 1:
        raise ValidationError(
            {BUSINESS_HEADER: ["You belong to several businesses; send this header to pick one."]}
        )
    return found[0]


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
            membership = resolve_membership(request.user, request.headers.get(BUSINESS_HEADER))
            request.business = membership.business
            request.role = membership.role
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
    request: Any
    kwargs: dict[str, Any]

    def get_allowed_roles(self) -> frozenset[str]:
        return self.allowed_roles

    def get_object(self) -> Any:
        lookup = getattr(self, "lookup_url_kwarg", None) or getattr(self, "lookup_field", "pk")
        self.kwargs[lookup] = parse_id(self.kwargs[lookup], field="id")
        return super().get_object()  # type: ignore[misc]
