"""Appointments HTTP API and console page: book a slot (customer ref or phone last four), list a day, cancel."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import AwareDatetime, BaseModel, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.appointments import rules, service
from server.appointments.models import Appointment, AppointmentStatus
from server.branches.models import Branch
from server.db import utcnow
from server.queueing.locks import branch_config
from server.staff.models import Role
from server.web.deps import (
    Audit,
    DbSession,
    Principal,
    branch_scope,
    known_branch,
    not_found,
    require_page_roles,
    require_roles,
)
from server.web.i18n import register_messages, translate
from server.web.pages import NavItem, add_template_dir, register_nav, render, request_locale
from server.web.validation import STRICT, BranchId, IntId
from szconfig import calendar
from szconfig.branch import BranchConfig
from wire.ids import Ident

router = APIRouter(tags=["appointments"])
HERE = Path(__file__).parent
ROLES = (Role.LOBBY_STAFF, Role.TELLER, Role.BRANCH_MANAGER)
Staff = Annotated[Principal, Depends(require_roles(*ROLES))]
Page = Annotated[Principal, Depends(require_page_roles(*ROLES))]


class AppointmentIn(BaseModel):
    """A booking: the business, the slot's start and who (a customer ref, or a phone's last four digits)."""

    model_config = STRICT
    business: Ident
    slot_at: AwareDatetime = Field(description="the slot's start (see GET …/appointments for the free slots)")
    customer_ref: Annotated[str, StringConstraints(pattern=r"^c-[0-9a-f]{16}$")] | None = None
    phone_last4: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")] | None = None


class AppointmentOut(BaseModel):
    id: int
    code: str = Field(description="typed at the kiosk, or shown as the QR code SZAPPT:<code>:<business>")
    branch_id: str
    business: str
    slot_at: datetime
    status: AppointmentStatus
    customer_ref: str | None = None
    phone_last4: str | None = None
    ticket_id: int | None = None


class SlotOut(BaseModel):
    business: str
    at: datetime
    taken: int
    capacity: int


class DayOut(BaseModel):
    branch_id: str
    day: date
    open: bool = Field(description="false: closed all day (holiday or no hours)")
    holiday: dict[str, str] | None = None
    appointments: list[AppointmentOut]
    slots: list[SlotOut]
    counts: dict[str, int] = Field(description="appointments per status that day (no_show: the no-shows)")


def _out(a: Appointment) -> dict[str, Any]:
    return {"id": a.id, "code": a.code, "branch_id": a.branch_id, "business": a.business, "slot_at": a.slot_at,
            "status": a.status, "customer_ref": a.customer_ref, "phone_last4": a.phone_last4,
            "ticket_id": a.ticket_id}


def _branch(session: Session, staff: Principal, branch_id: str) -> BranchConfig:
    known_branch(session, staff, branch_id)
    return branch_config(session, branch_id)


def day_view(session: Session, cfg: BranchConfig, day: date) -> dict[str, Any]:
    tz = ZoneInfo(cfg.timezone)
    start = datetime.combine(day, time(), tz)
    end = start + timedelta(days=1)
    taken = service.taken_by_slot(session, branch_id=cfg.id, start=start, end=end)
    holiday = calendar.holiday_name(cfg, day)
    cap = cfg.appointments.capacity_per_slot
    return {"branch_id": cfg.id, "day": day, "open": calendar.hours_on(cfg, day) is not None,
            "holiday": {"zh": holiday[0], "en": holiday[1]} if holiday else None,
            "appointments": [_out(a) for a in service.day_list(session, cfg=cfg, start=start, end=end)],
            "slots": [{"business": b, "at": at, "taken": taken.get((b, at), 0), "capacity": cap}
                      for at in rules.slots(cfg, day) for b in cfg.appointments.businesses],
            "counts": service.counts(session, branch_id=cfg.id, start=start, end=end)}


@router.get("/api/branches/{branch_id}/appointments", response_model=DayOut)
def list_day(branch_id: BranchId, staff: Staff, session: DbSession, day: date | None = None) -> dict[str, Any]:
    """A day's appointments (default: today in the branch's time zone), its slots with places taken, and the
    count per status (no-shows included)."""
    cfg = _branch(session, staff, branch_id)
    return day_view(session, cfg, day or calendar.local(cfg, utcnow()).date())


@router.post("/api/branches/{branch_id}/appointments", status_code=201, response_model=AppointmentOut)
def book(branch_id: BranchId, body: AppointmentIn, staff: Staff, session: DbSession, audit: Audit,
         request: Request) -> dict[str, Any]:
    """Book a place in a slot, at the centre (head office, call centre) or at the branch's edge (its lobby
    console, also while the link is down): each travels to the other (docs/queueing.md#appointments-and-the-edge).
    409 slot_full / closed_day / slot_past; 422 unknown_business / not_a_slot / beyond_horizon /
    customer_required; 404 customer_not_found."""
    _branch(session, staff, branch_id)
    role = getattr(request.app.state.settings, "role", "all")
    a = service.book(session, branch_id=branch_id, business=body.business, slot_at=body.slot_at, now=utcnow(),
                     actor=staff.actor, customer_ref=body.customer_ref, phone_last4=body.phone_last4,
                     site="edge" if role == "edge" else "centre")
    audit.record("appointment.book", "appointment", a.id, branch_id=branch_id,
                 detail={"business": a.business, "slot_at": a.slot_at.isoformat()})
    return _out(a)


@router.post("/api/appointments/{appointment_id}/cancel", response_model=AppointmentOut)
def cancel(appointment_id: IntId, staff: Staff, session: DbSession, audit: Audit) -> dict[str, Any]:
    a = session.get(Appointment, appointment_id)
    if a is None:
        raise not_found("appointment")
    branch_scope(staff, a.branch_id, "appointment")
    service.cancel(session, appointment=a, now=utcnow())
    audit.record("appointment.cancel", "appointment", a.id, branch_id=a.branch_id)
    return _out(a)


# --- page --------------------------------------------------------------------------------------------

@router.get("/appointments", include_in_schema=False)
def appointments_home(staff: Page, session: DbSession) -> Response:
    first = session.scalar(select(Branch.id).where(staff.scope(Branch.id)).order_by(Branch.id))
    return RedirectResponse(f"/branches/{first}/appointments" if first else "/", status_code=303)


@router.get("/branches/{branch_id}/appointments", include_in_schema=False)
def appointments_page(branch_id: BranchId, staff: Page, session: DbSession, request: Request,
                      day: Annotated[date | None, Query()] = None) -> Response:
    cfg = _branch(session, staff, branch_id)
    today = calendar.local(cfg, utcnow()).date()
    day = day or today
    zh = request_locale(request, staff) == "zh-CN"
    names = {b.code: (b.name.zh if zh else b.name.en) for b in cfg.business_types}
    view = day_view(session, cfg, day)
    days = [today + timedelta(days=k) for k in range(cfg.appointments.horizon_days + 1)]
    locale = request_locale(request, staff)
    errors = {code: translate(locale, f"appt.err.{code}") for code in ERROR_CODES}
    return render(request, "appointments.html", {
        "branch": cfg, "branch_id": branch_id, "day": day, "days": days, "v": view, "names": names,
        "tz": ZoneInfo(cfg.timezone), "now": utcnow(), "errors": errors})


ERROR_CODES = ("slot_full", "closed_day", "slot_past", "not_a_slot", "beyond_horizon", "customer_required",
               "customer_not_found", "unknown_business")


def setup(app: FastAPI) -> None:
    add_template_dir(HERE / "templates")
    app.mount("/static/appointments", StaticFiles(directory=HERE / "static"), name="appointments-static")
    register_nav(NavItem("nav.appointments", "/appointments", frozenset(ROLES), order=25))
    register_messages(MESSAGES)


MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "nav.appointments": "Appointments", "appt.title": "Appointments", "appt.book": "Book an appointment",
        "appt.customer_ref": "Customer ref (c-…)", "appt.phone_last4": "or phone's last four digits",
        "appt.business": "Business", "appt.day": "Day", "appt.slot": "Time slot", "appt.submit": "Book",
        "appt.booked": "Booked: code {code}", "appt.code": "Code", "appt.time": "Time",
        "appt.who": "Customer", "appt.status": "Status", "appt.ticket": "Ticket", "appt.cancel": "Cancel",
        "appt.none": "No appointments this day.", "appt.closed_day": "The branch is closed this day.",
        "appt.no_shows": "No-shows",
        "appt.checked_in": "Checked in", "appt.booked_n": "Booked", "appt.cancelled": "Cancelled",
        "appt.show": "Show", "appt.window": "Check-in at a kiosk from {early} min before until {late} min after "
                                            "the slot starts, with the code or the phone's last four digits "
                                            "and the customer's card.",
        "appt.status.booked": "booked", "appt.status.checked_in": "checked in", "appt.status.no_show": "no-show",
        "appt.status.cancelled": "cancelled",
        "appt.err.slot_full": "This slot is full: choose another time.",
        "appt.err.closed_day": "The branch is closed that day.",
        "appt.err.slot_past": "That slot has already started.",
        "appt.err.not_a_slot": "Choose one of the listed time slots.",
        "appt.err.beyond_horizon": "That day is too far ahead to book.",
        "appt.err.customer_required": "Give the customer's ref or the phone's last four digits.",
        "appt.err.customer_not_found": "No customer with this ref.",
        "appt.err.unknown_business": "This business takes no appointments here.",
    },
    "zh-CN": {
        "nav.appointments": "预约", "appt.title": "预约管理", "appt.book": "新建预约",
        "appt.customer_ref": "客户编号（c-…）", "appt.phone_last4": "或手机尾号后四位",
        "appt.business": "业务", "appt.day": "日期", "appt.slot": "时段", "appt.submit": "预约",
        "appt.booked": "预约成功：预约码 {code}", "appt.code": "预约码", "appt.time": "时间",
        "appt.who": "客户", "appt.status": "状态", "appt.ticket": "号码", "appt.cancel": "取消",
        "appt.none": "当天暂无预约。", "appt.closed_day": "网点当天不营业。",
        "appt.no_shows": "爽约",
        "appt.checked_in": "已签到", "appt.booked_n": "已预约", "appt.cancelled": "已取消",
        "appt.show": "查看",
        "appt.window": ("客户可在时段开始前 {early} 分钟至开始后 {late} 分钟内，在自助终端凭预约码，"
                        "或手机尾号加本人银行卡签到。"),
        "appt.status.booked": "已预约", "appt.status.checked_in": "已签到", "appt.status.no_show": "爽约",
        "appt.status.cancelled": "已取消",
        "appt.err.slot_full": "该时段已约满，请选择其他时间。",
        "appt.err.closed_day": "网点当天不营业。",
        "appt.err.slot_past": "该时段已开始。",
        "appt.err.not_a_slot": "请从列出的时段中选择。",
        "appt.err.beyond_horizon": "该日期超出可预约范围。",
        "appt.err.customer_required": "请填写客户编号或手机尾号后四位。",
        "appt.err.customer_not_found": "未找到该客户编号。",
        "appt.err.unknown_business": "该业务在本网点不接受预约。",
    },
}
