"""The CRM records API: thin views over ``crm.selectors`` and ``crm.services``.

Every queryset starts from the request's tenant (``TenantScopedViewMixin`` resolved
it once), so another tenant's id is simply not found: 404, never 403.

Roles: every member reads the lists and works leads and customers; ingestion
(POST calls and WhatsApp messages) accepts every role too, because integrations
authenticate as a member, normally a dedicated user with the least-privileged
``agent`` role. Deleting a customer takes a managing role (owner, admin, manager).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from businesses.tenancy import ALL_ROLES, MANAGING_ROLES, TenantScopedViewMixin, parse_id
from crm import selectors, services
from crm.filters import (
    CallLogFilter,
    CommaSeparatedMultipleWidget,
    CustomerFilter,
    LeadFilter,
    WhatsAppMessageFilter,
)
from crm.models import CallLog, Customer, Lead, LeadStatusHistory, WhatsAppMessage
from crm.pagination import NewestFirstPagination
from crm.serializers import (
    CallLogSerializer,
    CustomerSerializer,
    LeadSerializer,
    LeadStatusHistorySerializer,
    WhatsAppMessageSerializer,
)


@contextmanager
def service_errors() -> Iterator[None]:
    """Report a service's validation error as a 400 with the same field errors."""
    try:
        yield
    except DjangoValidationError as error:
        raise serializers.ValidationError(serializers.as_serializer_error(error)) from error


class StatusPartitionsMixin:
    """Pages a filter on several statuses one status at a time.

    No index holds the rows of several statuses in ``created_at`` order, so
    ``status IN (…)`` would either sort every matching row of the tenant or walk the
    whole tenant newest first. Instead each status is its own keyset range of the
    contract index, stopped at a page + 1, and the page is the newest of those
    (``KeysetPagination.keyset_queryset``): at most 7 or 8 small ranges, whatever the
    tenant's size. The filter has already refused unknown statuses.
    """

    request: Request

    def get_keyset_partitions(self) -> list[Q]:
        statuses = CommaSeparatedMultipleWidget().value_from_datadict(
            self.request.query_params, {}, "status"
        )
        distinct = sorted(set(statuses))
        return [Q(status=status) for status in distinct] if len(distinct) > 1 else []


