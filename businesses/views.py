"""The current tenant and its settings."""

from __future__ import annotations

from rest_framework import generics

from businesses.models import BusinessSettings
from businesses.serializers import BusinessSerializer, BusinessSettingsSerializer
from businesses.tenancy import ADMIN_ROLES, ALL_ROLES, IsTenantMember


class CurrentBusinessView(generics.RetrieveAPIView):
    """The business this request acts for (pick it with `X-Business-Id`)."""

    permission_classes = [IsTenantMember]
    serializer_class = BusinessSerializer

    def get_object(self):  # type: ignore[no-untyped-def]
        return self.request.business


class BusinessSettingsView(generics.RetrieveUpdateAPIView):
    """The current business's settings. Owners and admins may change them."""

    permission_classes = [IsTenantMember]
    serializer_class = BusinessSettingsSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_allowed_roles(self) -> frozenset[str]:
        return ALL_ROLES if self.request.method in ("GET", "HEAD", "OPTIONS") else ADMIN_ROLES

    def get_object(self) -> BusinessSettings:
        settings, _ = BusinessSettings.objects.get_or_create(business=self.request.business)
        return settings
