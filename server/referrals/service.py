"""Lead lifecycle: create (rules or staff, one per customer visit), assign, accept, meet, convert, escalate.

States: created → accepted → met → converted | declined | expired. A lead not accepted within the SLA
while the customer is still in the branch is escalated to the branch manager; an open lead not
converted within the conversion window expires.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from server.customers.config import crm
from server.customers.models import Customer
from server.db import insert_for
from server.errors import Conflict
from server.outbox.service import OutboxRow, outbox_row
from server.referrals.models import OPEN, LeadStatus, Referral
from server.staff.models import Role, Staff, StaffBranch
from server.touchpoints.models import Visit
from wire.messages import StaffLeadData

# Allowed transitions (pure): action → (from states, to state)
TRANSITIONS: dict[str, tuple[frozenset[LeadStatus], LeadStatus]] = {
    "accept": (frozenset({LeadStatus.CREATED}), LeadStatus.ACCEPTED),
    "meet": (frozenset({LeadStatus.CREATED, LeadStatus.ACCEPTED}), LeadStatus.MET),
    "convert": (frozenset({LeadStatus.ACCEPTED, LeadStatus.MET}), LeadStatus.CONVERTED),
    "decline": (frozenset({LeadStatus.CREATED, LeadStatus.ACCEPTED, LeadStatus.MET}), LeadStatus.DECLINED),
    "expire": (frozenset(OPEN), LeadStatus.EXPIRED),
}


def next_status(current: str, action: str) -> LeadStatus:
    """The state after `action`; Conflict when the lead is not in a state that allows it."""
    allowed, target = TRANSITIONS[action]
    if LeadStatus(current) not in allowed:
        raise Conflict("invalid_state", f"a {current} lead cannot be {action}ed; allowed from: "
                                         f"{', '.join(sorted(allowed))}")
    return target


def dedup_key(customer_id: int | None, visit_id: str | None, day: str) -> str:
    """One lead (one credit) per customer visit."""
    return f"{customer_id if customer_id is not None else '-'}:{visit_id or day}"


def customer_managers(session: Session, branch_id: str) -> list[int]:
    return customer_managers_of(session, [branch_id])[branch_id]


def customer_managers_of(session: Session, branch_ids: Sequence[str]) -> dict[str, list[int]]:
    """Active customer managers per branch, in one query."""
    out: dict[str, list[int]] = {b: [] for b in branch_ids}
    for branch, staff in session.execute(
            select(StaffBranch.branch_id, Staff.id).join(StaffBranch, StaffBranch.staff_id == Staff.id)
            .where(StaffBranch.branch_id.in_(sorted(out)), Staff.role == Role.CUSTOMER_MANAGER,
                   Staff.active.is_(True)).order_by(Staff.id)):
        out[branch].append(staff)
    return out


def branch_managers(session: Session, branch_id: str) -> list[int]:
    return list(session.scalars(select(Staff.id).join(StaffBranch, StaffBranch.staff_id == Staff.id)
                                .where(StaffBranch.branch_id == branch_id, Staff.role == Role.BRANCH_MANAGER,
                                       Staff.active.is_(True)).order_by(Staff.id)))


def _pick_manager(session: Session, branch_id: str, preferred: int | None, cms: list[int] | None = None) -> int | None:
    """The customer's own manager when they work here, else the customer manager with the fewest open leads."""
    cms = customer_managers(session, branch_id) if cms is None else cms
    if preferred in cms:
        return preferred
    if not cms:
        return None
    load = dict(session.execute(select(Referral.assigned_to, func.count()).where(
        Referral.branch_id == branch_id, Referral.status.in_([s.value for s in OPEN]),
        Referral.assigned_to.in_(cms)).group_by(Referral.assigned_to)).tuples().all())
    return min(cms, key=lambda s: (load.get(s, 0), s))


def lead_message(r: Referral, c: Customer | None, *, escalated: bool = False) -> StaffLeadData:
    """The staff/lead payload: masked and pseudonymous only."""
    return StaffLeadData(lead_id=r.id, status=r.status, reason=r.reason, business=r.business,
                         customer_ref=c.ref if c else None, masked_name=c.masked_name if c else None,
                         tier=c.tier if c else None, assigned_to=r.assigned_to, visit_id=r.visit_id,
                         device_id=r.device_id, created_at=r.created_at, sla_due_at=r.sla_due_at,
                         escalated=escalated, escalated_to=r.escalated_to)


