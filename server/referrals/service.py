"""Lead lifecycle: create (known customers or explicit walk-ins, one per customer, interest and day), route,
reassign, accept, meet, convert or decline with an outcome, follow-up tasks, escalate, expire.

States: created → accepted → met → converted | declined | expired. A lead not accepted within the SLA
while the customer is still in the branch is escalated to the branch manager; an open lead not
converted within the conversion window expires.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from server.branches.models import Branch
from server.customers.config import crm
from server.customers.models import Customer
from server.customers.privacy import scrub
from server.customers.rules import RELATIONSHIP, CrmRules, lead_interest, lead_score
from server.db import insert_for
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.outbox.service import OutboxRow, outbox_row
from server.referrals.models import OPEN, LeadStatus, LeadTask, Outcome, Referral, Routing
from server.referrals.routing import Router, managers_of
from server.staff.models import Role, Staff
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


def dedup_key(customer_id: int, interest: str, day: str) -> str:
    """One lead (one credit) per customer, interest and local day of the branch."""
    return f"{customer_id}:{interest}:{day}"


def branch_managers(session: Session, branch_id: str) -> list[int]:
    return managers_of(session, [branch_id], (Role.BRANCH_MANAGER,))[branch_id]


def lead_message(r: Referral, c: Customer | None, *, escalated: bool = False) -> StaffLeadData:
    """The staff/lead payload: masked and pseudonymous only."""
    return StaffLeadData(lead_id=r.id, status=r.status, reason=r.reason, business=r.business,
                         customer_ref=c.ref if c else None, masked_name=c.masked_name if c else None,
                         tier=c.tier if c else None, assigned_to=r.assigned_to, visit_id=r.visit_id,
                         device_id=r.device_id, created_at=r.created_at, sla_due_at=r.sla_due_at,
                         escalated=escalated, escalated_to=r.escalated_to)


def local_days(session: Session, branch_ids: Iterable[str], now: datetime) -> dict[str, str]:
    """Each branch's local date at `now` (leads are deduplicated per local day)."""
    zones = dict(session.execute(select(Branch.id, Branch.timezone).where(Branch.id.in_(sorted(set(branch_ids)))))
                 .tuples().all())
    return {b: now.astimezone(ZoneInfo(zones.get(b) or "UTC")).date().isoformat() for b in set(branch_ids)}


def create_leads(session: Session, candidates: Sequence[dict[str, Any]], now: datetime) -> list[OutboxRow]:
    """Raise leads for known customers (or staff's walk-ins with a reason), one per customer, interest and day;
    staff_lead outbox rows for the leads raised, upgraded or credited.

    A candidate: branch_id, customer_id, visit_id, device_id, reason, business, referrer, referrer_staff_id, note,
    and optionally interest (else from the reason and business) and walk_in_reason (a lead without a customer).
    A candidate without either a customer or a walk-in reason is dropped: a lead nobody can follow up is noise.
    A product interest (say wealth) replaces the same day's open `relationship` lead of that customer rather than
    adding a second one; a staff referral that repeats a rule's lead credits the referrer, once.
    """
    rules = crm().rules
    wanted = [c for c in candidates if c.get("customer_id") or c.get("walk_in_reason")]
    if not wanted:
        return []
    customers = {c.id: c for c in session.scalars(select(Customer).where(
        Customer.id.in_({c["customer_id"] for c in wanted if c.get("customer_id")})))}
    days = local_days(session, {c["branch_id"] for c in wanted}, now)
    fresh = _one_per_key(wanted, customers, days, rules)
    ids = sorted({c["customer"].id for c in fresh.values() if c["customer"] is not None})
    existing = {r.dedup_key: r for r in session.scalars(select(Referral).where(  # today's, in any time zone
        Referral.customer_id.in_(ids), Referral.created_at >= now - timedelta(hours=36)))} if ids else {}
    touched: list[Referral] = []
    rows: list[dict[str, Any]] = []  # new referrals' columns
    router = Router(session, {c["branch_id"] for c in fresh.values()}, now)
    sla = timedelta(minutes=crm().settings.referral_sla_minutes)
    for key, cand in fresh.items():
        cust = cand["customer"]
        if cust is not None:
            day = days[cand["branch_id"]]
            today = [r for k, r in existing.items() if k.startswith(f"{cust.id}:") and k.endswith(f":{day}")]
            if key in existing or (cand["interest"] == RELATIONSHIP and today):
                lead = existing.get(key) or today[0]
                if _credit(lead, cand, now):
                    touched.append(lead)
                continue
            general = existing.pop(dedup_key(cust.id, RELATIONSHIP, day), None)
            if general is not None and general.status in OPEN:
                general.dedup_key, general.interest, general.business = key, cand["interest"], cand.get("business")
                general.score, general.updated_at = max(general.score, _score(cust, cand, rules)), now
                _credit(general, cand, now)
                existing[key] = general
                touched.append(general)
                continue
        assigned, routed = router.route(cand["branch_id"], cust.manager_id if cust else None)
        rows.append({"dedup_key": key, "branch_id": cand["branch_id"], "customer_id": cust.id if cust else None,
                     "visit_id": cand.get("visit_id"), "device_id": cand.get("device_id"), "reason": cand["reason"],
                     "business": cand.get("business"), "note": scrub(cand["note"])[:200] if cand.get("note") else None,
                     "referrer": cand["referrer"],
                     "referrer_staff_id": cand.get("referrer_staff_id"), "assigned_to": assigned,
                     "routed": routed.value, "assigned_at": now if assigned else None,
                     "status": LeadStatus.CREATED.value, "created_at": now, "updated_at": now,
                     "sla_due_at": now + sla, "interest": cand["interest"], "score": _score(cust, cand, rules),
                     "walk_in_reason": None if cust else scrub(cand["walk_in_reason"])[:200]})
    new_ids: list[int] = []
    if rows:
        stmt = insert_for(session, Referral).on_conflict_do_nothing(index_elements=["dedup_key"])
        new_ids = list(session.connection().execute(stmt.returning(Referral.__table__.c.id), rows).scalars())
    session.flush()
    leads = touched + (list(session.scalars(select(Referral).where(Referral.id.in_(new_ids)))) if new_ids else [])
    return [outbox_row(branch_id=r.branch_id, now=now, data=lead_message(r, customers.get(r.customer_id)))
            for r in leads]


