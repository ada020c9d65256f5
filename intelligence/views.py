"""HTTP endpoints of the intelligence screen. Managers, admins and owners may read it."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from businesses.tenancy import MANAGING_ROLES, IsTenantMember, TenantScopedViewMixin, parse_id
from crm.models import Customer
from intelligence.fast import customer_detail_json, customer_page_json, fast_path_applies
from intelligence.filters import CustomerIntelligenceFilter
from intelligence.ordering import DEFAULT_ORDERING, ORDERINGS
from intelligence.selectors import customer_intelligence_list, tenant_stats
from intelligence.serializers import CustomerIntelligenceSerializer, TenantStatsSerializer
from prosaas.filters import StrictDjangoFilterBackend
from prosaas.pagination import KeysetPagination
from prosaas.renderers import PreRenderedResponse
from prosaas.replica_views import ReplicaReadsMixin

ORDERING_PARAM = "ordering"


def ordering_from(request: Request) -> str:
    ordering = request.query_params.get(ORDERING_PARAM, DEFAULT_ORDERING)
    if ordering not in ORDERINGS:
        raise ValidationError({ORDERING_PARAM: [f"Must be one of: {', '.join(ORDERINGS)}."]})
    return ordering


@extend_schema(
    parameters=[
        OpenApiParameter(
            ORDERING_PARAM,
            OpenApiTypes.STR,
            enum=list(ORDERINGS),
            default=DEFAULT_ORDERING,
            description="Sort order; ties are broken by id, so pages never overlap.",
        )
    ]
)
class CustomerIntelligenceListView(ReplicaReadsMixin, TenantScopedViewMixin, generics.ListAPIView):
    """The business's customers with counts, latest lead, last call and recent activity.

    One SQL query per page, whatever the tenant's size (docs/intelligence.md).
    """

    allowed_roles = MANAGING_ROLES
    serializer_class = CustomerIntelligenceSerializer
    pagination_class = KeysetPagination
    filter_backends = [StrictDjangoFilterBackend]
    filterset_class = CustomerIntelligenceFilter
    extra_query_params = (ORDERING_PARAM,)
    queryset = Customer.objects.none()  # for the schema; get_queryset is per tenant
    # The PostgreSQL-built JSON (intelligence/fast.py) replaces get_queryset, the
    # paginator's fetch and the serializer; a subclass that overrides those (the
    # bench's baselines) turns it off to be served by its own code.
    json_from_database = True

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.ordering = ordering_from(request)
        self.paginator.ordering = ORDERINGS[self.ordering]
        if self.json_from_database and fast_path_applies(request):
            return PreRenderedResponse(
                customer_page_json(view=self, request=request, ordering=self.ordering)
            )
        # The browsable API, indented JSON, or API_FAST_PATH off: the reference path.
        return super().list(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        return customer_intelligence_list(
            business=self.request.business, ordering=getattr(self, "ordering", DEFAULT_ORDERING)
        )


@extend_schema(parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)])
class CustomerIntelligenceDetailView(
    ReplicaReadsMixin, TenantScopedViewMixin, generics.RetrieveAPIView
):
    """One customer with the same fields as in the list; another tenant's id is a 404."""

    allowed_roles = MANAGING_ROLES
    serializer_class = CustomerIntelligenceSerializer
    queryset = Customer.objects.none()  # for the schema; get_queryset is per tenant

    def get_queryset(self) -> Any:
        return customer_intelligence_list(business=self.request.business)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not fast_path_applies(request):
            return super().retrieve(request, *args, **kwargs)
        customer_id = parse_id(self.kwargs["pk"], field="id")
        body = customer_detail_json(business=request.business, customer_id=customer_id)
        if body is None:  # also another tenant's customer; get_object's exact message
            raise Http404(f"No {Customer._meta.object_name} matches the given query.")
        return PreRenderedResponse(body)


class TenantStatsView(ReplicaReadsMixin, APIView):
    """The business's totals and rates; "today" is today in the business's time zone."""

    permission_classes = [IsTenantMember]
    allowed_roles = MANAGING_ROLES

    @extend_schema(responses=TenantStatsSerializer)
    def get(self, request: Request) -> Response:
        stats = tenant_stats(business=request.business)
        return Response(TenantStatsSerializer(stats).data)
