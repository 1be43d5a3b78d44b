"""A branch day, simulated through the real queue service, against a plain FIFO queue; and issue latency.

    python benchmarks/branch_day.py --json [--seed N] [--no-latency]

1. Discrete-event simulation of branch b001 (08:30–17:00): arrivals varying by hour, a business mix,
   lognormal service times per business, counters opening late and closing for lunch without telling
   the plan (`UNPLANNED`), three self-service kiosks. Every ticket is issued, called and finished by
   `server.queueing` on a SQLite database, with the simulated clock as `now`. The same arrivals and service
   times run through a plain FIFO single queue (every customer queues for a counter; an open counter takes
   the oldest ticket it has the skill for).
2. A day with shifts and breaks (`PLANNED`): the same arrivals, with counters following a configured plan (a
   late shift, an early shift, staggered lunches; a counter finishes the service it started before it
   leaves). Every counter ticket's wait is estimated when issued twice, by the shift-aware estimate and by
   the same estimate ignoring the plan (only the counters open now, serving on): the MAE of each.
3. Issue latency: ticket requests at 50/s from a kiosk link through a private Mosquitto and the real hub;
   the time from publish to the reply on the kiosk.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import math
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import func, select  # noqa: E402

from server.branches.service import sync_branches  # noqa: E402
from server.db import make_engine, session_factory  # noqa: E402
from server.migrate import upgrade_engine  # noqa: E402
from server.queueing import calling, issuing, tickets  # noqa: E402
from server.queueing.models import Ticket  # noqa: E402
from server.queueing.snapshot import estimate_for, snapshot, waiting_tickets  # noqa: E402
from szconfig import calendar, load_branches  # noqa: E402
from szconfig.branch import BranchConfig  # noqa: E402

DAY = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)  # Monday 08:30 in Shanghai
HOURS = 8.5
# arrivals per hour from opening: a morning peak and an afternoon peak
RATE = [22, 34, 38, 30, 20, 24, 34, 30, 18]
MIX = {"deposit": 0.28, "transfer": 0.14, "card": 0.26, "loan": 0.10, "wealth": 0.14, "vip": 0.08}
SERVICE = {"deposit": 4.0, "transfer": 5.0, "card": 9.0, "loan": 16.0, "wealth": 14.0, "vip": 8.0}
SELF_SERVICE = {"deposit": 3.0, "transfer": 4.0}
KIOSKS = 3
INF = math.inf
# the first day: counter → the minutes after opening it is open; nobody told the plan (it has no shifts)
UNPLANNED = {1: [(0, INF)], 2: [(60, INF)], 3: [(0, 210), (270, INF)], 8: [(0, INF)], 9: [(0, INF)]}
# the day with shifts and breaks, as configured: counter → [(start, end, [(break start, break end)])], local
PLANNED = {1: [("08:30", "17:00", [("11:30", "12:30")])],
           2: [("09:30", "17:00", [("12:30", "13:30")])],
           3: [("08:30", "15:30", [("12:00", "12:45")])],
           8: [("08:30", "17:00", [("12:00", "13:00")])],
           9: [("08:30", "17:00", [])]}


@dataclass
class Customer:
    i: int
    at: float  # minutes after opening
    business: str
    elderly: bool
    service: float  # at a counter
    self_service: float


def lognormal(rng: random.Random, mean: float, cv: float = 0.5) -> float:
    sigma = math.sqrt(math.log(1 + cv * cv))
    return rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)


def arrivals(seed: int) -> list[Customer]:
    rng = random.Random(seed)
    out, t, i = [], 0.0, 0
    codes, weights = list(MIX), list(MIX.values())
    while True:
        t += rng.expovariate(RATE[min(int(t // 60), len(RATE) - 1)] / 60)
        if t >= HOURS * 60 - 20:
            return out
        b = rng.choices(codes, weights)[0]
        out.append(Customer(i, t, b, rng.random() < 0.15, lognormal(rng, SERVICE[b]),
                            lognormal(rng, SELF_SERVICE.get(b, 1.0), 0.3)))
        i += 1


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))] if s else 0.0


def with_plan(cfg: BranchConfig, plan: dict | None) -> BranchConfig:
    """b001 with the counters' shifts replaced by `plan` (None: no shifts, staffed through the hours)."""
    data = cfg.model_dump(mode="json")
    for c in data["counters"]:
        c["shifts"] = [{"start": a, "end": b, "breaks": [{"start": x, "end": y} for x, y in breaks]}
                       for a, b, breaks in (plan or {}).get(c["number"], [])]
    return BranchConfig.model_validate(data)


