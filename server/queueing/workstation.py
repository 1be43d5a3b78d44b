"""What the teller workstation shows: the counter, who the policy would call next and why, the ticket being served,
and (read apart, audited by the caller) the customer behind it with their open referral leads.

The customer part is its own read so the page fetches it once per called ticket: every read of customer data is
audited, and the queue part is re-read on every queue change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.customers.models import Customer, Identity
from server.queueing import calling
from server.queueing.lobby import local_time
from server.queueing.locks import branch_config
from server.queueing.models import CounterState, Ticket
from server.queueing.snapshot import counter_channel
from server.queueing.transitions import TicketStatus
from server.referrals.models import OPEN, Referral
from server.referrals.views import lead_views
from server.touchpoints.models import Visit
from szconfig.branch import BranchConfig


def _business(cfg: BranchConfig, code: str) -> dict[str, str]:
    b = cfg.business(code)
    return {"zh": b.name.zh, "en": b.name.en} if b else {"zh": code, "en": code}


def counter_view(session: Session, row: CounterState, now: datetime) -> dict[str, Any]:
    """The signed-in counter: its state, the next customer the policy would call, the current ticket, the tickets
    parked from it, and where a ticket may be transferred."""
    cfg = branch_config(session, row.branch_id)
    conf = next(c for c in cfg.counters if c.number == row.number)
    nxt = None
    if row.open:  # a paused counter calls nobody
        found = calling.preview(session, branch_id=row.branch_id, counter=row.number, now=now)
        if found is not None:
            t, choice = found
            nxt = {"id": t.id, "ticket": t.display, "business": t.business, "business_name": _business(cfg, t.business),
                   "priority": t.priority, "waited_min": round((now - t.issued_at).total_seconds() / 60, 1),
                   "reason": {"rule": choice.rule, "zh": choice.reason_zh, "en": choice.reason_en}}
    cur = session.get(Ticket, row.ticket_id) if row.ticket_id else None
    current = None
    if cur is not None and cur.status in (TicketStatus.CALLED.value, TicketStatus.SERVING.value):
        current = {"id": cur.id, "ticket": cur.display, "business": cur.business,
                   "business_name": _business(cfg, cur.business), "status": cur.status, "priority": cur.priority,
                   "tier": cur.tier, "elderly": cur.elderly, "called": local_time(cfg, cur.called_at),
                   "calls": cur.calls, "reasons": cur.reasons, "call_reason": cur.call_reason,
                   "identified": cur.customer_ref is not None or cur.visit_id is not None}
    parked = session.scalars(select(Ticket).where(
        Ticket.branch_id == row.branch_id, Ticket.counter == row.number,
        Ticket.status == TicketStatus.PARKED.value).order_by(Ticket.parked_at))
    return {
        "branch": row.branch_id, "branch_name": {"zh": cfg.name.zh, "en": cfg.name.en}, "counter": row.number,
        "state": row.state.value, "zone": conf.zone, "channel": counter_channel(cfg, conf.zone),
        "skills": list(conf.skills), "teller": row.teller_name, "signed_in_at": row.signed_in_at,
        "pause_reason": row.pause_reason, "pause_note": row.pause_note, "paused_at": local_time(cfg, row.paused_at),
        "next": nxt, "current": current,
        "parked": [{"id": p.id, "ticket": p.display, "business": p.business} for p in parked],
        "businesses": [{"code": b.code, "name": {"zh": b.name.zh, "en": b.name.en}} for b in cfg.business_types],
        "counters": [c.number for c in cfg.counters if c.number != row.number],
    }


def customer_of(session: Session, t: Ticket) -> Customer | None:
    """The known customer behind a ticket: by the card's keyed hash, else by the visit the kiosk linked."""
    if t.customer_ref:
        c = session.scalar(select(Customer).join(Identity, Identity.customer_id == Customer.id)
                           .where(Identity.hash == t.customer_ref))
        if c is not None:
            return c
    if t.visit_id:
        cid = session.scalar(select(Visit.customer_id).where(Visit.id == t.visit_id))
        if cid is not None:
            return session.get(Customer, cid)
    return None


def customer_card(session: Session, c: Customer, now: datetime) -> dict[str, Any]:
    """The masked profile a teller sees, with the customer's open leads (masked, pseudonymous)."""
    leads = session.scalars(select(Referral).where(Referral.customer_id == c.id, Referral.status.in_(OPEN))
                            .order_by(Referral.created_at.desc()).limit(10))
    return {"id": c.id, "ref": c.ref, "masked_name": c.masked_name, "tier": c.tier, "tags": list(c.tags or []),
            "elderly": c.elderly, "language": c.language,
            "leads": [{k: v[k] for k in ("id", "status", "reason", "business", "interest", "assigned_name",
                                         "created_at")}
                      for v in lead_views(session, [(r, c) for r in leads], now)]}
