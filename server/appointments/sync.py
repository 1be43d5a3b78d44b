"""Appointments between the centre and a branch's edge: what changed here, and a change made over there.

Both sites book (head office and the call centre at the centre; the lobby console at the branch's edge, also
while the link is down), and only the branch checks in and marks no-shows (its kiosks and its no-show job).
A booking is the same at both sites by its `uid`; each site numbers `id` itself and draws codes from its own
half (`rules.new_code`). Every change made on a site bumps its `rev`; what the other site already has is
`synced_rev`, so `unsynced` is exactly what still has to go (the edge sends it up as an `appointment` event,
the centre pushes it down), in the same transaction as the mark. A change arriving from the other site is
`merge`d: the furthest status wins (booked < cancelled < no_show < checked_in), so duplicates, late or crossed
changes never undo an outcome, and what came from the other site is not sent back.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.appointments.models import Appointment, AppointmentStatus
from server.events.store import insert_new_events
from server.ingest.records import EventRecord
from server.link import service as link
from server.outbox.service import OutboxRow
from server.queueing.mirror import token_for
from server.queueing.models import Ticket
from wire.messages import AppointmentData
from wire.topics import EDGE_DEVICE

log = logging.getLogger(__name__)
RANK = {AppointmentStatus.BOOKED: 0, AppointmentStatus.CANCELLED: 1, AppointmentStatus.NO_SHOW: 2,
        AppointmentStatus.CHECKED_IN: 3}
BATCH = 500
_NS = uuid.UUID("0b7e3c55-9a54-4c0e-8f0a-5a1f3c0d1e15")


def unsynced(session: Session, limit: int = BATCH) -> list[Appointment]:
    """Appointments changed on this site since the other site last had them, oldest change first."""
    return list(session.scalars(select(Appointment).where(Appointment.rev > Appointment.synced_rev)
                                .order_by(Appointment.updated_at, Appointment.id).limit(limit)))


def mark_synced(session: Session, sent: Sequence[tuple[int, int]]) -> None:
    """(id, rev) sent: the other site has that rev (a change made meanwhile keeps it unsynced)."""
    for appointment_id, rev in sent:
        session.execute(update(Appointment).where(Appointment.id == appointment_id, Appointment.synced_rev < rev)
                        .values(synced_rev=rev))


def state(session: Session, a: Appointment) -> AppointmentData:
    """The appointment as the other site needs it; a checked-in ticket named as the centre's mirror names it."""
    token = None
    if a.ticket_id is not None:
        t = session.get(Ticket, a.ticket_id)
        if t is not None:
            token = t.token if t.mirror_step is not None else token_for(t.branch_id, t.id, t.issued_at)
    return AppointmentData(uid=a.uid, code=a.code, business=a.business, slot_at=a.slot_at, status=a.status.value,
                           customer_ref=a.customer_ref, phone_last4=a.phone_last4, ticket_token=token,
                           created_at=a.created_at, created_by=a.created_by[:200], updated_at=a.updated_at,
                           rev=a.rev)


def event_id(d: AppointmentData) -> str:
    """The id of the event carrying this revision: the same however often it is made."""
    return str(uuid.uuid5(_NS, f"{d.uid}:{d.rev}"))


def merge(session: Session, branch: str, d: AppointmentData, now: datetime) -> bool:
    """Take a change made on the other site, unless this site already holds a further status. True if changed.
    ValueError: the uid names another branch's or another code's appointment, or the code is another booking's
    at this branch (nothing is written)."""
    status = AppointmentStatus(d.status)
    ticket_id = session.scalar(select(Ticket.id).where(Ticket.token == d.ticket_token)) if d.ticket_token else None
    a = session.scalar(select(Appointment).where(Appointment.uid == d.uid))
    if a is None:
        if session.scalar(select(Appointment.uid).where(Appointment.branch_id == branch, Appointment.code == d.code)):
            raise ValueError(f"code {d.code} at {branch} is another booking's")  # a code from before the halves
        session.add(Appointment(uid=d.uid, branch_id=branch, code=d.code, business=d.business, slot_at=d.slot_at,
                                customer_ref=d.customer_ref, phone_last4=d.phone_last4, status=status,
                                ticket_id=ticket_id, created_at=d.created_at, created_by=d.created_by[:64],
                                updated_at=d.updated_at, rev=1, synced_rev=1))
        session.flush()
        return True
    if a.branch_id != branch or a.code != d.code:
        raise ValueError(f"appointment {d.uid} is {a.code} at {a.branch_id}, not {d.code} at {branch}")
    if a.ticket_id is None and ticket_id is not None and status is AppointmentStatus.CHECKED_IN:
        a.ticket_id = ticket_id
    if RANK[status] <= RANK[a.status]:
        return False
    a.status, a.updated_at = status, max(a.updated_at, d.updated_at)
    a.rev += 1
    a.synced_rev = a.rev
    return True


def record_changes(session: Session, events: Sequence[EventRecord], now: datetime,
                   _kept: object = None) -> list[OutboxRow]:
    """Handler (centre): appointment changes the branches' edges sent up; and mirrored check-in tickets that
    arrived after their appointment's change name it now (the two travel as separate events)."""
    for e in events:
        if e.type == "appointment":
            try:
                with session.begin_nested():
                    merge(session, e.branch, e.data, now)
            except ValueError as err:  # kept in the event log; one bad change must not hold up the branch's batch
                log.error("appointment change %s of %s not applied: %s", e.id, e.branch, err)
    issued = [(e.branch, e.data.ticket) for e in events
              if e.type == "queue_step" and e.data.action == "issued" and e.data.ticket.appointment_code]
    for branch, t in issued:
        token = token_for(branch, t.id, t.issued_at)
        session.execute(update(Appointment).where(
            Appointment.branch_id == branch, Appointment.code == t.appointment_code,
            Appointment.status == AppointmentStatus.CHECKED_IN, Appointment.ticket_id.is_(None))
            .values(ticket_id=select(Ticket.id).where(Ticket.token == token).scalar_subquery()))
    return []


def send_up(session: Session, now: datetime, _kept: object = None) -> list[OutboxRow]:
    """Deferred (edge): appointments changed here since the centre last had them become `appointment` events
    of the edge (device `hub`) and wait in the uplink like every event; returns no messages."""
    changed = unsynced(session)
    if not changed:
        return []
    events = []
    for a in changed:
        d = state(session, a)
        events.append(EventRecord(id=event_id(d), branch=a.branch_id, device=EDGE_DEVICE, seq=a.rev,
                                  type="appointment", ts=a.updated_at, data=d))
    insert_new_events(session, events, now)
    link.enqueue(session, events, now)
    mark_synced(session, [(a.id, a.rev) for a in changed])
    return []
