"""The lobby console in headless Chromium, with a simulated kiosk going through the broker and the hub."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.queueing.kiosk import ScriptedKiosk
from tests.server.helpers import PASSWORD
from tests.server.test_browser import ARTIFACTS, chromium, live_server  # noqa: F401
from tests.spine.hubkit import HubThread


@pytest.mark.timeout(150)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("viewport", [(1366, 768), (800, 1280)], ids=["branch-pc", "tablet-portrait"])
def test_ticket_from_kiosk_appears_live_and_staff_calls_it(chromium, live_server, make_user, mosquitto, migrated,  # noqa: F811
                                                           wait_until, viewport) -> None:
    """GIVEN lobby staff on the queue console WHEN a simulated kiosk asks for a ticket through broker and hub
    THEN it appears live with its reason and estimate; staff calls it with one click; the counter and the
    board show it; nothing loads from elsewhere and nothing sticks out sideways."""
    _engine, factory = migrated
    make_user("lobby1", "lobby_staff")
    width, height = viewport
    context = chromium.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", "lobby1")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/branches/b001")
    page.goto(f"{live_server.url}/branches/b001/queue")
    page.get_by_test_id("queue-title").wait_for(timeout=10_000)
    page.locator("#live-status.ok").wait_for(state="attached", timeout=10_000)  # no eval: the CSP forbids it
    page.get_by_test_id("call-next-3").wait_for(timeout=10_000)

    with HubThread(mosquitto.url, factory), ScriptedKiosk(mosquitto.url) as kiosk:
        kiosk.request("req-browser-1", "loan")
        number = kiosk.reply("req-browser-1").ticket.number
        row = page.locator(f"tr[data-ticket='{number}']")
        row.wait_for(timeout=10_000)  # live, no reload
        assert "按业务类型" in row.inner_text()  # the routing reason, in the staff member's language
        page.get_by_test_id("call-next-3").click()
        expect(page.get_by_test_id("counter-3-ticket")).to_have_text(number, timeout=10_000)
        row.wait_for(state="detached", timeout=10_000)
        wait_until(lambda: _board_current(factory) == [number], timeout=10, message="board shows the call")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"queue-console-{width}x{height}.png"), full_page=True)
    context.close()
    assert not errors, errors


def _board_current(factory) -> list[str]:
    from tests.support import outbox

    with factory() as s:
        boards = outbox(s, "queue_board")
    return [c.ticket for c in boards[-1].current] if boards else []
