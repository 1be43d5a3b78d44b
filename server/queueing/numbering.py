"""Ticket numbers and the service day (pure): numbers reset when the day's first ticket may be issued."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def opening_time(hours: Sequence[object], day: date) -> time | None:
    """The opening time on `day` (objects with `weekday` and `open`), or None when closed."""
    name = WEEKDAYS[day.weekday()]
    return next((h.open for h in hours if str(getattr(h, "weekday", "")) == name), None)  # type: ignore[attr-defined]


def service_day(now: datetime, timezone: str, hours: Sequence[object], early_min: int = 0) -> date:
    """The day whose numbers are handed out at `now`: a day's numbering starts when its first ticket may be issued
    (opening less `early_min`, the branch's issue_before_open_min); before that, yesterday's still runs.

    A day the branch is closed starts its numbering at local midnight.
    """
    local = now.astimezone(ZoneInfo(timezone))
    opens = opening_time(hours, local.date())
    if opens is not None:
        starts = datetime.combine(local.date(), opens, local.tzinfo) - timedelta(minutes=early_min)
        if local < starts and starts.date() == local.date():
            return local.date() - timedelta(days=1)
    return local.date()


def format_number(prefix: str, n: int) -> str:
    """A012: the prefix and at least three digits."""
    return f"{prefix}{n:03d}"
