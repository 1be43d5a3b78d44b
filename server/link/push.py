"""What the centre pushes down to each branch's edge, and what the edge does with it.

Centre (job `link.push_down`, role central): staff accounts of a branch that changed since the last push go
to that branch's edge as `push` messages (kind `staff`, versioned by the account's `updated_at`), so staff sign in at
their branch while the link is down with the password they have at the centre. A watermark in `link_cache`
remembers how far the centre got. The branch config, customers' routing hints, face templates and appointments
booked or cancelled at the centre go the same way (`server.link.mirror`). Edge: `apply` keeps the push in its
cache and writes it where the edge's own code reads it (staff accounts, `branches`, `customers`,
`face_templates`, `appointments`): the centre is authoritative for all of these but appointments, which
the edge changes too (checked in, no-shows, its lobby's bookings) and sends up (`server.appointments.sync`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.db import utcnow
from server.link import mirror
from server.link.models import CachedItem
from server.link.service import store_cached
from server.outbox.service import OutboxRow, enqueue, outbox_row
from server.staff.models import Staff, StaffBranch
from wire.messages import PushData

WATERMARK = ("watermark", "push.staff")
_STAFF_FIELDS = ("display_name", "role", "password_hash", "must_change_password", "active", "locale")


def _version(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000)


def staff_pushes(session: Session, since: datetime | None, now: datetime) -> list[OutboxRow]:
    """Outbox rows: one push per (branch, account) for branch accounts changed after `since`."""
    q = select(Staff, StaffBranch.branch_id).join(StaffBranch, StaffBranch.staff_id == Staff.id)
    if since is not None:
        q = q.where(Staff.updated_at > since)
    rows = []
    for staff, branch in session.execute(q.order_by(Staff.updated_at, Staff.id)):
        rows.append(outbox_row(branch_id=branch, now=now, data=PushData(
            kind="staff", key=staff.username, version=_version(staff.updated_at),
            data={"username": staff.username, **{f: getattr(staff, f) for f in _STAFF_FIELDS}})))
    return rows


def _watermark(session: Session, key: str) -> datetime | None:
    mark = session.get(CachedItem, ("watermark", key))
    return datetime.fromisoformat(mark.data["at"]) if mark else None


def _advance(session: Session, key: str, latest: datetime | None, now: datetime) -> None:
    if latest is not None:
        store_cached(session, kind="watermark", key=key, branch="*", data={"at": latest.isoformat()},
                     version=_version(latest), now=now)


def push_down(factory: sessionmaker[Session], now: datetime) -> dict[str, int]:
    """Scheduled job (role central): push what changed since the last run; returns how many pushes per kind."""
    with factory() as session, session.begin():
        staff = staff_pushes(session, _watermark(session, WATERMARK[1]), now)
        _advance(session, WATERMARK[1],
                 session.scalar(select(Staff.updated_at).order_by(Staff.updated_at.desc()).limit(1)), now)
        config = mirror.config_pushes(session, now)
        mark = session.get(CachedItem, ("watermark", "push.hint"))
        since = (datetime.fromisoformat(mark.data["at"]), mark.data.get("id", 0)) if mark else None
        hints, reached = mirror.hint_pushes(session, since, now)
        if reached is not None:
            store_cached(session, kind="watermark", key="push.hint", branch="*",
                         data={"at": reached[0].isoformat(), "id": reached[1]}, version=mark.version + 1 if mark else 1,
                         now=now)
        templates = mirror.template_pushes(session, now)
        appointments = mirror.appointment_pushes(session, now)
        # configs first: a customer's home branch and the routing rules that read the hints
        enqueue(session, [*config, *staff, *hints, *templates, *appointments])
        return {"config": len(config), "staff": len(staff), "hint": len(hints), "template": len(templates),
                "appointment": len(appointments)}


def apply(session: Session, *, branch: str, kind: str, key: str, version: int, data: dict[str, Any]) -> bool:
    """Edge: keep a push (unless a newer one is here) and write it where the edge reads it. True if applied.
    ValueError (a config that does not validate, an item under the wrong key): nothing is written."""
    now = utcnow()
    if not store_cached(session, kind=kind, key=key, branch=branch, data=mirror.cache_summary(kind, data),
                        version=version, now=now):
        return False
    if kind == "staff":
        _apply_staff(session, branch, data)
    elif kind == "config":
        mirror.apply_config(session, branch, key, data)
    elif kind == "hint":
        mirror.apply_hint(session, branch, key, data, now)
    elif kind == "template":
        mirror.apply_template(session, branch, key, data, now)
    elif kind == "appointment":
        mirror.apply_appointment(session, branch, key, data, now)
    return True


def _apply_staff(session: Session, branch: str, data: dict[str, Any]) -> None:
    staff = session.scalar(select(Staff).where(Staff.username == data["username"]))
    values = {f: data[f] for f in _STAFF_FIELDS if f in data}
    if staff is None:
        staff = Staff(username=data["username"], all_branches=False, created_at=datetime.now(UTC), **values)
        session.add(staff)
        session.flush()
    else:
        for f, v in values.items():
            setattr(staff, f, v)
    if session.get(StaffBranch, (staff.id, branch)) is None:
        session.add(StaffBranch(staff_id=staff.id, branch_id=branch))
