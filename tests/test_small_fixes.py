"""Names in the admin, the db_indexes verdict, and cache_stats' readable errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from businesses.models import BusinessSettings
from tests import factories


@pytest.mark.django_db
def test_admin_names_read_well(business_a) -> None:  # type: ignore[no-untyped-def]
    admin = factories.make_user("names_admin", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    index = client.get("/admin/").content.decode()
    assert "WhatsApp messages" in index and "Whats app" not in index
    settings = BusinessSettings.objects.get(business=business_a)
    page = client.get(f"/admin/businesses/businesssettings/{settings.pk}/change/")
    assert "Settings of Business A" in page.content.decode()


@pytest.mark.django_db
def test_db_indexes_check_ends_with_a_verdict() -> None:
    out, err = StringIO(), StringIO()
    call_command("db_indexes", "--check", stdout=out, stderr=err)
    assert err.getvalue().strip().splitlines()[-1].startswith("Check passed: all ")


@pytest.fixture
def refusing_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = '{"detail": "Invalid token, résumé."}'.encode()
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_cache_stats_url_errors_are_text_not_bytes(refusing_server: str) -> None:
    with pytest.raises(CommandError) as error:
        call_command("cache_stats", "--url", refusing_server, "--token", "nope")
    message = str(error.value)
    assert "b'" not in message and "\\x" not in message
    assert "401 Unauthorized" in message
    assert "Invalid token, résumé." in message
