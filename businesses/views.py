"""The current tenant and its settings, and the cache statistics for operators."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from businesses.cache import cache_report
from businesses.models import Business, BusinessSettings
from businesses.serializers import (
    BusinessSerializer,
    BusinessSettingsSerializer,
    CacheReportSerializer,
)
from businesses.services import business_settings_ensure, business_settings_update
from businesses.tenancy import (
    ADMIN_ROLES,
    ALL_ROLES,
    SESSION_BUSINESS_KEY,
    IsTenantMember,
    member_businesses,
)


class CurrentBusinessView(generics.RetrieveAPIView):
    """The business this request acts for (pick it with `X-Business-Id`)."""

    permission_classes = [IsTenantMember]
    serializer_class = BusinessSerializer

    def get_object(self) -> Business:
        # Resolved by IsTenantMember through the cache: no query of its own.
        return self.request.business


class BusinessSettingsView(generics.RetrieveUpdateAPIView):
    """The current business's settings. Owners and admins may change them."""

    permission_classes = [IsTenantMember]
    serializer_class = BusinessSettingsSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_allowed_roles(self) -> frozenset[str]:
        return ALL_ROLES if self.request.method in ("GET", "HEAD", "OPTIONS") else ADMIN_ROLES

    def get_object(self) -> BusinessSettings:
        business_settings = self.request.business.settings
        if business_settings._state.adding:  # cached as having no settings row yet
            business_settings = business_settings_ensure(business=self.request.business)
        return business_settings

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        # The serializer validated against the cached settings; the service validates
        # again against the locked row and writes only the fields sent.
        try:
            serializer.instance = business_settings_update(
                business=self.request.business, changes=serializer.validated_data
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(serializers.as_serializer_error(exc)) from exc


class CacheStatsView(APIView):
    """Statistics of the tenant caches in the server process that answers (staff only).

    With a local-memory cache every server process has its own entries and counters;
    `scope` names the process. `manage.py cache_stats --url` reads this endpoint.
    """

    permission_classes = [IsAdminUser]

    @extend_schema(responses=CacheReportSerializer)
    def get(self, request: Request) -> Response:
        return Response(CacheReportSerializer(cache_report()).data)


class BusinessSwitchSerializer(serializers.Serializer):
    business_id = serializers.IntegerField(min_value=1, help_text="One of your businesses.")
    next = serializers.CharField(
        required=False, allow_blank=True, help_text="Page to go back to (same site only)."
    )


class BusinessSwitchView(generics.GenericAPIView):
    """Pick the business this browser session acts for (the browsable API's switcher).

    API clients send the `X-Business-Id` header instead, which wins over this choice.
    """

    permission_classes = [IsAuthenticated]
    serializer_class = BusinessSwitchSerializer

    @extend_schema(responses=BusinessSerializer)
    def post(self, request: Request) -> Response | HttpResponseRedirect:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        business_id = serializer.validated_data["business_id"]
        chosen = next(
            (
                (business, role)
                for business, role in member_businesses(request.user)
                if business.pk == business_id
            ),
            None,
        )
        if chosen is None:
            # The same answer for another tenant's id and a missing one: ids reveal nothing.
            raise PermissionDenied(
                f"You are not a member of an active business with id {business_id}."
            )
        request.session[SESSION_BUSINESS_KEY] = business_id
        target = serializer.validated_data.get("next")
        if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return HttpResponseRedirect(target, status=303)
        request.business, request.role = chosen
        return Response(BusinessSerializer(chosen[0], context={"request": request}).data)
