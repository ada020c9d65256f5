"""The API reads its tenant through the caches: cold, warm, and fresh after a change."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from businesses.cache import get_business_settings_cache, get_membership_cache
from businesses.models import BusinessSettings, Membership
from tests import factories
from tests.budgets import AUTH_QUERIES, COLD_TENANT_QUERIES, REQUEST_OVERHEAD

pytestmark = pytest.mark.django_db

SETTINGS_URL = "/api/business/settings/"
BUSINESS_URL = "/api/business/"
STATS_URL = "/api/ops/cache-stats/"


def test_settings_cost_the_tenant_queries_cold_none_warm_and_are_fresh_after_a_change(
    api_client_for, owner_a, django_assert_num_queries, django_capture_on_commit_callbacks
) -> None:
    client = api_client_for(owner_a)

    # 1 token+user, 2 memberships, 3 business joined with its settings
    with django_assert_num_queries(AUTH_QUERIES + COLD_TENANT_QUERIES):
        assert client.get(SETTINGS_URL).json()["language"] == "en"

    # 1 token+user
    with django_assert_num_queries(REQUEST_OVERHEAD):
        assert client.get(SETTINGS_URL).json()["language"] == "en"

    # 1 token+user, 2 SAVEPOINT, 3 settings row FOR UPDATE, 4 UPDATE (its trigger
    # notifies the other processes and writes the outbox), 5 RELEASE SAVEPOINT
    with (
        django_capture_on_commit_callbacks(execute=True),
        django_assert_num_queries(REQUEST_OVERHEAD + 4),
    ):
        response = client.patch(SETTINGS_URL, {"language": "he"}, format="json")
    assert (response.status_code, response.json()["language"]) == (200, "he")

    # 1 token+user, 2 business joined with its settings (the memberships stay cached)
    with django_assert_num_queries(REQUEST_OVERHEAD + 1):
        assert client.get(SETTINGS_URL).json()["language"] == "he"


def test_current_business_is_read_through_the_cache_and_fresh_after_a_rename(
    api_client_for,
    owner_a,
    business_a,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
) -> None:
    client = api_client_for(owner_a)
    client.get(BUSINESS_URL)
    # 1 token+user
    with django_assert_num_queries(REQUEST_OVERHEAD):
        assert client.get(BUSINESS_URL).json()["name"] == "Business A"
    with django_capture_on_commit_callbacks(execute=True):
        business_a.name = "Business A Ltd"
        business_a.save()
    assert client.get(BUSINESS_URL).json() == {
        "id": business_a.pk,
        "name": "Business A Ltd",
        "slug": business_a.slug,
        "is_active": True,
        "created_at": business_a.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": business_a.updated_at.isoformat().replace("+00:00", "Z"),
        "role": "owner",
    }


def test_a_second_member_spends_only_the_membership_query_on_a_cached_business(
    api_client_for, owner_a, agent_a, django_assert_num_queries
) -> None:
    api_client_for(owner_a).get(SETTINGS_URL)
    agent = api_client_for(agent_a)
    # 1 token+user, 2 memberships (the business is cached by the owner's request)
    with django_assert_num_queries(AUTH_QUERIES + 1):
        assert agent.get(SETTINGS_URL).status_code == 200


def test_a_change_in_one_tenant_costs_another_tenant_nothing(
    api_client_for,
    owner_a,
    outsider_b,
    business_b,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
) -> None:
    client_a, client_b = api_client_for(owner_a), api_client_for(outsider_b)
    client_a.get(SETTINGS_URL)
    client_b.get(SETTINGS_URL)
    with django_capture_on_commit_callbacks(execute=True):
        client_a.patch(SETTINGS_URL, {"language": "he"}, format="json")
    # 1 token+user
    with django_assert_num_queries(REQUEST_OVERHEAD):
        response = client_b.get(SETTINGS_URL)
    assert response.json()["time_zone"] == "Europe/London"
    assert response.json()["language"] == "en"


def test_a_removed_member_is_refused_on_the_next_request(
    api_client_for, manager_a, business_a, django_capture_on_commit_callbacks
) -> None:
    client = api_client_for(manager_a)
    assert client.get(BUSINESS_URL).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        Membership.objects.get(user=manager_a, business=business_a).delete()
    assert client.get(BUSINESS_URL).status_code == 403


def test_a_changed_role_applies_on_the_next_request(
    api_client_for, agent_a, django_capture_on_commit_callbacks
) -> None:
    client = api_client_for(agent_a)
    assert client.patch(SETTINGS_URL, {"language": "he"}, format="json").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        membership = Membership.objects.get(user=agent_a)
        membership.role = Membership.Role.ADMIN
        membership.save()
    assert client.patch(SETTINGS_URL, {"language": "he"}, format="json").status_code == 200


def test_a_new_membership_applies_on_the_next_request(
    api_client_for, owner_a, business_a, business_b, django_capture_on_commit_callbacks
) -> None:
    client = api_client_for(owner_a)
    assert client.get(BUSINESS_URL, HTTP_X_BUSINESS_ID=str(business_b.pk)).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        Membership.objects.create(user=owner_a, business=business_b, role=Membership.Role.AGENT)
    response = client.get(BUSINESS_URL, HTTP_X_BUSINESS_ID=str(business_b.pk))
    assert (response.status_code, response.json()["role"]) == (200, "agent")


def test_a_deactivated_business_is_refused_on_the_next_request(
    api_client_for, owner_a, business_a, django_capture_on_commit_callbacks
) -> None:
    client = api_client_for(owner_a)
    assert client.get(BUSINESS_URL).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        business_a.is_active = False
        business_a.save()
    assert client.get(BUSINESS_URL).status_code == 403


def test_a_deactivated_user_is_refused_and_their_memberships_are_forgotten(
    api_client_for, owner_a, django_capture_on_commit_callbacks
) -> None:
    client = api_client_for(owner_a)
    assert client.get(BUSINESS_URL).status_code == 200
    assert get_membership_cache().get(owner_a.pk) is not None
    with django_capture_on_commit_callbacks(execute=True):
        owner_a.is_active = False
        owner_a.save()
    assert get_membership_cache().get(owner_a.pk) is None
    assert client.get(BUSINESS_URL).status_code == 401


def test_logging_in_does_not_invalidate_the_memberships(
    owner_a, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        assert APIClient().login(username="owner_a", password="test-pass-123")
    assert callbacks == []
    with django_capture_on_commit_callbacks() as callbacks:
        owner_a.first_name = "Ann"
        owner_a.save()
    assert len(callbacks) == 1


def test_a_business_without_a_settings_row_gets_one_with_the_defaults(
    api_client_for, django_capture_on_commit_callbacks
) -> None:
    business = factories.make_business()
    BusinessSettings.objects.filter(business=business).delete()
    owner = factories.make_member(business, Membership.Role.OWNER)
    client = api_client_for(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(SETTINGS_URL)
    assert (response.status_code, response.json()["time_zone"]) == (200, "UTC")
    assert BusinessSettings.objects.filter(business=business).exists()
    assert get_business_settings_cache().get(business.pk) is None  # forgotten: it has one now
    client.get(SETTINGS_URL)
    assert get_business_settings_cache().get(business.pk)[1].time_zone == "UTC"  # type: ignore[index]


def test_request_business_carries_its_settings_from_the_cache(
    rf, owner_a, business_a, django_assert_num_queries
) -> None:
    from businesses.tenancy import resolve_tenant

    resolve_tenant(owner_a, None)
    with django_assert_num_queries(0):
        business, role = resolve_tenant(owner_a, None)
        assert (business.pk, role) == (business_a.pk, "owner")
        assert business.settings.time_zone == "Asia/Jerusalem"
        assert business.settings.default_country == "IL"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"default_country": "XX"}, "default_country"),
        ({"ai_assistant_enabled": "maybe"}, "ai_assistant_enabled"),
        ({"working_hours_start": "25:00"}, "working_hours_start"),
        ({"working_hours_start": "09:00"}, "non_field_errors"),
    ],
)
def test_bad_settings_are_400_and_the_cache_keeps_the_stored_ones(
    api_client_for, owner_a, django_capture_on_commit_callbacks, payload, field
) -> None:
    client = api_client_for(owner_a)
    client.get(SETTINGS_URL)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.patch(SETTINGS_URL, {**payload, "language": "he"}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert callbacks == []
    assert client.get(SETTINGS_URL).json()["language"] == "en"


# --- the operators' statistics endpoint ------------------------------------------------


@pytest.fixture
def staff_client(db) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {factories.token_for(factories.make_user(is_staff=True))}"
    )
    return client


def test_staff_see_this_server_processs_statistics(staff_client, api_client_for, owner_a) -> None:
    member = api_client_for(owner_a)
    for _ in range(3):
        member.get(SETTINGS_URL)
    report = staff_client.get(STATS_URL).json()
    assert "this process's own" in report["scope"]["description"]
    assert report["business_settings"]["misses"] == 1
    assert report["business_settings"]["hits"] == 2
    assert report["business_settings"]["entries"] == 1
    assert report["memberships"]["hits"] == 2
    assert report["broadcast"]["listening"] is False  # the test client's process serves no one


def test_members_who_are_not_staff_may_not_read_the_statistics(
    api_client_for, owner_a, outsider_b
) -> None:
    assert api_client_for(owner_a).get(STATS_URL).status_code == 403
    assert APIClient().get(STATS_URL).status_code == 401


def test_the_statistics_endpoint_is_in_the_schema(db) -> None:
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    response = schema["paths"][STATS_URL]["get"]["responses"]["200"]
    assert response["content"]["application/json"]["schema"]["$ref"].endswith("CacheReport")
    statistics = schema["components"]["schemas"]["CacheStatistics"]["properties"]
    assert {"hits", "misses", "hit_rate", "evictions", "entries", "max_entries", "ttl"} <= set(
        statistics
    )
    assert statistics["hit_rate"]["nullable"] is True


def test_with_the_caches_disabled_every_request_reads_the_database(
    settings, api_client_for, owner_a, django_assert_num_queries
) -> None:
    dummy = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    settings.CACHES = {**settings.CACHES, "business_settings": dummy, "memberships": dummy}
    client = api_client_for(owner_a)
    for _ in range(2):
        # 1 token+user, 2 memberships, 3 business joined with its settings
        with django_assert_num_queries(AUTH_QUERIES + COLD_TENANT_QUERIES):
            assert client.get(SETTINGS_URL).status_code == 200
