"""The CRM's hub handler: customer linking, tag re-evaluation, lead rules, webhooks.

Runs once per batch inside the batch transaction, after the touchpoints handler, and only sees newly
stored events. Set-based: a handful of statements per batch, whatever its size.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.customers import service
from server.customers.config import crm
from server.customers.models import Customer
from server.customers.rules import LeadFacts, lead_reason
from server.ingest.kept import Kept
from server.ingest.records import EventRecord
from server.outbox.service import OutboxRow
from server.referrals.service import create_leads
from server.touchpoints.models import Touchpoint, Visit
from server.webhooks import service as webhooks
from wire.messages import TicketRequestData

log = logging.getLogger(__name__)


def handle(session: Session, events: Sequence[EventRecord], now: datetime, _kept: Kept) -> list[OutboxRow]:
    cfg = crm()
    out: list[OutboxRow] = []
    by_event: dict[str, int] = {}  # event id → customer id

    refs = {e.id: e.customer_ref for e in events if e.type in ("card_read", "ticket_request", "survey", "visit")}
    known = service.resolve_hashes(session, (r for r in refs.values() if r))
    for eid, ref in refs.items():
        if ref in known:
            by_event[eid] = known[ref]
    _link_by_visit(session, events, by_event)
    if not by_event:
        return out

    ids = sorted(set(by_event.values()))
    session.execute(update(Customer).where(Customer.id.in_(ids)).values(last_seen_at=now))
    asked = sorted({by_event[e.id] for e in events if e.type == "ticket_request" and e.id in by_event})
    service.evaluate_customers(session, asked, now, cfg.rules)
    customers = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(ids)))}
    out += _leads(session, events, by_event, customers, now)
    if cfg.settings.webhook_url:
        webhooks.enqueue(session, [(f"tp:{e.id}", "touchpoint", e.branch, {
            "event_id": e.id, "customer_ref": customers[by_event[e.id]].ref, "type": e.type, "device": e.device,
            "at": e.ts.isoformat(), "visit_id": e.visit_id}) for e in events
            if e.id in by_event and e.type != "visit"], now)
    return out


def _link_by_visit(session: Session, events: Sequence[EventRecord], by_event: dict[str, int]) -> None:
    """A ticket without a card of its own belongs to whoever the visit is known to be (a card read or a face match
    earlier in the stay, in this batch or before): its touchpoint is linked, and its business can make a lead."""
    unlinked = {e.id: e.visit_id for e in events
                if e.type == "ticket_request" and e.id not in by_event and e.visit_id}
    if not unlinked:
        return
    owners = dict(session.execute(select(Visit.id, Visit.customer_id).where(
        Visit.id.in_(sorted(set(unlinked.values()))), Visit.customer_id.is_not(None))).tuples().all())
    linked = {eid: owners[v] for eid, v in unlinked.items() if v in owners}
    for cid in set(linked.values()):
        session.execute(update(Touchpoint).where(Touchpoint.event_id.in_([e for e, c in linked.items() if c == cid]),
                                                 Touchpoint.customer_id.is_(None)).values(customer_id=cid))
    by_event.update(linked)


def _leads(session: Session, events: Sequence[EventRecord], by_event: dict[str, int],
           customers: dict[int, Customer], now: datetime) -> list[OutboxRow]:
    """Leads only for known customers: an anonymous wealth ticket is nobody a manager can follow up."""
    rules = crm().rules
    candidates = []
    for e in events:
        c = customers.get(by_event.get(e.id, -1))
        if c is None or e.type not in ("ticket_request", "face_probe"):
            continue
        business = e.data.business if isinstance(e.data, TicketRequestData) else None
        facts = LeadFacts("face_match" if e.type == "face_probe" else e.type, business, c.tier, c.tags)
        reason = lead_reason(facts, rules)
        if reason is not None:
            candidates.append({"branch_id": e.branch, "customer_id": c.id, "visit_id": e.visit_id,
                               "event_id": e.id, "device_id": e.device, "reason": reason.value,
                               "business": business, "referrer": f"rule:{reason.value}"})
    rows = create_leads(session, candidates, now)
    if rows and crm().settings.webhook_url:
        webhooks.enqueue(session, [(f"lead:{r.data.lead_id}:created", "lead.created", r.branch_id,
                                    r.data.model_dump(mode="json")) for r in rows], now)
    return rows
