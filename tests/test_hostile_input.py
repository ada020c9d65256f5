"""Regression tests for the inputs that once answered 500 (issue 10), one per bug.

Each reproducer from the report is sent as a client would send it and must answer a
JSON 4xx naming the problem, with nothing written.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.contrib.auth.models import AbstractUser
from django.db.models import Model
from rest_framework.test import APIClient

from businesses.models import Business, BusinessSettings
from crm.models import CallLog, Customer, Lead, WhatsAppMessage
from prosaas.parsers import MAX_JSON_DEPTH, json_depth
from tests import factories

# E.164 form +49123456789012345: 17 characters, "possible" for phonenumbers (DE).
TOO_LONG_PHONE = "+49 123456789012345"
LONE_SURROGATE = "\ud800"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    # A user is made per test; the production hasher's cost is not under test here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def owner(api_client_for: Callable[..., APIClient], owner_a: AbstractUser) -> APIClient:
    return api_client_for(owner_a)


def raw_json(client: APIClient, method: str, url: str, body: str) -> object:
    """Send ``body`` exactly (json.dumps would escape a lone surrogate the same way)."""
    return getattr(client, method)(url, data=body, content_type="application/json")


def valid_body(kind: str) -> dict[str, object]:
    n = factories.next_number()
    return {
        "customers": {"name": "Dana", "phone_e164": "+14155550123"},
        "leads": {"name": "Dana", "phone_e164": "+14155550123"},
        "calls": {
            "call_sid": f"CA{n:032d}",
            "from_number": "+14155550123",
            "to_number": "+14155550199",
            "direction": "inbound",
            "status": "completed",
        },
        "whatsapp/messages": {
            "provider_message_id": f"wamid.{n}",
            "to_number": "+14155550123",
            "direction": "inbound",
            "status": "received",
        },
    }[kind]


MODELS: dict[str, type[Model]] = {
    "customers": Customer,
    "leads": Lead,
    "calls": CallLog,
    "whatsapp/messages": WhatsAppMessage,
}

PHONE_FIELDS = [
    ("customers", "phone_e164"),
    ("leads", "phone_e164"),
    ("calls", "from_number"),
    ("calls", "to_number"),
    ("whatsapp/messages", "to_number"),
]


@pytest.mark.parametrize("encoding", ["json", "multipart"])
@pytest.mark.parametrize(("kind", "field"), PHONE_FIELDS)
def test_a_phone_longer_than_e164_allows_is_400_naming_the_field(
    owner: APIClient, kind: str, field: str, encoding: str
) -> None:
    body = {**valid_body(kind), field: TOO_LONG_PHONE}
    response = owner.post(f"/api/{kind}/", body, format=encoding)
    assert response.status_code == 400, response.content
    assert "more than 15 digits" in response.json()[field][0]
    assert not MODELS[kind].objects.exists()


def test_a_phone_of_exactly_15_digits_is_stored(owner: APIClient) -> None:
    response = owner.post(
        "/api/customers/", {"name": "Max", "phone_e164": "+493012345678901"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert len(response.json()["phone_e164"]) == 16


@pytest.mark.parametrize("field", ["name", "phone_e164", "email", "source", "notes"])
def test_a_lone_surrogate_in_any_customer_field_is_400(owner: APIClient, field: str) -> None:
    body = json.dumps({**valid_body("customers"), field: "x"}).replace('"x"', '"\\ud800"')
    response = raw_json(owner, "post", "/api/customers/", body)
    assert response.status_code == 400, response.content
    assert f"$.{field}" in response.json()["detail"]
    assert not Customer.objects.exists()


@pytest.mark.parametrize(("kind", "field"), [("leads", "status"), ("calls", "direction")])
def test_a_lone_surrogate_in_a_choice_field_is_400(owner: APIClient, kind: str, field: str) -> None:
    body = json.dumps({**valid_body(kind), field: "x"}).replace('"x"', '"\\ud800"')
    response = raw_json(owner, "post", f"/api/{kind}/", body)
    assert response.status_code == 400, response.content
    assert not MODELS[kind].objects.exists()


@pytest.mark.parametrize("field", ["time_zone", "default_country"])
def test_a_lone_surrogate_in_a_setting_is_400_and_changes_nothing(
    owner: APIClient, business_a: Business, field: str
) -> None:
    before = BusinessSettings.objects.get(business=business_a)
    response = raw_json(owner, "patch", "/api/business/settings/", f'{{"{field}": "\\udfff"}}')
    assert response.status_code == 400, response.content
    assert getattr(BusinessSettings.objects.get(business=business_a), field) == getattr(
        before, field
    )


def test_a_lone_surrogate_in_a_key_is_400(owner: APIClient) -> None:
    response = raw_json(owner, "post", "/api/customers/", '{"\\ud800": 1}')
    assert response.status_code == 400


def test_paired_surrogates_are_ordinary_text(owner: APIClient) -> None:
    body = json.dumps({**valid_body("customers"), "name": "x"}).replace('"x"', '"\\ud83d\\ude00"')
    response = raw_json(owner, "post", "/api/customers/", body)
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "\U0001f600"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000, 100_000])
def test_json_deeper_than_the_limit_is_400_without_logging_in(depth: int) -> None:
    response = raw_json(APIClient(), "post", "/api/auth/token/", f'{{"username": {nested(depth)}}}')
    assert response.status_code == 400, response.content
    assert "nested deeper than" in response.json()["detail"]


@pytest.mark.django_db
def test_json_at_the_depth_limit_reaches_the_serializer() -> None:
    body = f'{{"username": {nested(MAX_JSON_DEPTH - 1)}, "password": "x"}}'
    response = raw_json(APIClient(), "post", "/api/auth/token/", body)
    assert response.status_code == 400
    assert "username" in response.json()  # a field error, not a parse error


def test_json_depth_ignores_brackets_inside_strings() -> None:
    assert json_depth('{"a": "[[[[[[[[", "b": ["\\"[["]}') == 2
    assert json_depth("[]") == 1
    assert json_depth('"text"') == 0


def test_a_repeated_json_key_is_400(owner: APIClient) -> None:
    response = raw_json(
        owner, "post", "/api/customers/", '{"name": "A", "name": "B", "phone_e164": "+14155550123"}'
    )
    assert response.status_code == 400
    assert "duplicate key 'name'" in response.json()["detail"]
    assert not Customer.objects.exists()


def test_a_body_over_the_upload_limit_is_413(owner: APIClient, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({**valid_body("customers"), "notes": "x" * 2000})
    for encoding in ("json", "multipart"):
        response = (
            raw_json(owner, "post", "/api/customers/", body)
            if encoding == "json"
            else owner.post("/api/customers/", json.loads(body), format="multipart")
        )
        assert response.status_code == 413, (encoding, response.content)
        assert response.json()["code"] == "request_too_large"
    assert not Customer.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["options", "get", "head"])
def test_the_docs_page_answers_every_method_without_logging_in(method: str) -> None:
    response = getattr(APIClient(), method)("/api/docs/")
    assert response.status_code == 200
    if method == "options":
        assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_the_docs_page_refuses_post_in_json() -> None:
    response = APIClient().post("/api/docs/")
    assert response.status_code == 405
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/customers/0.5/",
        "/api/customers/1e3/",
        "/api/customers/%201/",
        "/api/customers/-1/",
        "/api/customers/99999999999999999999/",
        "/api/leads/0.5/",
        "/api/leads/0.5/status-history/",
        "/api/intelligence/customers/0.5/",
    ],
)
def test_a_malformed_path_id_is_the_same_json_400(owner: APIClient, url: str) -> None:
    response = owner.get(url)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert "is not a valid id" in next(iter(response.json().values()))[0]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/nothing-here/", "/api/customers/1/extra/"])
def test_an_unknown_api_path_is_a_json_404(url: str) -> None:
    response = APIClient().get(url)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.django_db
def test_an_unknown_path_outside_the_api_keeps_the_html_page() -> None:
    response = APIClient().get("/nothing-here/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "size", ["\u0665", "\uff15", "1_0", " 5", "5 ", "+5", "0x10", "", "9" * 5000]
)
def test_page_size_takes_only_ascii_digits(owner: APIClient, size: str) -> None:
    response = owner.get("/api/customers/", {"page_size": size})
    assert response.status_code == 400
    assert "page_size" in response.json()


@pytest.mark.parametrize(
    "header", [" 1 ", "1 ", "\u0661", "\uff11", "1_0", "+1", "1.0", "9" * 5000]
)
def test_the_business_header_takes_only_ascii_digits(
    api_client_for: Callable[..., APIClient],
    owner_a: AbstractUser,
    business_a: Business,
    header: str,
) -> None:
    client = api_client_for(owner_a)
    for value in (header, header.replace("1", str(business_a.pk))):
        response = client.get("/api/business/", HTTP_X_BUSINESS_ID=value)
        assert response.status_code == 400, (value, response.content)
        assert "X-Business-Id" in response.json()


@pytest.mark.parametrize(
    "query",
    ["status=", "source=", "direction=", "customer=", "status=%20"],
)
def test_an_empty_enum_or_id_filter_is_400(owner: APIClient, query: str) -> None:
    url = "/api/calls/" if query.startswith("direction") else "/api/leads/"
    response = owner.get(f"{url}?{query}")
    assert response.status_code == 400, response.content
    assert query.split("=")[0] in response.json()


def test_an_empty_search_is_no_filter(owner: APIClient) -> None:
    assert owner.get("/api/leads/?search=").status_code == 200


@pytest.mark.django_db
def test_the_browsable_api_keeps_its_html_error_page_for_browsers() -> None:
    response = APIClient().get("/api/customers/", HTTP_ACCEPT="text/html")
    assert response.status_code in (401, 403)
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_a_django_view_error_under_the_api_is_json() -> None:
    response = APIClient().get("/api/auth/logout/")  # Django's LogoutView: POST only
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert "POST" in response["Allow"]
