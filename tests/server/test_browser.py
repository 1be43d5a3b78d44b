"""The console in Debian's headless Chromium (Playwright driving the system browser)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.server.helpers import PASSWORD

CHROMIUM = Path(os.environ.get("SZ_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def chromium():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing (CI must install Debian's chromium)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def live_server(migrated):
    from server.app import create_app
    from server.runner import ServerThread

    engine, _factory = migrated
    app = create_app(engine=engine)
    srv = ServerThread(app, "127.0.0.1", 0).start()
    yield srv
    srv.stop()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("viewport", [(1366, 768), (800, 1280)], ids=["branch-pc", "tablet-portrait"])
def test_lobby_staff_session(chromium, live_server, make_user, viewport):
    """GIVEN lobby staff in b001 WHEN they sign in, view the overview, switch to English and sign out
    THEN each page shows what it should, live updates connect, and a screenshot is kept."""
    make_user("lobby1", "lobby_staff")
    ARTIFACTS.mkdir(exist_ok=True)
    width, height = viewport
    context = chromium.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    outside: list[str] = []
    page.on("request", lambda req: outside.append(req.url) if not req.url.startswith(live_server.url) else None)

    page.goto(f"{live_server.url}/")
    page.wait_for_url("**/login**")
    assert page.locator("h1").inner_text() == "登录"
    page.fill("input[name=username]", "lobby1")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/branches/b001")
    assert "网点总览" in page.get_by_test_id("overview-title").inner_text()
    assert page.locator("#card-queue").is_visible() and page.locator("#card-devices").is_visible()
    page.locator("#live-status.ok").wait_for(state="attached", timeout=10_000)  # no eval: the CSP forbids it

    page.get_by_test_id("lang-en").click()
    page.locator("html[lang=en]").wait_for(state="attached", timeout=10_000)
    assert "Branch overview" in page.get_by_test_id("overview-title").inner_text()
    page.locator("#live-status.ok").wait_for(state="attached", timeout=10_000)  # no eval: the CSP forbids it
    live_server.app.state.events.publish("notice", {"text": "Printer 2 out of paper"}, branch_id="b001")
    page.get_by_text("Printer 2 out of paper").wait_for(timeout=10_000)
    # nothing sticks out sideways at this size
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(ARTIFACTS / f"console-overview-{width}x{height}.png"), full_page=True)

    page.get_by_test_id("logout").click()
    page.wait_for_url("**/login")
    assert page.locator("h1").inner_text() == "Sign in"  # the language choice is remembered
    page.goto(f"{live_server.url}/branches/b001")
    page.wait_for_url("**/login**")
    context.close()
    assert not errors, errors
    assert not outside, f"the console loaded from elsewhere: {outside}"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_branch_manager_pages_and_api_docs(chromium, live_server, make_user):
    """GIVEN a branch manager on a 1366×768 PC WHEN they create an account, open the audit log and the API
    docs THEN the one-time password is shown, the audit shows the change, no page scrolls sideways, and
    Swagger UI renders from the app's own files."""
    make_user("boss1", "branch_manager")
    ARTIFACTS.mkdir(exist_ok=True)
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="en-US")
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda req: outside.append(req.url) if not req.url.startswith(live_server.url) else None)
    page.goto(f"{live_server.url}/login?lang=en")
    page.fill("input[name=username]", "boss1")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/branches/b001")
    page.click("nav.mainnav a[href='/staff']")
    page.wait_for_url("**/staff")
    page.fill("form.panel input[name=username]", "teller7")
    page.select_option("form.panel select[name=role]", "teller")
    page.click("form.panel button[type=submit]")
    assert len(page.get_by_test_id("otp").locator("code").inner_text()) == 14
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(ARTIFACTS / "console-staff-1366x768.png"), full_page=True)
    page.click("nav.mainnav a[href='/audit']")
    page.wait_for_url("**/audit")
    assert page.get_by_test_id("audit-table").get_by_text("staff.create").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(ARTIFACTS / "console-audit-1366x768.png"), full_page=True)
    page.goto(f"{live_server.url}/docs")
    page.locator(".swagger-ui .info .title").wait_for(timeout=15_000)
    assert "smartzone server" in page.locator(".swagger-ui .info .title").inner_text()
    context.close()
    assert not outside, f"loaded from elsewhere: {outside}"
