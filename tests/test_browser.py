"""The browsable API, the docs and the admin, driven in Debian's Chromium (Selenium).

Skipped with a reason where Chromium or its driver is missing; in CI (``CI`` set)
that is a failure instead, so the suite cannot silently not run there. `.ci/run`
installs both from Debian's packages.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from businesses.models import Business, BusinessSettings, Membership
from tests import factories

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
PASSWORD = "test-pass-123"  # tests/factories.py
WAIT_SECONDS = 30


def _require_browser() -> None:
    missing = [
        name for name, path in (("chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER)) if not path
    ]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package")
    if not missing:
        return
    reason = f"{' and '.join(missing)} not installed (apt-get install chromium chromium-driver)"
    if os.environ.get("CI"):
        pytest.fail(f"The browser suite must run in CI: {reason}.")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="prosaas-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # type: ignore[assignment]
    for flag in (
        "--headless=new",
        "--no-sandbox",  # root in CI containers
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1024",
        f"--user-data-dir={profile}",
        # Any host but the test server is unreachable: a page that needs the internet
        # shows it, and the docs test sees what was requested.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver: Any, condition: Callable[[Any], Any]) -> Any:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # Stale: an element read while the page is being replaced (the ajax forms
    # write the answer over the document); the next poll reads the new one.
    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(driver, WAIT_SECONDS, ignored_exceptions=ignored).until(condition)


def by_css(driver: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, selector))


def log_in(driver: Any, base: str, username: str, next_path: str = "/api/") -> None:
    driver.delete_all_cookies()
    driver.get(f"{base}/api/auth/login/?next={next_path}")
    by_css(driver, "#id_username").send_keys(username)
    password = by_css(driver, "#id_password")
    password.send_keys(PASSWORD)
    password.submit()
    wait_for(driver, lambda d: "/api/auth/login/" not in d.current_url)


@pytest.fixture
def tenant(transactional_db: None) -> dict[str, Any]:
    acme = factories.make_business("Acme Browser")
    other = factories.make_business("Other Browser")
    manager = factories.make_member(acme, Membership.Role.MANAGER, "browser_manager")
    owner = factories.make_member(acme, Membership.Role.OWNER, "browser_owner")
    consultant = factories.make_member(acme, Membership.Role.MANAGER, "browser_consultant")
    Membership.objects.create(user=consultant, business=other, role=Membership.Role.MANAGER)
    for name in ("Carol", "Alice", "Bob"):
        factories.make_customer(acme, name=name)
    factories.make_user("browser_admin", is_staff=True, is_superuser=True)
    return {
        "acme": acme,
        "other": other,
        "manager": manager,
        "owner": owner,
        "consultant": consultant,
    }


def row_names(driver: Any) -> list[str]:
    import json

    from selenium.webdriver.common.by import By

    text = driver.find_element(By.CSS_SELECTOR, ".response-info pre").text
    body = json.loads(text[text.index("{") :])
    return [row["name"] for row in body["results"]]


def test_intelligence_ordering_and_next_through_the_filter_form(
    browser: Any, live_server: Any, tenant: dict[str, Any]
) -> None:
    from selenium.webdriver.support.ui import Select

    log_in(browser, live_server.url, "browser_manager", "/api/intelligence/customers/")
    by_css(browser, ".response-info")
    assert sorted(row_names(browser)) == ["Alice", "Bob", "Carol"]

    by_css(browser, 'button[data-target="#filtersModal"]').click()
    select = wait_for(browser, lambda d: by_css(d, "#filtersModal select[name=ordering]"))
    wait_for(browser, lambda d: select.is_displayed())
    Select(select).select_by_value("name")
    size = by_css(browser, "#filtersModal input[name=page_size]")
    size.clear()
    size.send_keys("2")
    by_css(browser, "#filtersModal button[type=submit]").click()
    wait_for(browser, lambda d: "ordering=name" in d.current_url)
    assert row_names(browser) == ["Alice", "Bob"]

    by_css(browser, "ul.pager li.next a").click()
    wait_for(browser, lambda d: "cursor=" in d.current_url)
    assert row_names(browser) == ["Carol"]


def test_consultant_switches_business(
    browser: Any, live_server: Any, tenant: dict[str, Any]
) -> None:
    from selenium.webdriver.support.ui import Select

    log_in(browser, live_server.url, "browser_consultant", "/api/business/")
    assert "several businesses" in by_css(browser, ".response-info").text
    Select(by_css(browser, "#business-switcher select")).select_by_visible_text("Other Browser")
    by_css(browser, "#business-switcher button").click()
    wait_for(browser, lambda d: '"Other Browser"' in by_css(d, ".response-info").text)
    assert "/api/business/" in browser.current_url


def test_settings_patched_through_the_html_form(
    browser: Any, live_server: Any, tenant: dict[str, Any]
) -> None:
    log_in(browser, live_server.url, "browser_owner", "/api/business/settings/")
    by_css(browser, 'a[name="html-tab"]').click()
    greeting = by_css(browser, '#put-object-form [name="whatsapp_greeting"]')
    wait_for(browser, lambda d: greeting.is_displayed())
    greeting.clear()
    greeting.send_keys("Hello from the browser")
    by_css(browser, "#put-object-form button").click()
    # The page is replaced by the PATCH's answer (the GET before it also said 200).
    wait_for(browser, lambda d: "Hello from the browser" in by_css(d, ".response-info").text)
    assert "HTTP 200" in by_css(browser, ".response-info").text
    settings = BusinessSettings.objects.get(business=tenant["acme"])
    assert settings.whatsapp_greeting == "Hello from the browser"


def test_docs_list_the_operations_with_no_external_request(
    browser: Any, live_server: Any, tenant: dict[str, Any]
) -> None:
    from selenium.webdriver.common.by import By

    log_in(browser, live_server.url, "browser_manager")
    browser.get(f"{live_server.url}/api/docs/")
    wait_for(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) > 10)
    assert "/api/intelligence/customers/" in browser.page_source
    requested = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert requested
    assert [url for url in requested if not url.startswith(live_server.url)] == []


def test_a_setting_changed_in_the_admin_shows_on_the_next_api_page(
    browser: Any, live_server: Any, tenant: dict[str, Any]
) -> None:
    acme: Business = tenant["acme"]
    log_in(browser, live_server.url, "browser_owner", "/api/business/settings/")
    assert "Hello from the admin" not in by_css(browser, ".response-info").text  # now cached

    browser.delete_all_cookies()
    browser.get(f"{live_server.url}/admin/login/?next=/admin/")
    by_css(browser, "#id_username").send_keys("browser_admin")
    password = by_css(browser, "#id_password")
    password.send_keys(PASSWORD)
    password.submit()
    wait_for(browser, lambda d: "/admin/login/" not in d.current_url)
    pk = BusinessSettings.objects.get(business=acme).pk
    browser.get(f"{live_server.url}/admin/businesses/businesssettings/{pk}/change/")
    assert f"Settings of {acme.name}" in browser.page_source
    field = by_css(browser, "#id_whatsapp_greeting")
    field.clear()
    field.send_keys("Hello from the admin")
    by_css(browser, 'input[name="_save"]').click()
    wait_for(browser, lambda d: "/change/" not in d.current_url)

    log_in(browser, live_server.url, "browser_owner", "/api/business/settings/")
    assert "Hello from the admin" in by_css(browser, ".response-info").text
