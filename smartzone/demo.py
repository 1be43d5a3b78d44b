"""The demo's composition root: broker, database, hub, HTTP server and simulated kiosks in one process tree."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from device_hub.ingest.hub import Hub, IngestOptions
from device_hub.link.mqtt import BrokerUrl, SessionOptions
from device_hub.sim.devices import SimPlan, SimResult, run_devices
from server.events.models import Event
from server.events.service import counts

log = logging.getLogger(__name__)

# Deliberately bad messages, so the demo shows dead-lettering at work.
GARBAGE = [
    ("sz/v1/b001/dev/k1/evt/survey", b'{"v":1,"id":"truncated'),
    ("sz/v1/b001/dev/k1/evt/teleport", b'{"v":1,"id":"%s","ts":"2026-11-28T09:00:00Z","branch":"b001",'
     b'"device":"k1","seq":1,"type":"teleport","data":{}}'),
    ("sz/v1/b999/dev/k1/evt/survey", b'{"v":1,"id":"%s","ts":"2026-11-28T09:00:00Z","branch":"b999",'
     b'"device":"k1","seq":1,"type":"survey","data":{"score":5}}'),
]


@dataclass
class DemoSummary:
    published: int = 0
    stored: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    lost: int = 0
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"published": self.published, "stored": self.stored, "duplicates": self.duplicates,
                "dead_lettered": self.dead_lettered, "lost": self.lost}


@dataclass(frozen=True)
class DemoPlan:
    kiosks: dict[str, int]  # branch → how many simulated kiosks
    rate: float  # events per second per kiosk
    businesses: dict[str, list[str]]


class Demo:
    def __init__(self, url: BrokerUrl, factory, plan: DemoPlan):
        self.url = url
        self.factory = factory
        self.plan = plan
        self.stop_sims = threading.Event()
        self.stop_hub = threading.Event()
        self.hub = Hub(url=url, db=factory, branches=set(plan.businesses),
                       session=SessionOptions(client_id="sz-demo-hub"), options=IngestOptions())
        self.results: dict[str, SimResult] = {}
        self._threads: list[threading.Thread] = []
        self._hub_thread = threading.Thread(target=self.hub.run, args=(self.stop_hub,), name="hub", daemon=True)
        self.sim_progress: dict[str, int] = {}

    def start(self) -> None:
        self._hub_thread.start()
        if not self.hub.connected.wait(15):
            raise RuntimeError(f"the hub could not subscribe at {self.url}")
        for branch, n in self.plan.kiosks.items():
            plan = SimPlan(branch=branch, count=n, events=None, rate=self.plan.rate, heartbeat_s=10,
                           businesses=self.plan.businesses[branch], device_prefix="k", track_ids=True)
            t = threading.Thread(target=self._run_sim, args=(branch, plan), name=f"sim-{branch}", daemon=True)
            t.start()
            self._threads.append(t)
        self._send_garbage()

    def _run_sim(self, branch: str, plan: SimPlan) -> None:
        self.results[branch] = run_devices(self.url, plan, self.stop_sims,
                                           on_progress=lambda n: self.sim_progress.__setitem__(branch, n))

    def _send_garbage(self) -> None:
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"sz-demo-vandal-{uuid.uuid4().hex[:6]}")
        c.connect(self.url.host, self.url.port)
        c.loop_start()
        for topic, payload in GARBAGE:
            body = payload % str(uuid.uuid4()).encode() if b"%s" in payload else payload
            c.publish(topic, body, qos=1).wait_for_publish(5)
        c.disconnect()
        c.loop_stop()

    def published_so_far(self) -> int:
        return sum(self.sim_progress.values())

    def stop(self, timeout: float = 60) -> DemoSummary:
        """Stop the kiosks (each says goodbye), wait until the hub has stored everything, stop the hub."""
        self.stop_sims.set()
        for t in self._threads:
            t.join(timeout)
        ids = [i for r in self.results.values() for i in r.ids]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._missing(ids):
            time.sleep(0.2)
        dead_target = len(GARBAGE)
        while time.monotonic() < deadline and self.hub.counters.dead_lettered < dead_target:
            time.sleep(0.1)
        self.stop_hub.set()
        self._hub_thread.join(30)
        c = self.hub.counters
        return DemoSummary(published=len(ids), stored=len(ids) - len(self._missing(ids)),
                           duplicates=c.duplicates, dead_lettered=c.dead_lettered, lost=len(self._missing(ids)))

    def _missing(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        with self.factory() as s:
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                found.update(s.scalars(select(Event.id).where(Event.id.in_(chunk))))
        return set(ids) - found


def snapshot(factory) -> dict:
    with factory() as s:
        return counts(s)


def write_summary(path: Path, summary: DemoSummary) -> None:
    path.write_text(json.dumps({**summary.as_dict(), "at": datetime.now(UTC).isoformat()}))
