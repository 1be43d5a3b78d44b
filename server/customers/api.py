"""Customer 360 API: search, profile, timeline, consents, face enrolment, staff touchpoints, branch KPIs.

Every answer is masked and pseudonymous; every read of customer data is audited.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.customers import profile, service
from server.customers.kpis import branch_kpis
from server.customers.models import ConsentKind, Customer
from server.customers.schemas import (
    BranchKpisOut,
    ConsentRecordedOut,
    ConsentsOut,
    CustomerDetailOut,
    CustomerListOut,
    EnrolledOut,
    ManagerAssignedOut,
    NoteOut,
    NotesOut,
    TimelineOut,
    TouchpointCreatedOut,
)
from server.db import utcnow
from server.errors import Invalid
from server.referrals.models import OPEN, Referral
from server.staff.models import Role
from server.touchpoints.service import record_staff_touchpoint
from server.web.deps import Audit, DbSession, Principal, branch_scope, not_found, require_roles
from server.web.validation import STRICT, BranchId, IntId, Text200, text

router = APIRouter(tags=["customers"])
CRM_ROLES = (Role.CUSTOMER_MANAGER, Role.BRANCH_MANAGER, Role.LOBBY_STAFF, Role.TELLER)
Reader = Annotated[Principal, Depends(require_roles(*CRM_ROLES))]
Manager = Annotated[Principal, Depends(require_roles(Role.CUSTOMER_MANAGER, Role.BRANCH_MANAGER))]
KpiReader = Annotated[Principal, Depends(require_roles(Role.BRANCH_MANAGER, Role.CUSTOMER_MANAGER))]
BranchManager = Annotated[Principal, Depends(require_roles(Role.BRANCH_MANAGER))]


class ConsentIn(BaseModel):
    model_config = STRICT
    kind: ConsentKind
    granted: bool
    text_version: text(40, 1)  # type: ignore[valid-type]
    device_id: text(32) | None = None  # type: ignore[valid-type]


class EnrolIn(BaseModel):
    model_config = STRICT
    embeddings: list[Annotated[list[float], Field(min_length=128, max_length=128)]] = Field(min_length=1,
                                                                                          max_length=5)
    text_version: text(40, 1)  # type: ignore[valid-type]
    device_id: text(32) | None = None  # type: ignore[valid-type]


class NoteIn(BaseModel):
    model_config = STRICT
    body: text(profile.NOTE_MAX, 1)  # type: ignore[valid-type]


class ManagerIn(BaseModel):
    model_config = STRICT
    staff_id: int | None = Field(ge=1, le=2**31 - 1, description="a customer manager of the customer's branch; "
                                                                   "null: nobody")


class TouchpointIn(BaseModel):
    model_config = STRICT
    channel: Literal["counter", "wealth", "vip", "phone", "lobby"]
    type: Literal["conversation", "advice", "complaint", "service"] = "conversation"
    outcome: Literal["ok", "follow_up", "declined"] = "ok"
    note: Text200 | None = None


def load_customer(session: Session, customer_id: int, principal: Principal, audit: Audit, action: str, *,
                  members_only: bool = False) -> Customer:
    """The customer, 404 when missing or outside the caller's branches (the attempt is audited)."""
    c = session.get(Customer, customer_id)
    if c is None:
        raise not_found("customer")
    audit.require_branch(principal, c.branch_id, action=action, object_type="customer", object_id=c.ref,
                         what="customer", members_only=members_only)
    return c


