"""The calling policy (pure): which waiting ticket a counter calls next, and why this one now.

In order:
1. **Aging** — a ticket the counter can serve that has waited `aging_fraction` of its business's
   maximum is called first (least slack first), whatever its class or channel: nobody starves.
2. **Appointments** within their check-in window (± `appointment_window_min`), earliest first.
3. **Classes in a ratio** — after `regular_per_priority` regular calls the oldest priority ticket
   is called; a class with nobody waiting gives way to the other. FIFO within a class.
4. **Helping** — a counter with nobody of its own waiting takes the ticket of another channel's line
   that is closest to its maximum wait (work-conserving: no counter idles while someone it can serve
   waits).
A counter serves a ticket only with the skill (business code). Its own line is its channel's, plus
tickets in a line where no open counter has their skill (an "orphan": e.g. a VIP ticket that a rule
sent to the counter line), which every counter with the skill treats as its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from szconfig.branch import Channel, PriorityClass


@dataclass(frozen=True)
class Candidate:
    id: int
    business: str
    channel: Channel
    priority: PriorityClass
    queued_at: datetime  # place in line (a transfer "to the front" moves it earlier)
    issued_at: datetime  # the customer's wait clock
    max_wait_min: float
    appointment_at: datetime | None = None


@dataclass(frozen=True)
class CounterView:
    number: int
    channel: Channel
    skills: frozenset[str]


@dataclass(frozen=True)
class PolicySettings:
    regular_per_priority: int = 2
    appointment_window_min: int = 15
    aging_fraction: float = 0.7
    help_other_lines: bool = True  # an idle counter takes another channel's ticket it has the skill for


@dataclass(frozen=True)
class Choice:
    ticket_id: int
    rule: str  # aging | appointment | priority_ratio | priority_only | regular | regular_only | helping
    reason_zh: str
    reason_en: str
    regular_streak: int  # the counter's new streak of regular calls


# per channel: the business codes its open counters have the skill for
Served = Mapping[Channel, frozenset[str]]


def waited_min(c: Candidate, now: datetime) -> float:
    return (now - c.issued_at).total_seconds() / 60


def slack_min(c: Candidate, now: datetime) -> float:
    return c.max_wait_min - waited_min(c, now)


def is_aging(c: Candidate, now: datetime, settings: PolicySettings) -> bool:
    return waited_min(c, now) >= settings.aging_fraction * c.max_wait_min


def is_orphan(c: Candidate, served: Served | None) -> bool:
    """No open counter of the ticket's own channel has its skill (unknown `served`: never)."""
    return served is not None and c.business not in served.get(c.channel, frozenset())


def own_line(c: Candidate, counter: CounterView, served: Served | None) -> bool:
    return c.business in counter.skills and (c.channel == counter.channel or is_orphan(c, served))


def _streak(c: Candidate, streak: int) -> int:
    return 0 if c.priority is PriorityClass.PRIORITY else streak + 1


def choose(candidates: Iterable[Candidate], counter: CounterView, now: datetime, *, regular_streak: int = 0,
           settings: PolicySettings = PolicySettings(), served: Served | None = None) -> Choice | None:
    """The next ticket for `counter`, or None when it can serve nobody who is waiting.

    `served` says which businesses each channel's open counters can serve, so that a ticket in a line
    nobody can serve is taken as their own by the counters that can (None: every line is served)."""
    able = sorted((c for c in candidates if c.business in counter.skills), key=lambda c: (c.queued_at, c.id))
    if not able:
        return None

    aging = [c for c in able if is_aging(c, now, settings)]
    if aging:
        c = min(aging, key=lambda c: (slack_min(c, now), c.queued_at, c.id))
        w = round(waited_min(c, now))
        return Choice(c.id, "aging", f"已等候 {w} 分钟，接近上限 {c.max_wait_min:g} 分钟",
                      f"waited {w} min, close to the {c.max_wait_min:g} min maximum", _streak(c, regular_streak))

    fifo = [c for c in able if own_line(c, counter, served)]
    window = timedelta(minutes=settings.appointment_window_min)
    due = [c for c in fifo if c.appointment_at is not None and abs(now - c.appointment_at) <= window]
    if due:
        c = min(due, key=lambda c: (c.appointment_at, c.id))
        at = c.appointment_at.strftime("%H:%M") if c.appointment_at else ""
        return Choice(c.id, "appointment", f"预约 {at}，在签到时段内",
                      f"appointment at {at}, within its check-in window", _streak(c, regular_streak))

    if not fifo:
        if not settings.help_other_lines:
            return None
        c = min(able, key=lambda c: (slack_min(c, now), c.queued_at, c.id))
        zh, en = _CHANNEL_NAMES[c.channel]
        return Choice(c.id, "helping", f"本窗口无人等候：协助{zh}队列（最接近等候上限）",
                      f"nobody waiting for this counter: helping the {en} line (closest to its maximum wait)",
                      _streak(c, regular_streak))

    priority = [c for c in fifo if c.priority is PriorityClass.PRIORITY]
    regular = [c for c in fifo if c.priority is not PriorityClass.PRIORITY]
    ratio = settings.regular_per_priority
    if priority and (regular_streak >= ratio or not regular):
        c = priority[0]
        if regular:
            return Choice(c.id, "priority_ratio", f"优先客户：每 {ratio} 位普通客户后叫 1 位优先客户",
                          f"priority: one priority call after every {ratio} regular calls", 0)
        return Choice(c.id, "priority_only", "优先客户：无普通客户等候", "priority: no regular ticket waiting", 0)
    c = regular[0]
    if priority:
        left = ratio - regular_streak
        return Choice(c.id, "regular", f"按顺序：再叫 {left} 位普通客户后轮到优先客户",
                      f"in turn: {left} regular call(s) before the next priority call", regular_streak + 1)
    return Choice(c.id, "regular_only", "按顺序：先到先服务", "in turn: first come, first served",
                  regular_streak + 1)


_CHANNEL_NAMES = {Channel.SELF_SERVICE: ("自助服务", "self-service"), Channel.COUNTER: ("柜台", "counter"),
                  Channel.WEALTH: ("理财", "wealth"), Channel.VIP: ("贵宾室", "VIP")}
