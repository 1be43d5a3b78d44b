"""The queue KPI page in the staff console: numbers per business for seeded tickets, on both databases."""

from __future__ import annotations

import re
from datetime import timedelta

from server.db import utcnow
from server.queueing import calling, issuing, tickets
from tests.server.helpers import browser_login


def _cell(html: str, business: str, kpi: str) -> str:
    row = re.search(rf'<tr data-business="{business}">(.*?)</tr>', html, re.S)
    assert row, html[:2000]
    cell = re.search(rf'<td data-kpi="{kpi}">([^<]*)</td>', row.group(1))
    assert cell, row.group(1)
    return cell.group(1)


def test_kpi_page_shows_the_days_numbers_per_business(client, make_user, factory) -> None:
    """GIVEN today two card customers (waits 4 and 10 min, one served in 6 min, one no-show) and a deposit
    done at a kiosk WHEN the branch manager opens the queue KPI page THEN the table, the chart and the
    diversion rate show those numbers, in English and in Chinese, and the lobby queue links to it."""
    now = utcnow().replace(second=0, microsecond=0)
    t0 = now - timedelta(minutes=30)
    with factory() as s, s.begin():
        issuing.issue(s, branch_id="b001", business="card", now=t0)
        b = issuing.issue(s, branch_id="b001", business="card", now=t0).ticket.id
        issuing.issue(s, branch_id="b001", business="deposit", now=t0)  # kiosks are offline: to a counter
        calling.call_next(s, branch_id="b001", counter=3, now=t0 + timedelta(minutes=4))
        calling.finish(s, branch_id="b001", counter=3, now=t0 + timedelta(minutes=10))
        calling.call_next(s, branch_id="b001", counter=3, now=t0 + timedelta(minutes=10))
        tickets.apply(s, action="no_show", ticket_id=b, now=t0 + timedelta(minutes=12))
    make_user("boss", "branch_manager")
    browser_login(client, "boss")

    html = client.get("/branches/b001/queue/kpis").text
    assert 'data-testid="qkpi-tickets">3<' in html
    assert _cell(html, "card", "tickets") == "2"
    assert _cell(html, "card", "wait_avg") == "7.0" and _cell(html, "card", "wait_p90") == "10.0"
    assert _cell(html, "card", "service_avg") == "6.0"
    assert _cell(html, "card", "within_target") == "100%"
    assert _cell(html, "card", "no_shows") == "1" and _cell(html, "card", "left") == "0"
    assert 'data-testid="qkpi-diversion">0.0%<' in html
    assert 'data-testid="qkpi-chart"' in html and "7.0 / 10.0" in html
    assert "<script" not in html.split("<main", 1)[-1]  # the chart is drawn on the server

    client.patch("/api/me", json={"locale": "zh-CN"}, headers={"X-CSRF-Token": _csrf(client)})
    zh = client.get("/branches/b001/queue/kpis").text
    assert "排队指标" in zh and "开卡挂失" in zh

    # an earlier day: nothing issued, nothing drawn
    day = (now - timedelta(days=3)).date().isoformat()
    past = client.get(f"/branches/b001/queue/kpis?from={day}&to={day}").text
    assert 'data-testid="qkpi-tickets">0<' in past and 'data-testid="qkpi-empty"' in past
    assert f'value="{day}"' in past

    assert 'href="/branches/b001/queue/kpis"' in client.get("/branches/b001/queue").text


def test_kpi_page_is_for_managers_and_lobby_staff_of_the_branch(client, make_user) -> None:
    """GIVEN a teller and lobby staff of b001 THEN only the lobby staff opens the page (and not for b002),
    and the teller's lobby queue has no link to it."""
    make_user("teller", "teller")
    browser_login(client, "teller")
    assert client.get("/branches/b001/queue/kpis").status_code == 403
    assert "/queue/kpis" not in client.get("/branches/b001/queue").text
    client.cookies.clear()
    make_user("lobby", "lobby_staff")
    browser_login(client, "lobby")
    assert client.get("/branches/b001/queue/kpis").status_code == 200
    assert client.get("/branches/b002/queue/kpis").status_code == 404


def _csrf(client) -> str:
    home = client.get("/").text
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', home).group(1)
