"""Paper forecast, learned from the printer's own history (pure: no I/O, tested and benchmarked directly).

Two things are learned per device:
- receipts per roll: the median, over its last finished rolls, of the receipts printed from a refill until the
  near-end sensor said `low`, and until the roll ran `out` (a roll refilled at `low` tells only the first);
- usage by hour: the mean receipts (successful usage sessions) per local hour of the week over the last weeks.

The forecast walks the expected usage forward from now, scaled by today's pace (the last three hours against what
they were expected to bring, within ½–2×), until the receipts left reach the learned low and out points.
Without a finished roll the configured capacity stands in for `out`; without history, the last hour's rate.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

HOURS_PER_WEEK = 168
HISTORY = timedelta(days=28)
ROLLS = 10                      # finished rolls learned from
PACE_WINDOW = timedelta(hours=3)
PACE_LIMITS = (0.5, 2.0)
PACE_MIN = 10.0                 # receipts the last three hours must have been expected to bring to tell a pace
HORIZON = timedelta(days=14)    # no forecast beyond this


@dataclass(frozen=True)
class Roll:
    printed_at_low: int | None
    printed_at_out: int | None


@dataclass(frozen=True)
class PaperModel:
    to_low: float | None = None           # receipts from a refill to `low` (learned), None: never seen
    to_out: float | None = None           # receipts to `out`: learned, else the configured capacity
    rolls: int = 0                        # finished rolls it learned from
    learned_out: bool = False             # to_out comes from the printer's history, not the configuration
    per_hour: list[float] = field(default_factory=list)  # expected receipts per local hour of week (Mon 0h = 0)
    learned_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "per_hour": [round(x, 3) for x in self.per_hour]}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> PaperModel | None:
        return cls(**data) if data else None


@dataclass(frozen=True)
class Forecast:
    low_at: datetime | None
    out_at: datetime | None


def hour_of_week(at: datetime, zone: ZoneInfo) -> int:
    local = at.astimezone(zone)
    return local.weekday() * 24 + local.hour


def learn(rolls: Sequence[Roll], hours: Iterable[tuple[datetime, int]], *, tz: str, now: datetime,
          capacity: int, since: datetime | None = None) -> PaperModel:
    """The model from the newest finished rolls (newest first) and (UTC hour start, receipts) of the history.

    `since`: where the history begins (the device's first hour); the mean divides by the weeks actually covered.
    """
    zone = ZoneInfo(tz)
    recent = list(rolls)[:ROLLS]
    lows = [r.printed_at_low for r in recent if r.printed_at_low is not None]
    outs = [r.printed_at_out for r in recent if r.printed_at_out is not None]
    start = max(now - HISTORY, since) if since else now - HISTORY
    start = start.replace(minute=0, second=0, microsecond=0)
    totals = [0.0] * HOURS_PER_WEEK
    for at, n in hours:
        if start <= at < now:
            totals[hour_of_week(at, zone)] += n
    seen = [0] * HOURS_PER_WEEK  # how often each hour of the week occurred in [start, now)
    h = start
    while h + timedelta(hours=1) <= now:
        seen[hour_of_week(h, zone)] += 1
        h += timedelta(hours=1)
    per_hour = [t / s if s else 0.0 for t, s in zip(totals, seen, strict=True)]
    return PaperModel(to_low=statistics.median(lows) if lows else None,
                      to_out=statistics.median(outs) if outs else float(capacity), rolls=len(recent),
                      learned_out=bool(outs), per_hour=per_hour, learned_at=now.isoformat())


def expected(model: PaperModel, start: datetime, end: datetime, zone: ZoneInfo) -> float:
    """Receipts the model expects in [start, end)."""
    total, t = 0.0, start
    while t < end:
        hour_end = t.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        step = min(hour_end, end)
        total += model.per_hour[hour_of_week(t, zone)] * (step - t).total_seconds() / 3600
        t = step
    return total


def pace(model: PaperModel, recent: int, now: datetime, zone: ZoneInfo) -> float:
    """Today's usage against the usual: receipts of the last three hours over what they were expected to bring."""
    usual = expected(model, now - PACE_WINDOW, now, zone)
    if usual < PACE_MIN:  # too few to tell (just opened, night, a quiet branch): the usual
        return 1.0
    return min(max(recent / usual, PACE_LIMITS[0]), PACE_LIMITS[1])


def forecast(model: PaperModel, *, printed: int, now: datetime, tz: str, recent: int) -> Forecast:
    """When the roll reaches `low` and `out`, from the receipts printed on it and the last three hours' receipts."""
    zone = ZoneInfo(tz)
    if not any(model.per_hour):
        rate = recent / PACE_WINDOW.total_seconds()  # no history yet: the recent rate, if any

        def at(target: float | None) -> datetime | None:
            if target is None:
                return None
            left = target - printed
            if left <= 0:
                return now
            return now + timedelta(seconds=left / rate) if rate > 0 else None

        return Forecast(at(model.to_low), at(model.to_out))
    factor = pace(model, recent, now, zone)
    return Forecast(_walk(model, factor, model.to_low, printed, now, zone),
                    _walk(model, factor, model.to_out, printed, now, zone))


def _walk(model: PaperModel, factor: float, target: float | None, printed: int, now: datetime,
          zone: ZoneInfo) -> datetime | None:
    if target is None:
        return None
    left = target - printed
    if left <= 0:
        return now
    t = now
    while t < now + HORIZON:
        hour_end = t.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        rate = model.per_hour[hour_of_week(t, zone)] * factor  # receipts per hour
        span = (hour_end - t).total_seconds() / 3600
        if rate * span >= left:
            return t + timedelta(hours=left / rate)
        left -= rate * span
        t = hour_end
    return None
