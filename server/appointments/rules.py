"""Appointment rules, pure: the day's slots, what may be booked, and whether a check-in is on time.

No database, no clock of its own: every function takes the branch config and `now`, like szconfig.calendar.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

from server.errors import Conflict, Invalid
from szconfig import calendar
from szconfig.branch import BranchConfig
from wire.messages import RefusalCode

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no O/0, I/1: read aloud and typed on a keypad
CODE_LENGTH = 6


# Who books draws from its own half of the codes, so a booking made at the centre and one made at the branch's
# edge while the link is down never share a code (a code is unique per branch, and the kiosk looks it up there).
FIRST_CHARS = {"centre": "ABCDEFGHJKLMNPQRSTUVWXYZ", "edge": "23456789"}


def new_code(site: str = "centre") -> str:
    """A fresh code: its first character says which site booked it (centre: a letter, edge: a digit)."""
    return secrets.choice(FIRST_CHARS[site]) + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH - 1))


def slots(cfg: BranchConfig, day: date) -> list[datetime]:
    """The starts of the day's bookable slots: from opening, every slot_min, each ending by closing."""
    hours = calendar.hours_on(cfg, day)
    if hours is None:
        return []
    step = timedelta(minutes=cfg.appointments.slot_min)
    start, close = calendar.at(cfg, day, hours[0]), calendar.at(cfg, day, hours[1])
    out = []
    while start + step <= close:
        out.append(start)
        start += step
    return out


def check_bookable(cfg: BranchConfig, business: str, slot_at: datetime, now: datetime) -> None:
    """Raise a DomainError unless `slot_at` is a slot of a bookable business, in the future and the horizon."""
    if business not in cfg.appointments.businesses:
        raise Invalid("unknown_business", f"business {business!r} takes no appointments in {cfg.id}; "
                                          f"one of {list(cfg.appointments.businesses)}")
    day = calendar.local(cfg, slot_at).date()
    if calendar.hours_on(cfg, day) is None:
        name = calendar.holiday_name(cfg, day)
        raise Conflict("closed_day", f"{cfg.id} is closed on {day.isoformat()}"
                                     + (f" ({name[1]})" if name else ""))
    if slot_at not in slots(cfg, day):
        raise Invalid("not_a_slot", f"{calendar.local(cfg, slot_at):%Y-%m-%d %H:%M} is not a slot start in "
                                    f"{cfg.id} (every {cfg.appointments.slot_min} min within opening hours)")
    if slot_at <= now:
        raise Conflict("slot_past", "that slot has already started")
    horizon = calendar.local(cfg, now).date() + timedelta(days=cfg.appointments.horizon_days)
    if day > horizon:
        raise Invalid("beyond_horizon", f"appointments can be booked up to {cfg.appointments.horizon_days} days "
                                        f"ahead (until {horizon.isoformat()})")


def window(cfg: BranchConfig, slot_at: datetime) -> tuple[datetime, datetime]:
    """When a kiosk may check in: early_min before the slot until late_min after it."""
    a = cfg.appointments
    return slot_at - timedelta(minutes=a.early_min), slot_at + timedelta(minutes=a.late_min)


def on_time(cfg: BranchConfig, slot_at: datetime, now: datetime) -> RefusalCode | None:
    """None when `now` is within the check-in window; else appointment_early or appointment_expired."""
    opens, closes = window(cfg, slot_at)
    if now < opens:
        return RefusalCode.APPOINTMENT_EARLY
    if now > closes:
        return RefusalCode.APPOINTMENT_EXPIRED
    return None
