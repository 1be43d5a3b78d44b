"""Wait estimates (pure): P50 and P90 minutes until a waiting ticket is called.

Inputs: the tickets that will be called before it (its place in line under the calling policy), the
open counters that can serve it, what those counters are doing now (calls in flight and for how long),
and recent service times per business (mean and spread). The counters' free times are played forward
with mean service times (list scheduling): each ticket ahead goes to the first counter free that has
its skill. Counters of another channel take a ticket from when they come free, because the calling
policy has a counter with nobody of its own waiting help other lines (`helping`; without it they would
join only once the ticket ages). Their own line, which they serve first, is not seen here: on a busy
day that makes the estimate a little optimistic for lines that lean on them. The spread of the work
ahead gives P90.

Counters follow the branch's plan (`Server.away`, from the calendar's shifts and breaks): a counter starts no
service while on a planned break or after its shift ends, and one on a break now comes back when it ends; a
service started before a break runs to its end (the break starts late). A ticket nobody is planned to serve
today does not hold up the line, and a business nobody will serve today gets no estimate.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from szconfig import calendar
from szconfig.branch import BranchConfig, Counter

Z90 = 1.2816
PRIOR_WEIGHT = 3.0  # the configured mean counts as this many samples until real ones outweigh it
HELPER_RESIDUAL = 0.5  # share of its current service a counter of another channel needs to come free


@dataclass(frozen=True)
class ServiceStats:
    mean_min: float
    sd_min: float
    n: int = 0


@dataclass(frozen=True)
class Server:
    """An open counter: what it serves and, when busy, what and for how long already.

    `aging_min` is empty for a counter of the ticket's own channel; for a counter of another channel it
    says, per business, how long a ticket must have waited before that counter takes it."""

    number: int
    skills: frozenset[str]
    busy_business: str | None = None
    busy_min: float = 0.0
    aging_min: Mapping[str, float] = field(default_factory=dict)
    away: tuple[tuple[float, float], ...] = ()  # planned (from, until) minutes from now, sorted; until may be inf

    @property
    def own_channel(self) -> bool:
        return not self.aging_min

    def on_duty(self, t: float) -> float:
        """The first moment at or after `t` (minutes from now) it may start a service (inf: not today)."""
        for start, end in self.away:
            if start <= t < end:
                t = end
        return t


@dataclass(frozen=True)
class Estimate:
    p50_min: float
    p90_min: float


Segment = tuple[datetime, datetime | None, bool]  # (from, until or None: the rest of the day, on duty)
_PLANS: dict[tuple[int, int, date], tuple[BranchConfig, Counter, list[Segment], datetime | None]] = {}
KEPT_PLANS = 10_000  # counter-days of plans kept (a day's plan is worked out once, not per estimate)


def _day_plan(cfg: BranchConfig, counter: Counter, day: date) -> tuple[list[Segment], datetime | None]:
    """The counter's local day as segments on and off duty, and the branch's closing time that day."""
    key = (id(cfg), id(counter), day)
    kept = _PLANS.get(key)
    if kept is not None and kept[0] is cfg and kept[1] is counter:
        return kept[2], kept[3]
    tz = ZoneInfo(cfg.timezone)
    t = datetime.combine(day, time(0), tzinfo=tz)
    day_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    segments: list[Segment] = []
    while t < day_end:
        d = calendar.duty(cfg, counter, t)
        until = d.until if d.until is not None and d.until > t else None
        segments.append((t, until, d.on))
        if until is None:
            break
        t = until
    hours = calendar.hours_on(cfg, day)
    closing = datetime.combine(day, hours[1], tzinfo=tz) if hours else None
    if len(_PLANS) >= KEPT_PLANS:
        _PLANS.clear()
    _PLANS[key] = (cfg, counter, segments, closing)
    return segments, closing


def planned_away(cfg: BranchConfig, counter: Counter, now: datetime, *,
                 serving: bool) -> tuple[tuple[float, float], ...] | None:
    """When `counter` is away by the branch's plan for the rest of its local day, as (from, until) minutes
    from `now` (until inf: not back today); None when it will not serve today at all.

    A counter serving now serves now whatever the plan says (staff opened it: the plan's current window is
    dropped), and leaves at its next planned break or shift end. One not serving now (closed, paused) is
    counted only while the plan has it away (a break, or a shift starting later today), back when that
    ends: a counter the plan has on duty but that is not serving has no known return. A shift that ends at
    closing time does not end the counter's day: the branch serves every ticket it issued."""
    segments, closing = _day_plan(cfg, counter, calendar.local(cfg, now).date())
    out: list[tuple[float, float]] = []
    for start, until, on in segments:
        if until is not None and until <= now:
            continue
        if on and start <= now and not serving:
            return None  # on duty by the plan, yet not serving: nobody knows when it will
        if not on:
            out.append((max((start - now).total_seconds() / 60, 0.0),
                        math.inf if until is None else (until - now).total_seconds() / 60))
    if out and out[-1][1] == math.inf and closing is not None and out[-1][0] >= (closing - now).total_seconds() / 60:
        out.pop()  # a shift to closing time: it serves on until everyone issued a ticket is served
    if serving:
        out = [w for w in out if w[0] > 0]  # the plan's current window: staff say otherwise
    elif not out or out[0][1] == math.inf:
        return None  # not serving, and not back today
    return tuple(out)


