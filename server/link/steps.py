"""The edge sends its queue up: every ticket step becomes an event in its log, and goes up like a device's.

Deferred work of the edge hub (role edge, `server.ingest.handlers.DEFERRED`): steps written since the last
run, by the hub (tickets issued) or by the branch's server (calls, transfers, finishes), are turned into
`queue_step` events of the edge itself (device `hub`, seq = the step's id) and queued in `uplink`, in the
same transaction as the watermark that says how far it got. From there they travel as every device event
does: the centre stores each once by its id and confirms, and only then does it leave the edge.

The watermark is the step id: on SQLite (an edge's database) a step's id is taken under the write lock and
committed before any other step's, so no step commits behind the watermark; the event id is derived from
the step, so running the same steps twice (it cannot, but) would store nothing twice either.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.events.store import insert_new_events
from server.ingest.records import EventRecord
from server.link import service
from server.link.models import CachedItem
from server.outbox.service import OutboxRow
from server.queueing.models import Ticket, TicketStep
from wire.messages import QueueStepData, QueueTicket
from wire.topics import EDGE_DEVICE

WATERMARK = ("watermark", "uplink.steps")
BATCH = 2000  # steps per run: a long outage's backlog goes in slices, each a short transaction
_NS = uuid.UUID("5b0e6f5c-3c1e-4f59-9d53-1b0a3e1f0e14")
_TICKET_FIELDS = ("service_day", "number", "display", "provisional_number", "request_id", "device_id", "source",
                  "business", "channel", "priority", "tier", "elderly", "customer_ref", "visit_id",
                  "appointment_code", "appointment_at", "status", "counter", "target_counter", "issued_at",
                  "queued_at", "called_at", "first_called_at", "finished_at", "parked_at", "calls", "est_p50_min",
                  "est_p90_min")


def _text(reason: dict) -> dict[str, str]:
    return {str(k): str(v) for k, v in reason.items() if v is not None}


def step_event(step: TicketStep, ticket: Ticket) -> EventRecord:
    """A step as the edge's event: its id derived from the branch, the step and the ticket's issue time."""
    snapshot = QueueTicket(id=ticket.id, reasons=[_text(r) for r in ticket.reasons or []],
                           call_reason=_text(ticket.call_reason) if ticket.call_reason else None,
                           **{f: getattr(ticket, f) for f in _TICKET_FIELDS})
    data = QueueStepData(step=step.id, action=step.action, at=step.at, counter=step.counter, actor=step.actor,
                         detail=step.detail or {}, ticket=snapshot)
    key = f"{step.branch_id}:{step.id}:{ticket.id}:{ticket.issued_at.isoformat()}"
    return EventRecord(id=str(uuid.uuid5(_NS, key)), branch=step.branch_id, device=EDGE_DEVICE, seq=step.id,
                       type="queue_step", ts=step.at, data=data)


def send_steps_up(session: Session, now: datetime, _kept: object = None) -> list[OutboxRow]:
    """Deferred (edge): queue the steps written since the last run for the centre; returns no messages."""
    mark = session.get(CachedItem, WATERMARK)
    after = mark.version if mark else 0
    rows = session.execute(select(TicketStep, Ticket).join(Ticket, Ticket.id == TicketStep.ticket_id)
                           .where(TicketStep.id > after).order_by(TicketStep.id).limit(BATCH)).all()
    if not rows:
        return []
    events = [step_event(step, ticket) for step, ticket in rows]
    insert_new_events(session, events, now)
    service.enqueue(session, events, now)
    last = rows[-1][0].id
    service.store_cached(session, kind=WATERMARK[0], key=WATERMARK[1], branch="*", data={"step": last},
                         version=last, now=now)
    return []
