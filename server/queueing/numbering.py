"""Ticket numbers and the service day (pure): numbers reset at the branch's opening time, in its time zone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def opening_time(hours: Sequence[object], day: date) -> time | None:
    """The opening time on `day` (objects with `weekday` and `open`), or None when closed."""
    name = WEEKDAYS[day.weekday()]
    return next((h.open for h in hours if str(getattr(h, "weekday", "")) == name), None)  # type: ignore[attr-defined]


def service_day(now: datetime, timezone: str, hours: Sequence[object]) -> date:
    """The day whose numbers are handed out at `now`: before today's opening, yesterday's still run.

    A day the branch is closed starts its numbering at local midnight.
    """
    local = now.astimezone(ZoneInfo(timezone))
    opens = opening_time(hours, local.date())
    if opens is not None and local.time() < opens:
        return local.date() - timedelta(days=1)
    return local.date()


def format_number(prefix: str, n: int) -> str:
    """A012: the prefix and at least three digits."""
    return f"{prefix}{n:03d}"
