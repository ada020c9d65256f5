"""The leads API: list filters, creation with customer linking, status changes and history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.models import Lead, LeadStatusHistory
from tests import factories
from tests.budgets import REQUEST_OVERHEAD

pytestmark = pytest.mark.django_db

# 1-2 REQUEST_OVERHEAD (token+user, membership+business+settings), 3 the page of leads
LEAD_LIST_QUERIES = REQUEST_OVERHEAD + 1
# 1-2 REQUEST_OVERHEAD, 3 the lead (tenant-checked, so a foreign id is a 404),
# 4 the page of status changes joined with who made them
STATUS_HISTORY_QUERIES = REQUEST_OVERHEAD + 2


def ids(response) -> list[int]:  # type: ignore[no-untyped-def]
    return [row["id"] for row in response.json()["results"]]


def make_leads(business, count: int, **fields) -> list[Lead]:  # type: ignore[no-untyped-def]
    return [factories.make_lead(business, **fields) for _ in range(count)]


# --- Listing ---------------------------------------------------------------------------


def test_leads_are_listed_newest_first(api_client_for, owner_a, business_a) -> None:
    now = timezone.now()
    old = factories.make_lead(business_a, created_at=now - timedelta(days=2))
    new = factories.make_lead(business_a, created_at=now)
    middle = factories.make_lead(business_a, created_at=now - timedelta(days=1))
    response = api_client_for(owner_a).get("/api/leads/")
    assert response.status_code == 200
    assert ids(response) == [new.pk, middle.pk, old.pk]


def test_leads_filter_by_one_status_or_several(api_client_for, owner_a, business_a) -> None:
    won = factories.make_lead(business_a, status="won")
    lost = factories.make_lead(business_a, status="lost")
    factories.make_lead(business_a, status="new")
    client = api_client_for(owner_a)
    assert ids(client.get("/api/leads/", {"status": "won"})) == [won.pk]
    assert set(ids(client.get("/api/leads/?status=won&status=lost"))) == {won.pk, lost.pk}
    assert set(ids(client.get("/api/leads/?status=won,lost"))) == {won.pk, lost.pk}


def test_leads_filter_by_source_and_customer(api_client_for, owner_a, business_a) -> None:
    customer = factories.make_customer(business_a)
    mine = factories.make_lead(business_a, customer, source="web")
    factories.make_lead(business_a, source="web")
    factories.make_lead(business_a, customer, source="referral")
    client = api_client_for(owner_a)
    response = client.get("/api/leads/", {"source": "web", "customer": customer.pk})
    assert ids(response) == [mine.pk]


@pytest.mark.parametrize(
    "term",
    ["dana", "DANA@EXAMPLE", "+972 50-123-4567", "050 123 4567", "0501234567", "4567"],
    ids=["name", "email", "international", "national spaced", "national", "digits"],
)
def test_lead_search_matches_name_email_and_phone_in_any_format(
    api_client_for, owner_a, business_a, term
) -> None:
    # business_a reads numbers without a country code as Israeli (IL).
    lead = factories.make_lead(
        business_a, name="Dana Levi", email="dana@example.com", phone_e164="+972501234567"
    )
    factories.make_lead(business_a, name="Someone Else", phone_e164="+972509999999")
    response = api_client_for(owner_a).get("/api/leads/", {"search": term})
    assert response.status_code == 200
    assert ids(response) == [lead.pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=maybe", "status"),
        ("status=won,maybe", "status"),
        ("source=carrier-pigeon", "source"),
        ("customer=abc", "customer"),
        ("customer=1.5", "customer"),
        ("customer=-3", "customer"),
        ("customer=99999999999999999999", "customer"),
        ("stauts=won", "stauts"),
        ("page_size=201", "page_size"),
        ("page_size=0", "page_size"),
        ("cursor=not-a-cursor", "cursor"),
    ],
)
def test_bad_list_parameters_are_400_naming_them(
    api_client_for, owner_a, business_a, query, field
) -> None:
    response = api_client_for(owner_a).get(f"/api/leads/?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_cursor_pages_through_leads_that_share_a_timestamp(
    api_client_for, owner_a, business_a
) -> None:
    # Leads imported together often carry the same created_at; the cursor's
    # (created_at, id) must neither skip nor repeat any of them
    # (tests/test_keyset_pagination.py walks thousands).
    moment = timezone.now() - timedelta(hours=1)
    tied = make_leads(business_a, 7, created_at=moment, status="won")
    newer = factories.make_lead(business_a, status="won")
    client = api_client_for(owner_a)
    seen: list[int] = []
    url = "/api/leads/?status=won&page_size=3"
    while url:
        page = client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen[0] == newer.pk
    assert sorted(seen[1:]) == sorted(lead.pk for lead in tied)
    assert len(seen) == len(set(seen)) == 8


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?status=contacted",
        "?status=new,won",
        "?source=web",
        "?customer={customer}",
        "?search=a",
    ],
)
def test_lead_list_query_count_is_the_same_at_two_data_sizes(
    api_client_for, owner_a, business_a, django_assert_num_queries, query
) -> None:
    customer = factories.make_customer(business_a)
    url = "/api/leads/" + query.format(customer=customer.pk)
    client = api_client_for(owner_a)
    fields = {"status": "contacted", "source": "web", "name": "Alma"}
    make_leads(business_a, 2, customer=customer, **fields)
    client.get(url)  # warm-up
    with django_assert_num_queries(LEAD_LIST_QUERIES):
        small = client.get(url)
    make_leads(business_a, 20, customer=customer, **fields)
    with django_assert_num_queries(LEAD_LIST_QUERIES):
        large = client.get(url)
    assert small.status_code == large.status_code == 200
    if query not in ("?status=new,won",):
        assert len(large.json()["results"]) > len(small.json()["results"])


def test_outsider_sees_no_leads_and_gets_404_for_one(
    api_client_for, outsider_b, business_a
) -> None:
    lead = factories.make_lead(business_a, factories.make_customer(business_a))
    factories.make_status_change(lead, "contacted")
    client = api_client_for(outsider_b)
    assert client.get("/api/leads/").json()["results"] == []
    assert client.get("/api/leads/", {"customer": lead.customer_id}).json()["results"] == []
    assert client.get(f"/api/leads/{lead.pk}/").status_code == 404
    assert client.patch(f"/api/leads/{lead.pk}/", {"status": "won"}).status_code == 404
    assert client.get(f"/api/leads/{lead.pk}/status-history/").status_code == 404
    lead.refresh_from_db()
    assert lead.status == "new"


@pytest.mark.parametrize("bad_id", ["abc", "0", "-1", "99999999999999999999"])
def test_malformed_lead_ids_are_400(api_client_for, owner_a, bad_id) -> None:
    client = api_client_for(owner_a)
    assert client.get(f"/api/leads/{bad_id}/").status_code == 400
    assert client.get(f"/api/leads/{bad_id}/status-history/").status_code == 400


# --- Creating --------------------------------------------------------------------------


def test_creating_a_lead_links_the_customer_with_the_same_phone_and_records_its_status(
    api_client_for, owner_a, business_a, business_b
) -> None:
    customer = factories.make_customer(business_a, phone_e164="+972501234567")
    factories.make_customer(business_b, phone_e164="+972501234567")
    response = api_client_for(owner_a).post(
        "/api/leads/",
        {"name": "Dana", "phone_e164": "050-123-4567", "source": "web"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["phone_e164"], body["customer"], body["status"]) == (
        "+972501234567",
        customer.pk,
        "new",
    )
    history = LeadStatusHistory.objects.get(lead_id=body["id"])
    assert (history.old_status, history.new_status, history.channel) == ("", "new", "api")
    assert (history.changed_by, history.business_id) == (owner_a, business_a.pk)


def test_a_lead_whose_phone_matches_no_customer_stays_unlinked(
    api_client_for, agent_a, business_a, business_b
) -> None:
    factories.make_customer(business_b, phone_e164="+972501234567")  # other tenant only
    response = api_client_for(agent_a).post(
        "/api/leads/", {"phone_e164": "+972501234567", "status": "contacted"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["customer"] is None
    assert LeadStatusHistory.objects.get(lead_id=response.json()["id"]).new_status == "contacted"


def test_a_lead_created_for_a_customer_takes_its_phone(api_client_for, owner_a, business_a) -> None:
    customer = factories.make_customer(business_a)
    response = api_client_for(owner_a).post("/api/leads/", {"customer": customer.pk}, format="json")
    assert response.status_code == 201
    assert response.json()["phone_e164"] == customer.phone_e164


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"phone_e164": "12"}, "phone_e164"),
        ({"phone_e164": "call me maybe"}, "phone_e164"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@example.com", "status": "maybe"}, "status"),
        ({"email": "a@example.com", "source": "psychic"}, "source"),
        ({"email": "a@example.com", "customer": "abc"}, "customer"),
        ({"email": "a@example.com", "customer": 99999999999999999999}, "customer"),
        ({"name": "Nobody"}, "non_field_errors"),
    ],
)
def test_invalid_lead_is_400_naming_the_field_and_writes_nothing(
    api_client_for, owner_a, business_a, payload, field
) -> None:
    response = api_client_for(owner_a).post("/api/leads/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Lead.objects.exists()
    assert not LeadStatusHistory.objects.exists()


def test_another_tenants_customer_is_never_linked(
    api_client_for, owner_a, business_a, business_b
) -> None:
    foreign = factories.make_customer(business_b)
    lead = factories.make_lead(business_a)
    client = api_client_for(owner_a)
    created = client.post(
        "/api/leads/", {"email": "a@example.com", "customer": foreign.pk}, format="json"
    )
    changed = client.patch(f"/api/leads/{lead.pk}/", {"customer": foreign.pk}, format="json")
    assert (created.status_code, changed.status_code) == (400, 400)
    assert "customer" in created.json() and "customer" in changed.json()
    assert str(foreign.pk) in created.json()["customer"][0]  # names only what was sent
    assert foreign.name not in created.content.decode()
    assert Lead.objects.filter(customer=foreign).count() == 0


# --- Changing status -------------------------------------------------------------------


def test_a_status_change_records_who_from_what_to_what_and_why(
    api_client_for, manager_a, business_a
) -> None:
    lead = factories.make_lead(business_a, status="new")
    response = api_client_for(manager_a).patch(
        f"/api/leads/{lead.pk}/",
        {"status": "contacted", "status_reason": "Called back", "notes": "Prefers mornings"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "contacted"
    assert "status_reason" not in response.json()
    lead.refresh_from_db()
    assert (lead.status, lead.notes) == ("contacted", "Prefers mornings")
    change = LeadStatusHistory.objects.get(lead=lead)
    assert (change.old_status, change.new_status, change.reason) == (
        "new",
        "contacted",
        "Called back",
    )
    assert (change.changed_by, change.channel, change.business_id) == (
        manager_a,
        "api",
        business_a.pk,
    )


def test_setting_the_same_status_records_nothing(api_client_for, owner_a, business_a) -> None:
    lead = factories.make_lead(business_a, status="qualified")
    client = api_client_for(owner_a)
    response = client.patch(f"/api/leads/{lead.pk}/", {"status": "qualified"}, format="json")
    assert response.status_code == 200
    client.patch(f"/api/leads/{lead.pk}/", {"notes": "no status here"}, format="json")
    assert not LeadStatusHistory.objects.filter(lead=lead).exists()


def test_an_invalid_patch_changes_nothing(api_client_for, owner_a, business_a) -> None:
    lead = factories.make_lead(business_a, status="new", notes="before")
    response = api_client_for(owner_a).patch(
        f"/api/leads/{lead.pk}/", {"status": "won", "email": "broken"}, format="json"
    )
    assert response.status_code == 400
    lead.refresh_from_db()
    assert (lead.status, lead.notes) == ("new", "before")
    assert not LeadStatusHistory.objects.exists()


def test_a_reason_without_a_status_change_is_400(api_client_for, owner_a, business_a) -> None:
    lead = factories.make_lead(business_a)
    response = api_client_for(owner_a).patch(
        f"/api/leads/{lead.pk}/", {"status_reason": "why not"}, format="json"
    )
    assert response.status_code == 400
    assert "status_reason" in response.json()


def test_put_is_not_offered(api_client_for, owner_a, business_a) -> None:
    lead = factories.make_lead(business_a)
    assert api_client_for(owner_a).put(f"/api/leads/{lead.pk}/", {}).status_code == 405


# --- Status history --------------------------------------------------------------------


def test_status_history_is_newest_first_with_who_made_each_change(
    api_client_for, agent_a, business_a
) -> None:
    client = api_client_for(agent_a)
    lead_id = client.post("/api/leads/", {"email": "a@example.com"}, format="json").json()["id"]
    for status in ("attempting", "contacted", "won"):
        client.patch(f"/api/leads/{lead_id}/", {"status": status}, format="json")
    response = client.get(f"/api/leads/{lead_id}/status-history/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["old_status"], r["new_status"]) for r in rows] == [
        ("contacted", "won"),
        ("attempting", "contacted"),
        ("new", "attempting"),
        ("", "new"),
    ]
    assert rows[0]["changed_by"] == {"id": agent_a.pk, "username": "agent_a"}


def test_status_history_query_count_is_the_same_at_two_data_sizes(
    api_client_for, owner_a, business_a, django_assert_num_queries
) -> None:
    lead = factories.make_lead(business_a)
    other_user = factories.make_member(business_a, "agent")
    url = f"/api/leads/{lead.pk}/status-history/"
    client = api_client_for(owner_a)
    factories.make_status_change(lead, "contacted", changed_by=owner_a)
    client.get(url)  # warm-up
    with django_assert_num_queries(STATUS_HISTORY_QUERIES):
        small = client.get(url)
    for _ in range(10):
        factories.make_status_change(lead, "won", changed_by=other_user)
    with django_assert_num_queries(STATUS_HISTORY_QUERIES):
        large = client.get(url)
    assert (len(small.json()["results"]), len(large.json()["results"])) == (1, 11)


def test_status_history_refuses_unknown_parameters(api_client_for, owner_a, business_a) -> None:
    lead = factories.make_lead(business_a)
    response = api_client_for(owner_a).get(f"/api/leads/{lead.pk}/status-history/?status=won")
    assert response.status_code == 400
    assert "status" in response.json()
