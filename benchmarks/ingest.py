"""Ingest benchmark: the hub's end-to-end rate and latency against a bare paho subscriber.

In one run, against a private Mosquitto on this machine:
  (a) raw drain: a bare paho subscriber (QoS 1, auto-ack, no work) drains N queued messages —
      the limit for any Python consumer;
  (b) the hub drains the same N queued messages (validate → commit → ack) on SQLite and, when
      reachable, PostgreSQL; and, while the hub runs live, p50/p99 latency from publish to commit
      at a steady publish rate.
Traffic is what kiosks send (visits, card reads, ticket requests, usage sessions, surveys,
status), spread like production over many branches: BRANCHES copies of branch b001 with
DEVICES_PER_BRANCH kiosks each, so each branch's queue stays the length of a busy day.
Two hubs are measured: as shipped (every domain handler: queueing, CRM, fleet) and the spine
alone (event log, device registry, visits and touchpoints; `spine_only`); each as one process and
as two worker processes sharing the subscription (`two_workers`, drain only: `smartzone hub --workers 2`).

End-to-end acknowledgements: each one-process drain is measured with the hub's confirmations off
(`IngestOptions(confirm=False)`) and on (the default: after each commit one QoS 0 message per device
of the batch on `dev/{d}/ack`), on the same queued messages, in rounds: each round drains the bare
subscriber once, then every configuration off and on, alternating which goes first, so the
machine's noise hits both alike. The messages are queued by a raw publisher (no DeviceLink), so
nobody subscribes to the confirmations: the hub builds and sends every one of them (the same work
as with devices listening), the broker drops them instead of forwarding them. Reported: medians of
the rounds; `ratio` is (b)/(a) of the same round, `confirm_cost` is 1 − on/off of the same round
(median over rounds). Latency and two workers are measured once, as shipped (confirmations on).
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from device_hub.broker import MosquittoBroker  # noqa: E402
from device_hub.ingest.hub import Hub, IngestOptions  # noqa: E402
from device_hub.ingest.runner import HubThread  # noqa: E402
from device_hub.link.mqtt import SessionOptions, no_delay, parse_broker_url  # noqa: E402
from device_hub.sim.flows import kiosk_traffic  # noqa: E402
from server.branches.service import sync_branches  # noqa: E402
from server.db import make_engine, session_factory  # noqa: E402
from server.ingest import handlers  # noqa: E402
from server.migrate import upgrade_engine  # noqa: E402
from szconfig import load_branches  # noqa: E402
from szconfig.calendar import around_the_clock  # noqa: E402
from szconfig.roles import Role  # noqa: E402
from wire import TopicKind, device_topic, encode, envelope  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
BRANCHES = 200
HUB_CLIENT = "bench-hub"
DEVICES_PER_BRANCH = 4  # b001's kiosks k1-k4


def branch_ids() -> list[str]:
    return [f"bx{i:04d}" for i in range(BRANCHES)]


def bench_branches() -> dict:
    """BRANCHES copies of b001 (same zones, counters, rules, planned kiosks) with their own ids."""
    b001 = around_the_clock(load_branches(ROOT / "configs" / "branches")["b001"])  # any hour
    return {bid: b001.model_copy(update={"id": bid}) for bid in branch_ids()}


def make_messages(n: int, seed: int = 7) -> list[tuple[str, bytes]]:
    """Realistic kiosk traffic from every kiosk of every bench branch, interleaved."""
    rng = random.Random(seed)
    devices = [(b, f"k{k + 1}") for b in branch_ids() for k in range(DEVICES_PER_BRANCH)]
    streams = [kiosk_traffic(rng, ["deposit", "card", "wealth", "transfer", "loan"]) for _ in devices]
    seqs = [0] * len(devices)
    out = []
    for i in range(n):
        d = i % len(devices)
        branch, device = devices[d]
        mtype, data, kind = next(streams[d])
        seqs[d] += 1
        msg = envelope(mtype, branch=branch, device=device, seq=seqs[d], data=data)
        out.append((device_topic(branch, device, kind, msg.type if kind is TopicKind.EVENT else None),
                    encode(msg)))
    return out


def publish_all(url: str, messages: list[tuple[str, bytes]], rate: float = 0.0,
                on_sent=None) -> None:
    """Publish QoS 1 with back-pressure (bounded unacknowledged), optionally at a fixed rate."""
    u = parse_broker_url(url)
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:6]}")
    c.on_socket_open = no_delay
    unacked = threading.Semaphore(200)
    c.on_publish = lambda *_a: unacked.release()
    c.connect(u.host, u.port)
    c.loop_start()
    start = time.monotonic()
    for i, (topic, payload) in enumerate(messages):
        unacked.acquire()
        if rate:
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        if on_sent:
            on_sent(i)
        c.publish(topic, payload, qos=1)
    for _ in range(200):
        unacked.acquire()
    c.disconnect()
    c.loop_stop()


def raw_drain(url: str, messages: list[tuple[str, bytes]], topic_filter: str = "sz/v1/+/dev/#") -> float:
    """Queue N messages for a persistent subscriber, then time how fast it drains them."""
    u = parse_broker_url(url)
    n = len(messages)

    def client() -> mqtt.Client:
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-raw", clean_session=False)
        c.on_socket_open = no_delay  # as the hub's client does
        return c

    c = client()
    c.connect(u.host, u.port)
    c.subscribe(topic_filter, qos=1)
    c.loop(1)
    c.loop(1)
    c.disconnect()
    publish_all(url, messages)
    got = 0
    done = threading.Event()

    def on_message(*_a) -> None:
        nonlocal got
        got += 1
        if got >= n:
            done.set()

    c = client()
    c.on_message = on_message
    t0 = time.monotonic()
    c.connect(u.host, u.port)
    c.loop_start()
    done.wait(300)
    elapsed = time.monotonic() - t0
    c.loop_stop()
    c.disconnect()
    forget_session(url, "bench-raw")
    return n / elapsed


def prepare_db(url: str):
    engine = make_engine(url)
    upgrade_engine(engine)
    factory = session_factory(engine)
    with factory() as s, s.begin():
        sync_branches(s, bench_branches())
    return engine, factory


def RunningHub(broker_url: str, factory, on_batch=None, confirm: bool = True) -> HubThread:
    return HubThread(Hub(url=parse_broker_url(broker_url), db=factory, branches=set(branch_ids()),
                         session=SessionOptions(client_id=HUB_CLIENT), options=IngestOptions(confirm=confirm),
                         on_batch=on_batch))


def hub_drain(broker_url: str, db_url: str, messages: list[tuple[str, bytes]], confirm: bool = True) -> dict:
    """Queue the messages for the hub, then time its drain (start, connect, store, acknowledge and, with
    `confirm`, the confirmations of the last batch: `on_batch` runs after them)."""
    _engine, factory = prepare_db(db_url)
    with RunningHub(broker_url, factory):
        pass  # creates the persistent session and its subscriptions
    publish_all(broker_url, messages)
    n = len(messages)
    done = threading.Event()
    stored = 0

    def on_batch(result) -> None:
        nonlocal stored
        stored += result.stored + result.duplicates
        if stored >= n:
            done.set()

    t0 = time.monotonic()
    with RunningHub(broker_url, factory, on_batch=on_batch, confirm=confirm) as hub:
        if not done.wait(600):
            raise RuntimeError(f"hub stored only {stored} of {n}")
        elapsed = time.monotonic() - t0
        counters = hub.counters
        batches, confirmations = counters.batches, counters.confirmations
    _engine.dispose()
    forget_session(broker_url, HUB_CLIENT)
    if confirm != (confirmations > 0):
        raise RuntimeError(f"confirm={confirm} but the hub sent {confirmations} confirmations")
    return {"eps": n / elapsed, "batches": batches, "confirmations": confirmations}


def workers_drain(broker_url: str, db_url: str, messages: list[tuple[str, bytes]], workers: int,
                  role: Role = Role.ALL) -> float:
    """`hub_drain` with the hub as `workers` processes sharing the subscription (`smartzone hub --workers`);
    `role` central: the centre's hub draining what edges sent up."""
    from sqlalchemy import text

    from device_hub.ingest.workers import run_workers
    from server.db import make_engine, session_factory
    from smartzone.cli.compose import stop_on_signals

    engine, factory = prepare_db(db_url)

    def hub(i: int, factory) -> Hub:
        return Hub(url=parse_broker_url(broker_url), db=factory, branches=set(branch_ids()),
                   session=SessionOptions(client_id=f"bench-w{i}"),
                   options=IngestOptions(shared_group="bench", role=role))

    for i in range(workers):  # creates the persistent sessions and their shared subscriptions
        with HubThread(hub(i, factory)):
            pass
    engine.dispose()  # the workers are forked: each opens its own connections

    def worker(i: int) -> int:
        hub(i, session_factory(make_engine(db_url))).run(stop_on_signals())
        return 0

    # cheap enough to ask 50 times a second: on SQLite the newest rowid (no deletes here), not a count
    # that scans the table and would take CPU from the workers
    sql = text("SELECT coalesce(max(rowid), 0) FROM events" if db_url.startswith("sqlite")
               else "SELECT count(*) FROM events")

    def stored() -> int:
        with engine.connect() as c:
            return c.execute(sql).scalar_one()

    publish_all(broker_url, messages)
    stop = threading.Event()
    t0 = time.monotonic()  # the workers' start counts, as in hub_drain
    elapsed: list[float] = []

    def watch() -> None:  # started once the workers are forked (SQLite connections must not cross a fork)
        while stored() < len(messages):
            time.sleep(0.02)
        elapsed.append(time.monotonic() - t0)
        stop.set()

    run_workers(workers, worker, stop, on_started=threading.Thread(target=watch, daemon=True).start)
    engine.dispose()
    for i in range(workers):
        forget_session(broker_url, f"bench-w{i}")
    return len(messages) / elapsed[0]


