"""The branch's working calendar (pure): when kiosks issue, when a counter is staffed."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from szconfig import calendar, load_branches
from szconfig.branch import CounterShift
from szconfig.calendar import Closed, OffDuty

B001 = load_branches(Path(__file__).resolve().parents[2] / "configs" / "branches")["b001"]
CST = ZoneInfo("Asia/Shanghai")


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(2026 if y == 0 else y, mo, d, h, mi, tzinfo=CST)


MONDAY = (2026, 12, 7)


def test_kiosks_issue_from_opening_until_the_last_ticket_time() -> None:
    """GIVEN b001 (Mon 08:30-17:00, last ticket 15 min before closing) WHEN asked through the day THEN issuing
    is closed before 08:30 with the opening time, open until 16:45, then closed with tomorrow's opening."""
    early = calendar.issuing(B001, at(*MONDAY, 7, 59))
    assert not early.open and early.closed is Closed.NOT_YET and early.opens_at == at(*MONDAY, 8, 30)
    during = calendar.issuing(B001, at(*MONDAY, 10))
    assert during.open and during.last_ticket_at == at(*MONDAY, 16, 45)
    late = calendar.issuing(B001, at(*MONDAY, 16, 50))
    assert not late.open and late.closed is Closed.LAST_TICKET and late.opens_at == at(2026, 12, 8, 8, 30)
    night = calendar.issuing(B001, at(*MONDAY, 21))
    assert night.closed is Closed.AFTER_CLOSE


def test_a_holiday_is_closed_all_day_and_names_the_next_opening() -> None:
    """GIVEN New Year's Day 2027 configured as a holiday WHEN asked at noon THEN closed as a holiday, with its
    name for the kiosk, and the next opening is the next day's (a Saturday, 09:00)."""
    noon = at(2027, 1, 1, 12)
    status = calendar.issuing(B001, noon)
    assert not status.open and status.closed is Closed.HOLIDAY
    assert status.opens_at == at(2027, 1, 2, 9)
    assert calendar.holiday_name(B001, noon.date()) == ("元旦", "New Year's Day")


def test_counters_take_staggered_lunch_breaks() -> None:
    """GIVEN counter 1 (lunch 11:30-12:30) and counter 2 (12:30-13:30) WHEN asked at 12:00 THEN counter 1 is on
    a break until 12:30 and counter 2 is on duty until its break begins; counter 3 (no shifts) works all day."""
    c1, c2, c3 = (next(c for c in B001.counters if c.number == n) for n in (1, 2, 3))
    noon = at(*MONDAY, 12)
    assert calendar.duty(B001, c1, noon) == calendar.Duty(on=False, off=OffDuty.BREAK, until=at(*MONDAY, 12, 30))
    assert calendar.duty(B001, c2, noon) == calendar.Duty(on=True, until=at(*MONDAY, 12, 30))
    assert calendar.duty(B001, c3, noon).on
    assert calendar.duty(B001, c3, at(*MONDAY, 18)).off is OffDuty.OFF_SHIFT
    assert calendar.duty(B001, c3, at(2027, 1, 1, 12)).off is OffDuty.BRANCH_CLOSED


def test_staffed_minutes_count_the_plan_across_breaks_and_days() -> None:
    """GIVEN counter 1 (08:30-17:00 less an hour's lunch) WHEN its staffed minutes over a Monday are summed
    THEN 7.5 h; over Monday noon to Tuesday 09:00, 4.5 h + 0.5 h."""
    c1 = next(c for c in B001.counters if c.number == 1)
    day = at(*MONDAY, 0)
    assert calendar.staffed_minutes(B001, c1, day, day + timedelta(days=1)) == 450
    assert calendar.staffed_minutes(B001, c1, at(*MONDAY, 12), at(2026, 12, 8, 9)) == 270 + 30


def test_a_break_outside_its_shift_is_refused_with_both_times() -> None:
    """GIVEN a shift 09:00-12:00 WHEN its break is 11:30-12:30 THEN the config error names both ranges."""
    with pytest.raises(ValidationError, match="11:30-12:30 lies outside the shift 09:00-12:00"):
        CounterShift.model_validate({"start": "09:00", "end": "12:00", "breaks": [{"start": "11:30", "end": "12:30"}]})
