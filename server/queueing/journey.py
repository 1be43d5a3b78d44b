"""A ticket's journey: one row per step (issued, called, parked, …), only ever appended and read back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.queueing.models import Ticket, TicketStep

SYSTEM = "system"  # the actor of steps no person took


def step(session: Session, t: Ticket, action: str, now: datetime, actor: str, **detail: Any) -> None:
    """Append to the ticket's journey (a Core insert: steps are only ever read by queries)."""
    session.connection().execute(TicketStep.__table__.insert(), [step_row(t, action, now, actor, **detail)])


def step_row(t: Ticket, action: str, now: datetime, actor: str, **detail: Any) -> dict[str, Any]:
    return {"ticket_id": t.id, "branch_id": t.branch_id, "at": now, "action": action, "channel": t.channel,
            "business": t.business, "counter": t.counter, "actor": actor[:64],
            "detail": {k: v for k, v in detail.items() if v is not None}}


def steps(session: Session, ticket_id: int) -> list[TicketStep]:
    return list(session.scalars(select(TicketStep).where(TicketStep.ticket_id == ticket_id)
                                .order_by(TicketStep.id)))

