"""The teller workstation (`/counter`) and its API: sign in to a counter and out, pause with a reason and resume,
what the counter shows (the next customer and why, the ticket served), the served customer's masked profile with
open leads (audited), and a referral raised from the counter.

Every change goes through the queue's own functions (`calling`, `teller`, `tickets`), under the branch lock, and
is audited like the lobby console's actions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.branches.models import Branch
from server.customers.privacy import scrub
from server.db import utcnow
from server.errors import Conflict, Forbidden, Invalid
from server.outbox.service import enqueue
from server.queueing import board, calling, locks, teller, workstation
from server.queueing.api import QUEUE_ROLES, scoped_ticket
from server.queueing.models import CounterState
from server.queueing.schemas import Bilingual, Reason
from server.queueing.transitions import PauseReason
from server.referrals import service as referrals
from server.referrals.models import Referral
from server.staff.models import Role
from server.web.deps import Audit, DbSession, Principal, known_branch, require_page_roles, require_roles
from server.web.i18n import register_messages
from server.web.pages import NavItem, register_nav, render
from server.web.validation import STRICT, BranchId, IntId, Text200, text
from wire.ids import Ident

router = APIRouter(tags=["queueing"])
QueueStaff = Annotated[Principal, Depends(require_roles(*QUEUE_ROLES))]
QueuePage = Annotated[Principal, Depends(require_page_roles(*QUEUE_ROLES))]
CounterNo = Annotated[int, IntId]
LOBBY_ROLES = (Role.LOBBY_STAFF, Role.BRANCH_MANAGER, Role.ADMIN)


class PauseIn(BaseModel):
    model_config = STRICT
    reason: PauseReason = Field(description="lunch, meeting, system_fault or other")
    note: text(100) | None = None  # type: ignore[valid-type]


class ReferIn(BaseModel):
    model_config = STRICT
    interest: Ident | None = Field(default=None, description="the product line, e.g. wealth")
    note: Text200 | None = None


class SeatOut(BaseModel):
    """A counter after a sign-in, sign-out, pause or resume."""

    branch: str
    counter: int
    state: str = Field(description="open, paused or closed")
    teller: str | None
    pause_reason: PauseReason | None = None


class NextOut(BaseModel):
    """Who the calling policy would call at the counter now, and why."""

    id: int
    ticket: str
    business: str
    business_name: Bilingual
    priority: str
    waited_min: float
    reason: Reason


class ServingOut(BaseModel):
    """The ticket the counter serves (no customer data: that is GET /api/tickets/{id}/customer, audited)."""

    id: int
    ticket: str
    business: str
    business_name: Bilingual
    status: str
    priority: str
    tier: str
    elderly: bool
    called: str | None = Field(description="HH:MM in the branch's time zone")
    calls: int
    reasons: list[Reason] = Field(description="why it was routed here")
    call_reason: Reason | None = Field(description="why it was called now")
    identified: bool = Field(description="a card or a recognised visit: a customer may be known")


class ParkedOut(BaseModel):
    id: int
    ticket: str
    business: str


class BusinessOut(BaseModel):
    code: str
    name: Bilingual


class MyCounterOut(BaseModel):
    """The counter the caller is signed in at (`signed_in: false` and nothing else when none)."""

    signed_in: bool
    branch: str | None = None
    branch_name: Bilingual | None = None
    counter: int | None = None
    state: str | None = Field(default=None, description="open, paused or closed")
    zone: str | None = None
    channel: str | None = None
    skills: list[str] = Field(default_factory=list)
    teller: str | None = None
    signed_in_at: datetime | None = None
    pause_reason: PauseReason | None = None
    pause_note: str | None = None
    paused_at: str | None = Field(default=None, description="HH:MM in the branch's time zone")
    next: NextOut | None = None
    current: ServingOut | None = None
    parked: list[ParkedOut] = Field(default_factory=list, description="tickets parked from this counter")
    businesses: list[BusinessOut] = Field(default_factory=list, description="where a ticket may be transferred")
    counters: list[int] = Field(default_factory=list, description="the branch's other counters")


class LeadBriefOut(BaseModel):
    id: int
    status: str
    reason: str
    business: str | None
    interest: str | None
    assigned_name: str | None
    created_at: datetime


class CustomerCardOut(BaseModel):
    """Masked and pseudonymous: what a teller sees of the customer they serve."""

    id: int
    ref: str
    masked_name: str
    tier: str
    tags: list[str]
    elderly: bool
    language: str
    leads: list[LeadBriefOut] = Field(description="the customer's open referral leads, newest first")


class TicketCustomerOut(BaseModel):
    ticket_id: int
    identified: bool = Field(description="the customer is known (possibly of another branch: then no card)")
    customer: CustomerCardOut | None


class ReferOut(BaseModel):
    lead_id: int
    status: str
    interest: str | None


def _seat(row: CounterState) -> dict[str, Any]:
    return {"branch": row.branch_id, "counter": row.number, "state": row.state.value, "teller": row.teller_name,
            "pause_reason": row.pause_reason}


def _changed(session: Session, branch_id: str) -> None:
    now = utcnow()
    enqueue(session, [board.board_row(session, locks.branch_config(session, branch_id), now)])


# --- API ---------------------------------------------------------------------------------------

@router.post("/api/branches/{branch_id}/counters/{counter}/sign-in", response_model=SeatOut)
def sign_in(branch_id: BranchId, counter: CounterNo, staff: QueueStaff, session: DbSession,
            audit: Audit) -> dict[str, Any]:
    """Sign in at a counter: it is yours (and open) until you sign out; one counter per person, one person per
    counter."""
    known_branch(session, staff, branch_id)
    row = teller.sign_in(session, branch_id=branch_id, counter=counter, staff_id=staff.id,
                         staff_name=staff.display_name, now=utcnow())
    _changed(session, branch_id)
    audit.record("queue.counter_sign_in", "counter", counter, branch_id=branch_id)
    return _seat(row)


@router.post("/api/branches/{branch_id}/counters/{counter}/sign-out", response_model=SeatOut)
def sign_out(branch_id: BranchId, counter: CounterNo, staff: QueueStaff, session: DbSession,
             audit: Audit) -> dict[str, Any]:
    """Leave the counter (it closes). A teller signs out of their own counter; lobby staff and managers may sign
    anyone out of any counter of the branch."""
    known_branch(session, staff, branch_id)
    teller.own_counter(session, role=staff.role, staff_id=staff.id, branch_id=branch_id, counter=counter)
    row = teller.sign_out(session, branch_id=branch_id, counter=counter, now=utcnow(), actor=staff.actor)
    _changed(session, branch_id)
    audit.record("queue.counter_sign_out", "counter", counter, branch_id=branch_id)
    return _seat(row)


@router.post("/api/branches/{branch_id}/counters/{counter}/pause", response_model=SeatOut)
def pause(branch_id: BranchId, counter: CounterNo, body: PauseIn, staff: QueueStaff, session: DbSession,
          audit: Audit) -> dict[str, Any]:
    """The counter stops serving for a while, with the reason; the board shows it paused."""
    known_branch(session, staff, branch_id)
    teller.own_counter(session, role=staff.role, staff_id=staff.id, branch_id=branch_id, counter=counter)
    note = scrub(body.note.strip())[:100] or None if body.note else None  # staff text: numbers masked anyway
    row = calling.pause(session, branch_id=branch_id, counter=counter, reason=body.reason, note=note,
                        now=utcnow(), actor=staff.actor)
    _changed(session, branch_id)
    audit.record("queue.counter_pause", "counter", counter, branch_id=branch_id,
                 detail={"reason": body.reason.value})
    return _seat(row)


@router.post("/api/branches/{branch_id}/counters/{counter}/resume", response_model=SeatOut)
def resume(branch_id: BranchId, counter: CounterNo, staff: QueueStaff, session: DbSession,
           audit: Audit) -> dict[str, Any]:
    """A paused counter serves again."""
    known_branch(session, staff, branch_id)
    teller.own_counter(session, role=staff.role, staff_id=staff.id, branch_id=branch_id, counter=counter)
    row = calling.resume(session, branch_id=branch_id, counter=counter, now=utcnow(), actor=staff.actor)
    _changed(session, branch_id)
    audit.record("queue.counter_resume", "counter", counter, branch_id=branch_id)
    return _seat(row)


@router.get("/api/me/counter", response_model=MyCounterOut, response_model_exclude_unset=True)
def my_counter(staff: QueueStaff, session: DbSession) -> dict[str, Any]:
    """The counter you are signed in at: its state, who the policy calls next and why, the ticket you serve, the
    tickets parked from it (no customer data: see GET /api/tickets/{id}/customer)."""
    row = teller.counter_of(session, staff.id)
    if row is None:
        return {"signed_in": False}
    return {"signed_in": True, **workstation.counter_view(session, row, utcnow())}


@router.get("/api/tickets/{ticket_id}/customer", response_model=TicketCustomerOut)
def ticket_customer(ticket_id: IntId, staff: QueueStaff, session: DbSession, audit: Audit) -> dict[str, Any]:
    """The customer behind a ticket, masked (name, tier, tags), with their open referral leads; audited as a read
    of customer data. A teller reads only the customer at their own counter."""
    t = scoped_ticket(session, staff, ticket_id)
    teller.own_ticket(session, role=staff.role, staff_id=staff.id, ticket=t)
    c = workstation.customer_of(session, t)
    if c is None:
        return {"ticket_id": t.id, "identified": False, "customer": None}
    if not staff.can_see(c.branch_id):  # a customer of another branch: only that they are known
        audit.record("customer.read", "customer", c.ref, outcome="denied",
                     detail={"via": "counter", "ticket_id": t.id, "reason": "outside the caller's branches"})
        return {"ticket_id": t.id, "identified": True, "customer": None}
    audit.record("customer.read", "customer", c.ref, branch_id=c.branch_id,
                 detail={"via": "counter", "ticket_id": t.id})
    return {"ticket_id": t.id, "identified": True, "customer": workstation.customer_card(session, c, utcnow())}


@router.post("/api/tickets/{ticket_id}/refer", status_code=201, response_model=ReferOut)
def refer(ticket_id: IntId, body: ReferIn, staff: QueueStaff, session: DbSession, audit: Audit) -> dict[str, Any]:
    """Refer the customer behind the ticket to a customer manager (a lead of the referrals service)."""
    t = scoped_ticket(session, staff, ticket_id)
    teller.own_ticket(session, role=staff.role, staff_id=staff.id, ticket=t)
    c = workstation.customer_of(session, t)
    if c is None:
        raise Invalid("customer_unknown", "this ticket's customer is not identified; refer a walk-in from the "
                                          "leads page with a reason")
    if not staff.can_see(c.branch_id):
        raise Forbidden("customer_elsewhere", "this customer belongs to another branch")
    now = utcnow()
    rows = referrals.create_leads(session, [{
        "branch_id": t.branch_id, "customer_id": c.id, "visit_id": t.visit_id, "reason": "staff_referral",
        "business": t.business, "interest": body.interest, "note": body.note, "referrer": staff.actor,
        "referrer_staff_id": staff.id}], now)
    if not rows:
        raise Conflict("already_referred", "this customer already has a lead for this today")
    enqueue(session, rows)
    lead = session.get(Referral, rows[0].data.lead_id)
    assert lead is not None
    audit.record("referral.create", "referral", lead.id, branch_id=lead.branch_id,
                 detail={"customer": c.ref, "ticket_id": t.id, "via": "counter"})
    return {"lead_id": lead.id, "status": lead.status, "interest": lead.interest}


# --- the page ----------------------------------------------------------------------------------

@router.get("/counter", include_in_schema=False)
def counter_page(staff: QueuePage, session: DbSession, request: Request) -> Response:
    """Signed in: the workstation (drawn by counter.js from the API). Else: the counters of your branches to sign
    in to, with who is at each."""
    row = teller.counter_of(session, staff.id)
    if row is not None:
        return render(request, "counter.html", {"row": row, "reasons": [r.value for r in PauseReason]})
    branches = list(session.scalars(select(Branch.id).where(staff.scope(Branch.id)).order_by(Branch.id)))
    choices = []
    for b in branches:
        cfg = locks.branch_config(session, b)
        seats = {r.number: r for r in session.scalars(select(CounterState).where(CounterState.branch_id == b))}
        choices.append({"branch": b, "name": cfg.name, "counters": [
            {"number": c.number, "zone": c.zone, "state": seat.state.value if seat else "closed",
             "teller": seat.teller_name if seat else None}
            for c in cfg.counters for seat in [seats.get(c.number)]]})
    return render(request, "counter.html", {"row": None, "choices": choices})


def setup(app: FastAPI) -> None:
    register_nav(NavItem("nav.counter", "/counter", frozenset(QUEUE_ROLES), order=15))
    register_messages(MESSAGES)


MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "nav.counter": "Counter", "counter.title": "Teller workstation", "counter.sign_in": "Sign in",
        "counter.sign_in_help": "Choose your counter. One teller, one counter at a time.",
        "counter.sign_out": "Sign out", "counter.counter": "Counter", "counter.taken": "taken by {name}",
        "counter.state.open": "open", "counter.state.paused": "paused", "counter.state.closed": "closed",
        "counter.next": "Next customer", "counter.nobody": "Nobody is waiting for this counter.",
        "counter.call_next": "Call next", "counter.finish": "Finish", "counter.recall": "Recall",
        "counter.no_show": "No-show", "counter.park": "Park", "counter.transfer": "Transfer",
        "counter.to_business": "to business", "counter.to_counter": "to counter", "counter.refer": "Refer",
        "counter.refer_note": "Note for the customer manager (optional)", "counter.referred": "Referral raised.",
        "counter.serving": "Now serving", "counter.idle": "No customer at the counter.",
        "counter.why_next": "Why this customer next", "counter.why_called": "Why called",
        "counter.routing": "Routing", "counter.customer": "Customer", "counter.tier": "Tier",
        "counter.tags": "Tags", "counter.leads": "Open referral leads", "counter.no_leads": "No open leads.",
        "counter.anonymous": "Not identified (no card or face match).",
        "counter.elsewhere": "Known customer of another branch.", "counter.waited": "waited {n} min",
        "counter.pause": "Pause", "counter.resume": "Resume", "counter.pause_note": "Note (optional)",
        "counter.paused_since": "Paused since {at}: {reason}",
        "counter.parked": "Parked here", "counter.shortcuts": "Keys: N call next · F finish",
        "counter.pause.lunch": "Lunch", "counter.pause.meeting": "Meeting",
        "counter.pause.system_fault": "System fault", "counter.pause.other": "Other",
        "counter.elderly": "elderly", "counter.calls": "called {n}×",
        "counter.tier.standard": "standard", "counter.tier.gold": "gold", "counter.tier.vip": "VIP",
        "counter.tier.private": "private banking", "counter.lead.created": "new", "counter.lead.accepted": "accepted",
        "counter.lead.met": "met", "counter.none": "None.",
    },
    "zh-CN": {
        "nav.counter": "柜员工作台", "counter.title": "柜员工作台", "counter.sign_in": "签到",
        "counter.sign_in_help": "请选择您的窗口。一位柜员同一时间只能在一个窗口签到。",
        "counter.sign_out": "签退", "counter.counter": "窗口", "counter.taken": "{name} 已签到",
        "counter.state.open": "服务中", "counter.state.paused": "暂停", "counter.state.closed": "已关闭",
        "counter.next": "下一位客户", "counter.nobody": "暂无等候本窗口的客户。",
        "counter.call_next": "叫下一位", "counter.finish": "办结", "counter.recall": "重呼",
        "counter.no_show": "过号", "counter.park": "挂起", "counter.transfer": "转移",
        "counter.to_business": "转业务", "counter.to_counter": "转窗口", "counter.refer": "推荐商机",
        "counter.refer_note": "给客户经理的备注（可选）", "counter.referred": "已推荐商机。",
        "counter.serving": "正在办理", "counter.idle": "窗口暂无客户。",
        "counter.why_next": "为何下一位是他", "counter.why_called": "叫号原因",
        "counter.routing": "分流原因", "counter.customer": "客户", "counter.tier": "等级",
        "counter.tags": "标签", "counter.leads": "进行中的商机", "counter.no_leads": "暂无进行中的商机。",
        "counter.anonymous": "未识别（未刷卡，也未人脸识别）。",
        "counter.elsewhere": "其他网点的已知客户。", "counter.waited": "已等候 {n} 分钟",
        "counter.pause": "暂停服务", "counter.resume": "恢复服务", "counter.pause_note": "备注（可选）",
        "counter.paused_since": "{at} 起暂停：{reason}",
        "counter.parked": "本窗口挂起的号", "counter.shortcuts": "快捷键：N 叫下一位 · F 办结",
        "counter.pause.lunch": "午餐", "counter.pause.meeting": "会议",
        "counter.pause.system_fault": "系统故障", "counter.pause.other": "其他",
        "counter.elderly": "长者", "counter.calls": "已叫 {n} 次",
        "counter.tier.standard": "普通", "counter.tier.gold": "金卡", "counter.tier.vip": "贵宾",
        "counter.tier.private": "私人银行", "counter.lead.created": "新建", "counter.lead.accepted": "已受理",
        "counter.lead.met": "已面谈", "counter.none": "无。",
    },
}
