"""The lobby display's model: the retained queue board and the call messages (`wire.messages`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from wire.messages import BoardCall, QueueBoardData, QueueCallData


@dataclass(frozen=True, slots=True)
class Call:
    ticket: str
    counter: int


@dataclass
class Board:
    calls: list[Call] = field(default_factory=list)  # newest first
    waiting: dict[str, int] = field(default_factory=dict)
    keep: int = 8
    paused: list[tuple[str, str]] = field(default_factory=list)  # (zh, en) per paused counter, by number

    @property
    def current(self) -> Call | None:
        return self.calls[0] if self.calls else None

    def apply_board(self, data: QueueBoardData) -> None:
        """Replace the state with a (retained) board snapshot."""
        self.calls = [c for c in (_call(x) for x in data.calls) if c][: self.keep]
        self.waiting = dict(data.waiting)
        self.paused = [(p.text.zh, p.text.en) for p in sorted(data.paused, key=lambda p: p.counter)]

    def apply_call(self, data: QueueCallData) -> Call:
        """A new call: it goes on top (a repeat call of the same ticket moves it up)."""
        call = Call(data.ticket, data.counter)
        self.calls = [call, *[c for c in self.calls if c.ticket != call.ticket]][: self.keep]
        return call


def _call(item: BoardCall) -> Call | None:
    """A board's call; one whose counter is unknown is not shown."""
    return Call(item.ticket, item.counter) if item.counter is not None else None


def announcement(call: Call) -> tuple[str, str]:
    """What the display says: (zh, en)."""
    return (f"请 {call.ticket} 号到 {call.counter} 号窗口",
            f"Ticket {call.ticket}, please go to counter {call.counter}")
