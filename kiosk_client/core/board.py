"""The lobby display's model: the retained queue board and call messages, read tolerantly.

Board data (from the queueing issue; every key optional)::

    {"calls": [{"ticket": "A012", "counter": 3, "at": "…"}, …],   newest first
     "waiting": {"deposit": 4, …} | [{"business": "deposit", "waiting": 4}, …]}

A call message's data: `{"ticket": "A012", "counter": 3}` (`number` is accepted for `ticket`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Call:
    ticket: str
    counter: str


@dataclass
class Board:
    calls: list[Call] = field(default_factory=list)  # newest first
    waiting: dict[str, int] = field(default_factory=dict)
    keep: int = 8

    @property
    def current(self) -> Call | None:
        return self.calls[0] if self.calls else None

    def apply_board(self, data: dict[str, Any]) -> None:
        """Replace the state with a (retained) board snapshot."""
        calls = [c for c in (parse_call(x) for x in data.get("calls") or []) if c]
        self.calls = calls[: self.keep]
        self.waiting = parse_waiting(data.get("waiting"))

    def apply_call(self, data: dict[str, Any]) -> Call | None:
        """A new call: it goes on top (a repeat call of the same ticket moves it up)."""
        call = parse_call(data)
        if call is None:
            return None
        self.calls = [call, *[c for c in self.calls if c.ticket != call.ticket]][: self.keep]
        return call


def parse_call(item: Any) -> Call | None:
    if not isinstance(item, dict):
        return None
    ticket = item.get("ticket") or item.get("number")
    counter = item.get("counter")
    if not ticket or counter in (None, ""):
        return None
    return Call(str(ticket)[:16], str(counter)[:8])


def parse_waiting(value: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((x.get("business"), x.get("waiting")) for x in value if isinstance(x, dict))
    else:
        return out
    for key, n in items:
        try:
            if key:
                out[str(key)] = max(0, int(n))
        except (TypeError, ValueError):
            continue
    return out


def announcement(call: Call) -> tuple[str, str]:
    """What the display says: (zh, en)."""
    return (f"请 {call.ticket} 号到 {call.counter} 号窗口",
            f"Ticket {call.ticket}, please go to counter {call.counter}")
