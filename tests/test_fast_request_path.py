"""The request path's fast parts answer exactly like DRF's: the orjson renderer, the
token authentication compiled once, and serializer fields built once per class."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer

from businesses.serializers import BusinessSerializer, BusinessSettingsSerializer
from crm.serializers import (
    CallLogSerializer,
    CustomerSerializer,
    LeadSerializer,
    LeadStatusHistorySerializer,
    WhatsAppMessageSerializer,
)
from intelligence.serializers import CustomerIntelligenceSerializer, TenantStatsSerializer
from prosaas.renderers import ORJSONRenderer
from tests import factories

# --- Renderer ------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),  # beyond 64 bits: DRF's renderer
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),  # any code point, U+2028 and control characters included
    st.sampled_from(["\u2028", "\u2029", "\x00", 'a"b\\', "1e-07"]),
    st.datetimes(timezones=st.just(UTC)),
    st.decimals(
        allow_nan=False, allow_infinity=False, places=3, max_value=10**6, min_value=-(10**6)
    ),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(data=documents)
def test_orjson_renderer_writes_exactly_what_drf_writes(data: Any) -> None:
    assert ORJSONRenderer().render(data) == JSONRenderer().render(data)


def test_orjson_renderer_indents_like_drf_when_asked() -> None:
    data = {"a": [1, {"b": None}], "when": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)}
    media = "application/json; indent=4"
    assert ORJSONRenderer().render(data, media) == JSONRenderer().render(data, media)
    assert b"\n    " in ORJSONRenderer().render(data, media)


# --- Token authentication -------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("fast", [True, False])
def test_token_authentication_costs_one_query_and_answers_like_drf(
    fast: bool, manager_a: Any, api_client_for: Any
) -> None:
    client = api_client_for(manager_a)
    client.get("/api/business/")  # warm the tenant caches
    with override_settings(API_FAST_PATH=fast), CaptureQueriesContext(connection) as queries:
        response = client.get("/api/business/")
    assert response.status_code == 200
    assert response.json()["role"] == "manager"
    # 1 token joined with its user; the tenant comes from the warm caches.
    assert len(queries.captured_queries) == 1
    assert 'INNER JOIN "auth_user"' in queries.captured_queries[0]["sql"]


@pytest.mark.django_db
def test_bad_and_inactive_tokens_get_drf_s_exact_401(manager_a: Any, api_client_for: Any) -> None:
    from rest_framework.test import APIClient

    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    inactive = api_client_for(manager_a)
    manager_a.is_active = False
    manager_a.save()
    for client in (bad, inactive):
        with override_settings(API_FAST_PATH=False):
            reference = client.get("/api/business/")
        fast = client.get("/api/business/")
        assert fast.status_code == reference.status_code == 401
        assert fast.content == reference.content
        assert fast.headers["WWW-Authenticate"] == reference.headers["WWW-Authenticate"]


# --- Serializer fields ----------------------------------------------------------------

SERIALIZERS = [
    BusinessSerializer,
    BusinessSettingsSerializer,
    CustomerSerializer,
    LeadSerializer,
    LeadStatusHistorySerializer,
    CallLogSerializer,
    WhatsAppMessageSerializer,
    CustomerIntelligenceSerializer,
    TenantStatsSerializer,
]


@pytest.mark.parametrize("serializer_class", SERIALIZERS)
def test_fields_built_once_are_the_fields_drf_builds(serializer_class: type) -> None:
    with override_settings(API_FAST_PATH=False):
        reference = serializer_class().fields
    first, second = serializer_class().fields, serializer_class().fields
    assert list(first) == list(reference)
    for name, field in first.items():
        assert repr(field) == repr(reference[name])
        assert field.parent is not None and second[name] is not field
        assert second[name].parent is not field.parent
        child = getattr(field, "child", None) or getattr(field, "child_relation", None)
        if child is not None:  # a nested field's child is bound to its own parent
            assert child is not getattr(second[name], "child", None)


@pytest.mark.django_db
def test_a_list_rendered_with_fields_built_once_is_unchanged(
    business_a: Any, manager_a: Any, api_client_for: Any
) -> None:
    customer = factories.make_customer(business_a)
    factories.make_lead(business_a, customer, notes="Wants a quote")
    factories.make_call(business_a, customer)
    client = api_client_for(manager_a)
    for path in ("/api/leads/", "/api/calls/", "/api/customers/", "/api/business/settings/"):
        with override_settings(API_FAST_PATH=False):
            reference = client.get(path)
        assert client.get(path).content == reference.content, path


def test_decimal_and_datetime_render_through_drf_s_encoder() -> None:
    data = {"d": Decimal("1.50"), "t": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)}
    rendered = ORJSONRenderer().render(data)
    assert rendered == JSONRenderer().render(data)
    assert rendered.startswith(b'{"d":1.5,"t":"2026-01-02T03:04:05.678')


@pytest.mark.django_db
def test_the_schema_shows_no_trace_of_the_fast_path() -> None:
    """Each serializer's component keeps its own description (or none): nothing
    inherited from FieldsBuiltOnceMixin. (The whole schema was also compared byte for
    byte with the one generated before issue 13: identical.)"""
    out = StringIO()
    call_command("spectacular", "--format", "openapi-json", stdout=out)
    components = json.loads(out.getvalue())["components"]["schemas"]
    for serializer_class in SERIALIZERS:
        base = serializer_class.__name__.removesuffix("Serializer")
        own = serializer_class.__dict__.get("__doc__")
        matching = [
            schema
            for name, schema in components.items()
            if name.removeprefix("Patched").removesuffix("Request") == base
        ]
        assert matching, base
        for schema in matching:
            if own:
                assert schema["description"].split("\n")[0] == own.strip().split("\n")[0]
            else:
                assert "description" not in schema, base
