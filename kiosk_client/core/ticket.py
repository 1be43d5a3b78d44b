"""Tickets as the customer sees them: from the hub's `ticket_reply`, or provisional from the kiosk's range."""

from __future__ import annotations

from dataclasses import dataclass, replace

from wire.messages import IssuedTicket


@dataclass(frozen=True, slots=True)
class Ticket:
    request_id: str
    business: str
    number: str
    provisional: bool = False
    people_ahead: int | None = None
    wait_estimate_min: int | None = None  # whole minutes, the hub's median estimate; None: unknown
    priority: bool = False
    elderly: bool = False
    printed: bool | None = None  # None: not tried yet
    status_path: str | None = None  # the hub's public ticket page, e.g. /t/<token>

    def with_printed(self, ok: bool) -> Ticket:
        return replace(self, printed=ok)

    @classmethod
    def issued(cls, request_id: str, t: IssuedTicket, *, priority: bool = False, elderly: bool = False) -> Ticket:
        """The hub's ticket: its number, place, median wait estimate and status page."""
        wait = round(t.wait_p50_min) if t.wait_p50_min is not None else None
        return cls(request_id=request_id, business=t.business, number=t.number, people_ahead=t.people_ahead,
                   wait_estimate_min=wait, priority=t.priority or priority, elderly=elderly,
                   status_path=t.status_url)