def schedule_of(cfg: BranchConfig) -> dict[int, list[tuple[float, float]]]:
    """counter → the minutes after opening it is staffed by the plan; a shift to closing serves on."""
    close = HOURS * 60
    out: dict[int, list[tuple[float, float]]] = {}
    for n in UNPLANNED:
        conf = next(c for c in cfg.counters if c.number == n)
        spans, t = [], DAY
        while (t - DAY).total_seconds() / 60 < close:
            d = calendar.duty(cfg, conf, t)
            until = d.until or DAY + timedelta(minutes=close)
            if d.on:
                spans.append(((t - DAY).total_seconds() / 60, (until - DAY).total_seconds() / 60))
            t = until
        out[n] = [(a, INF if b >= close else b) for a, b in spans]
    return out


def is_open(schedule: dict, counter: int, minute: float) -> bool:
    return any(a <= minute < b for a, b in schedule[counter])


# --- the real queue ------------------------------------------------------------------------------

def smart_day(customers: list[Customer], cfg, factory, schedule: dict) -> dict:
    """Run the day through server.queueing on the database; `schedule`: when each counter is open."""
    free_kiosks = [KIOSKS]
    issuing.devices_free = lambda _session, cfgs: {c.id: free_kiosks[0] for c in cfgs}  # the simulated kiosks
    clock = itertools.count()
    events: list[tuple[float, int, str, object]] = []
    for c in customers:
        heapq.heappush(events, (c.at, next(clock), "arrive", c))
    for n, spans in schedule.items():
        for opens, closes in spans:
            heapq.heappush(events, (opens, next(clock), "open", n))
            if closes < INF:
                heapq.heappush(events, (closes, next(clock), "close", n))
    by_ticket: dict[int, Customer] = {}
    busy: dict[int, bool] = {n: False for n in schedule}
    closing: set[int] = set()
    waits: dict[int, float] = {}
    est: dict[int, float] = {}
    simple: dict[int, float] = {}
    aware: dict[int, float] = {}  # the shift-aware estimate and the same ignoring the plan, both after issue
    unaware: dict[int, float] = {}
    served_at_counter: list[float] = []
    all_services = [c.service for c in customers]
    mean_service = statistics.fmean(all_services) if all_services else 1.0

    def now_of(m: float) -> datetime:
        return DAY + timedelta(minutes=m)

    with factory() as s, s.begin():
        for n in schedule:
            calling.set_counter(s, branch_id="b001", counter=n, open=is_open(schedule, n, 0), now=DAY)

    def try_call(m: float) -> None:
        for n in sorted(schedule):
            if busy[n] or not is_open(schedule, n, m) or n in closing:
                continue
            with factory() as s, s.begin():
                res = calling.call_next(s, branch_id="b001", counter=n, now=now_of(m), board=False)
                t = res.ticket
                if t is None:
                    continue
                c = by_ticket[t.id]
                waits[t.id] = (t.first_called_at - t.issued_at).total_seconds() / 60
                busy[n] = True
                heapq.heappush(events, (m + c.service, next(clock), "finish", n))

    while events:
        m, _k, kind, obj = heapq.heappop(events)
        now = now_of(m)
        if kind == "arrive":
            c = obj
            with factory() as s, s.begin():
                waiting = s.scalar(select(func.count()).select_from(Ticket)
                                   .where(Ticket.status.in_(("waiting", "transferred"))))
                issued = issuing.issue(s, branch_id="b001", business=c.business, now=now, elderly=c.elderly,
                                       board=False)
                t = issued.ticket
                by_ticket[t.id] = c
                if t.channel == "self_service":
                    waits[t.id] = 0.0
                    free_kiosks[0] -= 1
                    heapq.heappush(events, (m + c.self_service, next(clock), "kiosk_done", t.id))
                else:
                    est[t.id] = t.est_p50_min if t.est_p50_min is not None else 0.0
                    open_n = sum(1 for n in schedule if is_open(schedule, n, m))
                    simple[t.id] = waiting * mean_service / max(open_n, 1)
                    line = waiting_tickets(s, "b001")
                    for shifts, into in ((True, aware), (False, unaware)):
                        snap = snapshot(s, cfg, now)
                        snap.shifts = shifts
                        e = estimate_for(t, line, snap)[1]
                        into[t.id] = e.p50_min if e is not None else 0.0
            try_call(m)
        elif kind == "kiosk_done":
            with factory() as s, s.begin():
                tickets.apply(s, ticket_id=obj, action="finish", now=now)
            free_kiosks[0] += 1
        elif kind == "finish":
            n = obj
            with factory() as s, s.begin():
                calling.finish(s, branch_id="b001", counter=n, now=now)
                if n in closing:  # its shift ended during this service: it closes now
                    calling.set_counter(s, branch_id="b001", counter=n, open=False, now=now)
            closing.discard(n)
            busy[n] = False
            served_at_counter.append(m)
            try_call(m)
        elif kind == "open":
            closing.discard(obj)
            with factory() as s, s.begin():
                calling.set_counter(s, branch_id="b001", counter=obj, open=True, now=now)
            try_call(m)
        elif kind == "close":
            if busy[obj]:
                closing.add(obj)  # calls nobody more; closes when its current customer is done
            else:
                with factory() as s, s.begin():
                    calling.set_counter(s, branch_id="b001", counter=obj, open=False, now=now)
    over = 0
    for tid, w in waits.items():
        b = cfg.business(by_ticket[tid].business)
        over += w > b.max_wait_min
    counter_ids = [tid for tid in est if tid in waits]
    mae = statistics.fmean(abs(est[t] - waits[t]) for t in counter_ids) if counter_ids else 0.0
    mae_simple = statistics.fmean(abs(simple[t] - waits[t]) for t in counter_ids) if counter_ids else 0.0

    def mae_of(guess: dict[int, float], ids: list[int] = counter_ids) -> float:
        return statistics.fmean(abs(guess[t] - waits[t]) for t in ids) if ids else 0.0

    # the tickets whose wait spans a moment some counter is away (late start, break, early end)
    gaps = [(b1, a2) for spans in schedule.values()
            for (_a1, b1), (a2, _b2) in zip(spans, [*spans[1:], (INF, INF)], strict=True) if b1 < INF]
    gaps += [(0.0, spans[0][0]) for spans in schedule.values() if spans[0][0] > 0]
    across = [t for t in counter_ids
              if any(a < by_ticket[t].at + waits[t] and by_ticket[t].at < b for a, b in gaps)]
    return {"waits": list(waits.values()), "over_max": over, "mae": mae, "mae_simple": mae_simple,
            "mae_across": mae_of(aware, across), "mae_across_unaware": mae_of(unaware, across), "across": len(across),
            "mae_aware": mae_of(aware), "mae_unaware": mae_of(unaware), "counter_tickets": len(counter_ids),
            "unserved": len(customers) - len(waits),
            "within_target": sum(waits[t] <= cfg.business(by_ticket[t].business).target_wait_min for t in waits),
            "diverted": sum(1 for t in waits if t not in est)}


