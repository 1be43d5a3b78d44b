"""Tickets as the customer sees them: from the hub's `ticket_reply`, or provisional from the kiosk's range."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from wire.messages import IssuedTicket


class PriorityKind(StrEnum):
    """Why a ticket is called ahead: each has its own label (`priority_<kind>` in kiosk_client.core.i18n)."""

    APPOINTMENT = "appointment"
    ELDERLY = "elderly"
    VIP = "vip"
    OTHER = "other"


def priority_kind(*, priority: bool, appointment: bool, elderly: bool, routed_to: str | None = None
                  ) -> PriorityKind | None:
    """The kind of a priority ticket (None: a regular one); the customer's own reason first."""
    if appointment:
        return PriorityKind.APPOINTMENT
    if not priority:
        return None
    if elderly:
        return PriorityKind.ELDERLY
    return PriorityKind.VIP if routed_to == "vip" else PriorityKind.OTHER


@dataclass(frozen=True, slots=True)
class Ticket:
    request_id: str
    business: str
    number: str
    provisional: bool = False
    people_ahead: int | None = None
    wait_estimate_min: int | None = None  # whole minutes, the hub's median (P50) estimate; None: unknown
    wait_p90_min: int | None = None  # whole minutes, the hub's 90th percentile: the range's upper end
    priority: bool = False
    elderly: bool = False
    printed: bool | None = None  # None: not tried yet
    status_path: str | None = None  # the hub's public ticket page, e.g. /t/<token>
    ticket_id: int | None = None  # the hub's id (a survey names the ticket that was served)
    kind: PriorityKind | None = None  # why it is called ahead; None: regular

    def with_printed(self, ok: bool) -> Ticket:
        return replace(self, printed=ok)

    @property
    def wait_range(self) -> tuple[int, int] | None:
        """(P50, P90) in whole minutes, the upper never below the lower; None when the hub gave no estimate."""
        if self.wait_estimate_min is None:
            return None
        return self.wait_estimate_min, max(self.wait_estimate_min, self.wait_p90_min or 0)

    @classmethod
    def issued(cls, request_id: str, t: IssuedTicket, *, priority: bool = False, elderly: bool = False) -> Ticket:
        """The hub's ticket: its number, place, P50–P90 wait estimate and status page (`priority`: an appointment)."""
        wait = round(t.wait_p50_min) if t.wait_p50_min is not None else None
        p90 = round(t.wait_p90_min) if t.wait_p90_min is not None else None
        return cls(request_id=request_id, business=t.business, number=t.number, people_ahead=t.people_ahead,
                   wait_estimate_min=wait, wait_p90_min=p90, priority=t.priority or priority, elderly=elderly,
                   status_path=t.status_url, ticket_id=t.ticket_id,
                   kind=priority_kind(priority=t.priority, appointment=priority, elderly=elderly,
                                      routed_to=t.routed_to))
