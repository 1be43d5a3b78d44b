"""HTTP API of the edge's link to the centre: is it up, what waits to go up, what the centre pushed down."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from server.link import service
from server.web import i18n
from server.web.deps import Audit, CurrentStaff, DbSession, branch_scope
from server.web.pages import Card, add_template_dir, register_card, render
from server.web.validation import BranchId

router = APIRouter(tags=["link"])


class CacheKind(BaseModel):
    items: int
    updated_at: datetime | None


class LinkOut(BaseModel):
    branch: str
    up: bool = Field(description="the bridge to the centre is connected (Mosquitto's bridge notification)")
    known: bool = Field(description="false until the edge hub has seen the bridge's state once")
    changed_at: datetime | None = Field(description="since when it is up (or down)")
    confirmed_at: datetime | None = Field(description="the centre's last confirmation of events sent up")
    backlog: int = Field(description="events stored here that the centre has not confirmed yet")
    cache: dict[str, CacheKind] = Field(description="what the centre pushed down, per kind (lead, staff, …)")


@router.get("/api/link/{branch_id}", response_model=LinkOut)
def link_status(branch_id: BranchId, principal: CurrentStaff, session: DbSession) -> dict[str, Any]:
    """The branch's link to the centre, as its edge sees it (consoles show a banner while it is down)."""
    branch_scope(principal, branch_id, "branch")
    return service.status(session, branch_id)


@router.get("/api/link/{branch_id}/leads")
def cached_leads(branch_id: BranchId, principal: CurrentStaff, session: DbSession,
                 audit: Audit) -> list[dict[str, Any]]:
    """Referral leads the centre raised for this branch, as pushed down (newest first); the read is audited."""
    audit.require_branch(principal, branch_id, action="lead.list", object_type="branch", object_id=branch_id,
                         what="lead")
    leads = service.cached(session, branch_id, "lead")
    audit.record("lead.list", "branch", branch_id, branch_id=branch_id, detail={"count": len(leads), "via": "edge"})
    return leads


MESSAGES = {
    "en": {"link.banner": "Link to head office down since {since}; this branch is working from head office data "
                          "as of {data_of}.",
           "link.banner_nodata": "Link to head office down since {since}; no data from head office has arrived yet.",
           "link.banner_more": "Tickets, calling and the lobby display work as usual; {n} events wait to go up.",
           "card.link": "Link to head office", "link.up": "Connected to head office",
           "link.down": "No connection to head office", "link.since": "since",
           "link.backlog": "{n} events wait to go to head office",
           "link.serving": "The branch serves on: tickets, calling and the lobby display work here; leads, new "
                           "staff accounts and commands from head office arrive when the link is back."},
    "zh-CN": {"link.banner": "与总行的连接自 {since} 起中断；本网点正使用总行截至 {data_of} 的数据。",
              "link.banner_nodata": "与总行的连接自 {since} 起中断；尚未收到总行的任何数据。",
              "link.banner_more": "取号、叫号和大堂屏幕照常工作；{n} 条事件等待上传。",
              "card.link": "与总行的连接", "link.up": "已连接总行", "link.down": "与总行的连接已中断",
              "link.since": "自", "link.backlog": "{n} 条事件等待上传总行",
              "link.serving": "本网点照常服务：取号、叫号和大堂屏幕在本地运行；"
                              "总行的商机、新员工账号和远程指令将在连接恢复后送达。"},
}


@router.get("/link/banner", include_in_schema=False)
def banner_fragment(request: Request, principal: CurrentStaff) -> HTMLResponse:
    """The consoles' banner, re-read by /static/link.js every few seconds (empty while the link is up)."""
    return render(request, "link/banner.html", {}, principal=principal)


def local_time(at: datetime | None, timezone: str) -> str:
    """A time as the branch's staff read it: their local date and time, with the zone."""
    if at is None:
        return ""
    local = at.astimezone(ZoneInfo(timezone))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def setup(app: FastAPI) -> None:
    """The edge's overview card: is head office reachable, since when, how much waits to go up."""
    sessions = app.state.sessions

    def link_status(branch_id: str) -> dict[str, Any]:
        with sessions() as s:
            return service.status(s, branch_id)

    def link_outages(principal: Any) -> list[dict[str, Any]]:
        """For the banner on every console page: the principal's branches whose link is down."""
        if principal is None:
            return []
        with sessions() as s:
            return [o for o in service.outages(s) if principal.can_see(o["branch"])]

    app.state.link_status = link_status
    app.state.link_outages = link_outages
    app.state.link_local_time = local_time
    add_template_dir(Path(__file__).parent / "templates")
    i18n.register_messages(MESSAGES)
    register_card(Card("link", "card.link", "link/card.html", None, 5))
