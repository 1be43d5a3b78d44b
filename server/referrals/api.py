"""Referral leads API: the ranked worklist, refer by hand (a customer, or a walk-in with a reason), reassign,
accept / meet / convert / decline with an outcome, follow-up tasks (audited, live on the console)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy.orm import Session

from server.customers.config import crm
from server.customers.models import Customer
from server.customers.rules import LeadReason
from server.db import utcnow
from server.errors import Conflict, Invalid
from server.outbox.service import enqueue, outbox_row
from server.referrals import service
from server.referrals.models import DECLINE_OUTCOMES, Outcome, Referral
from server.referrals.schemas import LeadDetailOut, LeadListOut, LeadOut, TaskOut
from server.referrals.views import KindFilter, LeadQuery, Sort, StatusFilter, WhoFilter, list_leads, one_view, tasks_of
from server.staff.models import Role
from server.touchpoints.service import record_staff_touchpoint
from server.web.deps import Audit, DbSession, Principal, not_found, require_roles
from server.web.validation import STRICT, BranchId, IntId, Text200, text
from server.webhooks.service import enqueue as webhook
from wire.ids import Ident

router = APIRouter(tags=["referrals"])
LeadStaff = Annotated[Principal, Depends(require_roles(Role.CUSTOMER_MANAGER, Role.BRANCH_MANAGER))]
Referrer = Annotated[Principal, Depends(require_roles(Role.CUSTOMER_MANAGER, Role.BRANCH_MANAGER, Role.TELLER,
                                                      Role.LOBBY_STAFF))]


class ReferralIn(BaseModel):
    """A referral by hand: a known customer, or a walk-in (no customer record) with the reason it is worth it."""

    model_config = STRICT
    customer_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    walk_in: bool = Field(default=False, description="no customer record: `walk_in_reason` must say why")
    walk_in_reason: text(200) | None = None  # type: ignore[valid-type]
    branch_id: BranchId | None = Field(default=None, description="for a walk-in, when the caller has several")
    business: Ident | None = None
    interest: Ident | None = Field(default=None, description="the product line, e.g. wealth")
    note: Text200 | None = None


class ConvertIn(BaseModel):
    model_config = STRICT
    product: text(64, 1)  # type: ignore[valid-type]
    value: float = Field(ge=0, le=1e12)
    note: Text200 | None = None


class DeclineIn(BaseModel):
    model_config = STRICT
    outcome: Outcome = Field(default=Outcome.OTHER, description="why nothing came of it")
    note: Text200 | None = None


class AssignIn(BaseModel):
    model_config = STRICT
    staff_id: int = Field(ge=1, le=2**31 - 1, description="an active customer or branch manager of the branch")


class TaskIn(BaseModel):
    model_config = STRICT
    due_at: AwareDatetime
    note: text(200, 1)  # type: ignore[valid-type]


@router.get("/api/referrals", response_model=LeadListOut)
def referrals(staff: LeadStaff, session: DbSession, audit: Audit,
              status: Annotated[StatusFilter, Query(description="open (default), all, or one status")]
              = StatusFilter.OPEN,
              who: Annotated[WhoFilter, Query(description="mine, unassigned or anyone")] = WhoFilter.ANYONE,
              kind: Annotated[KindFilter, Query(description="customer, walk_in or any")] = KindFilter.ANY,
              reason: Annotated[LeadReason | None, Query()] = None,
              tier: Annotated[str | None, Query(pattern="^(standard|gold|vip|private)$")] = None,
              sort: Annotated[Sort, Query(description="rank (default) or newest")] = Sort.RANK,
              limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict[str, Any]:
    """The worklist: open leads ranked by score and waiting, filtered."""
    q = LeadQuery(status, who, kind, reason.value if reason else None, tier, sort, limit)
    items = list_leads(session, staff.scope(Referral.branch_id), q, me=staff.id, now=utcnow())
    audit.record("referral.list", "referral", None, branch_id=next(iter(sorted(staff.branch_ids)), None),
                 detail={"results": len(items), "status": status.value})
    return {"items": items}


@router.get("/api/referrals/{lead_id}", response_model=LeadDetailOut)
def referral(lead_id: IntId, staff: LeadStaff, session: DbSession, audit: Audit) -> dict[str, Any]:
    """One lead with its follow-ups."""
    lead = _load(session, lead_id, staff, audit, "referral.read")
    audit.record("referral.read", "referral", lead.id, branch_id=lead.branch_id)
    return {**one_view(session, lead, utcnow()), "tasks": tasks_of(session, lead.id)}


@router.post("/api/referrals", status_code=201, response_model=LeadOut)
def refer(body: ReferralIn, staff: Referrer, session: DbSession, audit: Audit, request: Request) -> dict[str, Any]:
    """Refer a customer (one lead per customer, interest and day; repeating a rule's lead credits the referrer),
    or a walk-in with a reason."""
    now = utcnow()
    cand: dict[str, Any] = {"reason": LeadReason.STAFF_REFERRAL.value, "business": body.business,
                            "interest": body.interest, "note": body.note, "referrer": staff.actor,
                            "referrer_staff_id": staff.id}
    ref = None
    if body.customer_id is not None:
        c = session.get(Customer, body.customer_id)
        if c is None:
            raise not_found("customer")
        ref = c.ref
        audit.require_branch(staff, c.branch_id, action="referral.create", object_type="customer", object_id=c.ref,
                             what="customer")
        cand.update(branch_id=c.branch_id, customer_id=c.id, visit_id=service.open_visit_of(session, c.id, c.branch_id))
    else:
        if not body.walk_in:
            raise Invalid("customer_required", "a lead needs a customer (customer_id); for someone without a "
                                               "customer record send walk_in: true with walk_in_reason")
        if not (body.walk_in_reason or "").strip():
            raise Invalid("walk_in_reason_required", "say why this walk-in is worth a manager's time "
                                                     "(walk_in_reason)")
        branch = body.branch_id or (next(iter(staff.branch_ids)) if len(staff.branch_ids) == 1 else None)
        if branch is None:
            raise Invalid("branch_required", "you work in several branches: say which (branch_id)")
        audit.require_branch(staff, branch, action="referral.create", object_type="branch", object_id=branch,
                             what="branch")
        cand.update(branch_id=branch, walk_in_reason=body.walk_in_reason.strip())  # type: ignore[union-attr]
    rows = service.create_leads(session, [cand], now)
    if not rows:
        raise Conflict("already_referred", "this customer already has a lead for this today; see GET /api/referrals")
    enqueue(session, rows)
    lead = session.get(Referral, rows[0].data.lead_id)
    assert lead is not None
    audit.record("referral.create", "referral", lead.id, branch_id=lead.branch_id,
                 detail={"customer": ref, "walk_in": lead.customer_id is None})
    return _publish(session, request, lead, now)


def _load(session: Session, lead_id: int, staff: Principal, audit: Audit, action: str) -> Referral:
    lead = session.get(Referral, lead_id)
    if lead is None:
        raise not_found("referral")
    audit.require_branch(staff, lead.branch_id, action=action, object_type="referral", object_id=lead.id,
                         what="referral")
    return lead


def _publish(session: Session, request: Request, lead: Referral, now: datetime) -> dict[str, Any]:
    """Tell the branch's consoles (the same JSON as the API's answer) and return the view."""
    view = one_view(session, lead, now)
    request.app.state.events.publish("crm.lead", LeadOut.model_validate(view).model_dump(mode="json"),
                                     branch_id=lead.branch_id)
    return view


def _act(action: str, lead_id: int, staff: Principal, session: Session, audit: Audit, request: Request,
         **kw: Any) -> dict[str, Any]:
    lead = _load(session, lead_id, staff, audit, f"referral.{action}")
    now = utcnow()
    service.transition(session, lead, action, now=now, staff_id=staff.id, **kw)
    c = session.get(Customer, lead.customer_id) if lead.customer_id else None
    if c is not None and action in ("meet", "convert"):
        record_staff_touchpoint(session, event_id=str(uuid.uuid4()), branch_id=lead.branch_id, customer_id=c.id,
                                staff_id=staff.id, channel="wealth", type=f"lead_{action}", occurred_at=now,
                                visit_id=lead.visit_id, detail={"lead_id": lead.id, **({"product": kw["product"]}
                                                                                      if "product" in kw else {})})
    audit.record(f"referral.{action}", "referral", lead.id, branch_id=lead.branch_id,
                 detail={k: str(v) for k, v in kw.items() if k in ("product", "value", "outcome")})
    view = _publish(session, request, lead, now)
    if crm().settings.webhook_url:
        webhook(session, [(f"lead:{lead.id}:{lead.status}", f"lead.{lead.status}", lead.branch_id,
                           {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in view.items()})], now)
    return view


@router.post("/api/referrals/{lead_id}/accept", response_model=LeadOut)
def accept(lead_id: IntId, staff: LeadStaff, session: DbSession, audit: Audit, request: Request) -> dict[str, Any]:
    return _act("accept", lead_id, staff, session, audit, request)


@router.post("/api/referrals/{lead_id}/meet", response_model=LeadOut)
def meet(lead_id: IntId, staff: LeadStaff, session: DbSession, audit: Audit, request: Request) -> dict[str, Any]:
    return _act("meet", lead_id, staff, session, audit, request)


@router.post("/api/referrals/{lead_id}/convert", response_model=LeadOut)
def convert(lead_id: IntId, body: ConvertIn, staff: LeadStaff, session: DbSession, audit: Audit,
            request: Request) -> dict[str, Any]:
    return _act("convert", lead_id, staff, session, audit, request, product=body.product, value=body.value,
                note=body.note)


@router.post("/api/referrals/{lead_id}/decline", response_model=LeadOut)
def decline(lead_id: IntId, staff: LeadStaff, session: DbSession, audit: Audit, request: Request,
            body: DeclineIn | None = None) -> dict[str, Any]:
    """Close a lead nothing came of, saying why (not interested, no contact, already served, not eligible)."""
    body = body or DeclineIn()
    if body.outcome not in DECLINE_OUTCOMES:
        raise Invalid("bad_outcome", f"a declined lead's outcome is one of {', '.join(DECLINE_OUTCOMES)}")
    return _act("decline", lead_id, staff, session, audit, request, outcome=body.outcome, note=body.note)


@router.post("/api/referrals/{lead_id}/assign", response_model=LeadOut)
def assign(lead_id: IntId, body: AssignIn, staff: LeadStaff, session: DbSession, audit: Audit,
           request: Request) -> dict[str, Any]:
    """Hand a lead to another manager of its branch (a customer manager: only their own or an unassigned one)."""
    lead = _load(session, lead_id, staff, audit, "referral.assign")
    before, now = lead.assigned_to, utcnow()
    service.reassign(session, lead, to=body.staff_id, by=staff.id, by_role=staff.role, now=now)
    c = session.get(Customer, lead.customer_id) if lead.customer_id else None
    enqueue(session, [outbox_row(branch_id=lead.branch_id, now=now,
                                 data=service.lead_message(lead, c))])
    audit.record("referral.assign", "referral", lead.id, branch_id=lead.branch_id,
                 detail={"from": before, "to": body.staff_id})
    return _publish(session, request, lead, now)


@router.post("/api/referrals/{lead_id}/tasks", status_code=201, response_model=TaskOut)
def add_task(lead_id: IntId, body: TaskIn, staff: LeadStaff, session: DbSession, audit: Audit,
             request: Request) -> Any:
    """A follow-up (call back, send documents, meet again) with a due time; numbers in the note are masked."""
    lead = _load(session, lead_id, staff, audit, "referral.task")
    now = utcnow()
    task = service.add_task(session, lead, due_at=body.due_at, note=body.note, by=staff.id, now=now)
    audit.record("referral.task", "referral", lead.id, branch_id=lead.branch_id, detail={"task": task.id})
    _publish(session, request, lead, now)
    return task


@router.post("/api/referrals/{lead_id}/tasks/{task_id}/done", response_model=TaskOut)
def task_done(lead_id: IntId, task_id: IntId, staff: LeadStaff, session: DbSession, audit: Audit,
              request: Request) -> Any:
    lead = _load(session, lead_id, staff, audit, "referral.task_done")
    now = utcnow()
    task = service.complete_task(session, lead, task_id, by=staff.id, now=now)
    audit.record("referral.task_done", "referral", lead.id, branch_id=lead.branch_id, detail={"task": task.id})
    _publish(session, request, lead, now)
    return task
