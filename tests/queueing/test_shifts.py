"""Shift- and break-aware wait estimates: the pure core, and a branch morning with a lunch break on real databases."""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from server.queueing import calling, estimates, issuing
from server.queueing.locks import branch_config
from server.queueing.models import Ticket
from server.queueing.snapshot import estimate_for, snapshot, waiting_tickets
from szconfig import load_branches
from szconfig.branch import CounterShift

B001 = load_branches(Path(__file__).resolve().parents[2] / "configs" / "branches")["b001"]
CST = ZoneInfo("Asia/Shanghai")
C1, C2, C3 = (next(c for c in B001.counters if c.number == n) for n in (1, 2, 3))


def monday(h: int, mi: int = 0) -> datetime:
    return datetime(2026, 12, 7, h, mi, tzinfo=CST)


def test_the_plan_says_when_a_counter_is_away_for_the_rest_of_its_day() -> None:
    """GIVEN b001 (counter 1 lunches 11:30-12:30, counter 2 12:30-13:30, shifts to closing at 17:00) WHEN asked
    THEN an open counter leaves at its break; one on its break comes back when the break ends; one the plan has
    on duty but that is not serving has no known return; a shift to closing time serves on until the line is
    done, an earlier shift end is final; a counter open after hours serves on (staff opened it) and one closed
    after hours is not coming back today."""
    assert estimates.planned_away(B001, C1, monday(11), serving=True) == ((30.0, 90.0),)
    assert estimates.planned_away(B001, C1, monday(12), serving=False) == ((0.0, 30.0),)
    assert estimates.planned_away(B001, C2, monday(10), serving=False) is None
    assert estimates.planned_away(B001, C1, monday(12), serving=True) == ()
    early = C3.model_copy(update={"shifts": [CounterShift(start=time(8, 30), end=time(15, 30))]})
    assert estimates.planned_away(B001, early, monday(11), serving=True) == ((270.0, math.inf),)
    assert estimates.planned_away(B001, early, monday(16), serving=False) is None
    assert estimates.planned_away(B001, C3, monday(20), serving=True) == ()
    assert estimates.planned_away(B001, C3, monday(20), serving=False) is None
    assert estimates.planned_away(B001, C3, monday(8), serving=False) == ((0.0, 30.0),)


def test_estimates_wait_for_counters_on_a_break_and_skip_those_gone_for_the_day() -> None:
    """GIVEN two card counters (8-minute services), one of them leaving for an hour in 10 minutes WHEN six
    tickets are ahead THEN the leaver takes two (both started before it leaves), the other the rest, and the
    seventh waits 32 minutes, not the 24 of an estimate that ignores the break; a counter on its break now
    counts from its return; nobody back today, or a line that outlasts the last shift: no estimate."""
    stats = {"card": estimates.ServiceStats(8.0, 2.0, 30)}
    stays = estimates.Server(1, frozenset({"card"}))
    leaves = estimates.Server(2, frozenset({"card"}), away=((10.0, 70.0),))
    unaware = estimates.estimate("card", ["card"] * 6, [stays, estimates.Server(2, frozenset({"card"}))], stats)
    aware = estimates.estimate("card", ["card"] * 6, [stays, leaves], stats)
    assert unaware is not None and aware is not None
    assert (unaware.p50_min, aware.p50_min) == (24.0, 32.0)  # leaver: 0 and 8, back at 70; stays: 0, 8, 16, 24
    assert aware.p90_min >= aware.p50_min
    at_lunch = estimates.Server(2, frozenset({"card"}), away=((0.0, 30.0),))
    assert estimates.estimate("card", [], [at_lunch], stats) == estimates.Estimate(30.0, 30.0)
    gone = estimates.Server(2, frozenset({"card"}), away=((0.0, math.inf),))
    assert estimates.estimate("card", [], [gone], stats) is None
    ending = estimates.Server(1, frozenset({"card"}), away=((20.0, math.inf),))
    assert estimates.estimate("card", ["card"] * 3, [ending], stats) is None  # the line outlasts the shift
    assert estimates.estimate("card", ["card"] * 2, [ending], stats).p50_min == 16.0


def test_a_ticket_taken_before_lunch_is_told_about_the_lunch_break(real_hours) -> None:
    """GIVEN b001 on a Monday at 11:10 with counters 1-3 open (6-minute card services) and counter 1's lunch at
    11:30 WHEN 18 card customers take tickets and the counters serve them, counter 1 leaving for lunch after
    the service it started before 11:30 THEN the last ticket was told a longer wait than the estimate that
    ignores the plan, and exactly the wait it had (36 minutes, not 30); during lunch a new ticket's estimate
    counts on counter 1's return at 12:30."""
    _engine, factory = real_hours  # b001's own shifts and lunches (tests/open_hours.py)
    start = monday(11, 10)
    with factory() as s, s.begin():
        for n in (1, 2, 3):
            calling.set_counter(s, branch_id="b001", counter=n, open=True, now=start)
        issued = [issuing.issue(s, branch_id="b001", business="card", now=start, board=False) for _ in range(18)]
        last = issued[-1].ticket.id
        snap = snapshot(s, branch_config(s, "b001"), start)
        snap.shifts = False
        unaware = estimate_for(s.get(Ticket, last), waiting_tickets(s, "b001"), snap)[1]
    told = issued[-1].estimate
    assert told is not None and unaware is not None
    assert (told.p50_min, unaware.p50_min) == (36.0, 30.0)
    assert told.p90_min >= told.p50_min

    busy_until: dict[int, int] = {}  # counter → the minute its current service ends
    closed: set[int] = set()
    for m in range(0, 121):
        now = start + timedelta(minutes=m)
        with factory() as s, s.begin():
            for n in (1, 2, 3):
                if busy_until.get(n) == m:
                    calling.finish(s, branch_id="b001", counter=n, now=now)
                    del busy_until[n]
                lunch = monday(11, 30) <= now < monday(12, 30) and n == 1
                row_open = n not in closed
                if lunch and row_open and n not in busy_until:
                    calling.set_counter(s, branch_id="b001", counter=n, open=False, now=now)
                    closed.add(n)
                elif not lunch and not row_open:
                    calling.set_counter(s, branch_id="b001", counter=n, open=True, now=now)
                    closed.discard(n)
                if (n not in closed and n not in busy_until
                        and calling.call_next(s, branch_id="b001", counter=n, now=now, board=False).ticket):
                    busy_until[n] = m + 6
            if m == 60:  # 12:10, counter 1 at lunch: a new card ticket counts on its return at 12:30
                lunch_ticket = issuing.issue(s, branch_id="b001", business="card", now=now, board=False)
                snap = snapshot(s, branch_config(s, "b001"), now)
                snap.shifts = False
                lunch_unaware = estimate_for(s.get(Ticket, lunch_ticket.ticket.id), waiting_tickets(s, "b001"),
                                             snap)[1]
    with factory() as s:
        t = s.get(Ticket, last)
        waited = (t.first_called_at - t.issued_at).total_seconds() / 60
    assert waited == 36.0
    assert abs(told.p50_min - waited) < abs(unaware.p50_min - waited)
    assert lunch_ticket.estimate is not None and lunch_unaware is not None
    assert lunch_ticket.estimate.p50_min <= lunch_unaware.p50_min  # counter 1's return shortens the line