def create_leads(session: Session, candidates: Sequence[dict[str, Any]], now: datetime) -> list[OutboxRow]:
    """Insert leads (ignoring any that would repeat a customer visit's lead); staff_lead outbox rows for new ones.

    A candidate: branch_id, customer_id, visit_id, device_id, reason, business, referrer, referrer_staff_id, note.
    """
    if not candidates:
        return []
    sla = timedelta(minutes=crm().settings.referral_sla_minutes)
    customers = {c.id: c for c in session.scalars(select(Customer).where(
        Customer.id.in_({c["customer_id"] for c in candidates if c.get("customer_id")})))}
    rows: dict[str, dict[str, Any]] = {}
    managers = customer_managers_of(session, {c["branch_id"] for c in candidates})
    for cand in candidates:
        anchor = cand.get("visit_id") or (None if cand.get("customer_id") else cand.get("event_id"))
        key = dedup_key(cand.get("customer_id"), anchor, now.date().isoformat())
        if key in rows:
            continue
        b = cand["branch_id"]
        cust = customers.get(cand.get("customer_id"))
        rows[key] = {"dedup_key": key, "branch_id": b, "customer_id": cand.get("customer_id"),
                     "visit_id": cand.get("visit_id"), "device_id": cand.get("device_id"), "reason": cand["reason"],
                     "business": cand.get("business"), "note": cand.get("note"), "referrer": cand["referrer"],
                     "referrer_staff_id": cand.get("referrer_staff_id"),
                     "assigned_to": _pick_manager(session, b, cust.manager_id if cust else None, managers[b]),
                     "status": LeadStatus.CREATED.value, "created_at": now, "updated_at": now,
                     "sla_due_at": now + sla}
    stmt = insert_for(session, Referral).on_conflict_do_nothing(index_elements=["dedup_key"])
    new_ids = list(session.connection().execute(stmt.returning(Referral.__table__.c.id), list(rows.values()))
                   .scalars())
    new = list(session.scalars(select(Referral).where(Referral.id.in_(new_ids)))) if new_ids else []
    return [outbox_row(branch_id=r.branch_id, now=now, data=lead_message(r, customers.get(r.customer_id)))
            for r in new]


def transition(session: Session, lead: Referral, action: str, *, now: datetime, staff_id: int,
               product: str | None = None, value: float | None = None) -> Referral:
    target = next_status(lead.status, action)
    if action == "convert" and now - lead.created_at > timedelta(days=crm().settings.conversion_window_days):
        raise Conflict("window_closed", "the conversion window of this lead has closed")
    lead.status = target.value
    lead.updated_at = now
    if action == "accept":
        lead.accepted_at, lead.assigned_to = now, staff_id
    elif action == "meet":
        lead.met_at = now
        lead.accepted_at = lead.accepted_at or now
        lead.assigned_to = lead.assigned_to or staff_id
    elif action == "convert":
        lead.closed_at, lead.product, lead.value = now, product, value
    else:
        lead.closed_at = now
    session.flush()
    return lead


def escalate_overdue(session: Session, now: datetime) -> list[OutboxRow]:
    """Leads past their SLA, still not accepted, while the customer is in the branch → the branch manager."""
    overdue = session.execute(
        select(Referral, Visit.ended_at).outerjoin(Visit, Visit.id == Referral.visit_id)
        .where(Referral.status == LeadStatus.CREATED.value, Referral.sla_due_at <= now,
               Referral.escalated_at.is_(None))).all()
    rows = []
    for lead, ended in overdue:
        if ended is not None and ended <= lead.sla_due_at:
            continue  # the customer left before the SLA ran out: nobody to serve now; follow up later
        bms = branch_managers(session, lead.branch_id)
        lead.escalated_at, lead.escalated_to, lead.updated_at = now, (bms[0] if bms else None), now
        cust = session.get(Customer, lead.customer_id) if lead.customer_id else None
        rows.append(outbox_row(branch_id=lead.branch_id, now=now, data=lead_message(lead, cust, escalated=True)))
    session.flush()
    return rows


def expire_stale(session: Session, now: datetime) -> int:
    cutoff = now - timedelta(days=crm().settings.conversion_window_days)
    stale = list(session.scalars(select(Referral).where(Referral.status.in_([s.value for s in OPEN]),
                                                        Referral.created_at < cutoff)))
    for lead in stale:
        lead.status, lead.closed_at, lead.updated_at = LeadStatus.EXPIRED.value, now, now
    session.flush()
    return len(stale)


def staff_stats(session: Session, *, branch_id: str, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Per staff member: referrals made, accepted, converted, value (each lead is one customer visit)."""
    period = and_(Referral.branch_id == branch_id, Referral.created_at >= since, Referral.created_at < until)
    made = dict(session.execute(select(Referral.referrer_staff_id, func.count()).where(
        period, Referral.referrer_staff_id.is_not(None)).group_by(Referral.referrer_staff_id)).tuples().all())
    handled = session.execute(select(
        Referral.assigned_to,
        func.count().filter(Referral.accepted_at.is_not(None)),
        func.count().filter(Referral.status == LeadStatus.CONVERTED.value),
        func.coalesce(func.sum(Referral.value).filter(Referral.status == LeadStatus.CONVERTED.value), 0.0),
    ).where(period, Referral.assigned_to.is_not(None)).group_by(Referral.assigned_to)).all()
    out: dict[int, dict[str, Any]] = {}
    for sid, n in made.items():
        out.setdefault(sid, {"staff_id": sid, "made": 0, "accepted": 0, "converted": 0, "value": 0.0})["made"] = n
    for sid, acc, conv, val in handled:
        o = out.setdefault(sid, {"staff_id": sid, "made": 0, "accepted": 0, "converted": 0, "value": 0.0})
        o.update(accepted=acc, converted=conv, value=float(val or 0))
    names = dict(session.execute(select(Staff.id, Staff.display_name).where(Staff.id.in_(list(out)))).tuples().all())
    return [{**o, "name": names.get(o["staff_id"])} for o in sorted(out.values(), key=lambda o: o["staff_id"])]


def open_visit_of(session: Session, customer_id: int, branch_id: str) -> str | None:
    return session.scalar(select(Visit.id).where(Visit.customer_id == customer_id, Visit.branch_id == branch_id,
                                                 Visit.ended_at.is_(None))
                          .order_by(Visit.started_at.desc()).limit(1))


