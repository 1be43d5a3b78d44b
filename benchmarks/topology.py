"""Topology benchmark: an edge catching up after an outage, and the centre's rate with 1 and 2 workers.

In one run, on this machine, PostgreSQL for the centre:
  (a) catch-up: one branch's edge (its own Mosquitto bridged to the central one through a plug, its hub in
      role edge on SQLite) holds K events made while its link was cut; the plug goes back and we time until
      the centre has confirmed all K (events/s into the centre, time to drain), the centre being one hub
      worker in role central;
  (b) the centre alone: N messages from 200 branches' edges queued on the central broker's up topics,
      drained by a bare paho subscriber (the limit of any Python consumer), then by the centre's hub
      (role central: event log, device registry, touchpoints, CRM, fleet) as 1 and as 2 worker processes.
Prints one JSON object. `--quick` for small counts.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from ingest import (  # noqa: E402
    drop_pg,
    forget_session,
    make_messages,
    pg_database,
    pg_database_available,
    publish_all,
    raw_drain,
    workers_drain,
)
from sqlalchemy import func, select  # noqa: E402

from device_hub.broker import MosquittoBroker  # noqa: E402
from device_hub.ingest.hub import Hub, IngestOptions  # noqa: E402
from device_hub.ingest.runner import HubThread  # noqa: E402
from device_hub.link.mqtt import SessionOptions, parse_broker_url  # noqa: E402
from device_hub.sim.plug import LinkPlug  # noqa: E402
from device_hub.trust.bridge import BridgeSpec, mosquitto_bridge  # noqa: E402
from server.events.models import Event  # noqa: E402
from server.link.models import CachedItem, UplinkItem  # noqa: E402
from server.link.steps import WATERMARK as STEPS_WATERMARK  # noqa: E402
from server.queueing.models import TicketStep  # noqa: E402
from smartzone.cli.compose import open_database  # noqa: E402
from szconfig import load_branches  # noqa: E402
from szconfig.calendar import around_the_clock  # noqa: E402
from szconfig.roles import Role  # noqa: E402
from wire.topics import EDGE_DEVICE, uplink_topic  # noqa: E402

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/{}"


def edge_messages(n: int) -> list[tuple[str, bytes]]:
    """n kiosk messages of branch b001 (10 kiosks): make_messages' traffic under b001's own ids."""
    out = []
    for topic, payload in make_messages(n, seed=3):
        parts = topic.split("/")
        branch, device = parts[2], parts[4]
        k = f"k{(int(branch[2:]) * 4 + int(device[1:])) % 10 + 1}"
        out.append(("/".join([*parts[:2], "b001", parts[3], k, *parts[5:]]),
                    payload.replace(f'"branch":"{branch}"'.encode(), b'"branch":"b001"', 1)
                    .replace(f'"device":"{device}"'.encode(), f'"device":"{k}"'.encode(), 1)))
    return out


def kiosk_events(factory) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(Event).where(Event.device_id != EDGE_DEVICE))


def steps_queued(factory) -> bool:
    """The edge's deferred work has turned every ticket step into an event waiting to go up."""
    with factory() as s:
        last = s.scalar(select(func.max(TicketStep.id)))
        mark = s.get(CachedItem, STEPS_WATERMARK)
        return last is None or (mark is not None and mark.version >= last)


def count(factory, model) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(model))