def _one_per_key(wanted: Sequence[dict[str, Any]], customers: dict[int, Customer], days: dict[str, str],
                 rules: CrmRules) -> dict[str, dict[str, Any]]:
    """The batch's candidates by dedup key, a product interest winning over the same day's `relationship`."""
    fresh: dict[str, dict[str, Any]] = {}
    for cand in wanted:
        cust = customers.get(cand.get("customer_id"))  # type: ignore[arg-type]
        if cand.get("customer_id") and cust is None:
            continue  # the customer is gone (deleted meanwhile)
        interest = cand.get("interest") or lead_interest(cand["reason"], cand.get("business"), rules)
        if cust is None:
            fresh[f"walk-in:{uuid.uuid4()}"] = {**cand, "interest": interest, "customer": None}
            continue
        day = days[cand["branch_id"]]
        if interest != RELATIONSHIP:
            fresh.pop(dedup_key(cust.id, RELATIONSHIP, day), None)  # the product says more than the arrival
        elif any(k.startswith(f"{cust.id}:") and k.endswith(f":{day}") for k in fresh):
            continue  # this customer already has a lead in this batch today
        fresh.setdefault(dedup_key(cust.id, interest, day), {**cand, "interest": interest, "customer": cust})
    return fresh


def _score(cust: Customer | None, cand: dict[str, Any], rules: CrmRules) -> int:
    return lead_score(tier=cust.tier if cust else None, aum_band=cust.aum_band if cust else None,
                      reason=cand["reason"], interest=cand["interest"], tags=(cust.tags or ()) if cust else (),
                      scoring=rules.lead_scoring)


def _credit(lead: Referral, cand: dict[str, Any], now: datetime) -> bool:
    """A staff member who refers a customer a rule already raised a lead for gets the credit (once)."""
    if cand.get("referrer_staff_id") is None or lead.referrer_staff_id is not None or lead.status not in OPEN:
        return False
    lead.referrer, lead.referrer_staff_id, lead.updated_at = cand["referrer"], cand["referrer_staff_id"], now
    return True


def reassign(session: Session, lead: Referral, *, to: int, by: int, by_role: Role, now: datetime) -> Referral:
    """Give an open lead to another manager of its branch. A customer manager may hand on only a lead that is
    theirs or nobody's; a branch manager (and admin) any."""
    if lead.status not in OPEN:
        raise Conflict("lead_closed", f"a {lead.status} lead is closed; only open leads are reassigned")
    if by_role is Role.CUSTOMER_MANAGER and lead.assigned_to not in (None, by):
        raise Forbidden("not_your_lead", "this lead is another manager's; ask them or the branch manager")
    if to not in managers_of(session, [lead.branch_id])[lead.branch_id]:
        raise Invalid("not_a_lead_manager", "give the lead to an active customer or branch manager of its branch")
    lead.assigned_to, lead.routed, lead.assigned_at, lead.updated_at = to, Routing.MANUAL, now, now
    session.flush()
    return lead


def add_task(session: Session, lead: Referral, *, due_at: datetime, note: str, by: int, now: datetime) -> LeadTask:
    """A follow-up on a lead that is open or converted (after a sale there is still a call to make)."""
    if lead.status in (LeadStatus.DECLINED, LeadStatus.EXPIRED):
        raise Conflict("lead_closed", f"a {lead.status} lead takes no follow-up; raise a new lead instead")
    task = LeadTask(lead_id=lead.id, branch_id=lead.branch_id, due_at=due_at, note=scrub(note)[:200],
                    assigned_to=lead.assigned_to or by, created_by=by, created_at=now)
    session.add(task)
    lead.updated_at = now
    session.flush()
    return task


def complete_task(session: Session, lead: Referral, task_id: int, *, by: int, now: datetime) -> LeadTask:
    task = session.get(LeadTask, task_id)
    if task is None or task.lead_id != lead.id:
        raise NotFound("task_not_found", "follow-up task not found")
    if task.done_at is not None:
        raise Conflict("task_done", "this follow-up is already done")
    task.done_at, task.done_by, lead.updated_at = now, by, now
    session.flush()
    return task


def transition(session: Session, lead: Referral, action: str, *, now: datetime, staff_id: int,
               product: str | None = None, value: float | None = None, outcome: Outcome | None = None,
               note: str | None = None) -> Referral:
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
        lead.closed_at, lead.product, lead.value, lead.outcome = now, product, value, Outcome.CONVERTED
    else:
        lead.closed_at, lead.outcome = now, outcome or Outcome.OTHER
    if note:
        lead.outcome_note = scrub(note)[:200]
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
    stale = list(session.scalars(select(Referral).where(Referral.status.in_(OPEN),
                                                        Referral.created_at < cutoff)))
    for lead in stale:
        lead.status, lead.closed_at, lead.updated_at, lead.outcome = LeadStatus.EXPIRED, now, now, Outcome.EXPIRED
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


