"""Hostile input against every endpoint: never a 5xx, always JSON under /api/, and
nothing half-written.

The endpoints are discovered, not listed: URL patterns from the URLconf (a new route
is probed without editing this file) and their query parameters and body fields from
the OpenAPI schema. Django's admin is left out: it is Django's own code, behind a
staff login. Each test sends one endpoint many payloads and reports every bad answer
at once; the data is made once per test, so the whole module costs a few hundred
requests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from businesses.models import Business, BusinessSettings, Membership
from crm.models import CallLog, Customer, Lead, LeadStatusHistory, WhatsAppMessage
from prosaas.parsers import MAX_JSON_DEPTH
from tests import factories

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND"]
BODY_METHODS = ["POST", "PUT", "PATCH"]
SKIPPED_NAMESPACES = {"admin"}

# Path segments that are not ids; each must be a 4xx wherever an id goes.
BAD_IDS = [
    "0",
    "-1",
    "0.5",
    "1e3",
    "abc",
    " 1",
    "\u0665",  # ARABIC-INDIC DIGIT FIVE
    "\uff15",  # FULLWIDTH DIGIT FIVE
    "1_0",
    "9" * 30,
    "9" * 5000,
    "\x00",
    "%ED%A0%80",  # a lone surrogate, UTF-8 encoded
]
# Values for query parameters and for the X-Business-Id header.
BAD_TEXT = ["", " ", "\x00", "\u0665", "\uff15", "1_0", "-1", "1e309", "9" * 5000, "x" * 10_000]
# Values for JSON body fields: huge and tiny numbers, wrong types, NUL, long text.
BAD_FIELD_VALUES: list[Any] = [10**30, -1, 0.5, True, None, [{"a": [1]}], {}, "\x00", "x" * 100_000]
LONE_SURROGATE = '"\\ud800"'

# Every table a request could write to, counted in one query before and after.
COUNTED_MODELS = [
    Business,
    BusinessSettings,
    Membership,
    Customer,
    Lead,
    LeadStatusHistory,
    CallLog,
    WhatsAppMessage,
    Token,
    get_user_model(),
]
ROW_COUNTS_SQL = "SELECT " + ", ".join(
    f'(SELECT count(*) FROM "{model._meta.db_table}")' for model in COUNTED_MODELS
)


# --- Discovery -----------------------------------------------------------------------


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in SKIPPED_NAMESPACES:
                continue
            yield from _walk(entry.url_patterns, prefix + _regex(entry))
        elif isinstance(entry, URLPattern):
            yield prefix + _regex(entry), entry


def _regex(entry: URLPattern | URLResolver) -> str:
    return entry.pattern.regex.pattern.lstrip("^").rstrip("$").replace("\\Z", "")


def url_templates() -> list[str]:
    """Every route as a path with ``{name}`` where it takes a value, e.g.
    ``/api/customers/{pk}/``."""
    templates = set()
    for regex, _ in _walk(get_resolver().url_patterns):
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", regex)
        path = path.replace("\\.", ".").replace("\\", "")
        if "(" in path or "?" in path or "*" in path:
            continue  # an optional suffix pattern; its plain form is listed too
        templates.add("/" + path)
    return sorted(templates)


URLS = url_templates()
ID_URLS = [url for url in URLS if "{" in url]
PLAIN_URLS = [url for url in URLS if "{" not in url]


def _schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


SCHEMA = _schema()


def schema_path(url: str) -> dict[str, Any]:
    """The schema's operations for a URL template (its names may differ: pk vs id)."""
    shape = re.sub(r"\{\w+\}", "{}", url)
    for path, operations in SCHEMA["paths"].items():
        if re.sub(r"\{\w+\}", "{}", path) == shape:
            return operations
    return {}


def query_parameters(url: str) -> list[str]:
    return sorted(
        {
            parameter["name"]
            for operation in schema_path(url).values()
            for parameter in operation.get("parameters", [])
            if parameter["in"] == "query"
        }
    )


