"""Appointment services: book, cancel, list a day, check in (the issuing path), mark no-shows.

Keyword-only functions taking a session; the caller owns the transaction. A booking takes the branch's queue
lock, so two desks never book the last place of a slot twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.appointments import rules
from server.appointments.models import Appointment, AppointmentStatus
from server.customers.models import Customer
from server.customers.service import resolve_hashes
from server.errors import Conflict, DomainError, Invalid, NotFound
from server.queueing.locks import branch_config, lock_branch
from szconfig import calendar
from szconfig.branch import BranchConfig
from wire.messages import RefusalCode

HELD = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)  # statuses that take a place in a slot


def book(session: Session, *, branch_id: str, business: str, slot_at: datetime, now: datetime, actor: str,
         customer_ref: str | None = None, phone_last4: str | None = None, site: str = "centre") -> Appointment:
    """Book a place in a slot for a customer (by ref) or a phone's last four digits. Raises DomainError.
    `site`: who books (`centre`, or a branch's `edge`): its half of the codes (`rules.new_code`)."""
    if not customer_ref and not phone_last4:
        raise Invalid("customer_required", "give the customer's ref or the phone's last four digits")
    cfg = branch_config(session, branch_id)
    rules.check_bookable(cfg, business, slot_at, now)
    if customer_ref:
        customer = session.scalar(select(Customer).where(Customer.ref == customer_ref))
        if customer is None:
            raise NotFound("customer_not_found", f"no customer {customer_ref}")
        phone_last4 = phone_last4 or customer.phone_last4
    lock_branch(session, branch_id, now)
    taken = session.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.branch_id == branch_id, Appointment.business == business, Appointment.slot_at == slot_at,
        Appointment.status.in_(HELD)))
    if taken >= cfg.appointments.capacity_per_slot:
        local = calendar.local(cfg, slot_at)
        raise Conflict("slot_full", f"the {local:%Y-%m-%d %H:%M} slot for {business} is full "
                                    f"({cfg.appointments.capacity_per_slot} places); choose another")
    for _attempt in range(5):
        a = Appointment(branch_id=branch_id, code=rules.new_code(site), business=business, slot_at=slot_at,
                        customer_ref=customer_ref, phone_last4=phone_last4, status=AppointmentStatus.BOOKED,
                        created_at=now, created_by=actor, updated_at=now, uid=str(uuid.uuid4()), rev=1,
                        synced_rev=0)
        try:
            with session.begin_nested():
                session.add(a)
                session.flush()
            return a
        except IntegrityError:  # the code is taken in this branch: draw another
            continue
    raise Conflict("code_unavailable", "could not draw a free appointment code; try again")


def cancel(session: Session, *, appointment: Appointment, now: datetime) -> Appointment:
    if appointment.status is not AppointmentStatus.BOOKED:
        raise Conflict("not_booked", f"the appointment is {appointment.status.value}; only a booked one is cancelled")
    appointment.status, appointment.updated_at = AppointmentStatus.CANCELLED, now
    appointment.rev += 1
    return appointment


def day_list(session: Session, *, cfg: BranchConfig, start: datetime, end: datetime) -> list[Appointment]:
    return list(session.scalars(select(Appointment).where(
        Appointment.branch_id == cfg.id, Appointment.slot_at >= start, Appointment.slot_at < end)
        .order_by(Appointment.slot_at, Appointment.business, Appointment.id)))


def taken_by_slot(session: Session, *, branch_id: str, start: datetime, end: datetime
                  ) -> dict[tuple[str, datetime], int]:
    rows = session.execute(select(Appointment.business, Appointment.slot_at, func.count()).where(
        Appointment.branch_id == branch_id, Appointment.slot_at >= start, Appointment.slot_at < end,
        Appointment.status.in_(HELD)).group_by(Appointment.business, Appointment.slot_at))
    return {(b, at): n for b, at, n in rows}


def counts(session: Session, *, branch_id: str, start: datetime, end: datetime) -> dict[str, int]:
    """Appointments per status with slots in [start, end): the no-shows are counted here."""
    rows = session.execute(select(Appointment.status, func.count()).where(
        Appointment.branch_id == branch_id, Appointment.slot_at >= start, Appointment.slot_at < end)
        .group_by(Appointment.status))
    out = {s.value: 0 for s in AppointmentStatus}
    out.update({AppointmentStatus(s).value: n for s, n in rows})
    return out


# --- check-in (the issuing path) -------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CheckIn:
    """A ticket request's claim to an appointment: by code, or by phone last four plus a card's keyed hash."""

    branch_id: str
    code: str | None = None
    phone_last4: str | None = None
    card_hash: str | None = None


class AppointmentRefused(Conflict):
    """A check-in the hub refuses: `code` is one of RefusalCode's appointment_* values."""


