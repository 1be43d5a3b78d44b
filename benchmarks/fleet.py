"""Fleet benchmark: many devices with heartbeats on one hub; offline detection and alarm evaluation cost.

One run, against a private Mosquitto and a SQLite file on this machine:

1. presence: N devices are born (QoS 1) and send heartbeats every H s (QoS 0, spread evenly) through
   a few publisher connections; then K of them fall silent. The presence job runs every 5 s on the real
   clock (as APScheduler runs it) with timeout T. Offline detection = the DEVICE_OFFLINE alarm's
   detection time minus the device's last heartbeat; target p99 ≤ T + 10 s.
2. alarm cost: M printer status messages (paper low/full, so every one opens or clears an alarm and its
   work order) drained end to end by the hub, with alarm evaluation on, then off (a no-op evaluate).

    python benchmarks/fleet.py --json                         # 10,000 devices, 30 s heartbeats, 90 s timeout
    python benchmarks/fleet.py --devices 1000 --heartbeat 3 --timeout 9 --json   # CI-sized
    python benchmarks/fleet.py --forecast-only --json         # phase 3 alone (pure, seconds)

3. paper forecast: a printer simulated for three weeks (opening hours, a busier Monday and Friday, Poisson
   customers, receipts of varying length on rolls with a near-end sensor, staff refilling at `low` or `out`).
   Weeks 1-2 are its history; on week 3, every 15 minutes while open, the forecast (server.devices.paper, learned
   from the history so far) is compared with when the roll actually reached low and out: mean and p90 absolute
   error, and whether the refill order (30 min lead) came before the sensor said low. The baseline is the former
   forecast: 400 receipts per roll at the last hour's rate.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from device_hub.broker import MosquittoBroker
from device_hub.ingest.hub import Hub, IngestOptions
from device_hub.ingest.runner import HubThread
from device_hub.link.mqtt import SessionOptions, parse_broker_url
from server.branches.service import sync_branches
from server.db import make_engine, session_factory
from server.migrate import upgrade_engine
from szconfig import load_branches
from szconfig.calendar import around_the_clock
from wire import TopicKind, device_topic, encode, envelope
from wire.messages import (
    HeartbeatData,
    HeartbeatMessage,
    StateData,
    StateMessage,
    StatusData,
    StatusMessage,
)

REPO = Path(__file__).resolve().parents[1]


def _client(url, name: str) -> mqtt.Client:
    u = parse_broker_url(url)
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name)
    c.max_inflight_messages_set(100)
    c.connect(u.host, u.port)
    c.loop_start()
    return c


def _publish_qos1(c: mqtt.Client, items) -> None:
    pending = []
    for topic, payload in items:
        pending.append(c.publish(topic, payload, qos=1))
        if len(pending) >= 1000:
            for p in pending:
                p.wait_for_publish(30)
            pending = []
    for p in pending:
        p.wait_for_publish(30)


def _count(factory, sql: str) -> int:
    from sqlalchemy import text

    with factory() as s:
        return int(s.execute(text(sql)).scalar() or 0)


def presence(url: str, factory, *, devices: int, heartbeat: float, timeout: float, silent: int) -> dict:
    from server.devices.scheduled import check_presence
    from server.devices.settings import FleetSettings

    ids = [f"f{i:05d}" for i in range(devices)]
    births = [(device_topic("b001", d, TopicKind.STATE), encode(envelope(
        StateMessage, branch="b001", device=d, seq=0, data=StateData(online=True, session=1, components=["printer"]))))
        for d in ids]
    pub = _client(url, "bench-fleet-births")
    t0 = time.monotonic()
    _publish_qos1(pub, births)
    while _count(factory, "select count(*) from devices where online") < devices:
        time.sleep(0.2)
    born_s = time.monotonic() - t0
    quiet = set(ids[:silent])
    stop = threading.Event()
    last_hb: dict[str, float] = {}

    def beat(chunk: list[str], name: str) -> None:
        c = _client(url, name)
        gap = heartbeat / max(1, len(chunk))
        i = 0
        while not stop.is_set():
            d = chunk[i % len(chunk)]
            i += 1
            if d in quiet and silence.is_set():
                stop.wait(gap)
                continue
            msg = envelope(HeartbeatMessage, branch="b001", device=d, seq=0, data=HeartbeatData(uptime_s=i))
            c.publish(device_topic("b001", d, TopicKind.HEARTBEAT), encode(msg), qos=0)
            last_hb[d] = msg.ts.timestamp()
            stop.wait(gap)
        c.loop_stop()
        c.disconnect()

    silence = threading.Event()
    threads = [threading.Thread(target=beat, args=(ids[k::4], f"bench-fleet-hb{k}"), daemon=True) for k in range(4)]
    for t in threads:
        t.start()
    time.sleep(heartbeat * 1.5)  # every device has sent at least one heartbeat
    settings = FleetSettings(offline_timeout_s=timeout)
    silence.set()
    silenced_at = time.time()
    job_runs, job_ms = 0, []
    false_offline = 0
    while time.time() - silenced_at < timeout + heartbeat + 12:
        j0 = time.perf_counter()
        check_presence(factory, __import__("server.db", fromlist=["utcnow"]).utcnow(), settings)
        job_ms.append((time.perf_counter() - j0) * 1000)
        job_runs += 1
        if _count(factory, "select count(*) from alarms where type='DEVICE_OFFLINE'") >= silent:
            break
        time.sleep(5)
    stop.set()
    for t in threads:
        t.join(5)
    from sqlalchemy import select

    from server.alarms.models import Alarm

    with factory() as s:
        alarms = list(s.scalars(select(Alarm).where(Alarm.type == "DEVICE_OFFLINE")))
    latencies = sorted((a.started_at.timestamp() - last_hb[a.device_id]) for a in alarms if a.device_id in quiet)
    false_offline = sum(1 for a in alarms if a.device_id not in quiet)
    pub.loop_stop()
    pub.disconnect()

    def q(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1) if latencies else float("nan")

    return {"devices": devices, "heartbeat_s": heartbeat, "timeout_s": timeout, "silenced": silent,
            "births_stored_s": round(born_s, 1), "detected": len(latencies), "false_offline": false_offline,
            "detect_p50_s": q(0.5), "detect_p99_s": q(0.99), "detect_max_s": q(1.0),
            "target_p99_s": timeout + 10, "ok": bool(latencies) and q(0.99) <= timeout + 10 and not false_offline,
            "presence_job_ms_p50": round(statistics.median(job_ms), 1), "heartbeats_per_s": round(devices / heartbeat)}


def alarm_cost(url: str, factory, hub: Hub, *, messages: int, devices: int, evaluate: bool) -> dict:
    import server.devices.service as svc

    original = svc.evaluate
    if not evaluate:
        svc.evaluate = lambda *a, **k: []
    try:
        ids = [f"a{i:04d}" for i in range(devices)]
        tag = "on" if evaluate else "off"
        items = []
        for i in range(messages):
            d = ids[i % devices]
            paper = "low" if (i // devices) % 2 == 0 else "full"
            msg = envelope(StatusMessage, branch="b002", device=d, seq=i // devices + 1,
                           data=StatusData(component="printer", device="online", paper=paper))
            items.append((device_topic("b002", d, TopicKind.STATUS), encode(msg)))
        births = [(device_topic("b002", d, TopicKind.STATE), encode(envelope(
            StateMessage, branch="b002", device=d, seq=0, data=StateData(online=True, session=1))))
            for d in ids]
        pub = _client(url, f"bench-fleet-status-{tag}")
        before = hub.counters.stored + len(births)
        _publish_qos1(pub, births)
        while hub.counters.stored < before:
            time.sleep(0.05)
        t0 = time.monotonic()
        _publish_qos1(pub, items)
        while hub.counters.stored < before + messages:
            time.sleep(0.02)
        elapsed = time.monotonic() - t0
        pub.loop_stop()
        pub.disconnect()
        alarms = _count(factory, "select count(*) from alarms where branch_id='b002'")
        return {"evaluate": evaluate, "messages": messages, "seconds": round(elapsed, 2),
                "per_s": round(messages / elapsed), "alarms_total_b002": alarms}
    finally:
        svc.evaluate = original


def forecast_error(seed: int = 7, weeks: int = 3, roll_mm: float = 12_000, near_end_mm: float = 1_500) -> dict:
    """Phase 3: the learned paper forecast against a simulated printer's truth, and the former forecast."""
    import random
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from server.devices import paper

    rng = random.Random(seed)
    zone = ZoneInfo("Asia/Shanghai")
    start = datetime(2026, 11, 2, 0, 0, tzinfo=zone).astimezone(UTC)  # a Monday
    end = start + timedelta(weeks=weeks)
    busy = {0: 1.4, 4: 1.3, 5: 0.6, 6: 0.5}  # Monday, Friday busier; weekends quieter
    shape = {9: 0.8, 10: 1.3, 11: 1.2, 12: 0.6, 13: 0.8, 14: 1.1, 15: 1.2, 16: 0.9}  # per local hour, 9-17

    prints: list[datetime] = []  # receipt times; rolls: (refill, low time, out time, receipts at low, at out)
    rolls: list[dict] = []
    roll = {"start": start, "low": None, "out": None, "n_low": None, "n_out": None, "n": 0}
    left = roll_mm
    t = start
    while t < end:
        local = t.astimezone(zone)
        rate = 12 * shape.get(local.hour, 0) * busy.get(local.weekday(), 1.0)  # customers per hour
        if rate == 0:
            t = (t + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
            continue
        t += timedelta(hours=rng.expovariate(rate))
        if t.astimezone(zone).hour != local.hour:
            t = t.replace(minute=0, second=0, microsecond=0)
            continue
        if roll["out"] is not None:
            continue  # out of paper: the customer gets the ticket on screen
        left -= 15 + 4 * rng.randint(14, 22)  # a ticket of 14-22 lines
        roll["n"] += 1
        prints.append(t)
        if left <= near_end_mm and roll["low"] is None:
            roll["low"], roll["n_low"] = t, roll["n"]
            refill_at_low = rng.random() < 0.3  # staff sometimes refill as soon as it says low
            if refill_at_low:
                roll["refill"] = t + timedelta(minutes=rng.randint(10, 40))
        if left <= 0:
            roll["out"], roll["n_out"] = t, roll["n"]
            roll["refill"] = min(roll.get("refill") or t, t) + timedelta(minutes=rng.randint(5, 30))
        if roll.get("refill") and (roll["out"] is not None or t >= roll["refill"]):
            rolls.append(roll)
            roll = {"start": roll["refill"], "low": None, "out": None, "n_low": None, "n_out": None, "n": 0}
            left = roll_mm
    history = start + timedelta(weeks=weeks - 1)
    errors = {"low": [], "out": []}
    baseline = {"low": [], "out": []}
    told_before_low, rolls_evaluated = 0, 0
    for r in rolls:
        if r["start"] < history:
            continue
        finished = [paper.Roll(x["n_low"], x["n_out"]) for x in reversed(rolls) if x.get("refill")
                    and x["refill"] <= r["start"]]
        rolls_evaluated += 1
        told = False
        t = r["start"]
        stop = r["out"] or r["low"] or r["refill"]
        while t < stop:
            if 9 <= t.astimezone(zone).hour < 17:
                by_hour: dict[datetime, int] = {}
                for p in prints:
                    if start <= p < t:
                        h = p.replace(minute=0, second=0, microsecond=0)
                        by_hour[h] = by_hour.get(h, 0) + 1
                model = paper.learn(finished, by_hour.items(), tz="Asia/Shanghai", now=t, capacity=400, since=start)
                printed = sum(1 for p in prints if r["start"] <= p < t)
                recent = sum(1 for p in prints if t - paper.PACE_WINDOW <= p < t)
                f = paper.forecast(model, printed=printed, now=t, tz="Asia/Shanghai", recent=recent)
                last_hour = sum(1 for p in prints if t - timedelta(hours=1) <= p < t)
                old_out = t + timedelta(hours=(400 - printed) / last_hour) if last_hour and printed < 400 else None
                cases = (("low", r["low"], f.low_at, None), ("out", r["out"], f.out_at, old_out))
                for what, actual, guess, old in cases:
                    if actual is None or actual <= t:
                        continue
                    if guess is not None:
                        errors[what].append(abs((guess - actual).total_seconds()) / 60)
                    if what == "out":
                        baseline[what].append(abs((old - actual).total_seconds()) / 60 if old else 14 * 24 * 60)
                trigger = f.low_at if model.to_low is not None else f.out_at
                if not told and r["low"] and trigger and trigger - t <= timedelta(minutes=30) and t < r["low"]:
                    told = True
            t += timedelta(minutes=15)
        told_before_low += told

    def summary(xs: list[float]) -> dict:
        xs = sorted(xs)
        return {"n": len(xs), "mae_min": round(statistics.mean(xs), 1) if xs else None,
                "p90_min": round(xs[int(0.9 * (len(xs) - 1))], 1) if xs else None}

    return {"rolls": len(rolls), "receipts": len(prints), "rolls_evaluated": rolls_evaluated,
            "receipts_per_roll": round(statistics.mean(x["n_out"] for x in rolls if x["n_out"]), 1),
            "learned": {"low": summary(errors["low"]), "out": summary(errors["out"])},
            "former_400_last_hour": {"out": summary(baseline["out"])},
            "order_before_low": f"{told_before_low}/{rolls_evaluated}"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--devices", type=int, default=10_000)
    ap.add_argument("--heartbeat", type=float, default=30.0)
    ap.add_argument("--timeout", type=float, default=90.0)
    ap.add_argument("--silent", type=int, default=200, help="devices that fall silent")
    ap.add_argument("--messages", type=int, default=10_000, help="status messages for the alarm-cost phase")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--forecast-only", action="store_true", help="only phase 3, the paper forecast's error")
    args = ap.parse_args()
    if args.forecast_only:
        print(json.dumps({"paper_forecast": forecast_error()}, indent=None if args.json else 2))
        return
    with tempfile.TemporaryDirectory() as tmp:
        broker = MosquittoBroker(Path(tmp) / "mosquitto").start()
        engine = make_engine(f"sqlite:///{tmp}/fleet.db")
        upgrade_engine(engine)
        factory = session_factory(engine)
        with factory() as s, s.begin():
            sync_branches(s, {b: around_the_clock(c) for b, c in load_branches(REPO / "configs" / "branches").items()})
        hub_thread = HubThread(Hub(url=parse_broker_url(broker.url), db=factory, branches={"b001", "b002"},
                                   session=SessionOptions(client_id="bench-fleet-hub"), options=IngestOptions()))
        hub = hub_thread.start()
        try:
            result = {"presence": presence(broker.url, factory, devices=args.devices, heartbeat=args.heartbeat,
                                           timeout=args.timeout, silent=min(args.silent, args.devices))}
            off = alarm_cost(broker.url, factory, hub, messages=args.messages, devices=200, evaluate=False)
            on = alarm_cost(broker.url, factory, hub, messages=args.messages, devices=200, evaluate=True)
            result["alarm_cost"] = {"without_evaluation": off, "with_evaluation": on,
                                    "rate_ratio": round(on["per_s"] / off["per_s"], 2)}
            result["paper_forecast"] = forecast_error()
        finally:
            hub_thread.stop()
            broker.stop()
            engine.dispose()
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
