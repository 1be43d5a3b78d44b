"""Routing rules, calling policy, wait estimates, numbering and ticket moves as pure functions (no I/O)."""

from __future__ import annotations

import math
from collections import deque
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.errors import Conflict
from server.queueing import estimates, policy
from server.queueing.numbering import format_number, service_day
from server.queueing.routing import Load, RouteRequest, route
from server.queueing.transitions import FINAL_STATES, TRANSITIONS, TicketStatus, next_status
from szconfig import load_branches
from szconfig.branch import Channel, PriorityClass, Tier

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


def test_elderly_customers_get_priority_in_a_line_that_serves_them() -> None:
    """GIVEN b001's rules WHEN elderly customers ask for wealth advice or VIP service THEN they are priority
    in the wealth or VIP line (whose counters have the skill), not sent to the teller counters."""
    for business, channel in (("wealth", Channel.WEALTH), ("vip", Channel.VIP), ("card", Channel.COUNTER)):
        d = decide(business, Load(devices_free=3), elderly=True)
        assert (d.channel, d.priority) == (channel, PriorityClass.PRIORITY), business


def test_routing_skips_a_line_where_no_open_counter_has_the_skill() -> None:
    """GIVEN the wealth counter closed and the VIP counter (which has the wealth skill) open THEN a wealth
    ticket goes to the VIP line and says why."""
    served = {Channel.COUNTER: frozenset({"card", "loan", "deposit"}), Channel.VIP: frozenset({"vip", "wealth"})}
    d = decide("wealth", Load(devices_free=3, served=served))
    assert (d.channel, d.rule) == (Channel.VIP, "no_skill") and "no open wealth counter" in d.reason_en
    d = decide("wealth", Load(devices_free=3, served=served), elderly=True)
    assert d.channel is Channel.VIP


@given(business=st.sampled_from([b.code for b in B001.business_types]), tier=st.sampled_from(list(Tier)),
       elderly=st.booleans(), appointment=st.booleans(), free=st.integers(0, 3),
       served=st.dictionaries(st.sampled_from([Channel.COUNTER, Channel.WEALTH, Channel.VIP]),
                              st.frozensets(st.sampled_from([b.code for b in B001.business_types]))))
def test_routing_never_picks_a_line_nobody_can_serve(business, tier, elderly, appointment, free, served) -> None:
    """GIVEN any request and any set of open counters THEN the chosen line is one where someone can serve
    the business, whenever such a line exists."""
    d = decide(business, Load(devices_free=free, served=served), tier=tier, elderly=elderly,
               appointment=appointment)
    someone = (free > 0 and B001.business(business).channel is Channel.SELF_SERVICE) or any(
        business in skills for skills in served.values())
    if someone:
        assert Load(devices_free=free, served=served).serves(d.channel, business)


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
    """GIVEN tickets of another channel THEN a counter takes them only with the skill, and only once nobody
    of its own line waits (helping) or they are aging; without helping, only once they age."""
    wealth = cand(1, business="wealth", channel=Channel.WEALTH)
    assert policy.choose([wealth], COUNTER, T0) is None  # no skill
    vip_deposit = cand(2, business="deposit", channel=Channel.VIP, max_wait=15)
    c = policy.choose([vip_deposit], COUNTER, T0)
    assert (c.ticket_id, c.rule) == (2, "helping") and "VIP line" in c.reason_en
    assert policy.choose([vip_deposit, cand(3, minutes_ago=0)], COUNTER, T0).ticket_id == 3  # its own first
    alone = policy.PolicySettings(help_other_lines=False)
    assert policy.choose([vip_deposit], COUNTER, T0, settings=alone) is None
    old = cand(3, business="deposit", channel=Channel.VIP, max_wait=15, minutes_ago=12)
    assert policy.choose([old], COUNTER, T0, settings=alone).rule == "aging"


