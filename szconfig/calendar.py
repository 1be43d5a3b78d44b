"""The branch's working calendar, pure: when kiosks issue tickets and when a counter is staffed.

Kiosks (offline too), the hub and the estimates all ask the same questions of the same branch file, so the
answers live here, beside the model, with no clock of their own: every function takes `now` (aware).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from szconfig.branch import BranchConfig, Counter, CounterShift, Weekday

WEEKDAYS = list(Weekday)  # Monday first, as date.weekday() counts
LOOKAHEAD_DAYS = 31  # how far `next opening` looks: a month of holidays is the longest closure planned
MIDNIGHT_END = time.max  # `close = 23:59:59.999999` means open until midnight (24:00)


class Closed(StrEnum):
    """Why kiosks do not issue now."""

    HOLIDAY = "holiday"  # a configured holiday
    NOT_TODAY = "not_today"  # no opening hours on this weekday
    NOT_YET = "not_yet"  # before today's opening (less issue_before_open_min)
    LAST_TICKET = "last_ticket"  # past today's last ticket time (closing less last_ticket_before_close_min)
    AFTER_CLOSE = "after_close"  # past today's closing


@dataclass(frozen=True, slots=True)
class Issuing:
    """Whether a kiosk may issue a ticket now; if not, why and when it may again."""

    open: bool
    closed: Closed | None = None
    opens_at: datetime | None = None  # the next time issuing starts (None: nothing within LOOKAHEAD_DAYS)
    last_ticket_at: datetime | None = None  # today's last ticket time while open


class OffDuty(StrEnum):
    """Why a counter is not staffed now."""

    BRANCH_CLOSED = "branch_closed"
    OFF_SHIFT = "off_shift"
    BREAK = "break"


@dataclass(frozen=True, slots=True)
class Duty:
    """Whether a counter is staffed at a moment by the plan (the console may pause it besides)."""

    on: bool
    off: OffDuty | None = None
    until: datetime | None = None  # when this state ends today (None: not today)


def local(cfg: BranchConfig, now: datetime) -> datetime:
    return now.astimezone(ZoneInfo(cfg.timezone))


def hours_on(cfg: BranchConfig, day: date) -> tuple[time, time] | None:
    """(open, close) of the branch on `day`, or None when it is closed all day (holiday, or no hours)."""
    if any(h.date == day for h in cfg.day.holidays):
        return None
    name = WEEKDAYS[day.weekday()]
    return next(((h.open, h.close) for h in cfg.hours if h.weekday == name), None)


def _at(cfg: BranchConfig, day: date, t: time) -> datetime:
    """`t` on `day`, local; a close of 23:59:59.999999 (TOML cannot say 24:00) is the next midnight."""
    if t == MIDNIGHT_END:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(cfg.timezone))
    return datetime.combine(day, t, tzinfo=ZoneInfo(cfg.timezone))


def at(cfg: BranchConfig, day: date, t: time) -> datetime:
    """`t` on `day` in the branch's time zone (23:59:59.999999: the next midnight)."""
    return _at(cfg, day, t)


def _issuing_window(cfg: BranchConfig, day: date) -> tuple[datetime, datetime] | None:
    hours = hours_on(cfg, day)
    if hours is None:
        return None
    start = _at(cfg, day, hours[0]) - timedelta(minutes=cfg.day.issue_before_open_min)
    end = _at(cfg, day, hours[1]) - timedelta(minutes=cfg.day.last_ticket_before_close_min)
    return start, end


def issuing(cfg: BranchConfig, now: datetime) -> Issuing:
    """May a kiosk issue at `now`? The window runs from opening (less issue_before_open_min) to closing less
    last_ticket_before_close_min; holidays and days without hours are closed."""
    today = local(cfg, now).date()
    window = _issuing_window(cfg, today)
    if window is not None and window[0] <= now < window[1]:
        return Issuing(open=True, last_ticket_at=window[1])
    if window is None:
        closed = Closed.HOLIDAY if any(h.date == today for h in cfg.day.holidays) else Closed.NOT_TODAY
    elif now < window[0]:
        closed = Closed.NOT_YET
    else:
        close = _at(cfg, today, hours_on(cfg, today)[1])  # type: ignore[index]
        closed = Closed.LAST_TICKET if now < close else Closed.AFTER_CLOSE
    return Issuing(open=False, closed=closed, opens_at=next_issuing(cfg, now))