def fifo_day(customers: list[Customer], cfg, schedule: dict) -> dict:
    """The same customers in one FIFO line for the counters (no routing, no self-service, no classes)."""
    skills = {c.number: set(c.skills) for c in cfg.counters}
    free_at = {n: 0.0 for n in schedule}
    line = sorted(customers, key=lambda c: c.at)
    waits: dict[int, float] = {}
    pending = list(line)
    while pending:
        # the next moment a counter is free and someone it can serve is waiting
        best = None
        for n in schedule:
            start = max(free_at[n], 0.0)
            start = _next_open(schedule, n, start)
            if start is None:
                continue
            cand = next((c for c in pending if c.business in skills[n]), None)
            if cand is None:
                continue
            start = _next_open(schedule, n, max(start, cand.at))
            if start is None:
                continue
            # FIFO: the oldest waiting customer this counter can serve at that moment
            cand = next(c for c in pending if c.business in skills[n] and c.at <= start) \
                if any(c.business in skills[n] and c.at <= start for c in pending) else cand
            if best is None or start < best[0]:
                best = (start, n, cand)
        if best is None:
            break
        start, n, c = best
        waits[c.i] = start - c.at
        free_at[n] = start + c.service
        pending.remove(c)
    over = sum(waits[c.i] > cfg.business(c.business).max_wait_min for c in customers if c.i in waits)
    return {"waits": list(waits.values()), "over_max": over,
            "within_target": sum(waits[c.i] <= cfg.business(c.business).target_wait_min
                                 for c in customers if c.i in waits)}


