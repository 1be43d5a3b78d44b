"""Write and query the audit log: who did what to which object, when, from where, with what outcome.

Actors are strings: `staff:<id>` for people, `system` for the server itself, `device:<branch>/<id>`
for devices. Call `record` inside the same transaction as the change it describes, so a change and
its audit entry commit (or roll back) together.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.orm import Session

from server.audit.models import AuditEntry
from server.db import utcnow

SYSTEM = "system"


class Outcome(StrEnum):
    OK = "ok"
    DENIED = "denied"
    FAILED = "failed"
    NOT_FOUND = "not_found"


def device_actor(branch_id: str, device_id: str) -> str:
    return f"device:{branch_id}/{device_id}"


def staff_actor(staff_id: int) -> str:
    return f"staff:{staff_id}"


def _clip(value: str | None, n: int) -> str | None:
    return None if value is None else value[:n]


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str | None = None,
    object_id: str | int | None = None,
    outcome: str = Outcome.OK,
    ip: str | None = None,
    user_agent: str | None = None,
    branch_id: str | None = None,
    actor_name: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry (flushed, not committed: it belongs to the caller's transaction)."""
    entry = AuditEntry(
        at=utcnow(), actor=_clip(actor, 80), actor_name=_clip(actor_name, 100), action=_clip(action, 64),
        object_type=_clip(object_type, 40), object_id=_clip(None if object_id is None else str(object_id), 100),
        branch_id=branch_id, outcome=str(outcome), ip=_clip(ip, 64), user_agent=_clip(user_agent, 255),
        detail=detail or {},
    )
    session.add(entry)
    session.flush()
    return entry


def query(
    session: Session,
    *,
    scope: ColumnElement[bool] | None = None,
    actor: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> Sequence[AuditEntry]:
    """Newest first; `actor` matches the actor id (`staff:7`) or the staff username."""
    stmt = select(AuditEntry).where(scope if scope is not None else true())
    if actor:
        stmt = stmt.where(or_(AuditEntry.actor == actor, AuditEntry.actor_name == actor))
    if object_type:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if since:
        stmt = stmt.where(AuditEntry.at >= since)
    if until:
        stmt = stmt.where(AuditEntry.at < until)
    if before_id:
        stmt = stmt.where(AuditEntry.id < before_id)
    return session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit)).all()
