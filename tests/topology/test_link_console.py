"""The edge's console says whether head office is reachable (role edge only)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from server.app import create_app
from server.db import utcnow
from server.link import service
from server.staff.service import create_staff
from szconfig import ServerSettings
from szconfig.roles import Role
from tests.server.helpers import PASSWORD, browser_login


def test_the_edge_console_shows_the_link_down_and_what_waits(migrated, db_url) -> None:
    """GIVEN an edge whose bridge reported the link down with events waiting WHEN lobby staff open the branch's
    overview THEN it says head office is unreachable and how many events wait; the centre's console has no such
    card."""
    engine, factory = migrated
    with factory() as s, s.begin():
        create_staff(s, username="lobby", role="lobby_staff", branch_ids=["b001"], password=PASSWORD)
        service.set_link(s, "b001", up=False, now=utcnow())
    pages = {}
    for role in (Role.EDGE, Role.CENTRAL):
        with TestClient(create_app(ServerSettings(role=role, db=db_url, jobs=False), engine=engine)) as c:
            pages[role] = browser_login(c, "lobby").client.get("/branches/b001").text
    assert 'data-testid="link-state"' in pages[Role.EDGE] and "与总行的连接已中断" in pages[Role.EDGE]
    assert "0 条事件等待上传总行" in pages[Role.EDGE]
    assert 'data-testid="link-state"' not in pages[Role.CENTRAL]


def test_every_console_page_at_the_edge_says_the_link_is_down_and_how_old_its_data_is(migrated, db_url) -> None:
    """GIVEN an edge whose link went down at 10:05 Shanghai time, the centre's last word (a push-down) at 10:00
    WHEN a teller (zh-CN) and a lobby manager (English) open the queue console and the overview THEN each page
    carries the banner in their language: down since 10:05, working from head office data as of 10:00, what
    waits to go up; the banner fragment the page re-reads says the same; once the link is back the banner is
    empty (and hidden), and the centre's console never has one. A branch never heard from says so."""
    from datetime import UTC, datetime

    from server.link.push import apply

    engine, factory = migrated
    down_at = datetime(2026, 12, 7, 2, 5, tzinfo=UTC)  # 10:05 in Shanghai
    with factory() as s, s.begin():
        create_staff(s, username="teller", role="teller", branch_ids=["b001"], password=PASSWORD)
        create_staff(s, username="lobby", role="lobby_staff", branch_ids=["b001"], password=PASSWORD, locale="en")
        service.set_link(s, "b001", up=True, now=datetime(2026, 12, 7, 1, 0, tzinfo=UTC))
    with factory() as s, s.begin():
        apply(s, branch="b001", kind="hint", key="c-0123456789abcdef", version=1,
              data={"id": 9001, "ref": "c-0123456789abcdef", "branch_id": "b001", "masked_name": "王*明",
                    "tier": "gold"})
    with factory() as s, s.begin():
        from sqlalchemy import update

        from server.link.models import CachedItem

        s.execute(update(CachedItem).values(updated_at=datetime(2026, 12, 7, 2, 0, tzinfo=UTC)))
        service.set_link(s, "b001", up=False, now=down_at)

    def pages(role: Role, who: str) -> dict[str, str]:
        with TestClient(create_app(ServerSettings(role=role, db=db_url, jobs=False), engine=engine)) as c:
            browser = browser_login(c, who).client
            return {p: browser.get(p).text for p in ("/branches/b001/queue", "/branches/b001", "/link/banner")}

    zh, en = pages(Role.EDGE, "teller"), pages(Role.EDGE, "lobby")
    for page in zh.values():
        assert 'data-testid="link-banner"' in page and "2026-12-07 10:05 CST" in page
        assert "与总行的连接自 2026-12-07 10:05 CST 起中断；本网点正使用总行截至 2026-12-07 10:00 CST 的数据。" in page
    for page in en.values():
        assert ("Link to head office down since 2026-12-07 10:05 CST; this branch is working from head office data "
                "as of 2026-12-07 10:00 CST.") in page and "0 events wait to go up" in page
    assert '<script src="/static/link.js" defer></script>' in zh["/branches/b001/queue"]
    assert 'data-testid="link-banner"' not in pages(Role.CENTRAL, "lobby")["/branches/b001"]

    with factory() as s, s.begin():
        service.set_link(s, "b001", up=True, now=down_at)
    back = pages(Role.EDGE, "teller")
    assert 'id="link-banner" data-testid="link-banner" data-url="/link/banner" hidden' in back["/link/banner"]
    assert "中断" not in back["/link/banner"]

    with factory() as s, s.begin():
        from sqlalchemy import delete

        from server.link.models import CachedItem, LinkState

        s.execute(delete(CachedItem))
        s.execute(delete(LinkState))
        service.set_link(s, "b001", up=False, now=down_at)  # an edge that never reached the centre
    assert "尚未收到总行的任何数据" in pages(Role.EDGE, "teller")["/link/banner"]
