"""The edge's console in headless Chromium: the link banner comes and goes on an open page, without a reload."""

from __future__ import annotations

import pytest

from server.db import utcnow
from server.link import service
from server.staff.service import create_staff
from szconfig import ServerSettings
from szconfig.roles import Role
from tests.server.helpers import PASSWORD
from tests.server.test_browser import ARTIFACTS, chromium  # noqa: F401


@pytest.fixture
def edge_server(migrated, db_url):
    from server.app import create_app
    from server.runner import ServerThread

    engine, _factory = migrated
    srv = ServerThread(create_app(ServerSettings(role=Role.EDGE, db=db_url, jobs=False), engine=engine),
                       "127.0.0.1", 0).start()
    yield srv
    srv.stop()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_banner_appears_on_an_open_queue_console_when_the_link_drops(chromium, edge_server, migrated) -> None:  # noqa: F811
    """GIVEN a teller on b001's queue console at the edge, the link up (no banner) WHEN the edge records the link
    down THEN the banner appears on the open page within the page's refresh, in Chinese, and goes away when the
    link returns; the page raises no script error."""
    _engine, factory = migrated
    with factory() as s, s.begin():
        create_staff(s, username="teller", role="teller", branch_ids=["b001"], password=PASSWORD)
        service.set_link(s, "b001", up=True, now=utcnow())
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(f"{edge_server.url}/login")
    page.fill("input[name=username]", "teller")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/branches/b001")
    page.goto(f"{edge_server.url}/branches/b001/queue")
    banner = page.get_by_test_id("link-banner")
    banner.wait_for(state="hidden", timeout=10_000)

    with factory() as s, s.begin():
        service.set_link(s, "b001", up=False, now=utcnow())
    banner.wait_for(state="visible", timeout=25_000)
    assert "与总行的连接自" in banner.inner_text() and "尚未收到总行的任何数据" in banner.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "edge-link-banner.png"))

    with factory() as s, s.begin():
        service.set_link(s, "b001", up=True, now=utcnow())
    page.get_by_test_id("link-banner").wait_for(state="hidden", timeout=25_000)
    context.close()
    assert not errors, errors