def next_issuing(cfg: BranchConfig, now: datetime) -> datetime | None:
    """The next moment at or after `now` when issuing starts, within LOOKAHEAD_DAYS."""
    today = local(cfg, now).date()
    for k in range(LOOKAHEAD_DAYS + 1):
        window = _issuing_window(cfg, today + timedelta(days=k))
        if window is not None and window[0] >= now:
            return window[0]
    return None


def holiday_name(cfg: BranchConfig, day: date) -> tuple[str, str] | None:
    """(zh, en) name of the holiday on `day`, if it is one."""
    found = next((h for h in cfg.day.holidays if h.date == day), None)
    return (found.name.zh, found.name.en) if found else None


def shifts_of(counter: Counter, day: date, cfg: BranchConfig) -> list[CounterShift]:
    """The counter's shifts on `day`: its own, or one shift through the branch's hours when it has none."""
    hours = hours_on(cfg, day)
    if hours is None:
        return []
    name = WEEKDAYS[day.weekday()]
    own = [s for s in counter.shifts if not s.weekdays or name in s.weekdays]
    if counter.shifts:
        return own
    return [CounterShift(start=hours[0], end=hours[1])]


def duty(cfg: BranchConfig, counter: Counter, now: datetime) -> Duty:
    """Is `counter` staffed at `now` by the plan: within a shift of a day the branch is open, outside breaks."""
    day = local(cfg, now).date()
    hours = hours_on(cfg, day)
    if hours is None:
        return Duty(on=False, off=OffDuty.BRANCH_CLOSED)
    for shift in shifts_of(counter, day, cfg):
        start, end = _at(cfg, day, shift.start), _at(cfg, day, shift.end)
        if not start <= now < end:
            continue
        for b in shift.breaks:
            b_start, b_end = _at(cfg, day, b.start), _at(cfg, day, b.end)
            if b_start <= now < b_end:
                return Duty(on=False, off=OffDuty.BREAK, until=b_end)
        upcoming = [_at(cfg, day, b.start) for b in shift.breaks if _at(cfg, day, b.start) > now]
        return Duty(on=True, until=min([end, *upcoming]))
    later = [_at(cfg, day, s.start) for s in shifts_of(counter, day, cfg) if _at(cfg, day, s.start) > now]
    return Duty(on=False, off=OffDuty.OFF_SHIFT, until=min(later) if later else None)


def staffed_minutes(cfg: BranchConfig, counter: Counter, start: datetime, end: datetime) -> float:
    """Planned staffed minutes of `counter` between start and end (what the estimates can count on)."""
    total, t = 0.0, start
    while t < end:
        d = duty(cfg, counter, t)
        midnight = _at(cfg, local(cfg, t).date() + timedelta(days=1), time(0))
        step_end = min(d.until or midnight, end)  # no change later today: look again at the next local midnight
        if d.on:
            total += (step_end - t).total_seconds() / 60
        t = step_end
    return total


def around_the_clock(cfg: BranchConfig) -> BranchConfig:
    """The branch open 00:00-24:00 every day, no holidays, counters staffed throughout: the demo's and the
    tests' branches, so that they behave the same at any hour (`smartzone demo --real-hours` keeps the file's)."""
    data = cfg.model_dump()
    data["hours"] = [{"weekday": w, "open": time(0), "close": MIDNIGHT_END} for w in WEEKDAYS]
    data["day"] = {**data["day"], "holidays": [], "issue_before_open_min": 0, "last_ticket_before_close_min": 0}
    for c in data["counters"]:
        c["shifts"] = []
    return BranchConfig.model_validate(data)
