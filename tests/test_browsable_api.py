"""The browsable API as a person in a browser uses it (session login, HTML pages)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from businesses.models import Business, Membership
from businesses.tenancy import SESSION_BUSINESS_KEY
from tests import factories

HTML = {"HTTP_ACCEPT": "text/html"}


@pytest.fixture
def consultant(business_a: Business, business_b: Business):  # type: ignore[no-untyped-def]
    user = factories.make_member(business_a, Membership.Role.MANAGER, "consultant_x")
    Membership.objects.create(user=user, business=business_b, role=Membership.Role.MANAGER)
    return user


def logged_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def csrf_token(client: Client, page: str) -> str:
    html = client.get(page, **HTML).content.decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.mark.django_db
def test_a_user_of_several_businesses_picks_one_in_the_browser(
    consultant, business_a: Business, business_b: Business, outsider_b
) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(consultant)
    assert client.get("/api/business/", **HTML).status_code == 400  # which one?
    page = client.get("/api/", **HTML).content.decode()
    assert 'id="business-switcher"' in page
    assert business_a.name in page and business_b.name in page

    token = csrf_token(client, "/api/")
    switched = client.post(
        "/api/business/switch/",
        {"business_id": business_b.pk, "next": "/api/business/", "csrfmiddlewaretoken": token},
    )
    assert switched.status_code == 303
    assert switched["Location"] == "/api/business/"
    assert client.session[SESSION_BUSINESS_KEY] == business_b.pk
    response = client.get("/api/business/", HTTP_ACCEPT="application/json")
    assert response.json()["id"] == business_b.pk
    # The header still wins for API clients.
    header = client.get("/api/business/", HTTP_X_BUSINESS_ID=str(business_a.pk))
    assert header.json()["id"] == business_a.pk


@pytest.mark.django_db
def test_the_switcher_refuses_a_business_of_someone_else(
    consultant, outsider_b, business_a: Business
) -> None:  # type: ignore[no-untyped-def]
    other = factories.make_business("Elsewhere")
    client = logged_in(consultant)
    token = csrf_token(client, "/api/")
    refused = client.post(
        "/api/business/switch/",
        {"business_id": other.pk, "csrfmiddlewaretoken": token},
        HTTP_ACCEPT="application/json",
    )
    assert refused.status_code == 403
    assert SESSION_BUSINESS_KEY not in client.session
    bad = client.post(
        "/api/business/switch/",
        {"business_id": "x", "csrfmiddlewaretoken": token},
        HTTP_ACCEPT="application/json",
    )
    assert bad.status_code == 400
    # A single-business user sees no switcher.
    solo = logged_in(factories.make_member(other, Membership.Role.OWNER, "solo"))
    assert 'id="business-switcher"' not in solo.get("/api/", **HTML).content.decode()


@pytest.mark.django_db
def test_a_stale_session_choice_is_dropped(consultant, business_b: Business) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(consultant)
    session = client.session
    session[SESSION_BUSINESS_KEY] = business_b.pk
    session.save()
    Membership.objects.filter(user=consultant, business=business_b).delete()
    response = client.get("/api/business/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200  # back to the sole remaining business
    assert response.json()["id"] != business_b.pk


@pytest.mark.django_db
def test_list_filter_forms_offer_orderings_and_page_size(manager_a) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(manager_a)
    page = client.get("/api/intelligence/customers/", **HTML).content.decode()
    for value in ("-created_at", "name", "-leads_count", "-last_interaction"):
        assert f'value="{value}"' in page
    assert 'name="page_size"' in page
    # The API refuses empty values; the page's script leaves empty fields out of the
    # GET form (tests/test_browser.py submits the form in a real browser).
    empty = client.get("/api/intelligence/customers/?ordering=&page_size=")
    assert empty.status_code == 400
    assert "field.disabled = true" in page
    assert 'name="page_size"' in client.get("/api/leads/", **HTML).content.decode()


@pytest.mark.django_db
def test_settings_html_form_is_a_patch_form_that_keeps_typed_values_on_a_400(owner_a) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(owner_a)
    page = client.get("/api/business/settings/", **HTML).content.decode()
    assert 'id="put-object-form"' in page
    assert 'name="time_zone"' in page
    assert "html_form_method" not in page and "PATCH" in page
    token = csrf_token(client, "/api/business/settings/")
    failed = client.patch(
        "/api/business/settings/",
        "whatsapp_greeting=Typed+greeting&working_hours_start=09:00",
        content_type="application/x-www-form-urlencoded",
        HTTP_X_CSRFTOKEN=token,
        **HTML,
    )
    assert failed.status_code == 400
    html = failed.content.decode()
    form = html[html.index('id="put-object-form"') : html.index('id="put-generic-content-form"')]
    assert "Typed greeting" in form  # what was typed is still in the form
    assert "Set both working hours or neither." in html
    assert 'value="09:00' in form


@pytest.mark.django_db
def test_descriptions_read_as_prose(manager_a) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(manager_a)
    for path in ("/api/intelligence/customers/", "/api/leads/", "/api/calls/"):
        html = client.get(path, **HTML).content.decode()
        description = html[
            html.index('class="pull-left"') : html.index("</div>", html.index('class="pull-left"'))
        ]
        assert "``" not in description, (path, description)
        assert not re.search(r"[\w-]+/[\w.-]+\.(md|py)\b", description), (path, description)
