"""Every admin page of the project's models renders, in a bounded number of queries."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(business_a) -> Client:  # type: ignore[no-untyped-def]
    user = factories.make_user(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


def populate(business, rows: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(rows):
        factories.make_member(business, "agent")
        customer = factories.make_customer(business)
        lead = factories.make_lead(business, customer)
        factories.make_status_change(lead, "contacted")
        factories.make_call(business, customer)
        factories.make_whatsapp(business, customer)


PROJECT_MODELS = [m for m in admin.site._registry if m._meta.app_label in ("businesses", "crm")]


@pytest.mark.parametrize("model", PROJECT_MODELS, ids=lambda m: m.__name__)
def test_changelist_query_count_does_not_grow_with_rows(staff_client, business_a, model) -> None:  # type: ignore[no-untyped-def]
    url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    populate(business_a, 2)
    with CaptureQueriesContext(connection) as small:
        assert staff_client.get(url).status_code == 200
    populate(business_a, 8)
    with CaptureQueriesContext(connection) as large:
        assert staff_client.get(url).status_code == 200
    assert len(large) == len(small)


@pytest.mark.parametrize("model", PROJECT_MODELS, ids=lambda m: m.__name__)
def test_change_form_renders(staff_client, business_a, model) -> None:  # type: ignore[no-untyped-def]
    populate(business_a, 1)
    obj = model.objects.first()
    url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/{obj.pk}/change/"
    assert staff_client.get(url).status_code == 200
