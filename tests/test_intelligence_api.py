"""The intelligence endpoints: fields, filters, roles, tenants and bad input."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.exceptions import ValidationError
from rest_framework.fields import DateTimeField

from crm.models import CallLog, Customer, Lead, Source, WhatsAppMessage
from intelligence.ordering import ORDERINGS
from intelligence.selectors import customer_intelligence_detail, customer_intelligence_list
from tests import factories

pytestmark = pytest.mark.django_db

LIST = "/api/intelligence/customers/"
STATS = "/api/intelligence/stats/"


def detail(customer_id: object) -> str:
    return f"{LIST}{customer_id}/"


def drf_datetime(value: datetime) -> str:
    """How DRF renders a top-level DateTimeField (UTC as Z, microseconds when non-zero)."""
    return DateTimeField().to_representation(value)


def cursor(ordering: str, position: object) -> str:
    """A well-formed cursor of ``ordering`` whose boundary row has ``position``, id 1."""
    payload = {"s": ORDERINGS[ordering].tag, "k": [position, 1]}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@pytest.fixture
def customer_with_activity(business_a):
    at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    customer = factories.make_customer(business_a, name="Noa Cohen", source=Source.CALL)
    factories.make_lead(business_a, customer, status=Lead.Status.NEW, created_at=at)
    lead = factories.make_lead(
        business_a,
        customer,
        status=Lead.Status.QUALIFIED,
        source=Source.WHATSAPP,
        notes="Wants a visit.",
        created_at=at + timedelta(hours=1, microseconds=250),
    )
    call = factories.make_call(
        business_a,
        customer,
        status=CallLog.Status.NO_ANSWER,
        direction=CallLog.Direction.OUTBOUND,
        duration=0,
        summary="",
        created_at=at + timedelta(hours=2),
    )
    factories.make_call(business_a, customer, created_at=at - timedelta(days=1))
    message = factories.make_whatsapp(
        business_a,
        customer,
        status=WhatsAppMessage.Status.READ,
        created_at=at + timedelta(minutes=30),
    )
    return customer, lead, call, message


def test_list_shows_each_customer_with_counts_latest_rows_and_recent_activity(
    api_client_for, manager_a, customer_with_activity
) -> None:
    customer, lead, call, message = customer_with_activity
    lead.refresh_from_db()
    response = api_client_for(manager_a).get(LIST)
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row == {
        "id": customer.pk,
        "name": "Noa Cohen",
        "phone_e164": customer.phone_e164,
        "email": customer.email,
        "source": "call",
        "created_at": drf_datetime(customer.created_at),
        "leads_count": 2,
        "calls_count": 2,
        "whatsapp_count": 1,
        "last_interaction": "2026-03-01T11:30:00Z",
        "latest_lead": {
            "id": lead.pk,
            "status": "qualified",
            "source": "whatsapp",
            "notes": "Wants a visit.",
            "created_at": "2026-03-01T10:30:00.000250Z",
            "updated_at": drf_datetime(lead.updated_at),
        },
        "last_call": {
            "id": call.pk,
            "status": "no_answer",
            "direction": "outbound",
            "duration": 0,
            "summary": "",
            "created_at": "2026-03-01T11:30:00Z",
        },
        "recent_activity": [
            {
                "type": "call",
                "id": call.pk,
                "status": "no_answer",
                "timestamp": "2026-03-01T11:30:00Z",
            },
            {
                "type": "lead",
                "id": lead.pk,
                "status": "qualified",
                "timestamp": "2026-03-01T10:30:00.000250Z",
            },
            {
                "type": "whatsapp",
                "id": message.pk,
                "status": "read",
                "timestamp": "2026-03-01T10:00:00Z",
            },
        ],
    }


def test_nested_timestamps_render_exactly_like_top_level_ones(
    api_client_for, owner_a, business_a
) -> None:
    # Whole seconds, a trimmed fraction (.5) and full microseconds, each given to a
    # customer (top level) and to its lead (nested), must come out character for character.
    for moment in (
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 500000, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
    ):
        customer = factories.make_customer(business_a, created_at=moment)
        factories.make_lead(business_a, customer, created_at=moment)
    response = api_client_for(owner_a).get(LIST)
    for row in response.json()["results"]:
        assert row["latest_lead"]["created_at"] == row["created_at"]
        assert row["recent_activity"][0]["timestamp"] == row["created_at"]
        assert row["last_interaction"] == row["created_at"]
    assert {row["created_at"] for row in response.json()["results"]} == {
        "2026-01-02T03:04:05Z",
        "2026-01-02T03:04:05.500000Z",
        "2026-01-02T03:04:05.123456Z",
    }


def test_customer_without_activity_has_zero_counts_and_nulls(
    api_client_for, owner_a, business_a
) -> None:
    customer = factories.make_customer(business_a)
    row = api_client_for(owner_a).get(detail(customer.pk)).json()
    assert (row["leads_count"], row["calls_count"], row["whatsapp_count"]) == (0, 0, 0)
    assert row["latest_lead"] is None and row["last_call"] is None
    assert row["last_interaction"] is None
    assert row["recent_activity"] == []


def test_detail_has_the_same_fields_as_the_list(
    api_client_for, admin_a, customer_with_activity
) -> None:
    customer, *_ = customer_with_activity
    client = api_client_for(admin_a)
    [listed] = client.get(LIST).json()["results"]
    response = client.get(detail(customer.pk))
    assert response.status_code == 200
    assert response.json() == listed


@pytest.mark.parametrize("role_fixture", ["owner_a", "admin_a", "manager_a"])
def test_managing_roles_may_read_every_endpoint(request, api_client_for, role_fixture) -> None:
    client = api_client_for(request.getfixturevalue(role_fixture))
    customer = factories.make_customer(request.getfixturevalue("business_a"))
    for path in (LIST, detail(customer.pk), STATS):
        assert client.get(path).status_code == 200, path


def test_agent_gets_403_on_every_endpoint(api_client_for, agent_a, business_a) -> None:
    customer = factories.make_customer(business_a)
    client = api_client_for(agent_a)
    for path in (LIST, detail(customer.pk), STATS):
        assert client.get(path).status_code == 403, path


def test_anonymous_gets_401(client, business_a) -> None:
    assert client.get(LIST).status_code == 401
    assert client.get(STATS).status_code == 401


def test_outsider_sees_none_of_the_tenants_customers(
    api_client_for, outsider_b, business_a, business_b, customer_with_activity
) -> None:
    own = factories.make_customer(business_b)
    response = api_client_for(outsider_b).get(LIST, {"page_size": 200})
    assert [row["id"] for row in response.json()["results"]] == [own.pk]
    stats = api_client_for(outsider_b).get(STATS).json()
    assert (stats["total_customers"], stats["total_leads"], stats["total_calls"]) == (1, 0, 0)


def test_outsider_gets_404_for_each_foreign_customer(
    api_client_for, outsider_b, business_a, customer_with_activity
) -> None:
    foreign = [customer_with_activity[0], factories.make_customer(business_a)]
    client = api_client_for(outsider_b)
    for customer in foreign:
        response = client.get(detail(customer.pk))
        assert response.status_code == 404
        assert customer.name not in response.content.decode()


def test_foreign_rows_never_appear_in_a_customers_latest_rows(
    api_client_for, owner_a, business_a, business_b
) -> None:
    # A row wrongly linked to another tenant's customer must not leak its text.
    customer = factories.make_customer(business_a)
    factories.make_lead(business_b, customer, notes="Tenant B's secret")
    row = api_client_for(owner_a).get(detail(customer.pk)).json()
    assert row["latest_lead"] is None


def test_source_filter(api_client_for, owner_a, business_a) -> None:
    by_call = factories.make_customer(business_a, source=Source.CALL)
    factories.make_customer(business_a, source=Source.WEB)
    response = api_client_for(owner_a).get(LIST, {"source": "call"})
    assert [row["id"] for row in response.json()["results"]] == [by_call.pk]


@pytest.mark.parametrize(
    "search",
    ["050-123-4567", "0501234567", "+972 50 123 4567", "+972-50-1234567", " 050 1234567 "],
)
def test_search_finds_a_phone_number_written_in_any_common_format(
    api_client_for, owner_a, business_a, search
) -> None:
    # business_a reads numbers without a country code as Israeli (IL).
    wanted = factories.make_customer(business_a, phone_e164="+972501234567", name="Dana")
    factories.make_customer(business_a, phone_e164="+972501234568", name="Other")
    response = api_client_for(owner_a).get(LIST, {"search": search})
    assert [row["id"] for row in response.json()["results"]] == [wanted.pk]


def test_search_matches_part_of_a_name_or_email_case_insensitively(
    api_client_for, owner_a, business_a
) -> None:
    by_name = factories.make_customer(business_a, name="Tamar Levi", email="t@example.com")
    by_email = factories.make_customer(business_a, name="Someone", email="levinson@mail.test")
    factories.make_customer(business_a, name="Amir Katz", email="amir@example.com")
    response = api_client_for(owner_a).get(LIST, {"search": "LEVI"})
    assert {row["id"] for row in response.json()["results"]} == {by_name.pk, by_email.pk}


def test_filters_combine_with_every_ordering(api_client_for, owner_a, business_a) -> None:
    wanted = factories.make_customer(business_a, name="Maya", source=Source.WEB)
    factories.make_customer(business_a, name="Maya", source=Source.CALL)
    client = api_client_for(owner_a)
    for ordering in ("-created_at", "name", "-leads_count", "-last_interaction"):
        response = client.get(LIST, {"search": "maya", "source": "web", "ordering": ordering})
        assert [row["id"] for row in response.json()["results"]] == [wanted.pk]


def test_orderings_sort_as_documented(api_client_for, owner_a, business_a) -> None:
    at = datetime(2026, 2, 1, tzinfo=UTC)
    quiet = factories.make_customer(business_a, name="Zed", created_at=at)
    busy = factories.make_customer(business_a, name="Bea", created_at=at + timedelta(days=1))
    recent = factories.make_customer(business_a, name="Ari", created_at=at - timedelta(days=1))
    for _ in range(2):
        factories.make_lead(business_a, busy, created_at=at)
    factories.make_call(business_a, recent, created_at=at + timedelta(days=5))
    client = api_client_for(owner_a)

    def ids(ordering: str) -> list[int]:
        return [row["id"] for row in client.get(LIST, {"ordering": ordering}).json()["results"]]

    assert ids("-created_at") == [busy.pk, quiet.pk, recent.pk]
    assert ids("name") == [recent.pk, busy.pk, quiet.pk]
    assert ids("-leads_count") == [busy.pk, recent.pk, quiet.pk]  # ties: newest id first
    assert ids("-last_interaction") == [recent.pk, busy.pk, quiet.pk]  # never active: last


@pytest.mark.parametrize(
    "params",
    [
        {"ordering": "created_at"},
        {"ordering": "-name"},
        {"ordering": "leads_count"},
        {"page_size": "0"},
        {"page_size": "201"},
        {"page_size": "ten"},
        {"cursor": "not-a-cursor"},
        {"source": "carrier-pigeon"},
        {"search": "x" * 101},
        {"status": "won"},
    ],
)
def test_bad_list_parameters_are_400_naming_the_parameter(
    api_client_for, owner_a, business_a, params
) -> None:
    factories.make_customer(business_a)
    response = api_client_for(owner_a).get(LIST, params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)


@pytest.mark.parametrize(
    ("ordering", "position"),
    [
        ("-created_at", "yesterday"),
        ("-created_at", "2026-13-45 00:00:00+00:00"),
        ("-created_at", None),
        ("name", "nul\x00byte"),
        ("name", "x" * 300),
        ("name", 7),
        ("-leads_count", "many"),
        ("-leads_count", "NaN"),
        ("-leads_count", 1e300),
        ("-leads_count", 1.5),
        ("-leads_count", 2**31),  # beyond the integer column
        ("-leads_count", None),
        ("-last_interaction", "Infinity"),
        ("-last_interaction", 0),
    ],
)
def test_a_cursor_with_a_position_the_ordering_cannot_hold_is_400(
    api_client_for, owner_a, business_a, ordering, position
) -> None:
    factories.make_customer(business_a)
    response = api_client_for(owner_a).get(
        LIST, {"ordering": ordering, "cursor": cursor(ordering, position)}
    )
    assert response.status_code == 400
    assert response.json() == {"cursor": ["Invalid cursor."]}


def test_a_cursor_of_another_ordering_is_400(api_client_for, owner_a, business_a) -> None:
    for _ in range(3):
        factories.make_customer(business_a)
    client = api_client_for(owner_a)
    by_name = client.get(LIST, {"ordering": "name", "page_size": 1}).json()["next"]
    foreign = parse_qs(urlparse(by_name).query)["cursor"][0]
    for ordering in ("-created_at", "-leads_count", "-last_interaction"):
        response = client.get(LIST, {"ordering": ordering, "cursor": foreign})
        assert response.status_code == 400
        assert response.json() == {"cursor": ["Invalid cursor."]}
    assert client.get(LIST, {"ordering": "name", "cursor": foreign}).status_code == 200


@pytest.mark.parametrize("bad_id", ["abc", "0", "-1", "1.5", "99999999999999999999", "١٢"])
def test_malformed_detail_id_is_400(api_client_for, owner_a, business_a, bad_id) -> None:
    response = api_client_for(owner_a).get(detail(bad_id))
    assert response.status_code == 400
    assert "id" in response.json()


def test_unknown_detail_id_is_404(api_client_for, owner_a, business_a) -> None:
    assert api_client_for(owner_a).get(detail(2**62)).status_code == 404


def test_following_next_links_keeps_ordering_and_filters(
    api_client_for, owner_a, business_a
) -> None:
    customers = [factories.make_customer(business_a, source=Source.WEB) for _ in range(5)]
    factories.make_customer(business_a, source=Source.CALL)
    client = api_client_for(owner_a)
    url = f"{LIST}?source=web&ordering=name&page_size=2"
    seen = []
    while url:
        page = client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
        if url:
            query = parse_qs(urlparse(url).query)
            assert query["ordering"] == ["name"] and query["source"] == ["web"]
    assert sorted(seen) == sorted(c.pk for c in customers)


def test_schema_documents_the_intelligence_endpoints_with_types(api_client_for, owner_a) -> None:
    schema = api_client_for(owner_a).get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    listing = paths["/api/intelligence/customers/"]["get"]
    params = {p["name"]: p for p in listing["parameters"]}
    assert set(params["ordering"]["schema"]["enum"]) == {
        "-created_at",
        "name",
        "-leads_count",
        "-last_interaction",
    }
    assert {"source", "search", "cursor", "page_size"} <= params.keys()
    detail_params = paths["/api/intelligence/customers/{id}/"]["get"]["parameters"]
    assert {
        "name": detail_params[0]["name"],
        "type": detail_params[0]["schema"]["type"],
    } == {"name": "id", "type": "integer"}
    components = schema["components"]["schemas"]
    customer = components["CustomerIntelligence"]["properties"]
    assert customer["leads_count"]["type"] == "integer"
    assert customer["last_interaction"]["format"] == "date-time"
    assert customer["last_interaction"]["nullable"] is True
    assert customer["recent_activity"]["type"] == "array"
    assert components["TenantStats"]["properties"]["call_conversion_rate"]["type"] == "number"
    assert "/api/intelligence/stats/" in paths


def test_equal_times_pick_the_higher_id_and_keep_channel_order(
    api_client_for, owner_a, business_a
) -> None:
    at = datetime(2026, 3, 1, tzinfo=UTC)
    customer = factories.make_customer(business_a)
    message = factories.make_whatsapp(business_a, customer, created_at=at)
    calls = [factories.make_call(business_a, customer, created_at=at) for _ in range(2)]
    leads = [factories.make_lead(business_a, customer, created_at=at) for _ in range(2)]
    row = api_client_for(owner_a).get(detail(customer.pk)).json()
    assert row["latest_lead"]["id"] == leads[1].pk
    assert row["last_call"]["id"] == calls[1].pk
    assert [(item["type"], item["id"]) for item in row["recent_activity"]] == [
        ("lead", leads[1].pk),
        ("call", calls[1].pk),
        ("whatsapp", message.pk),
    ]


@pytest.mark.parametrize("ordering", ["-leads_count", "-last_interaction"])
def test_paging_past_more_than_a_thousand_tied_customers_returns_each_once(
    api_client_for, owner_a, business_a, ordering
) -> None:
    # DRF's cursor broke ties on its position with an offset it caps at 1000, so a
    # position shared by 1500 customers (no leads, never active) looped forever. The
    # keyset cursor holds (key, id), so every page starts right after the previous one.
    Customer.objects.bulk_create(
        Customer(business=business_a, name=f"Quiet {i}", phone_e164=f"+1505{i:07d}")
        for i in range(1500)
    )
    busy = factories.make_customer(business_a)
    factories.make_lead(business_a, busy)
    client = api_client_for(owner_a)
    url, seen = f"{LIST}?ordering={ordering}&page_size=200", []
    while url:
        page = client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
        assert len(seen) <= 1501
    assert len(seen) == len(set(seen)) == 1501
    assert seen[0] == busy.pk
    assert seen[1:] == sorted(seen[1:], reverse=True)  # ties: newest id first


def test_previous_links_walk_back_over_the_same_pages(api_client_for, owner_a, business_a) -> None:
    for _ in range(7):
        factories.make_customer(business_a)
    client = api_client_for(owner_a)
    pages, url = [], f"{LIST}?ordering=-leads_count&page_size=3"
    while url:
        page = client.get(url).json()
        pages.append([row["id"] for row in page["results"]])
        url = page["next"]
    back, url = [], page["previous"]
    while url:
        page = client.get(url).json()
        back.insert(0, [row["id"] for row in page["results"]])
        url = page["previous"]
    assert back == pages[:-1]


def test_the_selectors_serve_callers_outside_http(business_a, business_b) -> None:
    by_call = factories.make_customer(business_a, source=Source.CALL, phone_e164="+972501112233")
    factories.make_customer(business_a, source=Source.WEB)
    foreign = factories.make_customer(business_b)
    found = customer_intelligence_list(
        business=business_a, filters={"source": "call", "search": "050-111-2233"}
    )
    assert [customer.pk for customer in found] == [by_call.pk]
    with pytest.raises(ValidationError):
        customer_intelligence_list(business=business_a, filters={"source": "fax"})
    assert (
        customer_intelligence_detail(business=business_a, customer_id=by_call.pk).pk == by_call.pk
    )
    assert customer_intelligence_detail(business=business_a, customer_id=foreign.pk) is None