def _next_open(schedule: dict, n: int, minute: float) -> float | None:
    return next((max(minute, a) for a, b in schedule[n] if minute < b), None)


def run_day(customers: list[Customer], branches: dict, schedule: dict) -> dict:
    """`smart_day` on a fresh SQLite database holding `branches`."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/day.db")
        upgrade_engine(engine)
        factory = session_factory(engine)
        with factory() as s, s.begin():
            sync_branches(s, branches)
        try:
            return smart_day(customers, branches["b001"], factory, schedule)
        finally:
            engine.dispose()


# --- issue latency through the broker and the hub --------------------------------------------------

def issue_latency(rate: float = 50.0, count: int = 1000) -> float:
    """p99 ms from a kiosk's ticket request to its reply, through Mosquitto and `smartzone hub` running as
    its own process (as in production: in one process the kiosk's network thread would wait for the
    hub's GIL)."""
    import os
    import subprocess

    from sqlalchemy import func, select

    from device_hub.broker import MosquittoBroker
    from device_hub.link.device import DeviceLink
    from device_hub.link.mqtt import parse_broker_url
    from server.devices.models import Device
    from wire.messages import TicketReplyMessage, TicketRequestData, TicketRequestMessage

    with tempfile.TemporaryDirectory() as tmp:
        broker = MosquittoBroker(Path(tmp) / "mq").start()
        db_url = f"sqlite:///{tmp}/lat.db"
        engine = make_engine(db_url)
        upgrade_engine(engine)
        factory = session_factory(engine)
        with factory() as s, s.begin():
            sync_branches(s, load_branches(REPO / "configs" / "branches"))
        hub = subprocess.Popen([sys.executable, "-m", "smartzone.cli.main", "hub", "--dev", "--broker", broker.url,
                                "--db", db_url, "--client-id", "bench-hub"], cwd=REPO,
                               env=dict(os.environ, SZ_CONFIG_DIR=str(REPO / "configs"), SZ_AROUND_THE_CLOCK="1"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        got: dict[str, float] = {}
        done = threading.Event()

        def on_message(msg: TicketReplyMessage) -> None:
            if isinstance(msg, TicketReplyMessage):
                got.setdefault(msg.data.request_id, time.perf_counter())
                if len(got) >= count:
                    done.set()

        link = DeviceLink(parse_broker_url(broker.url), branch="b001", device="k1", components=["printer"],
                          on_message=on_message).start()
        link.connected.wait(10)
        deadline = time.monotonic() + 30  # the hub is up once it has stored the kiosk's birth
        while time.monotonic() < deadline:
            with factory() as s:
                if s.scalar(select(func.count()).select_from(Device)):
                    break
            time.sleep(0.1)
        sent: dict[str, float] = {}
        t0 = time.perf_counter()
        for i in range(count):
            target = t0 + i / rate
            delay = target - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            rid = f"bench-{i:06d}"
            sent[rid] = time.perf_counter()
            link.send(TicketRequestMessage, TicketRequestData(request_id=rid, business=("card", "loan", "deposit")
                                                              [i % 3]))
        done.wait(60)
        link.stop(goodbye=True, timeout=10)
        hub.terminate()
        hub.wait(30)
        broker.stop()
        engine.dispose()
        lat = [(got[r] - sent[r]) * 1000 for r in sent if r in got]
        if len(lat) < count:
            return float("inf")
        return pct(lat, 0.99)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print only the JSON result")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-latency", action="store_true", help="skip the broker + hub latency part")
    args = ap.parse_args()
    branches = load_branches(REPO / "configs" / "branches")
    customers = arrivals(args.seed)
    cfg = with_plan(branches["b001"], None)  # the first day: closures the plan does not know
    started = time.perf_counter()
    smart = run_day(customers, {**branches, "b001": cfg}, UNPLANNED)
    sim_s = time.perf_counter() - started
    fifo = fifo_day(customers, cfg, UNPLANNED)
    planned_cfg = with_plan(branches["b001"], PLANNED)
    planned = run_day(customers, {**branches, "b001": planned_cfg}, schedule_of(planned_cfg))
    p90_smart, p90_fifo = pct(smart["waits"], 0.9), pct(fifo["waits"], 0.9)
    result = {
        "p90_wait_ratio_vs_fifo": round(p90_smart / p90_fifo, 3) if p90_fifo else None,
        "tickets_over_max_wait": smart["over_max"],
        "estimate_mae_min": round(smart["mae"], 2),
        "estimate_mae_ratio_vs_simple": round(smart["mae"] / smart["mae_simple"], 3) if smart["mae_simple"] else None,
        "shift_day_estimate_mae_min": round(planned["mae_aware"], 2),
        "shift_day_estimate_mae_without_shifts_min": round(planned["mae_unaware"], 2),
        "shift_day_mae_ratio_vs_without": (round(planned["mae_aware"] / planned["mae_unaware"], 3)
                                           if planned["mae_unaware"] else None),
        "issue_p99_ms": None if args.no_latency else round(issue_latency(), 1),
        "detail": {
            "customers": len(customers), "diverted_to_self_service": smart["diverted"],
            "unserved": smart["unserved"],
            "smart": {"wait_avg_min": round(statistics.fmean(smart["waits"]), 2), "wait_p90_min": round(p90_smart, 2),
                      "wait_max_min": round(max(smart["waits"]), 2),
                      "within_target_pct": round(100 * smart["within_target"] / len(smart["waits"]), 1)},
            "fifo": {"wait_avg_min": round(statistics.fmean(fifo["waits"]), 2), "wait_p90_min": round(p90_fifo, 2),
                     "wait_max_min": round(max(fifo["waits"]), 2), "over_max": fifo["over_max"],
                     "within_target_pct": round(100 * fifo["within_target"] / len(fifo["waits"]), 1)},
            "simple_estimate_mae_min": round(smart["mae_simple"], 2), "simulation_s": round(sim_s, 1),
            "unplanned_day_mae_min": {"shift_aware": round(smart["mae_aware"], 2),
                                      "without_shifts": round(smart["mae_unaware"], 2)},
            "shift_day": {"counter_tickets": planned["counter_tickets"], "unserved": planned["unserved"],
                          "wait_avg_min": round(statistics.fmean(planned["waits"]), 2),
                          "wait_p90_min": round(pct(planned["waits"], 0.9), 2),
                          "issue_time_estimate_mae_min": round(planned["mae"], 2),
                          "waiting_across_an_absence": planned["across"],
                          "across_mae_min": {"shift_aware": round(planned["mae_across"], 2),
                                             "without_shifts": round(planned["mae_across_unaware"], 2)},
                          "simple_estimate_mae_min": round(planned["mae_simple"], 2)},
            "seed": args.seed,
        },
    }
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
