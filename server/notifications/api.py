"""Notifications API and console pages: the bell (per staff member), the delivery log, the on-call rota.

This module is the domain's entry in `server.app.ROUTERS`; `setup(app)` sets the process's channels from its
settings, registers the texts and the pages' templates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from sqlalchemy import select

from server.branches.models import Branch
from server.db import utcnow
from server.errors import Invalid, NotFound
from server.notifications import live, service
from server.notifications.i18n import MESSAGES
from server.notifications.models import Notification, OnCallShift, RotaTeam
from server.notifications.schemas import BellItem, NotificationOut, ReadIn, ShiftIn, ShiftOut, Unread
from server.staff.models import Role, Staff, StaffBranch
from server.web import i18n
from server.web.deps import (
    Audit,
    CurrentStaff,
    DbSession,
    PageStaff,
    Principal,
    branch_scope,
    require_page_roles,
    require_roles,
)
from server.web.pages import add_template_dir, render
from server.web.validation import BranchId, IntId

router = APIRouter(tags=["notifications"])
LOG_ROLES = (Role.MAINTENANCE, Role.BRANCH_MANAGER)
LogReader = Annotated[Principal, Depends(require_roles(*LOG_ROLES))]
LogPage = Annotated[Principal, Depends(require_page_roles(*LOG_ROLES))]


def _bell_item(d, note: Notification, locale: str) -> dict:
    zh = locale == "zh-CN"
    return {"id": d.id, "notification_id": note.id, "kind": note.kind, "severity": note.severity,
            "branch_id": note.branch_id, "title": note.title_zh if zh else note.title_en,
            "body": note.body_zh if zh else note.body_en, "link": note.link, "created_at": note.created_at,
            "read_at": d.read_at}


@router.get("/api/me/notifications", response_model=list[BellItem])
def my_notifications(principal: CurrentStaff, session: DbSession, request: Request,
                     unread: Annotated[bool, Query(description="only those not yet read")] = False,
                     limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[dict]:
    """The caller's bell, newest first, in the caller's language."""
    live.ensure(request.app)
    return [_bell_item(d, n, principal.locale)
            for d, n in service.bell(session, principal.id, unread_only=unread, limit=limit)]


@router.get("/api/me/notifications/count", response_model=Unread)
def my_unread(principal: CurrentStaff, session: DbSession, request: Request) -> dict:
    """How many of the caller's bell entries are unread (the count in the console's navigation)."""
    live.ensure(request.app)
    return {"unread": service.unread_count(session, principal.id)}


@router.post("/api/me/notifications/read", response_model=Unread)
def mark_read(principal: CurrentStaff, session: DbSession, body: ReadIn | None = None) -> dict:
    """Mark bell entries read (all, without `ids`); 404 if an id is not the caller's."""
    service.mark_read(session, principal.id, body.ids if body else None, utcnow())
    return {"unread": service.unread_count(session, principal.id)}


def _notification_out(note: Notification, deliveries: list) -> dict:
    return {**{c: getattr(note, c) for c in ("id", "key", "branch_id", "team", "kind", "severity", "level",
                                             "title_en", "title_zh", "body_en", "body_zh", "link", "created_at")},
            "deliveries": [{c: getattr(d, c) for c in ("id", "channel", "recipient", "status", "attempts",
                                                       "next_attempt_at", "last_error", "sent_at", "read_at")}
                           for d in deliveries]}


@router.get("/api/branches/{branch_id}/notifications", response_model=list[NotificationOut])
def branch_log(branch_id: BranchId, principal: LogReader, session: DbSession,
               limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict]:
    """Every notification of the branch, newest first, with each delivery's channel, status, attempts and error."""
    branch_scope(principal, branch_id, "branch")
    return [_notification_out(n, ds) for n, ds in service.log(session, branch_id, limit=limit)]


