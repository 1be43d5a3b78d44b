"""The printed ticket's status page (`/t/<token>`): the browser's language, a switch, the P50–P90 wait."""

from __future__ import annotations

import pytest


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
