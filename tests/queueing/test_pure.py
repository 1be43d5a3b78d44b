"""Routing rules, calling policy, wait estimates and numbering as pure functions (no I/O)."""

from __future__ import annotations

from collections import deque
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from server.queueing import estimates, policy
from server.queueing.numbering import format_number, service_day
from server.queueing.routing import Load, RouteRequest, route
from smartzone.config import load_branches
from smartzone.config.branch import Channel, PriorityClass, Tier

B001 = load_branches(Path(__file__).resolve().parents[2] / "configs" / "branches")["b001"]
T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
COUNTER = policy.CounterView(1, Channel.COUNTER, frozenset({"deposit", "card", "loan", "transfer"}))


def decide(business: str, load: Load, **kw):
    return route(RouteRequest(business, **kw), B001.business(business), B001.queue.rules, load)


def test_routing_rules_decide_with_reasons() -> None:
    """GIVEN b001's rules WHEN customers of different kinds ask THEN the first matching rule decides and says why."""
    d = decide("deposit", Load(devices_free=2))
    assert (d.channel, d.rule) == (Channel.SELF_SERVICE, "self_service")
    assert d.reason_en == "simple business: 2 self-service devices free" and "2 台" in d.reason_zh
    d = decide("deposit", Load(devices_free=0))
    assert (d.channel, d.rule) == (Channel.COUNTER, "self_service_down")
    d = decide("deposit", Load(devices_free=3), elderly=True)
    assert (d.channel, d.priority, d.rule) == (Channel.COUNTER, PriorityClass.PRIORITY, "elderly_counter")
    d = decide("card", Load(devices_free=3), tier=Tier.PLATINUM)
    assert (d.channel, d.rule) == (Channel.VIP, "vip_tier")
    d = decide("loan", Load(devices_free=3), appointment=True)
    assert (d.channel, d.priority, d.rule) == (Channel.COUNTER, PriorityClass.PRIORITY, "appointment")
    d = decide("wealth", Load())
    assert (d.channel, d.rule) == (Channel.WEALTH, "default")


@given(business=st.sampled_from([b.code for b in B001.business_types]), tier=st.sampled_from(list(Tier)),
       elderly=st.booleans(), appointment=st.booleans(), free=st.integers(0, 3))
def test_routing_never_sends_anyone_to_dead_devices(business, tier, elderly, appointment, free) -> None:
    """GIVEN any request and device count THEN self-service is chosen only with a device free, and a rule
    and reason are always named."""
    d = decide(business, Load(devices_free=free), tier=tier, elderly=elderly, appointment=appointment)
    assert d.channel is not Channel.SELF_SERVICE or free > 0
    assert d.rule and d.reason_en and d.reason_zh


def cand(i: int, *, prio: bool = False, minutes_ago: float = 0, business: str = "card", max_wait: float = 40,
         appointment_at: datetime | None = None, channel: Channel = Channel.COUNTER) -> policy.Candidate:
    at = T0 - timedelta(minutes=minutes_ago)
    return policy.Candidate(i, business, channel, PriorityClass.PRIORITY if prio else PriorityClass.REGULAR,
                            at, at, max_wait, appointment_at)


def test_policy_order_aging_then_appointment_then_ratio() -> None:
    """GIVEN regular, priority, appointment and aging tickets WHEN a counter calls THEN aging beats all,
    then a due appointment, then the ratio; each call says why."""
    pool = [cand(1, minutes_ago=10), cand(2, prio=True, minutes_ago=5),
            cand(3, minutes_ago=1, appointment_at=T0 + timedelta(minutes=5)),
            cand(4, minutes_ago=30, max_wait=40)]
    c = policy.choose(pool, COUNTER, T0)
    assert (c.ticket_id, c.rule) == (4, "aging") and "30 min" in c.reason_en
    c = policy.choose(pool[:3], COUNTER, T0)
    assert (c.ticket_id, c.rule) == (3, "appointment")
    c = policy.choose(pool[:2], COUNTER, T0, regular_streak=0)
    assert (c.ticket_id, c.rule, c.regular_streak) == (1, "regular", 1)
    c = policy.choose(pool[:2], COUNTER, T0, regular_streak=2)
    assert (c.ticket_id, c.rule, c.regular_streak) == (2, "priority_ratio", 0)


