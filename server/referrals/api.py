"""Referral leads API: list, refer by hand, accept / meet / convert / decline (audited, live on the console)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.customers.config import crm
from server.customers.models import Customer
from server.customers.rules import LeadReason
from server.db import utcnow
from server.errors import Conflict
from server.outbox.service import enqueue
from server.referrals import service
from server.referrals.models import LeadStatus, Referral
from server.referrals.schemas import LeadListOut, LeadOut
from server.staff.models import Role
from server.touchpoints.service import record_staff_touchpoint
from server.web.deps import Audit, DbSession, Principal, not_found, require_roles
from server.web.validation import STRICT, IntId, Text200, text
from server.webhooks.service import enqueue as webhook
from wire.ids import Ident

router = APIRouter(tags=["referrals"])
LeadStaff = Annotated[Principal, Depends(require_roles(Role.CUSTOMER_MANAGER, Role.BRANCH_MANAGER))]
Referrer = Annotated[Principal, Depends(require_roles(Role.CUSTOMER_MANAGER, Role.BRANCH_MANAGER, Role.TELLER,
                                                      Role.LOBBY_STAFF))]


class ReferralIn(BaseModel):
    model_config = STRICT
    customer_id: int = Field(ge=1, le=2**31 - 1)
    business: Ident | None = None
    note: Text200 | None = None


class ConvertIn(BaseModel):
    model_config = STRICT
    product: text(64, 1)  # type: ignore[valid-type]
    value: float = Field(ge=0, le=1e12)


def lead_view(r: Referral, c: Customer | None) -> dict[str, Any]:
    return {"id": r.id, "branch_id": r.branch_id, "status": r.status, "reason": r.reason, "business": r.business,
            "note": r.note, "referrer": r.referrer, "assigned_to": r.assigned_to, "customer_id": r.customer_id,
            "customer_ref": c.ref if c else None, "masked_name": c.masked_name if c else None,
            "tier": c.tier if c else None, "visit_id": r.visit_id, "created_at": r.created_at,
            "sla_due_at": r.sla_due_at, "accepted_at": r.accepted_at, "met_at": r.met_at, "closed_at": r.closed_at,
            "escalated_at": r.escalated_at, "escalated_to": r.escalated_to, "product": r.product, "value": r.value}


def list_leads(session: Session, principal: Principal, status: str | None, limit: int = 100) -> list[dict[str, Any]]:
    stmt = select(Referral, Customer).outerjoin(Customer, Customer.id == Referral.customer_id).where(
        principal.scope(Referral.branch_id))
    if status:
        stmt = stmt.where(Referral.status == status)
    rows = session.execute(stmt.order_by(Referral.id.desc()).limit(limit)).all()
    return [lead_view(r, c) for r, c in rows]


@router.get("/api/referrals", response_model=LeadListOut)
def referrals(staff: LeadStaff, session: DbSession, audit: Audit,
              status: Annotated[LeadStatus | None, Query()] = None,
              limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict[str, Any]:
    items = list_leads(session, staff, status.value if status else None, limit)
    audit.record("referral.list", "referral", None, branch_id=next(iter(sorted(staff.branch_ids)), None),
                 detail={"results": len(items)})
    return {"items": items}


@router.post("/api/referrals", status_code=201, response_model=LeadOut)
def refer(body: ReferralIn, staff: Referrer, session: DbSession, audit: Audit, request: Request) -> dict[str, Any]:
    """Refer a customer to a customer manager by hand (one lead per customer visit)."""
    c = session.get(Customer, body.customer_id)
    if c is None:
        raise not_found("customer")
    audit.require_branch(staff, c.branch_id, action="referral.create", object_type="customer", object_id=c.ref,
                         what="customer")
    now = utcnow()
    visit = service.open_visit_of(session, c.id, c.branch_id)
    rows = service.create_leads(session, [{
        "branch_id": c.branch_id, "customer_id": c.id, "visit_id": visit, "reason": LeadReason.STAFF_REFERRAL.value,
        "business": body.business, "note": body.note, "referrer": staff.actor, "referrer_staff_id": staff.id}], now)
    if not rows:
        raise Conflict("already_referred", "this customer's visit already has a lead; see GET /api/referrals")
    enqueue(session, rows)
    lead = session.get(Referral, rows[0].data.lead_id)
    assert lead is not None
    audit.record("referral.create", "referral", lead.id, branch_id=lead.branch_id, detail={"customer": c.ref})
    request.app.state.events.publish("crm.lead", lead_view(lead, c), branch_id=lead.branch_id)
    return lead_view(lead, c)


def _act(action: str, lead_id: int, staff: Principal, session: Session, audit: Audit, request: Request,
         **kw: Any) -> dict[str, Any]:
    lead = session.get(Referral, lead_id)
    if lead is None:
        raise not_found("referral")
    audit.require_branch(staff, lead.branch_id, action=f"referral.{action}", object_type="referral",
                         object_id=lead.id, what="referral")
    service.transition(session, lead, action, now=utcnow(), staff_id=staff.id, **kw)
    c = session.get(Customer, lead.customer_id) if lead.customer_id else None
    if c is not None and action in ("meet", "convert"):
        record_staff_touchpoint(session, event_id=str(uuid.uuid4()), branch_id=lead.branch_id, customer_id=c.id,
                                staff_id=staff.id, channel="wealth", type=f"lead_{action}", occurred_at=utcnow(),
                                visit_id=lead.visit_id, detail={"lead_id": lead.id, **({"product": kw["product"]}
                                                                                      if "product" in kw else {})})
    audit.record(f"referral.{action}", "referral", lead.id, branch_id=lead.branch_id,
                 detail={k: v for k, v in kw.items() if k in ("product", "value")})
    view = lead_view(lead, c)
    if crm().settings.webhook_url:
        webhook(session, [(f"lead:{lead.id}:{lead.status}", f"lead.{lead.status}", lead.branch_id,
                           {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in view.items()})], utcnow())
    request.app.state.events.publish("crm.lead", view, branch_id=lead.branch_id)
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
    return _act("convert", lead_id, staff, session, audit, request, product=body.product, value=body.value)


@router.post("/api/referrals/{lead_id}/decline", response_model=LeadOut)
def decline(lead_id: IntId, staff: LeadStaff, session: DbSession, audit: Audit, request: Request) -> dict[str, Any]:
    return _act("decline", lead_id, staff, session, audit, request)