def test_a_ticket_in_a_line_nobody_serves_is_every_able_counters_own() -> None:
    """GIVEN a VIP ticket in the counter line (no counter there has the VIP skill) and the VIP counter with a
    VIP ticket of its own THEN the VIP counter calls them in turn (FIFO), not the orphan only once it ages."""
    vip_counter = policy.CounterView(9, Channel.VIP, frozenset({"vip", "wealth"}))
    served = {Channel.COUNTER: frozenset({"card", "deposit"}), Channel.VIP: frozenset({"vip", "wealth"})}
    orphan = cand(1, business="vip", channel=Channel.COUNTER, max_wait=15, minutes_ago=3)
    own = cand(2, business="vip", channel=Channel.VIP, max_wait=15, minutes_ago=1)
    c = policy.choose([own, orphan], vip_counter, T0, served=served)
    assert (c.ticket_id, c.rule) == (1, "regular_only")
    # without knowing who serves what, the orphan waits behind the VIP counter's own line
    assert policy.choose([own, orphan], vip_counter, T0).ticket_id == 2


BUSINESSES = ("card", "loan", "deposit", "vip")
pools = st.lists(st.tuples(st.sampled_from(BUSINESSES), st.sampled_from(list(Channel)), st.booleans(),
                           st.floats(0, 60), st.sampled_from([5, 15, 20, 40])), max_size=25)
counters = st.builds(lambda n, ch, skills: policy.CounterView(n, ch, frozenset(skills)), st.integers(1, 9),
                     st.sampled_from([Channel.COUNTER, Channel.WEALTH, Channel.VIP]),
                     st.sets(st.sampled_from(BUSINESSES), min_size=1))


@settings(max_examples=200, deadline=None)
@given(pool=pools, counter=counters, streak=st.integers(0, 3))
def test_a_counter_never_idles_and_the_most_urgent_aging_ticket_goes_first(pool, counter, streak) -> None:
    """GIVEN any waiting tickets and counter THEN it calls someone whenever it has the skill for a waiting
    ticket (whatever the line), and when some of those are aging, the one closest to its maximum."""
    cands = [policy.Candidate(i, b, ch, PriorityClass.PRIORITY if prio else PriorityClass.REGULAR,
                              T0 - timedelta(minutes=ago), T0 - timedelta(minutes=ago), mx)
             for i, (b, ch, prio, ago, mx) in enumerate(pool)]
    able = [c for c in cands if c.business in counter.skills]
    choice = policy.choose(cands, counter, T0, regular_streak=streak)
    assert (choice is None) == (not able)
    aging = [c for c in able if policy.is_aging(c, T0, policy.PolicySettings())]
    if aging:
        chosen = next(c for c in cands if c.id == choice.ticket_id)
        assert choice.rule == "aging"
        assert policy.slack_min(chosen, T0) == min(policy.slack_min(c, T0) for c in aging)


@settings(max_examples=60, deadline=None)
@given(counter_specs=st.lists(st.tuples(st.sampled_from([Channel.COUNTER, Channel.WEALTH, Channel.VIP]),
                                        st.sets(st.sampled_from(BUSINESSES), min_size=1)), min_size=1, max_size=4),
       arrivals=st.lists(st.tuples(st.sampled_from(BUSINESSES), st.sampled_from(list(Channel)), st.booleans(),
                                   st.sampled_from([3, 5, 15, 40])), min_size=5, max_size=150),
       ratio=st.integers(1, 4))
