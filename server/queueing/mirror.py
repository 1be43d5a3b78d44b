"""The centre's mirror of the queues its branches' edges run: tickets and their journeys, from `queue_step`s.

Hub handler (role central): each queue step an edge sent up (stored once, by its id) adds its row to the
ticket's journey and, if it is newer than the step the mirrored ticket shows (`mirror_step`), brings the
ticket to the state the edge sent with it. Several hub workers may commit a branch's steps out of order;
the step id keeps the ticket from going back. The mirrored ticket's token is derived from the branch, the
edge's ticket id and its issue time (the status page's secret stays at the branch), so the centre's queue
KPIs (`server.queueing.kpis`) read the same tickets the branch served.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.ingest.records import EventRecord
from server.outbox.service import OutboxRow
from server.queueing.models import Ticket, TicketStep
from wire.messages import QueueStepData, QueueTicket


def token_for(branch: str, ticket_id: int, issued_at: datetime) -> str:
    """The mirrored ticket's token, from what the edge knows of its ticket (an appointment names it so)."""
    return "m" + hashlib.sha256(f"{branch}:{ticket_id}:{issued_at.isoformat()}".encode()).hexdigest()[:31]


def mirror_token(branch: str, t: QueueTicket) -> str:
    return token_for(branch, t.id, t.issued_at)


def _fields(t: QueueTicket) -> dict:
    return t.model_dump(exclude={"id"})


def record_steps(session: Session, events: Sequence[EventRecord], now: datetime,
                 _kept: object = None) -> list[OutboxRow]:
    """Handler (centre): new queue steps of the branches' edges into the mirrored tickets and journeys."""
    steps = sorted(((e.branch, e.data) for e in events if e.type == "queue_step"), key=lambda s: (s[0], s[1].step))
    if not steps:
        return []
    tokens = {mirror_token(b, d.ticket) for b, d in steps}
    tickets = {t.token: t for t in session.scalars(select(Ticket).where(Ticket.token.in_(tokens)))}
    placed = []
    for branch, d in steps:
        assert isinstance(d, QueueStepData)
        token = mirror_token(branch, d.ticket)
        t = tickets.get(token)
        if t is None:
            t = tickets[token] = Ticket(branch_id=branch, token=token, mirror_step=d.step, **_fields(d.ticket))
            session.add(t)
        elif (t.mirror_step or 0) < d.step:
            for k, v in _fields(d.ticket).items():
                setattr(t, k, v)
            t.mirror_step = d.step
        placed.append((t, branch, d))
    session.flush()  # the batch's new tickets in one INSERT … RETURNING, its changed ones in one UPDATE
    journey = [{"ticket_id": t.id, "branch_id": branch, "at": d.at, "action": d.action, "channel": d.ticket.channel,
                "business": d.ticket.business, "counter": d.counter, "actor": d.actor[:64],
                "detail": {**d.detail, "edge_step": d.step}} for t, branch, d in placed]
    session.connection().execute(TicketStep.__table__.insert(), journey)
    return []
