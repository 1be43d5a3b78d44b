"""The printed ticket's status page (`/t/<token>`): the browser's language, a switch, the P50–P90 wait."""

from __future__ import annotations

import pytest

from tests.server.test_browser import ARTIFACTS, chromium, live_server  # noqa: F401


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_status_page_speaks_the_browsers_language_with_a_switch(client, make_user) -> None:
    """GIVEN a waiting ticket WHEN a phone opens its status page THEN the page is in the browser's language
    (Accept-Language), shows the P50–P90 wait, and offers a switch to the other language that sticks across
    the page's own refresh."""
    from tests.server.helpers import bearer

    make_user("lobby", "lobby_staff")
    h = bearer(client, "lobby")
    for _ in range(3):
        r = client.post("/api/branches/b001/tickets", json={"business": "card"}, headers=h)
        assert r.status_code == 201, r.text
    issued = r.json()
    url = issued["status_url"]
    client.cookies.clear()  # a customer's phone: no staff session

    en = client.get(url, headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
    assert en.status_code == 200 and '<html lang="en">' in en.text
    assert "People ahead of you" in en.text and "Estimated wait" in en.text and "您前面还有" not in en.text
    assert en.headers["vary"] == "Accept-Language"
    assert f'href="{url}?lang=zh-CN"' in en.text  # the switch

    zh = client.get(url, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-CN">' in zh.text and "您前面还有" in zh.text and "预计等候" in zh.text
    low, high = round(issued["wait_p50_min"]), max(round(issued["wait_p50_min"]), round(issued["wait_p90_min"]))
    assert (f"{low}–{high}" if high > low else f"{low} ") in zh.text

    switched = client.get(f"{url}?lang=en", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in switched.text and "People ahead of you" in switched.text
    assert switched.headers["refresh"] == f"30; url={url}?lang=en"  # the refresh keeps the choice
    assert client.get(url, headers={"Accept-Language": "fr"}).text.count('<html lang="zh-CN">') == 1  # default
    assert client.get(f"{url}?lang=xx<script>", headers={"Accept-Language": "en"}).status_code == 200
    missing = client.get("/t/no-such-ticket-token?lang=en")
    assert missing.status_code == 404 and "Ticket not found." in missing.text


@pytest.mark.timeout(120)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_status_page_on_a_phone_in_english_then_chinese(chromium, live_server, migrated) -> None:  # noqa: F811
    """GIVEN a ticket's QR code opened on a phone whose browser asks for English THEN the page is in English with
    the wait as a range; one tap on 中文 switches it to Chinese; nothing sticks out sideways; no script errors."""
    from server.db import utcnow
    from server.outbox.service import enqueue
    from server.queueing import issuing

    _engine, factory = migrated
    with factory() as s, s.begin():
        for _ in range(2):
            res = issuing.issue(s, branch_id="b001", business="card", now=utcnow())
            enqueue(s, res.outbox)
        token = res.ticket.token
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="en-US", is_mobile=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_server.url}/t/{token}")
    assert page.get_by_test_id("ticket-number").inner_text() == res.ticket.display
    assert page.locator("html").get_attribute("lang") == "en" and "People ahead of you" in page.content()
    page.get_by_test_id("status-lang-zh-CN").click()
    page.wait_for_url(f"**/t/{token}?lang=zh-CN")
    assert page.locator("html").get_attribute("lang") == "zh-CN" and "您前面还有" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ticket-status-phone-zh.png"), full_page=True)
    context.close()
    assert not errors, errors