def test_no_ticket_waits_past_its_maximum_given_enough_counters(counter_specs, arrivals, ratio) -> None:
    """GIVEN counters of any channels and skills, one customer a minute of any business, line and class (also
    lines where no counter has their skill) and one-minute services, so that the counters can keep up
    THEN every ticket is called within its maximum wait: no line, class or channel starves anyone."""
    specs = [(ch, skills) for ch, skills in counter_specs]
    covered = set().union(*(skills for _ch, skills in specs))
    views = [policy.CounterView(n + 1, ch, frozenset(skills)) for n, (ch, skills) in enumerate(specs)]
    served: dict[Channel, frozenset[str]] = {}
    for v in views:
        served[v.channel] = served.get(v.channel, frozenset()) | v.skills
    s = policy.PolicySettings(regular_per_priority=ratio)
    waiting: list[policy.Candidate] = []
    streaks = dict.fromkeys((v.number for v in views), 0)
    for minute, (business, channel, prio, max_wait) in enumerate([*arrivals, *[(None, None, False, 0)] * 60]):
        now = T0 + timedelta(minutes=minute)
        if business is not None and business in covered:
            waiting.append(policy.Candidate(minute, business, channel, PriorityClass.PRIORITY if prio
                                            else PriorityClass.REGULAR, now, now, max_wait))
        for v in views:  # every counter finishes its one-minute service and calls the next
            c = policy.choose(waiting, v, now, regular_streak=streaks[v.number], settings=s, served=served)
            if c is None:
                continue
            streaks[v.number] = c.regular_streak
            chosen = next(w for w in waiting if w.id == c.ticket_id)
            assert policy.waited_min(chosen, now) <= chosen.max_wait_min
            waiting.remove(chosen)
    assert not waiting


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


def test_a_ticket_only_another_channel_serves_is_estimated_from_that_channel() -> None:
    """GIVEN an elderly customer's wealth ticket in the counter line, whose counters have no wealth skill,
    and the VIP counter (wealth skill) 2 minutes into an 8-minute VIP service THEN the estimate is those 6
    minutes when idle counters help other lines, and about the 21-minute aging time when they do not."""
    stats = {"card": estimates.ServiceStats(8.0, 2.0, 30), "wealth": estimates.ServiceStats(14.0, 5.0, 30),
             "vip": estimates.ServiceStats(8.0, 3.0, 30)}
    counters = [estimates.Server(1, frozenset({"card"}), "card", 1.0)]
    vip = estimates.Server(9, frozenset({"vip", "wealth"}), "vip", 2.0, {"vip": 10.5, "wealth": 21.0})
    assert estimates.estimate("wealth", ["card"], counters, stats) is None
    assert estimates.estimate("wealth", ["card"], [*counters, vip], stats).p50_min == 6.0
    est = estimates.estimate("wealth", ["card"], [*counters, vip], stats, helping=False)
    assert est is not None and 21.0 <= est.p50_min <= 21.0 + 8.0 and est.p90_min >= est.p50_min
    # the card customer ahead is served at the card counter: it does not hold up the VIP counter
    assert estimates.estimate("wealth", ["card"] * 5, [*counters, vip], stats, helping=False).p50_min == est.p50_min


def test_a_long_line_is_helped_by_other_channels() -> None:
    """GIVEN one wealth counter with six customers ahead (84 minutes of work) and an idle VIP counter with
    the wealth skill THEN the estimate counts its help: from now when idle counters help other lines, from
    the 21-minute aging time when they do not."""
    stats = {"wealth": estimates.ServiceStats(14.0, 5.0, 30), "vip": estimates.ServiceStats(8.0, 3.0, 30)}
    wealth = estimates.Server(8, frozenset({"wealth"}), "wealth", 4.0)
    vip = estimates.Server(9, frozenset({"vip", "wealth"}), None, 0.0, {"vip": 10.5, "wealth": 21.0})
    alone = estimates.estimate("wealth", ["wealth"] * 6, [wealth], stats)
    at_aging = estimates.estimate("wealth", ["wealth"] * 6, [wealth, vip], stats, helping=False)
    helped = estimates.estimate("wealth", ["wealth"] * 6, [wealth, vip], stats)
    assert alone.p50_min == 10.0 + 6 * 14.0
    assert helped.p50_min < at_aging.p50_min < 0.7 * alone.p50_min
    assert helped.p50_min == 3 * 14.0  # the two share the six; the VIP counter is free again after its third
    # a short line its own counter clears before anybody ages gets no help without helping
    nearly_done = estimates.Server(8, frozenset({"wealth"}), "wealth", 12.0)
    assert estimates.estimate("wealth", ["wealth"], [nearly_done, vip], stats, helping=False).p50_min == 2.1 + 14.0
    assert estimates.estimate("wealth", ["wealth"], [nearly_done, vip], stats).p50_min == 2.1