def body_fields(url: str, method: str) -> list[str]:
    operation = schema_path(url).get(method.lower(), {})
    content = operation.get("requestBody", {}).get("content", {})
    reference = content.get("application/json", {}).get("schema", {}).get("$ref", "")
    component = SCHEMA["components"]["schemas"].get(reference.rsplit("/", 1)[-1], {})
    return sorted(component.get("properties", {}))


def test_discovery_finds_the_api() -> None:
    assert {"/api/customers/", "/api/customers/{pk}/", "/api/auth/token/"} <= set(URLS)
    assert "page_size" in query_parameters("/api/customers/")
    assert "phone_e164" in body_fields("/api/customers/", "POST")


# --- The world and the client ----------------------------------------------------------


@dataclass
class World:
    business: Business
    ids: dict[str, int]  # a real id per URL parameter name
    owner: APIClient
    agent: APIClient
    anonymous: APIClient


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def client(token: str | None = None) -> APIClient:
    made = APIClient(HTTP_ACCEPT="application/json")
    made.raise_request_exception = False  # a 500 is an answer to report, not a crash
    if token is not None:
        made.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return made


@pytest.fixture
def world(business_a: Business) -> World:
    customer = factories.make_customer(business_a)
    lead = factories.make_lead(business_a, customer)
    factories.make_status_change(lead, "contacted")
    factories.make_call(business_a, customer)
    factories.make_whatsapp(business_a, customer)
    owner = factories.make_member(business_a, Membership.Role.OWNER, "probe_owner")
    agent = factories.make_member(business_a, Membership.Role.AGENT, "probe_agent")
    return World(
        business=business_a,
        ids={"pk": customer.pk, "lead_id": lead.pk, "id": customer.pk},
        owner=client(factories.token_for(owner)),
        agent=client(factories.token_for(agent)),
        anonymous=client(),
    )


def fill(url: str, ids: dict[str, int], value: str | None = None) -> str:
    """The URL with each ``{name}`` replaced by ``value`` or a real id."""

    def replace(match: re.Match[str]) -> str:
        if value is not None:
            return value if value.startswith("%") else quote(value, safe="")
        # A lead id where the route is under /leads/, a customer id elsewhere.
        return str(ids["lead_id"] if "/leads/" in url else ids.get(match[1], ids["pk"]))

    return re.sub(r"\{(\w+)\}", replace, url)


def row_counts() -> tuple[int, ...]:
    with connection.cursor() as cursor:
        cursor.execute(ROW_COUNTS_SQL)
        return tuple(cursor.fetchone())


