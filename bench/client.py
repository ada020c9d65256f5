"""In-process API requests: the real URL routing, middleware, DRF view and renderer."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.http import HttpResponse
from django.test import Client
from django.urls import Resolver404, resolve

from bench.context import NotAvailable
from bench.datagen import Tenant


class BenchError(Exception):
    """A request the bench relies on did not succeed."""


def require_route(path: str, what: str) -> None:
    try:
        resolve(path)
    except Resolver404:
        raise NotAvailable(f"{what} ({path}) is not in this checkout yet.") from None


class TenantClient:
    """Requests as the tenant's owner, authenticated with a real API token."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.client = Client(headers={"Authorization": f"Token {tenant.token}"})

    def get(self, path: str, params: dict[str, Any] | None = None) -> HttpResponse:
        response = self.client.get(path, params or {})
        if response.status_code != 200:
            body = response.content[:300].decode(errors="replace")
            raise BenchError(f"GET {path} {params or ''} -> {response.status_code}: {body}")
        return response

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.get(path, params).json()


def next_cursor(page: dict[str, Any]) -> str | None:
    """The ``cursor`` parameter of a cursor-paginated page's ``next`` link."""
    link = page.get("next")
    if not link:
        return None
    return parse_qs(urlsplit(link).query)["cursor"][0]


def page_params(
    client: TenantClient, path: str, page_number: int, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The query parameters that fetch page ``page_number`` (from 1), found by following links."""
    params = dict(params or {})
    for _ in range(page_number - 1):
        cursor = next_cursor(client.get_json(path, params))
        if cursor is None:
            raise BenchError(f"{path} has fewer than {page_number} pages.")
        params["cursor"] = cursor
    return params
