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
