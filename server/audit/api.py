"""HTTP API: read the audit log (branch managers for their branches, admin for all)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from server.audit import service
from server.audit.models import AuditEntry
from server.audit.schemas import AuditEntryOut, AuditPage
from server.errors import Invalid
from server.staff.models import Role
from server.web.deps import Audit, DbSession, Principal, require_roles
from server.web.validation import MAX_INT_ID

router = APIRouter(tags=["audit"])
Reader = Annotated[Principal, Depends(require_roles(Role.BRANCH_MANAGER))]
Filter = Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00-\x1f]*$")]


def as_utc(value: datetime | None, name: str) -> datetime | None:
    """Aware UTC; a time without zone is taken as UTC; out-of-range times are the client's error."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (OverflowError, ValueError) as err:
        raise Invalid("invalid_request", f"{name}: time out of range") from err


@router.get("/api/audit", response_model=AuditPage)
def read_audit(
    principal: Reader,
    session: DbSession,
    audit: Audit,
    actor: Filter = None,
    object_type: Filter = None,
    object_id: Filter = None,
    action: Filter = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_INT_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    """Newest entries first, filtered; page with `before_id=next_before_id`."""
    scope = None if principal.all_branches else principal.scope(AuditEntry.branch_id)
    entries = service.query(session, scope=scope, actor=actor, object_type=object_type, object_id=object_id,
                            action=action, since=as_utc(since, "since"), until=as_utc(until, "until"),
                            before_id=before_id, limit=limit)
    out = [AuditEntryOut.model_validate(e) for e in entries]
    audit.record("audit.read", "audit_log", None,
                 detail={k: v for k, v in {"actor": actor, "object_type": object_type, "object_id": object_id,
                                           "action": action}.items() if v})
    return AuditPage(entries=out, next_before_id=out[-1].id if len(out) == limit else None)