class CustomerViewSet(
    TenantScopedViewMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The tenant's customers, newest first. A phone number is unique per business."""

    queryset = Customer.objects.none()  # for the schema only; see get_queryset
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_allowed_roles(self) -> frozenset[str]:
        return MANAGING_ROLES if self.request.method == "DELETE" else ALL_ROLES

    def get_queryset(self) -> QuerySet[Customer]:
        return selectors.customer_list(business=self.request.business)

    def perform_create(self, serializer: CustomerSerializer) -> None:
        with service_errors():
            serializer.instance = services.customer_create(
                business=self.request.business, **serializer.validated_data
            )

    def perform_update(self, serializer: CustomerSerializer) -> None:
        with service_errors():
            serializer.instance = services.customer_update(
                customer=serializer.instance, **serializer.validated_data
            )

    def perform_destroy(self, instance: Customer) -> None:
        services.customer_delete(customer=instance)


class LeadViewSet(
    TenantScopedViewMixin,
    StatusPartitionsMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The tenant's leads, newest first. A status change (PATCH ``status``, with an
    optional ``status_reason``) is recorded in the lead's status history."""

    queryset = Lead.objects.none()  # for the schema only; see get_queryset
    serializer_class = LeadSerializer
    filterset_class = LeadFilter
    pagination_class = NewestFirstPagination
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Lead]:
        return selectors.lead_list(business=self.request.business)

    def perform_create(self, serializer: LeadSerializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("status_reason", None)  # a new lead's first status needs no reason
        with service_errors():
            serializer.instance = services.lead_create(
                business=self.request.business, by=self.request.user, **data
            )

    def perform_update(self, serializer: LeadSerializer) -> None:
        with service_errors():
            serializer.instance = services.lead_update(
                lead=serializer.instance,
                by=self.request.user,
                channel=LeadStatusHistory.Channel.API,
                **serializer.validated_data,
            )


@extend_schema(
    parameters=[OpenApiParameter("lead_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
)
class LeadStatusHistoryView(TenantScopedViewMixin, generics.ListAPIView):
    """A lead's status changes, newest first: who changed it, from what, why, and how."""

    queryset = LeadStatusHistory.objects.none()  # for the schema only; see get_queryset
    serializer_class = LeadStatusHistorySerializer
    pagination_class = NewestFirstPagination

    def get_queryset(self) -> QuerySet[LeadStatusHistory]:
        lead_id = parse_id(self.kwargs["lead_id"], field="lead_id")
        lead = get_object_or_404(selectors.lead_list(business=self.request.business), pk=lead_id)
        return selectors.lead_status_history(business=self.request.business, lead=lead)


INGEST_RESPONSES: dict[int, Any] = {
    400: OpenApiResponse(description="Invalid input; nothing was stored."),
}


class IngestionCreateMixin:
    """POST answers 201 with a new record, 200 with the stored one on a retry."""

    request: Request

    def ingest(self, **validated: Any) -> services.Ingested[Any]:
        raise NotImplementedError

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)  # type: ignore[attr-defined]
        serializer.is_valid(raise_exception=True)
        with service_errors():
            result = self.ingest(**serializer.validated_data)
        return Response(
            self.get_serializer(result.record).data,  # type: ignore[attr-defined]
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


@extend_schema(
    methods=["POST"],
    responses={
        201: CallLogSerializer,
        200: OpenApiResponse(CallLogSerializer, description="A retry: the stored call."),
        409: OpenApiResponse(description="The call_sid is registered to another business."),
        **INGEST_RESPONSES,
    },
)
class CallLogViewSet(
    TenantScopedViewMixin,
    StatusPartitionsMixin,
    IngestionCreateMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """The tenant's calls, newest first. POST ingests a call, idempotent on ``call_sid``."""

    queryset = CallLog.objects.none()  # for the schema only; see get_queryset
    serializer_class = CallLogSerializer
    filterset_class = CallLogFilter
    pagination_class = NewestFirstPagination

    def get_queryset(self) -> QuerySet[CallLog]:
        return selectors.call_list(business=self.request.business)

    def ingest(self, **validated: Any) -> services.Ingested[CallLog]:
        return services.call_log_ingest(business=self.request.business, **validated)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            return super().create(request, *args, **kwargs)
        except services.CallSidConflict as conflict:
            # No data of the other record: only that this id cannot be stored here.
            return Response(
                {"detail": str(conflict), "code": "call_sid_conflict"},
                status=status.HTTP_409_CONFLICT,
            )


@extend_schema(
    methods=["POST"],
    responses={
        201: WhatsAppMessageSerializer,
        200: OpenApiResponse(WhatsAppMessageSerializer, description="A retry: the stored message."),
        **INGEST_RESPONSES,
    },
)
class WhatsAppMessageViewSet(
    TenantScopedViewMixin,
    IngestionCreateMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """One WhatsApp conversation (``to_number`` is required), newest first. POST ingests
    a message, idempotent on the provider's message id within the business."""

    queryset = WhatsAppMessage.objects.none()  # for the schema only; see get_queryset
    serializer_class = WhatsAppMessageSerializer
    filterset_class = WhatsAppMessageFilter
    pagination_class = NewestFirstPagination

    def get_queryset(self) -> QuerySet[WhatsAppMessage]:
        return selectors.whatsapp_message_list(business=self.request.business)

    def ingest(self, **validated: Any) -> services.Ingested[WhatsAppMessage]:
        return services.whatsapp_message_ingest(business=self.request.business, **validated)
