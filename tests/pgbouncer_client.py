"""The PgBouncer smoke suite's client: runs the API in this process against a database.

Run by tests/test_pgbouncer.py in a child process, once over a direct connection
and once through PgBouncer, with the same settings otherwise
(``DB_TRANSACTION_POOLER=true``, ``CACHE_URL=redis://...``):

    python -m tests.pgbouncer_client sequence <slug>   # every endpoint, writes included
    python -m tests.pgbouncer_client load <slug> <threads> <requests>

``sequence`` prints the answers as JSON with ids and timestamps replaced by stable
placeholders, so the two runs can be compared for equality. ``load`` prints the
count of requests by outcome. Both make their own tenant (named by ``slug``) and
delete it at the end, so the shared test database is left as it was.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections import Counter
from typing import Any

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, connections  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from businesses.models import Business, Membership  # noqa: E402
from businesses.services import business_create  # noqa: E402

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


def make_tenant(slug: str) -> tuple[Business, APIClient, APIClient]:
    """A business with an owner and an owner of another business (for the 404 check)."""
    business = business_create(name=f"Smoke {slug}", slug=slug, time_zone="Asia/Jerusalem")
    other = business_create(name=f"Other {slug}", slug=f"{slug}-other")
    clients = []
    for tenant, role in ((business, Membership.Role.OWNER), (other, Membership.Role.OWNER)):
        user = get_user_model().objects.create(username=f"{tenant.slug}-owner")
        Membership.objects.create(user=user, business=tenant, role=role)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        clients.append(client)
    return business, clients[0], clients[1]


def drop_tenant(slug: str) -> None:
    get_user_model().objects.filter(username__startswith=slug).delete()
    Business.objects.filter(slug__startswith=slug).delete()


ID_KEYS = {"id", "customer", "lead", "business", "changed_by"}


def normalize(value: Any, key: str = "") -> Any:
    """Replaces ids, timestamps and cursors, which differ between two runs, by placeholders.

    Ids become ``<id>`` whatever their value: the two runs write other rows of the
    same tables, so the numbers differ while everything else must not.
    """
    if isinstance(value, dict):
        return {k: normalize(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v, key) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return "<id>" if key in ID_KEYS or key.endswith("_id") else value
    if isinstance(value, str) and TIMESTAMP.match(value):
        return "<timestamp>"
    if isinstance(value, str) and key in {"next", "previous"}:
        return "<cursor>"  # cursors encode ids and times
    return value


def sequence(slug: str) -> list[dict[str, Any]]:
    _, client, outsider = make_tenant(slug)
    answers: list[dict[str, Any]] = []

    def call(method: str, path: str, data: Any = None, via: APIClient = client) -> Any:
        response = getattr(via, method)(path, data, format="json")
        body = response.json() if response.content else None
        answers.append({"request": f"{method.upper()} {normalize_path(path)}",
                        "status": response.status_code, "body": normalize(body)})  # fmt: skip
        return body

    def normalize_path(path: str) -> str:
        return re.sub(r"/\d+/", "/<id>/", path)

    try:
        customer = call("post", "/api/customers/", {"name": "Dana", "phone_e164": "+972541234567"})
        call("post", "/api/customers/", {"name": "Dup", "phone_e164": "+972541234567"})  # 400
        call("get", "/api/customers/")
        call("get", f"/api/customers/{customer['id']}/")
        call("patch", f"/api/customers/{customer['id']}/", {"notes": "VIP"})
        lead = call("post", "/api/leads/", {"customer": customer["id"], "name": "Dana"})
        call("patch", f"/api/leads/{lead['id']}/", {"status": "qualified", "status_reason": "ok"})
        call("patch", f"/api/leads/{lead['id']}/", {"status": "bogus"})  # 400
        call("get", "/api/leads/")
        call("get", "/api/leads/?status=qualified")
        call("get", f"/api/leads/{lead['id']}/status-history/")
        ingest = {"call_sid": f"CA{slug}", "from_number": "+972541234567",
                  "to_number": "+972549999999", "direction": "inbound",
                  "status": "completed", "duration": 42}  # fmt: skip
        call("post", "/api/calls/", ingest)
        call("post", "/api/calls/", ingest)  # the retry: 200 with the stored call
        call("get", "/api/calls/")
        message = {"provider_message_id": f"wamid.{slug}", "to_number": "+972541234567",
                   "direction": "inbound", "status": "received", "body": "Hi"}  # fmt: skip
        call("post", "/api/whatsapp/messages/", message)
        call("get", "/api/whatsapp/messages/?to_number=%2B972501234567")
        call("get", "/api/intelligence/customers/")
        call("get", "/api/intelligence/customers/?ordering=-leads_count")
        call("get", f"/api/intelligence/customers/{customer['id']}/")
        call("get", "/api/intelligence/stats/")
        call("get", "/api/business/")
        call("patch", "/api/business/settings/", {"language": "he"})
        call("get", "/api/business/settings/")
        call("get", f"/api/customers/{customer['id']}/", via=outsider)  # 404
        call("delete", f"/api/customers/{customer['id']}/")
        call("get", "/api/customers/")
        # The session time zone survives the pooler handing out server connections.
        with connection.cursor() as cursor:
            zones = set()
            for _ in range(5):
                cursor.execute("SHOW TIME ZONE")
                zones.add(cursor.fetchone()[0])
        answers.append({"request": "SHOW TIME ZONE", "status": 0, "body": sorted(zones)})
    finally:
        drop_tenant(slug)
    return answers


def load(slug: str, threads: int, requests: int) -> dict[str, int]:
    _, client, _ = make_tenant(slug)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def worker(number: int) -> None:
        mine = APIClient()
        mine.credentials(**client._credentials)
        try:
            for i in range(requests):
                try:
                    if i % 4 == 0:
                        phone = f"+1202555{number:02d}{i:02d}"  # 555-0100..0199 style test numbers
                        response = mine.post("/api/customers/", {"name": f"L{number}-{i}",
                                             "phone_e164": phone}, format="json")  # fmt: skip
                    else:
                        path = ("/api/intelligence/customers/", "/api/leads/",
                                "/api/intelligence/stats/")[i % 3]  # fmt: skip
                        response = mine.get(path)
                    outcome = str(response.status_code)
                except Exception as error:  # counted, not raised: the point is the count
                    outcome = type(error).__name__
                with lock:
                    outcomes[outcome] += 1
        finally:
            connections.close_all()

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    try:
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
    finally:
        drop_tenant(slug)
    return dict(outcomes)


if __name__ == "__main__":
    command, slug, *rest = sys.argv[1:]
    if command == "sequence":
        # Names made from the run's slug (usernames, call sids) differ too.
        print(json.dumps(sequence(slug), sort_keys=True).replace(slug, "<slug>"))
    elif command == "load":
        print(json.dumps(load(slug, int(rest[0]), int(rest[1]))))
    else:
        sys.exit(f"unknown command {command!r}")
