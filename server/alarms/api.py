"""Alarms API: the branch's alarm list, acknowledge, comment."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from server.alarms.models import ACTIVE, Alarm
from server.alarms.service import ack_alarm, add_comment
from server.db import utcnow
from server.devices import queries
from server.devices.schemas import AckIn, AlarmOut, CommentIn
from server.devices.timeline import Timeline
from server.staff.models import Role
from server.web.deps import Audit, DbSession, Principal, branch_scope, not_found, require_roles
from server.web.validation import BranchId, IntId

router = APIRouter(tags=["alarms"])
FleetUser = Annotated[Principal, Depends(require_roles(Role.MAINTENANCE, Role.BRANCH_MANAGER, Role.LOBBY_STAFF))]


def _load(session: DbSession, principal: Principal, alarm_id: int) -> Alarm:
    alarm = session.get(Alarm, alarm_id)
    if alarm is None:
        raise not_found("alarm")
    branch_scope(principal, alarm.branch_id, "alarm")
    return alarm


def _out(session: DbSession, alarm: Alarm) -> dict:
    pk = queries.device_ids(session, {(alarm.branch_id, alarm.device_id)}).get((alarm.branch_id, alarm.device_id))
    return queries.alarm_out(alarm, pk)


@router.get("/api/branches/{branch_id}/alarms", response_model=list[AlarmOut])
def list_alarms(branch_id: BranchId, principal: FleetUser, session: DbSession,
                status: Annotated[Literal["active", "unacknowledged", "all"], Query()] = "active",
                limit: Annotated[int, Query(ge=1, le=500)] = 200) -> list[dict]:
    """Alarms of the branch, newest first: `active` (default), `unacknowledged` or `all`."""
    branch_scope(principal, branch_id, "branch")
    stmt = select(Alarm).where(Alarm.branch_id == branch_id)
    if status == "active":
        stmt = stmt.where(Alarm.status.in_(ACTIVE))
    elif status == "unacknowledged":
        stmt = stmt.where(Alarm.acked_at.is_(None))
    alarms = list(session.scalars(stmt.order_by(Alarm.started_at.desc(), Alarm.id.desc()).limit(limit)))
    pks = queries.device_ids(session, {(a.branch_id, a.device_id) for a in alarms})
    return [queries.alarm_out(a, pks.get((a.branch_id, a.device_id))) for a in alarms]


@router.get("/api/alarms/{alarm_id}", response_model=AlarmOut)
def get_alarm(alarm_id: IntId, principal: FleetUser, session: DbSession) -> dict:
    return _out(session, _load(session, principal, alarm_id))


@router.post("/api/alarms/{alarm_id}/ack", response_model=AlarmOut)
def acknowledge(alarm_id: IntId, principal: FleetUser, session: DbSession, audit: Audit,
                body: AckIn | None = None) -> dict:
    """Acknowledge (idempotent: a second acknowledgement changes nothing), optionally with a comment."""
    alarm = _load(session, principal, alarm_id)
    timeline = Timeline()
    if ack_alarm(alarm, timeline, actor=principal.username, now=utcnow(), comment=body.comment if body else None):
        audit.record("alarm.ack", "alarm", alarm.id, branch_id=alarm.branch_id, detail={"type": alarm.type})
    timeline.write(session)
    return _out(session, alarm)


@router.post("/api/alarms/{alarm_id}/comments", response_model=AlarmOut)
def comment(alarm_id: IntId, body: CommentIn, principal: FleetUser, session: DbSession, audit: Audit) -> dict:
    alarm = _load(session, principal, alarm_id)
    add_comment(alarm, actor=principal.username, text=body.text, now=utcnow())
    audit.record("alarm.comment", "alarm", alarm.id, branch_id=alarm.branch_id)
    return _out(session, alarm)
