"""Authentication and tenant resolution at the API boundary."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from businesses.models import Membership
from tests import factories

pytestmark = pytest.mark.django_db


def test_token_endpoint_issues_a_token_that_authenticates(owner_a, business_a) -> None:
    client = APIClient()
    response = client.post(
        "/api/auth/token/", {"username": "owner_a", "password": "test-pass-123"}, format="json"
    )
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    response = client.get("/api/business/")
    assert response.status_code == 200
    assert response.json()["id"] == business_a.pk
    assert response.json()["role"] == "owner"


def test_wrong_password_gets_no_token(owner_a) -> None:
    response = APIClient().post(
        "/api/auth/token/", {"username": "owner_a", "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert "token" not in response.json()


def test_wrong_token_is_401() -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert client.get("/api/business/").status_code == 401


def test_anonymous_is_401_with_a_token_challenge(db) -> None:
    response = APIClient().get("/api/business/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_session_login_works_for_the_browsable_api(owner_a, business_a) -> None:
    client = APIClient()
    assert client.login(username="owner_a", password="test-pass-123")
    response = client.get("/api/business/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"Business A" in response.content


def test_user_with_several_memberships_picks_the_business_by_header(
    api_client_for, business_a, business_b
) -> None:
    consultant = factories.make_member(business_a, Membership.Role.MANAGER)
    Membership.objects.create(user=consultant, business=business_b, role=Membership.Role.AGENT)

    response = api_client_for(consultant).get("/api/business/")
    assert response.status_code == 400
    assert "X-Business-Id" in response.json()

    response = api_client_for(consultant, business_b).get("/api/business/")
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["role"]) == (business_b.pk, "agent")


@pytest.mark.parametrize(
    "header", ["abc", "-1", "0", "1.5", "99999999999999999999", "\u0661"]
)  # last: Arabic-Indic one
def test_malformed_business_header_is_400(api_client_for, owner_a, header) -> None:
    client = api_client_for(owner_a)
    response = client.get("/api/business/", HTTP_X_BUSINESS_ID=header)
    assert response.status_code == 400
    assert "X-Business-Id" in response.json()


def test_foreign_missing_and_inactive_businesses_are_refused_alike(
    api_client_for, owner_a, business_a, business_b
) -> None:
    client = api_client_for(owner_a)
    foreign = client.get("/api/business/", HTTP_X_BUSINESS_ID=str(business_b.pk))
    missing = client.get("/api/business/", HTTP_X_BUSINESS_ID="987654321")
    business_a.is_active = False
    business_a.save()
    inactive = client.get("/api/business/", HTTP_X_BUSINESS_ID=str(business_a.pk))
    assert [r.status_code for r in (foreign, missing, inactive)] == [403, 403, 403]
    assert "not a member of an active business" in foreign.json()["detail"]
    assert "not a member of an active business" in inactive.json()["detail"]
    assert "Business B" not in foreign.content.decode()


def test_user_without_membership_is_403(api_client_for, db) -> None:
    response = api_client_for(factories.make_user()).get("/api/business/")
    assert response.status_code == 403


def test_outsider_sees_only_their_own_business(
    api_client_for, outsider_b, business_b, business_a
) -> None:
    response = api_client_for(outsider_b).get("/api/business/")
    assert response.json()["id"] == business_b.pk


@pytest.mark.parametrize(
    ("fixture", "allowed"),
    [("owner_a", True), ("admin_a", True), ("manager_a", False), ("agent_a", False)],
)
def test_only_owners_and_admins_change_settings(request, api_client_for, fixture, allowed) -> None:
    user = request.getfixturevalue(fixture)
    response = api_client_for(user).patch(
        "/api/business/settings/", {"language": "he"}, format="json"
    )
    assert response.status_code == (200 if allowed else 403)


def test_invalid_settings_are_400_and_nothing_is_written(
    api_client_for, owner_a, business_a
) -> None:
    client = api_client_for(owner_a)
    response = client.patch(
        "/api/business/settings/", {"time_zone": "Mars/Olympus", "language": "he"}, format="json"
    )
    assert response.status_code == 400
    assert "time_zone" in response.json()
    business_a.settings.refresh_from_db()
    assert business_a.settings.language == "en"


def test_api_schema_and_docs_are_served(db) -> None:
    client = APIClient()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/business/" in schema.json()["paths"]
    assert client.get("/api/docs/").status_code == 200