def test_policy_skills_and_channels() -> None:
    """GIVEN tickets a counter lacks the skill or channel for THEN it does not call them (unless aging)."""
    wealth = cand(1, business="wealth", channel=Channel.WEALTH)
    assert policy.choose([wealth], COUNTER, T0) is None
    vip_deposit = cand(2, business="deposit", channel=Channel.VIP, max_wait=15)
    assert policy.choose([vip_deposit], COUNTER, T0) is None
    old = cand(3, business="deposit", channel=Channel.VIP, max_wait=15, minutes_ago=12)
    assert policy.choose([old], COUNTER, T0).rule == "aging"


@settings(max_examples=60, deadline=None)
@given(ratio=st.integers(1, 5), n=st.integers(30, 200))
def test_ratio_is_held_over_long_runs(ratio: int, n: int) -> None:
    """GIVEN both classes always waiting WHEN a counter calls n times THEN priority calls are n/(ratio+1)."""
    s = policy.PolicySettings(regular_per_priority=ratio, aging_fraction=1.0)
    regular = deque(cand(i, minutes_ago=0) for i in range(n))
    prio = deque(cand(10_000 + i, prio=True, minutes_ago=0) for i in range(n))
    streak, prio_calls = 0, 0
    for _ in range(n):
        c = policy.choose([*regular, *prio], COUNTER, T0, regular_streak=streak, settings=s)
        streak = c.regular_streak
        if c.ticket_id >= 10_000:
            prio_calls += 1
            prio.popleft()
        else:
            regular.popleft()
    assert abs(prio_calls - n / (ratio + 1)) <= 1


@settings(max_examples=40, deadline=None)
@given(arrivals=st.lists(st.tuples(st.booleans(), st.sampled_from(["card", "loan", "deposit"])),
                         min_size=5, max_size=120), ratio=st.integers(1, 4))
def test_nobody_starves(arrivals, ratio) -> None:
    """GIVEN a flood of priority tickets arriving one per minute and a counter serving one per minute
    THEN no ticket waits past its maximum: aging calls it first, whatever its class."""
    s = policy.PolicySettings(regular_per_priority=ratio)
    waiting: list[policy.Candidate] = []
    streak, worst = 0, 0.0
    for minute, (prio, business) in enumerate([*arrivals, *[(True, "card")] * 60]):
        now = T0 + timedelta(minutes=minute)
        waiting.append(policy.Candidate(minute, business, Channel.COUNTER,
                                        PriorityClass.PRIORITY if prio else PriorityClass.REGULAR, now, now, 20))
        c = policy.choose(waiting, COUNTER, now, regular_streak=streak, settings=s)
        streak = c.regular_streak
        chosen = next(w for w in waiting if w.id == c.ticket_id)
        worst = max(worst, policy.waited_min(chosen, now))
        waiting.remove(chosen)
    assert worst <= 20


def test_estimates_follow_counters_and_calls_in_flight() -> None:
    """GIVEN two open card counters, one busy for 2 of its 8 minutes THEN the wait grows with the line."""
    stats = {"card": estimates.ServiceStats(8.0, 2.0, 30), "loan": estimates.ServiceStats(20.0, 5.0, 30)}
    servers = [estimates.Server(1, frozenset({"card"}), "card", 2.0), estimates.Server(2, frozenset({"card"}))]
    assert estimates.estimate("card", [], servers, stats).p50_min == 0.0
    e1 = estimates.estimate("card", ["card"], servers, stats)
    assert e1.p50_min == 6.0 and e1.p90_min > e1.p50_min  # the busy counter frees first
    e3 = estimates.estimate("card", ["card", "card", "card"], servers, stats)
    assert e3.p50_min > e1.p50_min
    assert estimates.estimate("loan", ["card"], servers, stats) is None  # nobody serves loans
    assert estimates.simple_estimate(4, 5.0, 2) == 10.0


