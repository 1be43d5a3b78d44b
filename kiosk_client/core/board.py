"""The lobby display's model: the retained queue board and the call messages (`wire.messages`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from wire.messages import BoardBusiness, BoardCall, QueueBoardData, QueueCallData

# What the display shows, per language; it alternates between the two (`LobbyDisplay.alternate_s`).
LABELS: dict[str, dict[str, str]] = {
    "zh": {"now": "请到窗口办理", "counter": "{n} 号窗口", "recent": "最近叫号", "waiting": "等候人数",
           "people": "等候 {n} 人", "wait": "约 {low}–{high} 分钟", "wait_one": "约 {m} 分钟",
           "offline": "○ 离线"},
    "en": {"now": "Now serving", "counter": "Counter {n}", "recent": "Recent calls", "waiting": "Waiting",
           "people": "{n} waiting", "wait": "{low}–{high} min", "wait_one": "about {m} min",
           "offline": "○ offline"},
}


@dataclass(frozen=True, slots=True)
class Call:
    ticket: str
    counter: int


@dataclass
class Board:
    calls: list[Call] = field(default_factory=list)  # newest first
    waiting: dict[str, int] = field(default_factory=dict)
    businesses: dict[str, BoardBusiness] = field(default_factory=dict)
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
        self.businesses = {b.business: b for b in data.businesses}

    def apply_call(self, data: QueueCallData) -> Call:
        """A new call: it goes on top (a repeat call of the same ticket moves it up)."""
        call = Call(data.ticket, data.counter)
        self.calls = [call, *[c for c in self.calls if c.ticket != call.ticket]][: self.keep]
        return call

    def waiting_text(self, business: str, lang: str) -> str:
        """`3 waiting · 5–9 min` (the hub's P50–P90 estimate), or what of it is known."""
        words = LABELS[lang]
        n = self.waiting.get(business)
        b = self.businesses.get(business)
        parts = [words["people"].format(n=n) if n is not None else "–"]
        if b is not None and b.wait_p50_min is not None and n:
            low = round(b.wait_p50_min)
            high = round(b.wait_p90_min) if b.wait_p90_min is not None else low
            parts.append(words["wait"].format(low=low, high=high) if high > low else
                         words["wait_one"].format(m=low))
        return " · ".join(parts)


def _call(item: BoardCall) -> Call | None:
    """A board's call; one whose counter is unknown is not shown."""
    return Call(item.ticket, item.counter) if item.counter is not None else None


def announcement(call: Call | QueueCallData) -> tuple[str, str]:
    """What the display says: (zh, en); the hub's words when it sent some, and a recall says so."""
    text = getattr(call, "text", None)
    if text is not None:
        zh, en = text.zh, text.en
    else:
        zh = f"请 {call.ticket} 号到 {call.counter} 号窗口"
        en = f"Ticket {call.ticket}, please go to counter {call.counter}"
    if getattr(call, "recall", False):
        zh, en = f"再次呼叫：{zh}", f"Calling again: {en}"
    return zh, en
