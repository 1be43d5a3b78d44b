"""HTTP API: the branches the caller may see."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from server.branches.models import Branch
from server.branches.schemas import BranchDetail, BranchOut
from server.web.deps import Audit, CurrentStaff, DbSession, not_found
from server.web.validation import BranchId

router = APIRouter(tags=["branches"])


@router.get("/api/branches", response_model=list[BranchOut])
def list_branches(principal: CurrentStaff, session: DbSession) -> list[Branch]:
    """Only the caller's branches (every branch for admin)."""
    return list(session.scalars(select(Branch).where(principal.scope(Branch.id)).order_by(Branch.id)))


@router.get("/api/branches/{branch_id}", response_model=BranchDetail)
def get_branch(branch_id: BranchId, principal: CurrentStaff, session: DbSession, audit: Audit) -> BranchDetail:
    """One branch with its zones, counters and business types (404 outside the caller's branches)."""
    audit.require_branch(principal, branch_id, action="branch.read", object_type="branch", object_id=branch_id,
                         what="branch")
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise not_found("branch")
    cfg = branch.config or {}
    return BranchDetail.model_validate({
        **BranchOut.model_validate(branch).model_dump(),
        "zones": cfg.get("zones", []), "counters": cfg.get("counters", []),
        "business_types": cfg.get("business_types", []),
    })
