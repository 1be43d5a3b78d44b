"""Wait estimates (pure): P50 and P90 minutes until a waiting ticket is called.

Inputs: the tickets that will be called before it (its place in line under the calling policy), the
open counters that can serve its business, what those counters are doing now (calls in flight and for
how long), and recent service times per business (mean and spread). The counters' free times are
played forward with mean service times (list scheduling), sharing each ticket ahead between the
counters that can serve it; the spread of the work ahead gives P90.
"""

from __future__ import annotations

import heapq
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Z90 = 1.2816


@dataclass(frozen=True)
class ServiceStats:
    mean_min: float
    sd_min: float
    n: int = 0


@dataclass(frozen=True)
class Server:
    """An open counter: what it serves and, when busy, what and for how long already."""

    number: int
    skills: frozenset[str]
    busy_business: str | None = None
    busy_min: float = 0.0


@dataclass(frozen=True)
class Estimate:
    p50_min: float
    p90_min: float


def stats_from(samples_min: Sequence[float], default_mean: float) -> ServiceStats:
    """Mean and spread of recent service times; the configured mean (and half of it as spread) until
    there are at least 5 samples."""
    if len(samples_min) < 5:
        return ServiceStats(default_mean, default_mean * 0.5, len(samples_min))
    return ServiceStats(statistics.fmean(samples_min), statistics.pstdev(samples_min), len(samples_min))


def _stats(stats: Mapping[str, ServiceStats], business: str) -> ServiceStats:
    return stats.get(business) or ServiceStats(6.0, 3.0)


def remaining_min(s: ServiceStats, elapsed: float) -> float:
    """Expected remaining service time of a call in flight."""
    return max(s.mean_min - elapsed, 0.15 * s.mean_min)


LONG_LINE = 200  # tickets ahead that are played forward one by one


def estimate(business: str, ahead: Sequence[str], servers: Sequence[Server],
             stats: Mapping[str, ServiceStats]) -> Estimate | None:
    """P50/P90 wait for a ticket of `business` with `ahead` (business codes, in calling order) before it.

    None when no open counter serves the business.
    """
    pool = [s for s in servers if business in s.skills]
    if not pool:
        return None
    if len(ahead) > LONG_LINE:
        # Play the first LONG_LINE forward and extrapolate: beyond that the line is long enough for the
        # work ahead to be spread evenly, and the cost stays bounded however long the line grows.
        head = estimate(business, ahead[:LONG_LINE], servers, stats)
        if head is None:
            return None
        scale = len(ahead) / LONG_LINE
        spread = (head.p90_min - head.p50_min) * math.sqrt(scale)
        return Estimate(round(head.p50_min * scale, 2), round(head.p50_min * scale + spread, 2))
    free: list[float] = []
    var = 0.0
    for s in pool:
        if s.busy_business is None:
            free.append(0.0)
        else:
            st = _stats(stats, s.busy_business)
            free.append(remaining_min(st, s.busy_min))
            var += (st.sd_min * 0.5) ** 2 / len(pool)
    heapq.heapify(free)
    pool_numbers = {s.number for s in pool}
    shares: dict[str, float] = {}
    for code in set(ahead):
        capable = [s for s in servers if code in s.skills]
        shares[code] = (sum(1 for s in capable if s.number in pool_numbers) / len(capable)) if capable else 0.0
    share_load = 0.0
    for code in ahead:
        share = shares[code]
        if share == 0:
            continue
        st = _stats(stats, code)
        t = heapq.heappop(free)
        heapq.heappush(free, t + share * st.mean_min)
        var += share * st.sd_min ** 2 / len(pool)
        share_load += share
    p50 = free[0]
    spread = math.sqrt(var) if share_load or any(s.busy_business for s in pool) else 0.0
    return Estimate(round(p50, 2), round(p50 + Z90 * spread, 2))


def simple_estimate(people_ahead: int, mean_service_min: float, open_counters: int) -> float | None:
    """The naive estimate the benchmark compares with: people ahead × average service ÷ open counters."""
    if open_counters <= 0:
        return None
    return people_ahead * mean_service_min / open_counters