@router.get("/api/customers", response_model=CustomerListOut)
def list_customers(staff: Reader, session: DbSession, audit: Audit,
                   query: Annotated[str | None, Query(max_length=40)] = None,
                   limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
    """Search by masked name (王*明), last 4 phone digits, tier or ref; masked results only."""
    found = service.search(session, scope=staff.scope(Customer.branch_id), query=query, limit=limit)
    audit.record("customer.search", "customer", None, detail={"results": len(found), "query_kind": _kind(query)},
                 branch_id=next(iter(sorted(staff.branch_ids)), None))
    return {"items": [service.customer_view(c) for c in found]}


def _kind(q: str | None) -> str:
    q = (q or "").strip()
    return "none" if not q else "phone_last4" if q.isdigit() else "ref" if q.startswith("c-") else "name_or_tier"


@router.get("/api/customers/{customer_id}", response_model=CustomerDetailOut)
def get_customer(customer_id: IntId, staff: Reader, session: DbSession, audit: Audit) -> dict[str, Any]:
    c = load_customer(session, customer_id, staff, audit, "customer.read")
    audit.record("customer.read", "customer", c.ref, branch_id=c.branch_id)
    open_leads = session.scalars(select(Referral).where(Referral.customer_id == c.id, Referral.status.in_(OPEN)))
    return {**service.customer_view(c), "holdings": profile.HOLDINGS.get(c.aum_band or ""),
            "manager": profile.manager_of(session, c), "usual_business": service.usual_business(session, c.id),
            "recent_visits": service.recent_visits(session, c.id),
            "open_referrals": [{"id": r.id, "status": r.status, "reason": r.reason, "business": r.business,
                                "created_at": r.created_at} for r in open_leads],
            "satisfaction": service.satisfaction(session, c.id)}


@router.get("/api/customers/{customer_id}/notes", response_model=NotesOut)
def get_notes(customer_id: IntId, staff: Reader, session: DbSession, audit: Audit) -> dict[str, Any]:
    """Managers' notes: only the staff of the customer's own branch read them; every read is audited."""
    c = load_customer(session, customer_id, staff, audit, "customer.notes", members_only=True)
    audit.record("customer.notes", "customer", c.ref, branch_id=c.branch_id)
    return {"customer_ref": c.ref, "items": profile.notes_of(session, c.id)}


@router.post("/api/customers/{customer_id}/notes", status_code=201, response_model=NoteOut)
def post_note(customer_id: IntId, body: NoteIn, staff: Manager, session: DbSession, audit: Audit) -> dict[str, Any]:
    """Add a note (numbers in it are masked before it is stored)."""
    c = load_customer(session, customer_id, staff, audit, "customer.note_add", members_only=True)
    note = profile.add_note(session, c, body=body.body, author=staff.id, now=utcnow())
    audit.record("customer.note_add", "customer", c.ref, branch_id=c.branch_id, detail={"note": note.id})
    return {"id": note.id, "body": note.body, "author_id": note.author_id, "author": staff.display_name,
            "created_at": note.created_at}


@router.put("/api/customers/{customer_id}/manager", response_model=ManagerAssignedOut)
def put_manager(customer_id: IntId, body: ManagerIn, staff: BranchManager, session: DbSession,
                audit: Audit) -> dict[str, Any]:
    """Assign the customer's manager (their leads go to them first)."""
    c = load_customer(session, customer_id, staff, audit, "customer.manager")
    before = c.manager_id
    profile.assign_manager(session, c, body.staff_id, utcnow())
    audit.record("customer.manager", "customer", c.ref, branch_id=c.branch_id,
                 detail={"from": before, "to": body.staff_id})
    return {"customer_ref": c.ref, "manager": profile.manager_of(session, c)}


@router.get("/api/customers/{customer_id}/timeline", response_model=TimelineOut)
def get_timeline(customer_id: IntId, staff: Reader, session: DbSession, audit: Audit,
                 limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict[str, Any]:
    c = load_customer(session, customer_id, staff, audit, "customer.timeline")
    audit.record("customer.timeline", "customer", c.ref, branch_id=c.branch_id)
    return {"customer_ref": c.ref, "items": service.timeline(session, c.id, limit=limit)}


@router.get("/api/customers/{customer_id}/consents", response_model=ConsentsOut)
def get_consents(customer_id: IntId, staff: Reader, session: DbSession, audit: Audit) -> dict[str, Any]:
    c = load_customer(session, customer_id, staff, audit, "customer.consents")
    audit.record("customer.consents", "customer", c.ref, branch_id=c.branch_id)
    return {"customer_ref": c.ref, "current": {"face": c.consent_face, "marketing": c.consent_marketing},
            "ledger": [{"id": e.id, "kind": e.kind, "granted": e.granted, "at": e.at, "source": e.source,
                        "text_version": e.text_version, "device_id": e.device_id}
                       for e in service.consents(session, c.id)]}


@router.post("/api/customers/{customer_id}/consents", status_code=201, response_model=ConsentRecordedOut)
def post_consent(customer_id: IntId, body: ConsentIn, staff: Manager, session: DbSession,
                 audit: Audit) -> dict[str, Any]:
    """Record a grant or withdrawal; withdrawing face consent deletes the templates at once."""
    c = load_customer(session, customer_id, staff, audit, "consent.write")
    e = service.record_consent(session, c, kind=body.kind, granted=body.granted, source=staff.actor,
                               text_version=body.text_version, now=utcnow(), device_id=body.device_id)
    return {"id": e.id, "kind": e.kind, "granted": e.granted, "at": e.at,
            "current": {"face": c.consent_face, "marketing": c.consent_marketing}}


@router.post("/api/customers/{customer_id}/face-templates", status_code=201, response_model=EnrolledOut)
def enrol(customer_id: IntId, body: EnrolIn, staff: Manager, session: DbSession, audit: Audit) -> dict[str, Any]:
    """Enrol face embeddings (never images), recording the face consent with text version, time and device."""
    c = load_customer(session, customer_id, staff, audit, "face.enrol")
    ids = service.enrol_face(session, c, body.embeddings, source=staff.actor, text_version=body.text_version,
                             now=utcnow(), device_id=body.device_id)
    return {"templates": len(ids), "consent": {"face": True, "text_version": body.text_version}}


@router.post("/api/customers/{customer_id}/touchpoints", status_code=201,
             response_model=TouchpointCreatedOut)
def add_touchpoint(customer_id: IntId, body: TouchpointIn, staff: Reader, session: DbSession,
                   audit: Audit) -> dict[str, Any]:
    """A contact made by staff (a conversation at the counter, advice in the wealth zone)."""
    c = load_customer(session, customer_id, staff, audit, "touchpoint.create")
    eid = str(uuid.uuid4())
    record_staff_touchpoint(session, event_id=eid, branch_id=c.branch_id, customer_id=c.id,
                            staff_id=staff.id, channel=body.channel, type=body.type, occurred_at=utcnow(),
                            outcome=body.outcome, detail={"note": body.note} if body.note else {})
    audit.record("touchpoint.create", "customer", c.ref, branch_id=c.branch_id, detail={"type": body.type})
    return {"event_id": eid}


@router.get("/api/branches/{branch_id}/kpis", response_model=BranchKpisOut)
def kpis(branch_id: BranchId, staff: KpiReader, session: DbSession,
         from_: Annotated[AwareDatetime | None, Query(alias="from")] = None,
         to: Annotated[AwareDatetime | None, Query()] = None) -> dict[str, Any]:
    """Visits and arrivals, diversion to self-service, referral funnel, CSAT/NPS, identification rate."""
    branch_scope(staff, branch_id, "branch")
    until = to or utcnow()
    since = from_ or until - timedelta(days=1)
    if since >= until or until - since > timedelta(days=400):
        raise Invalid("bad_period", "`from` must be before `to`, at most 400 days apart")
    return branch_kpis(session, branch_id, since, until)

