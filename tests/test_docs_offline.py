"""The API docs load everything from this server: no request leaves the machine."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_reference_only_local_static_files(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    # Every absolute URL in the page (scripts, styles, icons, fonts) would be fetched
    # from elsewhere; none may appear.
    assert not re.findall(r"""(?:https?:)?//[\w.-]+\.[a-z]{2,}[^"'\s]*""", html)
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    scripts = [a for a in assets if a.endswith((".js", ".css", ".png"))]
    assert scripts, html
    for asset in scripts:
        assert asset.startswith("/static/"), asset
        # ...and the file is there to be served.
        assert finders.find(asset.removeprefix("/static/")), asset
