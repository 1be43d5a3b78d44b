"""What the printed ticket's QR code opens (`/t/{token}`, no sign-in): number, place and estimate only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.queueing.lobby import local_time
from server.queueing.locks import branch_config
from server.queueing.models import Ticket
from server.queueing.snapshot import estimate_for, snapshot, waiting_tickets
from server.queueing.transitions import WAITING_STATES


def public_status(session: Session, token: str, now: datetime) -> dict[str, Any] | None:
    """What the printed ticket's QR code shows: number, business, status, place and estimate; nothing
    personal."""
    t = session.scalars(select(Ticket).where(Ticket.token == token)).first()
    if t is None:
        return None
    cfg = branch_config(session, t.branch_id)
    b = cfg.business(t.business)
    ahead, est = 0, None
    if t.status in WAITING_STATES:
        ahead, est = estimate_for(t, waiting_tickets(session, t.branch_id), snapshot(session, cfg, now))
    return {"ticket": t.display, "business": {"zh": b.name.zh, "en": b.name.en} if b else t.business,
            "branch": {"zh": cfg.name.zh, "en": cfg.name.en}, "status": t.status, "counter": t.counter,
            "people_ahead": ahead, "wait_p50_min": est.p50_min if est else None,
            "wait_p90_min": est.p90_min if est else None, "issued": local_time(cfg, t.issued_at)}

