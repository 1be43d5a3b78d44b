"""A ticket's states and the moves staff make between them: one table, pure, so the lifecycle is written once.

`tickets.py` applies a move (under the branch lock, with its journey step); calling a ticket to a counter is
the calling policy's (`calling.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from server.errors import Conflict


class TicketStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    PARKED = "parked"
    TRANSFERRED = "transferred"  # waiting again, for another business or counter
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class CounterStatus(StrEnum):
    """A counter: serving (`open`), on a break with a reason (`paused`), or nobody there (`closed`)."""

    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


class PauseReason(StrEnum):
    LUNCH = "lunch"
    MEETING = "meeting"
    SYSTEM_FAULT = "system_fault"
    OTHER = "other"


S = TicketStatus
WAITING_STATES = (S.WAITING, S.TRANSFERRED)
ACTIVE_STATES = (*WAITING_STATES, S.CALLED, S.SERVING, S.PARKED)
FINAL_STATES = (S.DONE, S.NO_SHOW, S.CANCELLED)


@dataclass(frozen=True)
class Move:
    """From which states a move may start, where it leads, and how the journey and a refusal name it."""

    sources: frozenset[TicketStatus]
    target: TicketStatus
    step: str  # the journey step it writes
    refusal: str  # the stable error code when the ticket is in any other state
    to_front: bool = False  # back in line at the front


TRANSITIONS: dict[str, Move] = {
    "transfer": Move(frozenset(ACTIVE_STATES), S.TRANSFERRED, "transferred", "not_active"),
    "park": Move(frozenset({*WAITING_STATES, S.CALLED, S.SERVING}), S.PARKED, "parked", "not_parkable"),
    "resume": Move(frozenset({S.PARKED}), S.WAITING, "resumed", "not_parked", to_front=True),
    "no_show": Move(frozenset({*WAITING_STATES, S.CALLED, S.PARKED}), S.NO_SHOW, "no_show", "not_callable"),
    "finish": Move(frozenset(ACTIVE_STATES), S.DONE, "finished", "not_active"),
}


def next_status(current: str, action: str) -> TicketStatus:
    """The state `action` leads to; Conflict (with the move's code) when the ticket is not in a state it starts
    from."""
    move = TRANSITIONS[action]
    if current not in move.sources:
        *others, last = sorted(move.sources)
        allowed = f"{', '.join(others)} or {last}" if others else last
        raise Conflict(move.refusal, f"ticket is {current}; {action.replace('_', '-')} is only for a ticket that "
                                     f"is {allowed}")
    return move.target
