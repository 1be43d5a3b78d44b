"""HTTP API of the edge's link to the centre: is it up, what waits to go up, what the centre pushed down."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from server.link import service
from server.web.deps import Audit, CurrentStaff, DbSession, branch_scope
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