def forget_session(url: str, client_id: str) -> None:
    """End a persistent session and its subscriptions: connect with a clean session, then leave.
    Each measurement ends so, or the broker would queue every later message for it (and a later
    measurement with the same client id would drain those too)."""
    u = parse_broker_url(url)
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    c.connect(u.host, u.port)
    c.loop(1)
    c.disconnect()


def hub_latency(broker_url: str, db_url: str, messages: list[tuple[str, bytes]], rate: float) -> dict:
    """Publish at a steady rate to a live hub; latency = commit time − publish time, per event."""
    _engine, factory = prepare_db(db_url)
    sent_at: dict[str, float] = {}
    ids = [json.loads(p)["id"] for _t, p in messages]
    latencies: list[float] = []
    done = threading.Event()

    def on_sent(i: int) -> None:
        sent_at[ids[i]] = time.monotonic()

    def on_batch(result) -> None:
        now = time.monotonic()
        latencies.extend((now - sent_at[i]) * 1000 for i in result.stored_ids if i in sent_at)
        if len(latencies) >= len(messages):
            done.set()

    with RunningHub(broker_url, factory, on_batch=on_batch):
        publish_all(broker_url, messages, rate=rate, on_sent=on_sent)
        done.wait(120)
    _engine.dispose()
    forget_session(broker_url, HUB_CLIENT)
    latencies.sort()
    return {"p50_ms": round(statistics.median(latencies), 2),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2),
            "latency_rate_eps": rate}