def catch_up(tmp: Path, k: int) -> dict:
    """Time an edge's backlog of k events into the centre (one central worker on PostgreSQL)."""
    branches = {b: around_the_clock(c) for b, c in load_branches(ROOT / "configs" / "branches").items()}
    central = MosquittoBroker(tmp / "central").start()
    plug = LinkPlug(central.port).start()
    edge = MosquittoBroker(tmp / "edge", extra_conf=mosquitto_bridge(
        BridgeSpec("b001", "127.0.0.1", plug.port, "unused", restart_s=(1, 2), keepalive_s=5))).start()
    pg = pg_database()
    try:
        _ce, centre = open_database(PG.format(pg), branches)
        _ee, edge_db = open_database(f"sqlite:///{tmp / 'edge.db'}", {"b001": branches["b001"]})
        hubs = [HubThread(Hub(url=parse_broker_url(central.url), db=centre, branches=set(branches),
                              session=SessionOptions(client_id="bench-central"),
                              options=IngestOptions(role=Role.CENTRAL)), name="central"),
                HubThread(Hub(url=parse_broker_url(edge.url), db=edge_db, branches={"b001"},
                              session=SessionOptions(client_id="bench-edge"),
                              options=IngestOptions(role=Role.EDGE, branch="b001")), name="edge")]
        for h in hubs:
            h.start()
        try:
            plug.pull()
            t0 = time.monotonic()
            publish_all(edge.url, edge_messages(k))
            while (kiosk_events(edge_db) < k or not steps_queued(edge_db)) and time.monotonic() - t0 < 600:
                time.sleep(0.1)
            held = count(edge_db, UplinkItem)  # the kiosks' events and the edge's own queue steps
            edge_eps = round(held / (time.monotonic() - t0))
            t0 = time.monotonic()
            plug.restore()
            first = None
            while count(edge_db, UplinkItem) and time.monotonic() - t0 < 600:
                if first is None and count(centre, Event):
                    first = time.monotonic()
                time.sleep(0.05)
            drained = time.monotonic() - t0
            flowing = time.monotonic() - (first or t0)
            at_centre = count(centre, Event)
            steps = count(edge_db, TicketStep)
        finally:
            for h in reversed(hubs):
                h.stop()
            _ce.dispose()
            _ee.dispose()
        return {"events": held, "queue_steps": steps, "edge_store_eps_while_cut": edge_eps,
                "drain_s": round(drained, 2),
                "reconnect_s": round(drained - flowing, 2), "catch_up_eps": round(held / flowing),
                "at_centre": at_centre, "window": IngestOptions().uplink_window,
                "note": "drain_s from the plug going back to the edge's queue empty; catch_up_eps from the first "
                        "event at the centre (the bridge's reconnect, 1-2 s back-off here, is reconnect_s)"}
    finally:
        plug.stop()
        edge.stop()
        central.stop()
        drop_pg(pg)


def centre_rates(tmp: Path, n: int) -> dict:
    """The centre draining n queued up-messages from 200 branches: bare subscriber, 1 and 2 central workers."""
    broker = MosquittoBroker(tmp / "centre-only").start()
    messages = [(uplink_topic(t), p) for t, p in make_messages(n, seed=11)
                if "/hb" not in t]  # heartbeats are not sent up (they cross the bridge live)
    out: dict = {"messages": len(messages), "branches": 200}
    try:
        out["raw_drain_eps"] = round(raw_drain(broker.url, messages, "sz/v1/+/up/#"))
        for workers in (1, 2):
            pg = pg_database()
            try:
                out[f"central_{workers}_worker{'s' if workers > 1 else ''}_eps"] = round(
                    workers_drain(broker.url, PG.format(pg), messages, workers, role=Role.CENTRAL))
            finally:
                drop_pg(pg)
        out["ratio_2_workers_to_raw"] = round(out["central_2_workers_eps"] / out["raw_drain_eps"], 3)
    finally:
        forget_session(broker.url, "bench-raw")
        broker.stop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small counts (a smoke run)")
    ap.add_argument("--outage-events", type=int, default=None, help="K: events held by the edge (default 20,000)")
    ap.add_argument("--messages", type=int, default=None, help="N for the centre's drain (default 40,000)")
    args = ap.parse_args()
    if not pg_database_available():
        sys.exit("PostgreSQL is not reachable at 127.0.0.1:5432: the centre runs on it")
    k = args.outage_events or (2_000 if args.quick else 20_000)
    n = args.messages or (4_000 if args.quick else 40_000)
    with tempfile.TemporaryDirectory(prefix="sz-topo-") as tmp:
        result = {"catch_up": catch_up(Path(tmp), k), "centre": centre_rates(Path(tmp), n)}
    print(json.dumps(result))


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