class Probe:
    """Sends requests and collects every answer that breaks a rule."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def send(self, api: APIClient, method: str, url: str, label: str = "", **kwargs: Any) -> Any:
        before = row_counts()
        response = api.generic(method, url, **kwargs)
        where = f"{method} {url[:120]} {label}".strip()
        if response.status_code >= 500:
            self.problems.append(f"{where}: {response.status_code}")
        elif response.status_code >= 400 and row_counts() != before:
            self.problems.append(f"{where}: {response.status_code} but rows changed")
        if (
            url.startswith("/api/")
            and method != "HEAD"
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            self.problems.append(f"{where}: {response.status_code} is not JSON")
        return response

    def assert_clean(self) -> None:
        assert not self.problems, "\n".join(self.problems)


# --- Every method on every URL -----------------------------------------------------------


@pytest.mark.parametrize("url", URLS)
def test_every_method_answers_without_a_server_error(world: World, url: str) -> None:
    probe = Probe()
    path = fill(url, world.ids)
    for who, api in (("anonymous", world.anonymous), ("owner", world.owner)):
        for method in METHODS:
            probe.send(api, method, path, who)
    probe.assert_clean()


# --- Ids in paths ----------------------------------------------------------------------


@pytest.mark.parametrize("url", ID_URLS)
def test_a_malformed_or_foreign_id_is_a_json_4xx(world: World, url: str) -> None:
    probe = Probe()
    for bad in BAD_IDS:
        response = probe.send(world.owner, "GET", fill(url, world.ids, bad), repr(bad[:20]))
        if response.status_code not in (400, 404, 405):
            probe.problems.append(f"GET {url} with id {bad[:20]!r}: {response.status_code}")
    probe.assert_clean()


# --- Query parameters and the tenant header ----------------------------------------------


@pytest.mark.parametrize("url", [url for url in URLS if query_parameters(url)])
def test_hostile_query_values_are_refused(world: World, url: str) -> None:
    probe = Probe()
    path = fill(url, world.ids)
    for name in query_parameters(url):
        for value in BAD_TEXT:
            probe.send(world.owner, "GET", path, f"{name}={value[:12]!r}", data={name: value})
    probe.assert_clean()


def takes_business_header(url: str) -> bool:
    return any(
        parameter["name"] == "X-Business-Id"
        for operation in schema_path(url).values()
        for parameter in operation.get("parameters", [])
    )


@pytest.mark.parametrize("url", [url for url in PLAIN_URLS if takes_business_header(url)])
def test_a_hostile_business_header_is_refused(world: World, url: str) -> None:
    probe = Probe()
    for value in [*BAD_TEXT, f" {world.business.pk} ", f"{world.business.pk},1"]:
        probe.send(
            world.agent, "GET", url, f"X-Business-Id={value[:12]!r}", HTTP_X_BUSINESS_ID=value
        )
    probe.assert_clean()


# --- Bodies ------------------------------------------------------------------------------


def raw_bodies() -> Iterator[tuple[str, str | bytes, str]]:
    """(label, body, content type): bodies broken as a whole."""
    deep = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    yield "deep json", f'{{"name": {deep}}}', "application/json"
    yield "very deep json", "[" * 100_000 + "]" * 100_000, "application/json"
    yield "lone surrogate", f'{{"name": {LONE_SURROGATE}}}', "application/json"
    yield "surrogate key", f"{{{LONE_SURROGATE}: 1}}", "application/json"
    yield "duplicate keys", '{"name": "a", "name": "b"}', "application/json"
    yield "truncated json", '{"name": ', "application/json"
    yield "not utf-8", b'{"name": "\xff\xfe"}', "application/json"
    yield "NaN", '{"name": NaN}', "application/json"
    yield "huge number", '{"name": 1' + "0" * 5000 + "}", "application/json"
    yield "json list", "[1, 2]", "application/json"
    yield "json null", "null", "application/json"
    yield "json string", '"text"', "application/json"
    yield "text/plain", "name=x", "text/plain"
    yield "xml", "<name>x</name>", "application/xml"
    yield "bad charset", '{"name": "x"}', "application/json; charset=bz2_codec"
    yield "form surrogate", "name=%ED%A0%80&phone_e164=%00", "application/x-www-form-urlencoded"
    yield "multipart no boundary", "--x--", "multipart/form-data"
    yield "oversized", '{"name": "' + "x" * 3_000_000 + '"}', "application/json"


@pytest.mark.parametrize(
    ("url", "method"),
    [(url, "POST") for url in URLS]
    + [(url, m) for url in URLS for m in ("PUT", "PATCH") if body_fields(url, m)],
)
def test_broken_bodies_are_refused(world: World, url: str, method: str) -> None:
    probe = Probe()
    path = fill(url, world.ids)
    for label, body, content_type in raw_bodies():
        probe.send(world.owner, method, path, label, data=body, content_type=content_type)
    probe.assert_clean()


@pytest.mark.parametrize(
    ("url", "method"),
    [(url, method) for url in URLS for method in BODY_METHODS if body_fields(url, method)],
)
def test_hostile_field_values_are_refused(world: World, url: str, method: str) -> None:
    probe = Probe()
    path = fill(url, world.ids)
    for field in body_fields(url, method):
        for value in BAD_FIELD_VALUES:
            body = json.dumps({field: value})
            probe.send(
                world.owner,
                method,
                path,
                f"{field}={str(value)[:12]}",
                data=body,
                content_type="application/json",
            )
        for raw in (LONE_SURROGATE, '"\\u0000"'):
            probe.send(
                world.owner,
                method,
                path,
                f"{field}={raw}",
                data=f'{{"{field}": {raw}}}',
                content_type="application/json",
            )
    probe.assert_clean()