def _refuse(code: RefusalCode, message: str) -> AppointmentRefused:
    return AppointmentRefused(code.value, message)


def find_for_check_in(session: Session, claims: Sequence[CheckIn], cfgs: dict[str, BranchConfig], now: datetime
                      ) -> list[Appointment | DomainError]:
    """Each claim's appointment, valid now (this branch, within its window, not used), or why not.

    Reads all claims' candidates in two queries; never changes anything (`checked_in` does)."""
    codes = {(c.branch_id, c.code) for c in claims if c.code}
    by_code: dict[tuple[str, str], Appointment] = {}
    if codes:
        found = session.scalars(select(Appointment).where(
            Appointment.branch_id.in_(sorted({b for b, _ in codes})),
            Appointment.code.in_(sorted({c for _, c in codes}))))
        by_code = {(a.branch_id, a.code): a for a in found}
    cards = resolve_hashes(session, [c.card_hash for c in claims if c.phone_last4 and c.card_hash])
    refs = dict(session.execute(select(Customer.id, Customer.ref).where(Customer.id.in_(set(cards.values())))).all()
                ) if cards else {}
    phones = {(c.branch_id, c.phone_last4) for c in claims if c.phone_last4 and c.card_hash in cards}
    by_phone: dict[tuple[str, str], list[Appointment]] = {}
    if phones:
        day = timedelta(days=1)
        found = session.scalars(select(Appointment).where(
            Appointment.branch_id.in_(sorted({b for b, _ in phones})),
            Appointment.phone_last4.in_(sorted({p for _, p in phones})),
            Appointment.slot_at >= now - day, Appointment.slot_at < now + day).order_by(Appointment.slot_at))
        for a in found:
            by_phone.setdefault((a.branch_id, a.phone_last4 or ""), []).append(a)
    out: list[Appointment | DomainError] = []
    for c in claims:
        cfg = cfgs[c.branch_id]
        if c.code:
            a = by_code.get((c.branch_id, c.code))
            out.append(_valid(cfg, a, now) if a else _refuse(
                RefusalCode.APPOINTMENT_UNKNOWN, f"no appointment {c.code} at this branch"))
            continue
        ref = refs.get(cards.get(c.card_hash or "", -1))
        candidates = [a for a in by_phone.get((c.branch_id, c.phone_last4 or ""), [])
                      if a.customer_ref in (None, ref)] if ref else []
        if not candidates:
            out.append(_refuse(RefusalCode.APPOINTMENT_UNKNOWN,
                               "no appointment for this phone number and card at this branch"))
            continue
        usable = [a for a in candidates if not isinstance(_valid(cfg, a, now), DomainError)]
        out.append(usable[0] if usable else _valid(cfg, min(candidates, key=lambda a: abs(a.slot_at - now)), now))
    return out


def _valid(cfg: BranchConfig, a: Appointment, now: datetime) -> Appointment | DomainError:
    local = calendar.local(cfg, a.slot_at)
    if a.status is AppointmentStatus.CHECKED_IN:
        return _refuse(RefusalCode.APPOINTMENT_USED, f"appointment {a.code} was already checked in")
    if a.status is not AppointmentStatus.BOOKED:
        return _refuse(RefusalCode.APPOINTMENT_EXPIRED, f"appointment {a.code} is {a.status.value}")
    late = rules.on_time(cfg, a.slot_at, now)
    if late is RefusalCode.APPOINTMENT_EARLY:
        opens = calendar.local(cfg, rules.window(cfg, a.slot_at)[0])
        return _refuse(late, f"appointment {a.code} is at {local:%Y-%m-%d %H:%M}; check-in opens at {opens:%H:%M}")
    if late is RefusalCode.APPOINTMENT_EXPIRED:
        return _refuse(late, f"appointment {a.code} was at {local:%Y-%m-%d %H:%M}; its check-in window has closed")
    return a


def checked_in(session: Session, *, appointment_id: int, ticket_id: int, now: datetime) -> None:
    session.execute(update(Appointment).where(Appointment.id == appointment_id).values(
        status=AppointmentStatus.CHECKED_IN, ticket_id=ticket_id, updated_at=now, rev=Appointment.rev + 1))


# --- no-shows ----------------------------------------------------------------------------------------

def mark_no_shows(session: Session, *, now: datetime, cfgs: dict[str, BranchConfig]) -> int:
    """Booked appointments whose check-in window has closed become no_show."""
    stale = session.scalars(select(Appointment).where(
        Appointment.status == AppointmentStatus.BOOKED, Appointment.slot_at < now,
        Appointment.branch_id.in_(sorted(cfgs))))
    n = 0
    for a in stale:
        if a.slot_at + timedelta(minutes=cfgs[a.branch_id].appointments.late_min) < now:
            a.status, a.updated_at = AppointmentStatus.NO_SHOW, now
            a.rev += 1
            n += 1
    return n