def test_few_service_samples_are_pulled_towards_the_configured_mean() -> None:
    """GIVEN a configured 6-minute service WHEN the first loans take 16 minutes THEN the estimate moves
    towards 16 with every sample instead of ignoring them or trusting one alone."""
    assert estimates.stats_from([], 6.0) == estimates.ServiceStats(6.0, 3.0, 0)
    one, three, thirty = (estimates.stats_from([16.0] * n, 6.0).mean_min for n in (1, 3, 30))
    assert 6.0 < one < three < thirty < 16.0
    assert thirty > 15.0


def test_a_ticket_only_another_channel_serves_waits_until_it_ages() -> None:
    """GIVEN an elderly customer's wealth ticket in the counter line, whose counters have no wealth skill,
    and the VIP counter that takes wealth tickets once they have waited 21 minutes THEN the estimate is
    about those 21 minutes, not "no estimate"."""
    stats = {"card": estimates.ServiceStats(8.0, 2.0, 30), "wealth": estimates.ServiceStats(14.0, 5.0, 30),
             "vip": estimates.ServiceStats(8.0, 3.0, 30)}
    counters = [estimates.Server(1, frozenset({"card"}), "card", 1.0)]
    vip = estimates.Server(9, frozenset({"vip", "wealth"}), "vip", 2.0, {"vip": 10.5, "wealth": 21.0})
    assert estimates.estimate("wealth", ["card"], counters, stats) is None
    est = estimates.estimate("wealth", ["card"], [*counters, vip], stats)
    assert est is not None and 21.0 <= est.p50_min <= 21.0 + 8.0 and est.p90_min >= est.p50_min
    # the card customer ahead is served at the card counter: it does not hold up the VIP counter
    assert estimates.estimate("wealth", ["card"] * 5, [*counters, vip], stats).p50_min == est.p50_min


def test_a_long_line_is_helped_by_other_channels_once_it_ages() -> None:
    """GIVEN one wealth counter with six customers ahead (84 minutes of work) and a VIP counter that helps
    with wealth tickets once they have waited 21 minutes THEN the estimate counts that help."""
    stats = {"wealth": estimates.ServiceStats(14.0, 5.0, 30), "vip": estimates.ServiceStats(8.0, 3.0, 30)}
    wealth = estimates.Server(8, frozenset({"wealth"}), "wealth", 4.0)
    vip = estimates.Server(9, frozenset({"vip", "wealth"}), None, 0.0, {"vip": 10.5, "wealth": 21.0})
    alone = estimates.estimate("wealth", ["wealth"] * 6, [wealth], stats)
    helped = estimates.estimate("wealth", ["wealth"] * 6, [wealth, vip], stats)
    assert alone.p50_min == 10.0 + 6 * 14.0
    assert helped.p50_min < 0.7 * alone.p50_min
    # a short line its own counter clears before anybody ages gets no help and no change
    nearly_done = estimates.Server(8, frozenset({"wealth"}), "wealth", 12.0)
    assert estimates.estimate("wealth", ["wealth"], [nearly_done, vip], stats).p50_min == 2.1 + 14.0


def test_numbers_reset_at_opening_time_in_branch_time() -> None:
    """GIVEN b001 opens 08:30 Shanghai on weekdays THEN 08:29 still belongs to yesterday, 08:30 is today."""
    monday = datetime(2026, 11, 30, 0, 29, tzinfo=UTC)  # 08:29 in Shanghai
    assert service_day(monday, B001.timezone, B001.hours) == date(2026, 11, 29)
    assert service_day(monday + timedelta(minutes=1), B001.timezone, B001.hours) == date(2026, 11, 30)
    assert format_number("A", 12) == "A012" and format_number("VP", 1234) == "VP1234"
