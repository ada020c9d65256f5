"""Every list refuses a bad page size or a crafted cursor with a 400, never a 500."""

from __future__ import annotations

from base64 import b64encode
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


def crafted_cursor(position: str) -> str:
    """A well-formed DRF cursor whose position is ``position``."""
    return b64encode(urlencode({"p": position}).encode()).decode()


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
@pytest.mark.parametrize("position", ["not-a-date", "2026-13-45T99:00:00", "\x00", "9" * 400])
def test_a_cursor_with_a_position_the_column_cannot_hold_is_400(client, url, position) -> None:  # type: ignore[no-untyped-def]
    response = client.get(url_with(url, cursor=crafted_cursor(position)))
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
