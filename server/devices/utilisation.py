"""Pure availability and utilisation arithmetic on time intervals (no I/O, tested directly).

availability = in-service time ∩ opening hours / opening hours
utilisation  = busy time (usage sessions) ∩ in-service ∩ opening hours / in-service ∩ opening hours
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Interval = tuple[datetime, datetime]
_WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping union."""
    out: list[Interval] = []
    for s, e in sorted(i for i in intervals if i[1] > i[0]):
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    a, b = merge(a), merge(b)
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        s, e = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if e > s:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def seconds(intervals: Iterable[Interval]) -> float:
    return sum((e - s).total_seconds() for s, e in merge(intervals))


def opening_intervals(hours: Sequence[dict], tz: str, start: datetime, end: datetime) -> list[Interval]:
    """The branch's opening hours (local weekday/open/close, as in its config) in [start, end), in UTC."""
    zone = ZoneInfo(tz)
    by_day: dict[str, list[tuple[time, time]]] = {}
    for h in hours:
        by_day.setdefault(h["weekday"], []).append((_t(h["open"]), _t(h["close"])))
    out: list[Interval] = []
    day: date = start.astimezone(zone).date() - timedelta(days=1)
    last: date = end.astimezone(zone).date()
    while day <= last:
        for o, c in by_day.get(_WEEKDAYS[day.weekday()], []):
            s = datetime.combine(day, o, zone).astimezone(UTC)
            e = datetime.combine(day, c, zone).astimezone(UTC)
            out.append((s, e))
        day += timedelta(days=1)
    return intersect(out, [(start, end)])


def _t(value: str | time) -> time:
    return value if isinstance(value, time) else time.fromisoformat(value)


def state_intervals(transitions: Sequence[tuple[datetime, bool]], initial: bool, start: datetime,
                    end: datetime) -> list[Interval]:
    """Where a boolean state (in service, online) was true in [start, end), from its change points."""
    out: list[Interval] = []
    state, since = initial, start
    for at, value in sorted(transitions):
        if at >= end:
            break
        at = max(at, start)
        if value != state:
            if state:
                out.append((since, at))
            state, since = value, at
    if state:
        out.append((since, end))
    return merge(out)


@dataclass(frozen=True)
class Session:
    started_at: datetime
    ended_at: datetime
    failed: bool


@dataclass(frozen=True)
class Usage:
    open_s: float
    available_s: float
    busy_s: float
    sessions: int
    failed: int

    @property
    def availability(self) -> float | None:
        return round(self.available_s / self.open_s, 4) if self.open_s else None

    @property
    def utilisation(self) -> float | None:
        return round(self.busy_s / self.available_s, 4) if self.available_s else None


def usage(*, start: datetime, end: datetime, opening: Sequence[Interval], in_service: Sequence[Interval],
          sessions: Sequence[Session]) -> Usage:
    """One device's figures for [start, end): sessions are counted where they start."""
    window = [(start, end)]
    open_iv = intersect(opening, window)
    avail_iv = intersect(open_iv, in_service)
    busy_iv = intersect(avail_iv, [(s.started_at, s.ended_at) for s in sessions])
    mine = [s for s in sessions if start <= s.started_at < end]
    return Usage(open_s=seconds(open_iv), available_s=seconds(avail_iv), busy_s=seconds(busy_iv),
                 sessions=len(mine), failed=sum(1 for s in mine if s.failed))


def hours_between(start: datetime, end: datetime) -> list[datetime]:
    """UTC hour starts covering [start, end)."""
    h = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    out = []
    while h < end:
        out.append(h)
        h += timedelta(hours=1)
    return out


def add(figures: Iterable[Usage]) -> Usage:
    items = list(figures)
    return Usage(open_s=sum(u.open_s for u in items), available_s=sum(u.available_s for u in items),
                 busy_s=sum(u.busy_s for u in items), sessions=sum(u.sessions for u in items),
                 failed=sum(u.failed for u in items))


def mttr(alarms: Iterable[tuple[datetime, datetime, datetime | None, datetime | None]]) -> dict[str, float | None]:
    """Mean seconds from fault to detection, detection to acknowledgement, acknowledgement to fix.

    Each alarm is (onset_at, started_at, acked_at, cleared_at); a step without both ends is left out.
    """
    detect, ack, fix = [], [], []
    for onset, started, acked, cleared in alarms:
        detect.append((started - onset).total_seconds())
        if acked is not None:
            ack.append((acked - started).total_seconds())
        if cleared is not None:
            fix.append((cleared - (acked or started)).total_seconds())

    def mean(xs: list[float]) -> float | None:
        return round(sum(xs) / len(xs), 1) if xs else None

    return {"detect_s": mean(detect), "acknowledge_s": mean(ack), "fix_s": mean(fix)}
