"""The teller workstation in Debian's headless Chromium: sign in to a counter, see the next customer, call with the
keyboard, see the masked profile and a lead, finish; the lobby console shows who is at the counter."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from server.db import utcnow
from server.queueing.models import Ticket
from tests.queueing.teller_kit import known_customer, ticket
from tests.server.helpers import PASSWORD
from tests.server.test_browser import ARTIFACTS, chromium, live_server  # noqa: F401


def _sign_in(chromium, url: str, username: str, locale: str):  # noqa: F811
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale=locale,
                                   timezone_id="Asia/Shanghai")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/branches/b001")
    return context, page, errors


@pytest.mark.timeout(150)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_teller_signs_in_calls_sees_customer_and_finishes(chromium, live_server, make_user, migrated):  # noqa: F811
    """GIVEN a gold customer with a card and an open lead whose ticket waits WHEN a teller opens the workstation,
    signs in to counter 3, presses N, reads the customer, another customer takes a ticket, the teller switches to
    English and presses F THEN the next customer and the policy's reason show before the call; after it the masked
    name, tier, tags, routing reason and the lead show, and the newcomer shows live as next; the lobby console shows
    the teller at counter 3; finishing frees the counter; pauses from the lobby and the teller show on both pages;
    the page fits and raises no error."""
    _engine, factory = migrated
    now = utcnow()
    _cid, masked, card_hash = known_customer(factory, now)
    first_id, first = ticket(factory, now, "card", customer_ref=card_hash)
    make_user("teller1", "teller")
    make_user("lobby1", "lobby_staff")

    context, page, errors = _sign_in(chromium, live_server.url, "teller1", "zh-CN")
    page.goto(f"{live_server.url}/counter")
    page.get_by_test_id("sign-in-b001-3").click()
    expect(page.get_by_test_id("w-state")).to_have_text("服务中", timeout=10_000)
    page.locator("#live-status.ok").wait_for(state="attached", timeout=10_000)
    expect(page.get_by_test_id("w-next-ticket")).to_have_text(first, timeout=10_000)
    assert "为何下一位是他" in page.get_by_test_id("w-next-why").inner_text()

    page.keyboard.press("n")  # the shortcut shown on the button
    expect(page.get_by_test_id("w-ticket")).to_have_text(first, timeout=10_000)
    expect(page.get_by_test_id("w-masked-name")).to_have_text(masked, timeout=10_000)
    expect(page.get_by_test_id("w-tier")).to_have_text("金卡")
    assert "wealth_prospect" in page.get_by_test_id("w-tags").inner_text()
    expect(page.get_by_test_id("w-leads").locator("li")).to_have_count(1)
    assert "理财" in page.get_by_test_id("w-leads").inner_text()  # the interest, by its business name
    assert "分流原因" in page.get_by_test_id("w-routing").inner_text()
    _second_id, second = ticket(factory, utcnow(), "loan")  # another customer arrives: shown live as next
    expect(page.get_by_test_id("w-next-ticket")).to_have_text(second, timeout=10_000)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "counter-zh-1366x768.png"), full_page=True)

    lobby, lobby_page, lobby_errors = _sign_in(chromium, live_server.url, "lobby1", "zh-CN")
    lobby_page.goto(f"{live_server.url}/branches/b001/queue")
    expect(lobby_page.get_by_test_id("counter-3-teller")).to_contain_text("teller1", timeout=10_000)
    expect(lobby_page.get_by_test_id("counter-3-ticket")).to_have_text(first, timeout=10_000)

    page.get_by_test_id("lang-en").click()
    page.locator("html[lang=en]").wait_for(state="attached", timeout=10_000)
    expect(page.get_by_test_id("w-masked-name")).to_have_text(masked, timeout=10_000)
    expect(page.get_by_test_id("w-state")).to_have_text("open")
    assert "Why this customer next" in page.get_by_test_id("w-next-why").inner_text()
    page.screenshot(path=str(ARTIFACTS / "counter-en-1366x768.png"), full_page=True)

    page.keyboard.press("f")
    expect(page.get_by_test_id("w-current")).to_have_text("No customer at the counter.", timeout=10_000)
    expect(page.get_by_test_id("w-customer")).to_be_empty()
    with factory() as s:
        assert s.get(Ticket, first_id).status == "done"

    # the lobby pauses the free counter for a meeting: the teller's page shows it at once; the teller resumes
    lobby_page.get_by_test_id("pause-reason-3").select_option("meeting")
    lobby_page.get_by_test_id("pause-3").click()
    # (the lobby account reads Chinese: an account's language, not the browser's, decides)
    expect(lobby_page.get_by_test_id("counter-3-paused")).to_contain_text("会议", timeout=10_000)
    expect(page.get_by_test_id("w-state")).to_have_text("paused", timeout=10_000)
    expect(page.get_by_test_id("w-paused")).to_contain_text("Meeting")
    assert page.get_by_test_id("w-call").is_disabled()
    page.get_by_test_id("w-resume").click()
    expect(page.get_by_test_id("w-state")).to_have_text("open", timeout=10_000)
    expect(lobby_page.get_by_test_id("call-next-3")).to_be_visible(timeout=10_000)
    page.get_by_test_id("w-pause-reason").select_option("system_fault")
    page.get_by_test_id("w-pause-note").fill("printer jammed")
    page.get_by_test_id("w-pause").click()  # the teller pauses their own counter, with a note
    expect(page.get_by_test_id("w-paused")).to_contain_text("System fault (printer jammed)", timeout=10_000)
    expect(lobby_page.get_by_test_id("counter-3-paused")).to_contain_text("系统故障", timeout=10_000)
    page.get_by_test_id("w-resume").click()
    expect(page.get_by_test_id("w-state")).to_have_text("open", timeout=10_000)
    page.get_by_test_id("sign-out").click()
    page.get_by_test_id("sign-in-b001-3").wait_for(timeout=10_000)
    expect(lobby_page.get_by_test_id("counter-3-ticket")).to_have_text("已关闭", timeout=10_000)
    lobby.close()
    context.close()
    assert not errors and not lobby_errors, errors + lobby_errors