def stats_from(samples_min: Sequence[float], default_mean: float) -> ServiceStats:
    """Mean and spread of recent service times, pulled towards the configured mean (with half of it as
    spread) while there are few samples: one long first service does not swing every estimate."""
    n = len(samples_min)
    prior_var = (default_mean * 0.5) ** 2
    if n == 0:
        return ServiceStats(default_mean, default_mean * 0.5, 0)
    mean = statistics.fmean(samples_min)
    var = statistics.pvariance(samples_min) if n > 1 else prior_var
    w = PRIOR_WEIGHT
    return ServiceStats((w * default_mean + n * mean) / (w + n), math.sqrt((w * prior_var + n * var) / (w + n)), n)


def _stats(stats: Mapping[str, ServiceStats], business: str) -> ServiceStats:
    return stats.get(business) or ServiceStats(6.0, 3.0)


def remaining_min(s: ServiceStats, elapsed: float) -> float:
    """Expected remaining service time of a call in flight."""
    return max(s.mean_min - elapsed, 0.15 * s.mean_min)


LONG_LINE = 200  # tickets ahead that are played forward one by one


def _joins(s: Server, business: str, residual: float, helping: bool) -> float | None:
    """From when (minutes from now) counter `s` may take a ticket of `business`; None: never."""
    if business not in s.skills:
        return None
    if s.own_channel or helping:
        return 0.0
    aging = s.aging_min.get(business)
    return None if aging is None else aging + residual


def estimate(business: str, ahead: Sequence[str], servers: Sequence[Server],
             stats: Mapping[str, ServiceStats], *, helping: bool = True) -> Estimate | None:
    """P50/P90 wait for a ticket of `business` with `ahead` (business codes, in calling order) before it.

    `servers` are the open counters of its channel and, marked by `aging_min`, those of other channels:
    with `helping` (the policy's idle counters help other lines) they take a ticket from when they come
    free, without it only once the ticket ages. None when no open counter serves the business.
    """
    return estimates_for((business,), ahead, servers, stats, helping=helping)[business]


def estimates_for(businesses: Sequence[str], ahead: Sequence[str], servers: Sequence[Server],
                  stats: Mapping[str, ServiceStats], *, helping: bool = True) -> dict[str, Estimate | None]:
    """`estimate` for tickets of several businesses joining the end of the same line (a board's row per
    business): the line ahead is played forward once for all of them."""
    out: dict[str, Estimate | None] = dict.fromkeys(businesses)
    wanted = [b for b in out if any(_joins(s, b, 0.0, helping) is not None and s.on_duty(0.0) < math.inf
                                    for s in servers)]
    if not wanted:
        return out
    if len(ahead) > LONG_LINE:
        # Play the first LONG_LINE forward and extrapolate: beyond that the line is long enough for the
        # work ahead to be spread evenly, and the cost stays bounded however long the line grows.
        scale = len(ahead) / LONG_LINE
        for b, head in estimates_for(wanted, ahead[:LONG_LINE], servers, stats, helping=helping).items():
            if head is not None:
                spread = (head.p90_min - head.p50_min) * math.sqrt(scale)
                out[b] = Estimate(round(head.p50_min * scale, 2), round(head.p50_min * scale + spread, 2))
        return out
    free: list[float] = []  # per counter: minutes from now until it can take the next ticket
    residual: list[float] = []  # another channel's counter: how long after a ticket ages until it is free
    var_busy: list[float] = []  # per counter of the line's own channel: variance of its call in flight
    for s in servers:
        if s.busy_business is None:
            free.append(0.0)
            residual.append(0.0)
            var_busy.append(0.0)
            continue
        st = _stats(stats, s.busy_business)
        free.append(remaining_min(st, s.busy_min))
        residual.append(HELPER_RESIDUAL * st.mean_min)
        var_busy.append((st.sd_min * 0.5) ** 2 if s.own_channel else 0.0)
    var_taken = [0.0] * len(servers)  # per counter: variance of the tickets ahead it takes
    # per business: (counter, from when it may take such a ticket), computed once
    joins: dict[str, list[tuple[int, float]]] = {}
    for code in {*wanted, *ahead}:
        joins[code] = [(i, j) for i, s in enumerate(servers)
                       if (j := _joins(s, code, residual[i], helping)) is not None]
    for code in ahead:
        best, at = -1, math.inf
        for i, j in joins[code]:
            t = free[i] if free[i] > j else j
            if servers[i].away:
                t = servers[i].on_duty(t)
            if t < at:
                best, at = i, t
        if best < 0:
            continue  # nobody serves it today: it does not hold up this line
        st = _stats(stats, code)
        free[best] = at + st.mean_min
        var_taken[best] += st.sd_min ** 2
    for b in wanted:
        pool = [i for i, s in enumerate(servers) if b in s.skills]  # the counters that could serve it
        var = sum(var_busy[i] + var_taken[i] for i in pool) / len(pool)
        p50 = min(servers[i].on_duty(max(free[i], j)) for i, j in joins[b])
        if p50 < math.inf:  # else: the line ahead outlasts every shift that serves it today
            out[b] = Estimate(round(p50, 2), round(p50 + Z90 * math.sqrt(var), 2))
    return out


def simple_estimate(people_ahead: int, mean_service_min: float, open_counters: int) -> float | None:
    """The naive estimate the benchmark compares with: people ahead × average service ÷ open counters."""
    if open_counters <= 0:
        return None
    return people_ahead * mean_service_min / open_counters
