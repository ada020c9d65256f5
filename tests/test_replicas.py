"""Read replicas against a real streaming standby (tests/replica.py starts the pair).

For this module the ``default`` alias points at the fixture's own primary and
``replica1`` at its hot standby, so what a test writes on the primary really
travels to the replica by WAL, and a paused or stopped standby is really paused or
stopped. Which database served a request is read from ``Server-Timing``; where it
matters, the test also proves it by data that only one of the two has.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections, transaction
from django.test import override_settings
from rest_framework.test import APIClient

from businesses.models import Business, Membership
from crm.models import CallLog, Customer, Lead, WhatsAppMessage
from prosaas import db_routing
from prosaas.replica_lag import monitor
from tests import factories
from tests.replica import ReplicaPair, ReplicationUnavailable
from tests.replica_databases import DATABASE, databases_swapped_to

SERVED = re.compile(r'db-served;desc="(?P<served>[^"]+)"')

# Generous limits by default: a test that wants lag to matter lowers them itself.
ROUTING_SETTINGS: dict[str, Any] = {
    "DATABASE_REPLICA_ALIASES": ["replica1"],
    "REPLICA_MAX_LAG_SECONDS": 30.0,
    "REPLICA_LAG_CHECK_SECONDS": 60.0,
    "REPLICA_READ_YOUR_WRITES_SECONDS": 30.0,
}


@pytest.fixture(scope="module")
def replication(django_db_blocker) -> Iterator[ReplicaPair]:  # type: ignore[no-untyped-def]
    try:
        pair = ReplicaPair()
        pair.start()
    except ReplicationUnavailable as reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the replica tests, but no standby could start: {reason}")
        pytest.skip(f"this machine cannot start a streaming replica: {reason}")
    try:
        pair.create_database(DATABASE)
        with (
            django_db_blocker.unblock(),
            databases_swapped_to(pair.primary, {"replica1": pair.standby}),
            override_settings(**ROUTING_SETTINGS),
        ):
            call_command("migrate", interactive=False, verbosity=0)
            pair.wait_until_replayed()
            yield pair
    finally:
        pair.stop()


@dataclass
class Tenant:
    business: Business
    manager: AbstractUser
    colleague: AbstractUser
    customer: Customer
    lead: Lead
    call: CallLog
    message: WhatsAppMessage

    def client(self, user: AbstractUser | None = None) -> APIClient:
        client = APIClient()
        token = factories.token_for(user or self.manager)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client


@pytest.fixture
def tenant(replication: ReplicaPair) -> Iterator[Tenant]:
    """A tenant with one record of each kind, replayed on the standby; fresh routing."""
    business = factories.make_business()
    manager, colleague = (token_member(business) for _ in range(2))
    factories.token_for(manager)
    factories.token_for(colleague)
    customer = factories.make_customer(business)
    lead = factories.make_lead(business, customer)
    factories.make_status_change(lead, Lead.Status.CONTACTED)
    call = factories.make_call(business, customer)
    message = factories.make_whatsapp(business, customer)
    replication.wait_until_replayed()
    monitor.forget()
    db_routing.reset_routing_stats()
    cache.clear()
    yield Tenant(business, manager, colleague, customer, lead, call, message)
    replication.resume_replay()  # a failed test must not leave the next one paused


def token_member(business: Business) -> AbstractUser:
    """A manager who signs in by token only: no password, so no slow hashing."""
    user = get_user_model().objects.create(username=f"member{factories.next_number()}")
    Membership.objects.create(user=user, business=business, role=Membership.Role.MANAGER)
    return user


def served_by(response: Any) -> str:
    match = SERVED.search(response.get("Server-Timing", ""))
    assert match, f"no db-served in Server-Timing: {response.get('Server-Timing')!r}"
    return match["served"]


def replica_endpoints(t: Tenant) -> list[str]:
    return [
        "/api/intelligence/customers/",
        f"/api/intelligence/customers/{t.customer.pk}/",
        "/api/intelligence/stats/",
        "/api/customers/",
        "/api/leads/",
        f"/api/leads/{t.lead.pk}/status-history/",
        "/api/calls/",
        f"/api/whatsapp/messages/?to_number={t.customer.phone_e164}",
    ]


def primary_endpoints(t: Tenant) -> list[str]:
    # Single records a user just opened to edit, and the tenant's own settings.
    return [
        f"/api/customers/{t.customer.pk}/",
        f"/api/leads/{t.lead.pk}/",
        "/api/business/",
        "/api/business/settings/",
    ]


def test_lag_tolerant_endpoints_are_served_by_the_replica(tenant: Tenant) -> None:
    client = tenant.client()
    for path in replica_endpoints(tenant):
        response = client.get(path)
        assert response.status_code == 200, (path, response.content)
        assert served_by(response) == "replica1", path
    # The lag was measured once for all these requests (REPLICA_LAG_CHECK_SECONDS).
    assert db_routing.routing_stats()["served"]["replica1"] == len(replica_endpoints(tenant))
    assert monitor.checks >= 1
    checks = monitor.checks
    client.get("/api/intelligence/stats/")
    assert monitor.checks == checks


def test_other_endpoints_and_writes_are_served_by_the_primary(tenant: Tenant) -> None:
    client = tenant.client()
    for path in primary_endpoints(tenant):
        response = client.get(path)
        assert response.status_code == 200, (path, response.content)
        assert served_by(response) == "default", path
    response = client.patch(f"/api/leads/{tenant.lead.pk}/", {"notes": "called back"})
    assert response.status_code == 200, response.content
    assert served_by(response) == "default"


def test_a_replica_read_really_comes_from_the_replica(
    replication: ReplicaPair, tenant: Tenant
) -> None:
    replication.pause_replay()
    newcomer = factories.make_customer(tenant.business, name="Only on the primary")
    replication.wait_until_received()

    listed = tenant.client().get("/api/intelligence/customers/")
    assert served_by(listed) == "replica1"
    assert [row["id"] for row in listed.json()["results"]] == [tenant.customer.pk]

    # A single customer is read from the primary, which has it already.
    opened = tenant.client().get(f"/api/customers/{newcomer.pk}/")
    assert opened.status_code == 200
    assert served_by(opened) == "default"


def test_an_idle_primary_does_not_make_the_replica_look_behind(
    settings, replication: ReplicaPair, tenant: Tenant
) -> None:
    settings.REPLICA_MAX_LAG_SECONDS = 0.2
    settings.REPLICA_LAG_CHECK_SECONDS = 0.1
    # Nothing is written meanwhile: the last replayed transaction grows older than
    # the limit, yet the standby has nothing left to replay.
    time.sleep(0.5)
    response = tenant.client().get("/api/intelligence/customers/")
    assert served_by(response) == "replica1"
    assert monitor.snapshot()["replica1"].lag_seconds == 0


def test_a_replica_lagging_past_the_limit_is_skipped_for_the_primary(
    settings, replication: ReplicaPair, tenant: Tenant
) -> None:
    settings.REPLICA_MAX_LAG_SECONDS = 0.2
    settings.REPLICA_LAG_CHECK_SECONDS = 0.1
    replication.pause_replay()
    newcomer = factories.make_customer(tenant.business, name="Written while paused")
    replication.wait_until_received()
    wait_until(lambda: measured_lag() > 0.2)

    response = tenant.client().get("/api/intelligence/customers/")
    assert response.status_code == 200
    assert served_by(response) == "default (lagging)"
    # Served by the primary within this same request: the new customer is there.
    assert newcomer.pk in [row["id"] for row in response.json()["results"]]
    assert db_routing.routing_stats()["fallbacks"] == {"lagging": 1}

    replication.resume_replay()
    replication.wait_until_replayed()
    monitor.forget()
    assert served_by(tenant.client().get("/api/intelligence/customers/")) == "replica1"


def test_a_user_reads_their_own_write_from_the_primary(
    settings, replication: ReplicaPair, tenant: Tenant
) -> None:
    # Replay is paused, so the replica cannot have the change: only the primary can.
    replication.pause_replay()
    patched = tenant.client().patch(f"/api/leads/{tenant.lead.pk}/", {"status": "qualified"})
    assert patched.status_code == 200, patched.content

    mine = tenant.client().get("/api/leads/")
    assert served_by(mine) == "default (read_your_writes)"
    assert mine.json()["results"][0]["status"] == "qualified"

    # A colleague tolerates the lag like any reader: replica, old status.
    theirs = tenant.client(tenant.colleague).get("/api/leads/")
    assert served_by(theirs) == "replica1"
    assert theirs.json()["results"][0]["status"] == "new"

    # Once the window has passed, the writer reads from the replica again.
    settings.REPLICA_READ_YOUR_WRITES_SECONDS = 0.2
    time.sleep(0.3)
    assert served_by(tenant.client().get("/api/leads/")) == "replica1"


def test_a_failed_write_does_not_pin_the_user_to_the_primary(tenant: Tenant) -> None:
    rejected = tenant.client().patch(f"/api/leads/{tenant.lead.pk}/", {"status": "nonsense"})
    assert rejected.status_code == 400
    assert served_by(tenant.client().get("/api/leads/")) == "replica1"


def test_a_replica_stopped_mid_run_costs_no_error(replication: ReplicaPair, tenant: Tenant) -> None:
    client = tenant.client()
    expected = client.get("/api/intelligence/customers/")
    assert served_by(expected) == "replica1"  # healthy, and measured for 60 s

    replication.stop_standby()
    try:
        # The monitor still trusts the replica: the request starts on it, its query
        # fails, and the same GET runs once more on the primary.
        during = client.get("/api/intelligence/customers/")
        assert during.status_code == 200, during.content
        assert served_by(during) == "default (failed)"
        assert during.json() == expected.json()

        # The failure made the monitor measure again: refused, so straight to the primary.
        after = client.get("/api/intelligence/stats/")
        assert after.status_code == 200, after.content
        assert served_by(after) == "default (unavailable)"
        assert monitor.snapshot()["replica1"].problem.startswith("error")
    finally:
        replication.start_standby()
    replication.wait_until_replayed()
    monitor.forget()
    assert served_by(client.get("/api/intelligence/customers/")) == "replica1"


def test_reads_inside_a_transaction_and_outside_a_request_go_to_the_primary(
    tenant: Tenant,
) -> None:
    routing, token = db_routing.begin_request()
    try:
        assert db_routing.route_reads_to_replica(tenant.manager.pk) == "replica1"
        assert Customer.objects.all().db == "replica1"
        with transaction.atomic():
            # The transaction may hold writes the replica cannot have.
            assert Customer.objects.all().db == "default"
        assert Customer.objects.all().db == "replica1"
        assert Customer.objects.all().db == routing.read_alias
    finally:
        db_routing.end_request(token)
    assert Customer.objects.all().db == "default"


# --- helpers ---------------------------------------------------------------------------


def measured_lag() -> float:
    monitor.forget("replica1")
    state = monitor.state("replica1")
    assert state is not None and not state.problem, state
    return state.lag_seconds or 0.0


def wait_until(condition: Any, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_the_replica_alias_really_is_the_standby(tenant: Tenant) -> None:
    with connections["replica1"].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), current_database()")
        assert cursor.fetchone() == (True, DATABASE)