def _shifts(session: DbSession, branch_id: str) -> list[dict]:
    rows = session.execute(select(OnCallShift, Staff.username).join(Staff, Staff.id == OnCallShift.staff_id)
                           .where(OnCallShift.branch_id == branch_id, OnCallShift.ends_at > utcnow())
                           .order_by(OnCallShift.team, OnCallShift.level, OnCallShift.starts_at)).all()
    return [_shift_out(s, u) for s, u in rows]


def _shift_out(s: OnCallShift, username: str) -> dict:
    return {"id": s.id, "branch_id": s.branch_id, "team": s.team, "staff_id": s.staff_id, "username": username,
            "level": s.level, "starts_at": s.starts_at, "ends_at": s.ends_at, "email": s.email,
            "created_by": s.created_by}


@router.get("/api/branches/{branch_id}/oncall", response_model=list[ShiftOut])
def rota(branch_id: BranchId, principal: LogReader, session: DbSession) -> list[dict]:
    """The branch's on-call shifts that have not ended, by team and level."""
    branch_scope(principal, branch_id, "branch")
    return _shifts(session, branch_id)


@router.post("/api/branches/{branch_id}/oncall", response_model=ShiftOut, status_code=201)
def add_shift(branch_id: BranchId, body: ShiftIn, principal: LogReader, session: DbSession, audit: Audit) -> dict:
    """Put a staff member of the branch on call for a team (their e-mail for this shift is optional)."""
    branch_scope(principal, branch_id, "branch")
    staff = session.get(Staff, body.staff_id)
    works_here = staff is not None and staff.active and session.get(StaffBranch, (staff.id, branch_id)) is not None
    if not works_here:
        raise Invalid("staff_not_in_branch", f"staff {body.staff_id} is not an active member of branch {branch_id}")
    shift = OnCallShift(branch_id=branch_id, team=body.team.value, staff_id=staff.id, level=body.level,
                        starts_at=body.starts_at, ends_at=body.ends_at, email=body.email,
                        created_by=principal.username, created_at=utcnow())
    session.add(shift)
    session.flush()
    audit.record("oncall.add", "oncall_shift", shift.id, branch_id=branch_id,
                 detail={"team": shift.team, "staff_id": staff.id, "level": shift.level})
    return _shift_out(shift, staff.username)


@router.delete("/api/oncall/{shift_id}", status_code=204, response_class=Response)
def remove_shift(shift_id: IntId, principal: LogReader, session: DbSession, audit: Audit) -> Response:
    shift = session.get(OnCallShift, shift_id)
    if shift is None or not principal.can_see(shift.branch_id):
        raise NotFound("shift_not_found", "on-call shift not found")
    session.delete(shift)
    audit.record("oncall.remove", "oncall_shift", shift_id, branch_id=shift.branch_id)
    return Response(status_code=204)


@router.get("/notifications", include_in_schema=False)
def bell_page(principal: PageStaff, request: Request) -> Response:
    live.ensure(request.app)
    return render(request, "notifications/bell.html", {})


@router.get("/branches/{branch_id}/notifications", include_in_schema=False)
def log_page(branch_id: BranchId, principal: LogPage, session: DbSession, request: Request) -> Response:
    branch_scope(principal, branch_id, "branch")
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise NotFound("branch_not_found", "branch not found")
    staff = session.execute(select(Staff.id, Staff.username, Staff.role).join(
        StaffBranch, StaffBranch.staff_id == Staff.id).where(StaffBranch.branch_id == branch_id,
                                                            Staff.active.is_(True)).order_by(Staff.username)).all()
    return render(request, "notifications/log.html", {
        "branch": branch, "notes": service.log(session, branch_id, limit=100), "shifts": _shifts(session, branch_id),
        "staff": staff, "teams": [t.value for t in RotaTeam]})


def setup(app: FastAPI) -> None:
    from server.notifications.config import configure

    settings = app.state.settings
    if hasattr(settings, "smtp_url"):
        configure(settings)
    add_template_dir(Path(__file__).parent / "templates")
    i18n.register_messages(MESSAGES)
    app.state.notifications = True  # base.html shows the bell (an edge has no notifications)