CODES = ["card", "loan", "wealth", "vip"]


def _windows(gaps: list[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """Sorted, disjoint away windows from (gap before, length) pairs; a last length of 0 means: not back."""
    out, t = [], 0.0
    for gap, length in gaps:
        start = t + gap
        out.append((start, start + length if length else math.inf))
        if not length:
            break
        t = start + length
    return tuple(out)


away_st = st.lists(st.tuples(st.floats(0, 120), st.one_of(st.just(0.0), st.floats(1, 90))), max_size=3).map(_windows)
servers_st = st.lists(st.builds(
    estimates.Server, st.integers(1, 20), st.frozensets(st.sampled_from(CODES), min_size=1),
    st.one_of(st.none(), st.sampled_from(CODES)), st.floats(0, 30),
    st.one_of(st.just({}), st.dictionaries(st.sampled_from(CODES), st.floats(1, 30), min_size=1)),
    away_st), max_size=5)


@settings(max_examples=150, deadline=None)
@given(servers=servers_st, ahead=st.lists(st.sampled_from(CODES), max_size=230), helping=st.booleans())
def test_a_board_row_tells_what_a_ticket_taken_now_would_be_told(servers, ahead, helping) -> None:
    """GIVEN any counters and line WHEN the board estimates every business of the line at once THEN each
    business's row equals the estimate of a ticket of that business alone joining the line's end."""
    stats = {"card": estimates.ServiceStats(8.0, 2.0, 30), "loan": estimates.ServiceStats(20.0, 6.0, 5)}
    together = estimates.estimates_for(CODES, ahead, servers, stats, helping=helping)
    assert together == {b: estimates.estimates_for([b], ahead, servers, stats, helping=helping)[b] for b in CODES}
    for est in together.values():  # counters away for breaks or the rest of the day: still a consistent range
        assert est is None or 0.0 <= est.p50_min <= est.p90_min < math.inf


def test_numbers_reset_at_opening_time_in_branch_time() -> None:
    """GIVEN b001 opens 08:30 Shanghai on weekdays THEN 08:29 still belongs to yesterday, 08:30 is today."""
    monday = datetime(2026, 11, 30, 0, 29, tzinfo=UTC)  # 08:29 in Shanghai
    assert service_day(monday, B001.timezone, B001.hours) == date(2026, 11, 29)
    assert service_day(monday + timedelta(minutes=1), B001.timezone, B001.hours) == date(2026, 11, 30)
    assert format_number("A", 12) == "A012" and format_number("VP", 1234) == "VP1234"
    # a branch issuing 15 minutes before opening starts the day's numbers with its first ticket, at 08:15
    assert service_day(monday - timedelta(minutes=14), B001.timezone, B001.hours, 15) == date(2026, 11, 30)
    assert service_day(monday - timedelta(minutes=15), B001.timezone, B001.hours, 15) == date(2026, 11, 29)


def test_ticket_moves_follow_one_table() -> None:
    """GIVEN every ticket state and every staff move WHEN the move is asked for THEN it leads to its target from
    exactly the states the table lists, is refused with the move's code from any other, and a finished ticket
    (done, no-show, cancelled) never moves again."""
    for action, move in TRANSITIONS.items():
        for status in TicketStatus:
            if status in move.sources:
                assert next_status(status.value, action) is move.target
            else:
                with pytest.raises(Conflict) as refused:
                    next_status(status.value, action)
                assert refused.value.code == move.refusal and status.value in refused.value.message
    assert not [(a, s) for a, m in TRANSITIONS.items() for s in FINAL_STATES if s in m.sources]
    assert next_status("parked", "resume") is TicketStatus.WAITING and TRANSITIONS["resume"].to_front
