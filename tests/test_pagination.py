"""Every list refuses a bad page size or a crafted cursor with a 400, never a 500."""

from __future__ import annotations

import json
from base64 import b64encode, urlsafe_b64encode
from typing import Any
from urllib.parse import urlencode

import pytest

from tests import factories

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/customers/",
    "/api/leads/",
    "/api/calls/",
    "/api/whatsapp/messages/?to_number=%2B14155550000",
    "/api/intelligence/customers/",
]


def crafted_cursor(position: Any, row_id: Any = 1, **fields: Any) -> str:
    """A well-formed cursor of the lists' default ordering with this boundary key."""
    payload = {"s": "-created_at,-id", "k": [position, row_id], **fields}
    return urlsafe_b64encode(json.dumps(payload).encode()).decode()


def drf_offset_cursor(position: str) -> str:
    """A cursor of DRF's own format (position and offset), as the lists issued before."""
    return b64encode(urlencode({"p": position, "o": 5}).encode()).decode()


def url_with(url: str, **params: str) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


@pytest.fixture
def client(api_client_for, owner_a, business_a):  # type: ignore[no-untyped-def]
    customer = factories.make_customer(business_a, phone_e164="+14155550000")
    factories.make_lead(business_a, customer)
    factories.make_call(business_a, customer)
    factories.make_whatsapp(business_a, customer)
    return api_client_for(owner_a)


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize(
    "cursor",
    [
        crafted_cursor("not-a-date"),
        crafted_cursor("2026-13-45T09:00:00+00:00"),
        crafted_cursor("2026-03-01T09:00:00"),  # no offset: which time zone?
        crafted_cursor("\x00"),
        crafted_cursor("9" * 400),
        crafted_cursor(1_700_000_000),  # a number where a timestamp belongs
        crafted_cursor(None),  # created_at is never NULL
        crafted_cursor("2026-03-01T09:00:00+00:00", 2**63),  # beyond bigint
        crafted_cursor("2026-03-01T09:00:00+00:00", "1"),
        crafted_cursor("2026-03-01T09:00:00+00:00", True),
        crafted_cursor("2026-03-01T09:00:00+00:00", 1.5),
        crafted_cursor("2026-03-01T09:00:00+00:00", 1, r=2),
        crafted_cursor("2026-03-01T09:00:00+00:00", 1, o=1000),  # an offset: never
        urlsafe_b64encode(b'{"s":"-created_at,-id","k":["2026-03-01T09:00:00+00:00"]}').decode(),
        urlsafe_b64encode(b'{"s":"name,id","k":["Dana",1]}').decode(),  # another ordering's
        urlsafe_b64encode(b'["-created_at,-id"]').decode(),
        drf_offset_cursor("2026-03-01 09:00:00+00:00"),
        "A" * 5000,
    ],
)
def test_a_crafted_or_foreign_cursor_is_400(client, url, cursor) -> None:  # type: ignore[no-untyped-def]
    response = client.get(url_with(url, cursor=cursor))
    assert response.status_code == 400, response.content
    assert response.json() == {"cursor": ["Invalid cursor."]}


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("cursor", ["garbage", "bz0tMQ==", crafted_cursor("x")[:-3]])
def test_an_undecodable_cursor_is_400(client, url, cursor) -> None:  # type: ignore[no-untyped-def]
    response = client.get(url_with(url, cursor=cursor))
    assert response.status_code == 400, response.content


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("size", ["0", "201", "-1", "ten", "1e3"])
def test_a_page_size_out_of_range_is_400(client, url, size) -> None:  # type: ignore[no-untyped-def]
    response = client.get(url_with(url, page_size=size))
    assert response.status_code == 400
    assert "page_size" in response.json()


@pytest.mark.parametrize("url", LISTS)
def test_the_next_link_of_a_real_page_works(client, url) -> None:  # type: ignore[no-untyped-def]
    first = client.get(url_with(url, page_size="1"))
    assert first.status_code == 200
    assert len(first.json()["results"]) == 1
    assert first.json()["previous"] is None


@pytest.mark.parametrize("url", LISTS)
def test_a_cursor_never_shows_another_tenants_rows(  # type: ignore[no-untyped-def]
    client, api_client_for, business_b, outsider_b, url
) -> None:
    # A cursor that places the page before every row of every tenant: B still sees only
    # B's rows, because the tenant filter is applied before the keyset condition.
    a_ids = {row["id"] for row in client.get(url).json()["results"]}
    customer = factories.make_customer(business_b, phone_e164="+14155550000")
    factories.make_lead(business_b, customer)
    factories.make_call(business_b, customer)
    factories.make_whatsapp(business_b, customer)
    everything = crafted_cursor("9999-01-01T00:00:00+00:00", 2**62)
    response = api_client_for(outsider_b).get(url_with(url, cursor=everything))
    assert response.status_code == 200, response.content
    b_ids = {row["id"] for row in response.json()["results"]}
    assert len(b_ids) == 1 and not b_ids & a_ids
