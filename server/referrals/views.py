"""The leads worklist: filters, ranking (standing points plus waiting) and the view staff see of a lead.

Ranking runs in SQL (`rank_expr`: the waiting points are a step table of the lead's age, so the database
orders the whole list and a page of it is the top of the real ranking) and the same table ranks in Python
(`rank_of`) for a single lead pushed live.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.orm import Session

from server.customers.config import crm
from server.customers.models import Customer
from server.customers.rules import LeadScoring, wait_points, wait_steps
from server.referrals.models import OPEN, WAITING, LeadStatus, LeadTask, Referral
from server.staff.models import Staff

# `open` (created, accepted or met: the worklist), `all`, or one status
StatusFilter = StrEnum("StatusFilter", {"OPEN": "open", "ALL": "all", **{s.name: s.value for s in LeadStatus}})


class WhoFilter(StrEnum):
    MINE = "mine"
    UNASSIGNED = "unassigned"
    ANYONE = "anyone"


class KindFilter(StrEnum):
    CUSTOMER = "customer"  # leads with a known customer
    WALK_IN = "walk_in"    # walk-ins staff raised with a reason (and leads from before customers were required)
    ANY = "any"


class Sort(StrEnum):
    RANK = "rank"
    NEWEST = "newest"


@dataclass(frozen=True)
class LeadQuery:
    status: StatusFilter = StatusFilter.OPEN  # type: ignore[valid-type]
    who: WhoFilter = WhoFilter.ANYONE
    kind: KindFilter = KindFilter.ANY
    reason: str | None = None
    tier: str | None = None
    sort: Sort = Sort.RANK
    limit: int = 100


def rank_expr(now: datetime, scoring: LeadScoring) -> ColumnElement[int]:
    """Standing points plus the waiting points of a lead nobody has met yet (SQL; same table as `rank_of`)."""
    waiting = Referral.status.in_(WAITING)
    whens = [(and_(waiting, Referral.created_at <= now - timedelta(minutes=m)), literal(p))
             for m, p in wait_steps(scoring)]
    return Referral.score + (case(*whens, else_=literal(0)) if whens else literal(0))


def rank_of(lead: Referral, now: datetime, scoring: LeadScoring) -> int:
    if lead.status not in WAITING:
        return lead.score
    return lead.score + wait_points((now - lead.created_at).total_seconds() / 60, scoring)


def list_leads(session: Session, scope: ColumnElement[bool], q: LeadQuery, *, me: int, now: datetime
               ) -> list[dict[str, Any]]:
    """The caller's worklist: filtered, ranked (or newest first), each lead as staff see it."""
    scoring = crm().rules.lead_scoring
    rank = rank_expr(now, scoring).label("rank")
    stmt = select(Referral, Customer).outerjoin(Customer, Customer.id == Referral.customer_id).where(scope)
    if q.status is StatusFilter.OPEN:
        stmt = stmt.where(Referral.status.in_(OPEN))
    elif q.status is not StatusFilter.ALL:
        stmt = stmt.where(Referral.status == LeadStatus(q.status.value))
    if q.who is WhoFilter.MINE:
        stmt = stmt.where(Referral.assigned_to == me)
    elif q.who is WhoFilter.UNASSIGNED:
        stmt = stmt.where(Referral.assigned_to.is_(None))
    if q.kind is KindFilter.CUSTOMER:
        stmt = stmt.where(Referral.customer_id.is_not(None))
    elif q.kind is KindFilter.WALK_IN:
        stmt = stmt.where(Referral.customer_id.is_(None))
    if q.reason:
        stmt = stmt.where(Referral.reason == q.reason)
    if q.tier:
        stmt = stmt.where(Customer.tier == q.tier)
    order = (rank.desc(), Referral.created_at.desc(), Referral.id.desc()) if q.sort is Sort.RANK else (
        Referral.created_at.desc(), Referral.id.desc())
    rows = session.execute(stmt.add_columns(rank).order_by(*order).limit(q.limit)).all()
    return lead_views(session, [(r, c) for r, c, _rank in rows], now)


def lead_views(session: Session, rows: Sequence[tuple[Referral, Customer | None]], now: datetime
               ) -> list[dict[str, Any]]:
    """Leads as staff see them (masked and pseudonymous), with manager names and the next follow-up."""
    scoring = crm().rules.lead_scoring
    ids = [r.id for r, _c in rows]
    people = {x for r, _c in rows for x in (r.assigned_to, r.escalated_to) if x is not None}
    names = dict(session.execute(select(Staff.id, Staff.display_name).where(Staff.id.in_(sorted(people))))
                 .tuples().all()) if people else {}
    tasks: dict[int, tuple[int, datetime]] = {}
    if ids:
        for lead_id, n, due in session.execute(
                select(LeadTask.lead_id, func.count(), func.min(LeadTask.due_at))
                .where(LeadTask.lead_id.in_(ids), LeadTask.done_at.is_(None)).group_by(LeadTask.lead_id)):
            tasks[lead_id] = (n, due)
    return [lead_view(r, c, now=now, scoring=scoring, names=names, tasks=tasks.get(r.id)) for r, c in rows]


def lead_view(r: Referral, c: Customer | None, *, now: datetime, scoring: LeadScoring,
              names: dict[int, str] | None = None, tasks: tuple[int, datetime] | None = None) -> dict[str, Any]:
    names = names or {}
    return {"id": r.id, "branch_id": r.branch_id, "status": r.status, "reason": r.reason, "business": r.business,
            "interest": r.interest, "note": r.note, "walk_in_reason": r.walk_in_reason, "referrer": r.referrer,
            "assigned_to": r.assigned_to, "assigned_name": names.get(r.assigned_to) if r.assigned_to else None,
            "routed": r.routed, "assigned_at": r.assigned_at, "customer_id": r.customer_id,
            "customer_ref": c.ref if c else None, "masked_name": c.masked_name if c else None,
            "tier": c.tier if c else None, "aum_band": c.aum_band if c else None, "visit_id": r.visit_id,
            "score": r.score, "rank": rank_of(r, now, scoring), "created_at": r.created_at,
            "sla_due_at": r.sla_due_at, "accepted_at": r.accepted_at, "met_at": r.met_at, "closed_at": r.closed_at,
            "escalated_at": r.escalated_at, "escalated_to": r.escalated_to, "product": r.product, "value": r.value,
            "outcome": r.outcome, "outcome_note": r.outcome_note,
            "open_tasks": tasks[0] if tasks else 0, "next_task_due": tasks[1] if tasks else None}


def one_view(session: Session, lead: Referral, now: datetime) -> dict[str, Any]:
    c = session.get(Customer, lead.customer_id) if lead.customer_id else None
    return lead_views(session, [(lead, c)], now)[0]


def tasks_of(session: Session, lead_id: int) -> list[LeadTask]:
    return list(session.scalars(select(LeadTask).where(LeadTask.lead_id == lead_id)
                                .order_by(LeadTask.done_at.is_not(None), LeadTask.due_at)))
