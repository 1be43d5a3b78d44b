"""Tickets as the customer sees them, and the hub's reply read tolerantly.

Today the hub answers a ticket request with `{"accepted": true}`; the queueing issue adds
`number` (or `ticket`), `people_ahead`, `wait_min` (or `estimated_wait_min`), `priority` and
`status_url` (the public ticket page, `/t/<token>`). Every field is
optional here: what is missing is shown as unknown or filled from the kiosk's own range.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

NUMBER_KEYS = ("number", "ticket_number", "ticket")
AHEAD_KEYS = ("people_ahead", "ahead", "waiting_ahead")
WAIT_KEYS = ("wait_min", "estimated_wait_min", "estimate_min")


@dataclass(frozen=True, slots=True)
class Ticket:
    request_id: str
    business: str
    number: str
    provisional: bool = False
    people_ahead: int | None = None
    wait_min: int | None = None
    priority: bool = False
    elderly: bool = False
    printed: bool | None = None  # None: not tried yet
    status_path: str | None = None  # the hub's public ticket page, e.g. /t/<token>

    def with_printed(self, ok: bool) -> Ticket:
        return replace(self, printed=ok)


@dataclass(frozen=True, slots=True)
class ReplyInfo:
    """What a `reply` to a ticket request tells us; every field may be absent."""

    ok: bool
    number: str | None = None
    people_ahead: int | None = None
    wait_min: int | None = None
    priority: bool | None = None
    error: str | None = None
    status_path: str | None = None


def _first(data: dict[str, Any], keys: tuple[str, ...]) -> Any:
    return next((data[k] for k in keys if data.get(k) is not None), None)


def _int(value: Any) -> int | None:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    return n if n >= 0 else None


def read_reply(status: str, data: dict[str, Any] | None, error: str | None = None) -> ReplyInfo:
    """Interpret a reply's data; unknown or malformed fields become None rather than errors."""
    data = data or {}
    if status != "ok" or data.get("accepted") is False:
        return ReplyInfo(ok=False, error=error or str(data.get("reason") or "refused"))
    number = _first(data, NUMBER_KEYS)
    number = str(number).strip()[:16] if number is not None and str(number).strip() else None
    priority = data.get("priority")
    path = data.get("status_url")
    status_path = path if isinstance(path, str) and path.startswith("/t/") and len(path) <= 200 else None
    return ReplyInfo(ok=True, number=number, people_ahead=_int(_first(data, AHEAD_KEYS)),
                     wait_min=_int(_first(data, WAIT_KEYS)),
                     priority=bool(priority) if priority is not None else None, status_path=status_path)