def pg_database_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return True
    except Exception:
        return False


def pg_database() -> str:
    import psycopg

    name = f"sz_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_pg(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure_once(broker_url: str, new_db, n: int, latency_n: int, latency_rate: float, raw_eps: float) -> dict:
    """Latency and two workers, as shipped (confirmations on)."""
    lat = hub_latency(broker_url, new_db(), make_messages(latency_n, seed=13), latency_rate)
    two = workers_drain(broker_url, new_db(), make_messages(n, seed=17), workers=2)
    return {**lat, "two_workers": {"eps": round(two), "ratio": round(two / raw_eps, 3)}}


def summarise(runs: dict[bool, list[dict]], raw_runs: list[float], n: int) -> dict:
    """Medians over the rounds of one configuration: per mode events/s and ratio to the same round's bare
    subscriber; the cost of confirmations per round (1 − on/off), then its median."""
    out: dict = {}
    for confirm, key in ((False, "confirm_off"), (True, "confirm_on")):
        eps = [r["eps"] for r in runs[confirm]]
        out[key] = {"eps": round(statistics.median(eps)),
                    "ratio": round(statistics.median(e / raw for e, raw in zip(eps, raw_runs, strict=True)), 3),
                    "runs": [round(e) for e in eps],
                    "batch_avg": round(n * len(eps) / sum(r["batches"] for r in runs[confirm]), 1)}
    on = runs[True]
    out["confirm_on"]["confirmations_per_event"] = round(sum(r["confirmations"] for r in on) / (n * len(on)), 3)
    costs = [1 - a["eps"] / b["eps"] for a, b in zip(on, runs[False], strict=True)]
    out["confirm_cost"] = round(statistics.median(costs), 3)
    out["confirm_cost_runs"] = [round(c, 3) for c in costs]
    out["confirm_goal_met"] = out["confirm_cost"] <= 0.10  # the goal: at most 10% of throughput
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="6,000 messages, 3 rounds: under two minutes")
    ap.add_argument("-n", type=int, default=None, help="messages per measurement")
    ap.add_argument("--rounds", type=int, default=None,
                    help="rounds of the bare subscriber and every drain, confirmations off and on (medians)")
    ap.add_argument("--json", action="store_true", help="JSON only (the default output is JSON too)")
    args = ap.parse_args()
    n = args.n or (6_000 if args.quick else 40_000)
    rounds = args.rounds or (3 if args.quick else 5)
    latency_n, latency_rate = (1_500, 500.0) if args.quick else (8_000, 1_000.0)
    messages = make_messages(n)
    drained = make_messages(n, seed=11)  # what every hub drain gets, confirmations off or on (fresh database each)
    result: dict = {"messages": n, "branches": BRANCHES, "devices": BRANCHES * DEVICES_PER_BRANCH,
                    "payload_bytes_avg": round(sum(len(p) for _t, p in messages) / n), "rounds": rounds}
    full_handlers, full_deferred = list(handlers.HANDLERS), list(handlers.DEFERRED)
    # event log, devices, visits, touchpoints: what the spine built
    spine_handlers = [h for h in full_handlers if h.fn is handlers.touchpoints]
    pg_names: list[str] = []
    with tempfile.TemporaryDirectory(prefix="sz-bench-") as tmp:
        broker = MosquittoBroker(Path(tmp) / "mq").start()
        counter = iter(range(1000))

        def new_sqlite() -> str:
            return f"sqlite:///{tmp}/bench{next(counter)}.db"

        def new_pg() -> str:
            name = pg_database()
            pg_names.append(name)
            return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"

        configs = {"as_shipped": (full_handlers, full_deferred), "spine_only": (spine_handlers, [])}
        try:
            backends = {"sqlite": new_sqlite}
            if pg_database_available():
                backends["postgresql"] = new_pg
            raw_runs: list[float] = []
            runs = {(c, b): {False: [], True: []} for c in configs for b in backends}
            for r in range(rounds):
                raw_runs.append(raw_drain(broker.url, messages))
                for config, (hs, deferred) in configs.items():
                    handlers.HANDLERS[:], handlers.DEFERRED[:] = hs, deferred
                    for name, new_db in backends.items():
                        for confirm in ((False, True) if r % 2 == 0 else (True, False)):
                            runs[config, name][confirm].append(hub_drain(broker.url, new_db(), drained, confirm))
                print(f"round {r + 1}/{rounds} done", file=sys.stderr)
            raw_eps = statistics.median(raw_runs)
            result["raw_drain_eps"] = round(raw_eps)
            result["raw_drain_runs"] = [round(e) for e in raw_runs]
            result["spine_only"] = {}
            for config, (hs, deferred) in configs.items():
                handlers.HANDLERS[:], handlers.DEFERRED[:] = hs, deferred
                for name, new_db in backends.items():
                    summary = summarise(runs[config, name], raw_runs, n)
                    on = summary["confirm_on"]
                    entry = {"eps": on["eps"], "ratio": on["ratio"], **summary,
                             **measure_once(broker.url, new_db, n, latency_n, latency_rate, raw_eps)}
                    if config == "as_shipped":
                        result[name] = entry
                    else:
                        result["spine_only"][name] = entry
        finally:
            handlers.HANDLERS[:], handlers.DEFERRED[:] = full_handlers, full_deferred
            broker.stop()
            for name in pg_names:
                drop_pg(name)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
