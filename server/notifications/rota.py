"""Who is on call for a branch and team now: the rota's shifts, or the team's roles when nobody is rostered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.notifications.models import OnCallShift, RotaTeam
from server.staff.models import Role, Staff, StaffBranch

# nobody rostered: everyone of these roles in the branch is told (on the bell; they have no e-mail here)
FALLBACK_ROLES: dict[RotaTeam, tuple[Role, ...]] = {
    RotaTeam.BRANCH: (Role.LOBBY_STAFF, Role.BRANCH_MANAGER),
    RotaTeam.FIELD: (Role.MAINTENANCE,),
    RotaTeam.MANAGERS: (Role.BRANCH_MANAGER,),
}
TOP_LEVEL = 3  # from this escalation level on, the branch's managers are told as well


@dataclass(frozen=True)
class OnCall:
    staff_id: int
    username: str
    level: int
    email: str | None = None


def on_call(session: Session, branch_id: str, team: str, now: datetime, *, level: int = 1) -> list[OnCall]:
    """Rostered staff of levels 1..level covering `now` (each once, lowest level first); else the team's roles."""
    rows = session.execute(
        select(OnCallShift.staff_id, Staff.username, OnCallShift.level, OnCallShift.email)
        .join(Staff, Staff.id == OnCallShift.staff_id)
        .where(OnCallShift.branch_id == branch_id, OnCallShift.team == team, OnCallShift.level <= level,
               OnCallShift.starts_at <= now, OnCallShift.ends_at > now, Staff.active.is_(True))
        .order_by(OnCallShift.level, OnCallShift.starts_at, OnCallShift.id)).all()
    out: dict[int, OnCall] = {}
    for staff_id, username, lvl, email in rows:
        out.setdefault(staff_id, OnCall(staff_id, username, lvl, email))
    if not out:
        for staff_id, username in _with_roles(session, branch_id, FALLBACK_ROLES.get(RotaTeam(team), ())):
            out.setdefault(staff_id, OnCall(staff_id, username, 1))
    if level >= TOP_LEVEL:
        for staff_id, username in _with_roles(session, branch_id, FALLBACK_ROLES[RotaTeam.MANAGERS]):
            out.setdefault(staff_id, OnCall(staff_id, username, TOP_LEVEL))
    return list(out.values())


def first_on_call(session: Session, branch_id: str, team: str, now: datetime) -> OnCall | None:
    """The level-1 rostered person (a work order's named engineer); None when the rota is empty."""
    row = session.execute(
        select(OnCallShift.staff_id, Staff.username, OnCallShift.level, OnCallShift.email)
        .join(Staff, Staff.id == OnCallShift.staff_id)
        .where(OnCallShift.branch_id == branch_id, OnCallShift.team == team, OnCallShift.level == 1,
               OnCallShift.starts_at <= now, OnCallShift.ends_at > now, Staff.active.is_(True))
        .order_by(OnCallShift.starts_at, OnCallShift.id).limit(1)).first()
    return OnCall(*row) if row else None


def _with_roles(session: Session, branch_id: str, roles: tuple[Role, ...]) -> list[tuple[int, str]]:
    if not roles:
        return []
    return [(i, u) for i, u in session.execute(
        select(Staff.id, Staff.username).join(StaffBranch, StaffBranch.staff_id == Staff.id)
        .where(StaffBranch.branch_id == branch_id, Staff.role.in_([r.value for r in roles]),
               Staff.active.is_(True)).order_by(Staff.id))]
