"""Schemathesis over every operation of the OpenAPI schema, against the WSGI app.

Requests generated from the schema (valid and invalid ones) are sent in-process, as
an owner and as an agent of a tenant with a few records, and every answer is checked:
no 5xx, a status, content type, headers and body the schema documents, invalid data
refused, and valid data refused only for a reason the schema documents (below). The
seed is fixed (derandomized), so a run is reproducible; the example budget is small
here and large in ``make fuzz`` (SCHEMATHESIS_MAX_EXAMPLES, SCHEMATHESIS_PHASES).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import AbstractUser
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from businesses.models import Business, Membership
from crm.filters import MAX_ID
from tests import factories

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "6"))
# The suite runs the schema's examples and a few generated requests per operation;
# `make fuzz` adds the coverage phase (every boundary of every parameter) and more
# examples, for before a release.
PHASES = os.environ.get("SCHEMATHESIS_PHASES", "examples,fuzzing").split(",")

# Fields whose values the schema cannot fully express, so that a request valid by the
# schema may still be a 400 naming them; the schema's 400 description lists each
# reason (prosaas/schema.py BAD_REQUEST). Any other field named by a 400 to a
# schema-valid request fails the run.
DOCUMENTED_REFUSALS = {
    "phone_e164",  # not a possible number in the tenant's country, or a duplicate
    "from_number",
    "to_number",
    "cursor",  # not issued by this API
    "customer",  # not a customer of this tenant
    "time_zone",  # not an IANA zone
    "default_country",  # not a country phonenumbers knows
    "created_at",  # a provider timestamp in the future
    "recording_url",  # Django's URL validator is stricter than "format: uri"
    "non_field_errors",  # wrong credentials; rules between fields
}

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
# Unknown headers and query parameters are not errors in HTTP; the list views' own
# refusal of unknown query parameters is tested in tests/test_pagination.py.
# NUL characters: every text field refuses them (PostgreSQL cannot store them), as the
# 400's description says; tests/test_probe.py sends them everywhere.
schema.config.generation.update(allow_extra_parameters=False, allow_x00=False)
schema.config.phases.update(phases=PHASES)


@schemathesis.check
def valid_data_refused_only_for_documented_reasons(ctx: Any, response: Any, case: Any) -> None:
    """Schemathesis's ``positive_data_acceptance`` with the documented 400s allowed."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if response.status_code == 400:
        body = response.json()
        named = set(body) - {"detail", "code"} if isinstance(body, dict) else {"?"}
        if "detail" in body or named - DOCUMENTED_REFUSALS:
            raise AssertionError(f"A schema-valid request was refused: {body}")
    elif response.status_code not in {401, 403, 404, 409, 429} and response.status_code >= 400:
        raise AssertionError(f"A schema-valid request got {response.status_code}")


@pytest.fixture(autouse=True)
def keep_the_test_connection() -> Iterator[None]:
    """The WSGI app closes the database connection around each request (Django's
    request signals), which would end the test's transaction. Django's test client
    disconnects those receivers for the same reason; so does this."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    # Users are made per test; the production hasher's cost is not under test here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def tenant(business_a: Business) -> Business:
    """A tenant with records, so that list pages and existing ids have something."""
    customer = factories.make_customer(business_a)
    lead = factories.make_lead(business_a, customer)
    factories.make_status_change(lead, "contacted")
    factories.make_call(business_a, customer)
    factories.make_whatsapp(business_a, customer)
    return business_a


def is_valid_id(value: object) -> bool:
    text = str(value)
    return text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID


def auth_headers(user: AbstractUser, business: Business) -> dict[str, str]:
    return {
        "Authorization": f"Token {factories.token_for(user)}",
        "X-Business-Id": str(business.pk),
    }


@pytest.fixture(params=[Membership.Role.OWNER, Membership.Role.AGENT])
def member(request: pytest.FixtureRequest, tenant: Business) -> dict[str, str]:
    user = factories.make_member(tenant, request.param, f"fuzz_{request.param}")
    return auth_headers(user, tenant)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
def test_every_operation_answers_as_documented(case: Any, member: dict[str, str]) -> None:
    headers = dict(member)
    generated = (case.headers or {}).get("X-Business-Id")
    if generated is not None and not is_valid_id(generated):
        # A negative case about the header itself: send it as generated.
        headers.pop("X-Business-Id")
    case.call_and_validate(
        headers=headers,
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
    )
