"""The CRM endpoints are described in the OpenAPI schema and render in the browsable API."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(db) -> dict:  # type: ignore[no-untyped-def]
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def parameters(schema: dict, path: str) -> dict[str, dict]:
    return {p["name"]: p for p in schema["paths"][path]["get"].get("parameters", [])}


def test_every_crm_endpoint_is_in_the_schema(schema) -> None:
    operations = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert {
        ("/api/customers/", "get"),
        ("/api/customers/", "post"),
        ("/api/customers/{id}/", "get"),
        ("/api/customers/{id}/", "patch"),
        ("/api/customers/{id}/", "delete"),
        ("/api/leads/", "get"),
        ("/api/leads/", "post"),
        ("/api/leads/{id}/", "get"),
        ("/api/leads/{id}/", "patch"),
        ("/api/leads/{lead_id}/status-history/", "get"),
        ("/api/calls/", "get"),
        ("/api/calls/", "post"),
        ("/api/whatsapp/messages/", "get"),
        ("/api/whatsapp/messages/", "post"),
    } <= operations
    assert ("/api/leads/{id}/", "put") not in operations


def test_filters_and_ids_have_their_real_types(schema) -> None:
    leads = parameters(schema, "/api/leads/")
    assert leads["customer"]["schema"]["type"] == "integer"
    assert leads["status"]["schema"]["type"] == "array"
    assert "won" in leads["status"]["schema"]["items"]["enum"]
    history = parameters(schema, "/api/leads/{lead_id}/status-history/")
    assert history["lead_id"]["schema"]["type"] == "integer"
    conversation = parameters(schema, "/api/whatsapp/messages/")
    assert conversation["to_number"]["required"] is True


def test_ingestion_documents_created_and_retry_and_no_conflict(schema) -> None:
    # An id is unique per tenant: there is no cross-tenant conflict to document.
    for path in ("/api/calls/", "/api/whatsapp/messages/"):
        responses = set(schema["paths"][path]["post"]["responses"])
        assert {"200", "201", "400"} <= responses
        assert "409" not in responses


@pytest.mark.parametrize(
    "url",
    [
        "/api/customers/",
        "/api/leads/?status=new",
        "/api/calls/",
        "/api/whatsapp/messages/?to_number=050-123-4567",
        "/api/leads/{lead}/status-history/",
        "/api/leads/{lead}/",
    ],
)
def test_the_browsable_api_renders_each_page(api_client_for, owner_a, business_a, url) -> None:
    lead = factories.make_lead(business_a, factories.make_customer(business_a))
    response = api_client_for(owner_a).get(url.format(lead=lead.pk), HTTP_ACCEPT="text/html")
    assert response.status_code == 200


def test_the_browsable_form_asks_for_a_customer_id_instead_of_listing_customers(
    api_client_for, owner_a, business_a
) -> None:
    customer = factories.make_customer(business_a, name="Listed Nowhere")
    html = api_client_for(owner_a).get("/api/leads/", HTTP_ACCEPT="text/html").content.decode()
    assert '<input name="customer" class="form-control" type="number"' in html
    assert customer.name not in html
