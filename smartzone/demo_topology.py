"""`demo --topology edge`: a centre and two branch edges on this machine, with a plug to pull per branch.

The centre: its own Mosquitto (accounts for its hub and each edge's bridge), database and hub in role
central, and the head-office console. Each branch (b001, b002): its own Mosquitto bridged to the centre
through a `LinkPlug`, its own SQLite database, its hub in role edge, its console, simulated kiosks and
virtual tellers. Pull a branch's plug (create the file `<var>/unplug-<branch>`, or `--outage`) and watch it
serve on while its backlog grows, then catch up when the plug is back.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from device_hub.broker import MosquittoBroker, start_embedded
from device_hub.ingest.hub import Hub, IngestOptions
from device_hub.ingest.runner import HubThread
from device_hub.link.mqtt import SessionOptions, parse_broker_url
from device_hub.sim.plug import LinkPlug
from device_hub.trust import Account
from device_hub.trust.bridge import BridgeSpec, mosquitto_bridge
from device_hub.trust.store import AccountStore
from server.events.models import Event
from server.link import service as link
from smartzone.demo import Demo, DemoPlan, demo_accounts
from szconfig.roles import Role

log = logging.getLogger(__name__)

KIOSKS = {"b001": 3, "b002": 1}


@dataclass
class Branch:
    id: str
    plug: LinkPlug
    broker: MosquittoBroker
    demo: Demo
    factory: object
    db_url: str

    def status(self, centre_factory) -> dict:
        with self.factory() as s:
            state = link.status(s, self.id)
            at_edge = s.scalar(select(func.count()).select_from(Event).where(Event.branch_id == self.id))
        with centre_factory() as s:
            at_centre = s.scalar(select(func.count()).select_from(Event).where(Event.branch_id == self.id))
        return {"branch": self.id, "link": "up" if state["up"] else "DOWN", "plug": self.plug.connected,
                "published": self.demo.published_so_far(), "at_edge": at_edge, "backlog": state["backlog"],
                "at_centre": at_centre}


@dataclass
class Topology:
    var: Path
    open_database: object  # (url, branches) → (engine, factory)
    branches: dict  # branch id → BranchConfig
    rate: float = 2.0
    centre_db: str = ""
    central: MosquittoBroker | None = None
    centre_factory: object = None
    centre_hub: HubThread | None = None
    edges: dict[str, Branch] = field(default_factory=dict)
    engines: list = field(default_factory=list)

    def start(self) -> None:
        self.var.mkdir(parents=True, exist_ok=True)
        store = AccountStore(self.var / "central" / "trust")
        secrets = store.provision([Account.service("hub"), *[Account.edge(b) for b in KIOSKS]])
        self.central = start_embedded(self.var / "central", store)
        self.centre_db = self.centre_db or f"sqlite:///{self.var / 'central.db'}"
        engine, self.centre_factory = self.open_database(self.centre_db, self.branches)
        self.engines.append(engine)
        url = parse_broker_url(self.central.url).with_credentials("hub", secrets["hub"])
        self.centre_hub = HubThread(Hub(url=url, db=self.centre_factory, branches=set(self.branches),
                                        session=SessionOptions(client_id="sz-demo-central"),
                                        options=IngestOptions(role=Role.CENTRAL)), name="central")
        self.centre_hub.start()
        for b, n in KIOSKS.items():
            self.edges[b] = self._edge(b, n, secrets[f"edge@{b}"])

    def _edge(self, b: str, kiosks: int, secret: str) -> Branch:
        plug = LinkPlug(self.central.port).start()
        store = AccountStore(self.var / f"edge-{b}" / "trust")
        accounts = [Account.service("hub"), *demo_accounts({b: kiosks}, display_branch="b001", extra_kiosks=("k4",))]
        secrets = store.provision(accounts)
        broker = start_embedded(self.var / f"edge-{b}", store, extra_conf=mosquitto_bridge(
            BridgeSpec(b, "127.0.0.1", plug.port, secret, restart_s=(1, 5), keepalive_s=10)))
        db_url = f"sqlite:///{self.var / f'edge-{b}.db'}"
        engine, factory = self.open_database(db_url, {b: self.branches[b]})
        self.engines.append(engine)
        creds = {(a.branch, a.device): (a.username, secrets[a.username]) for a in accounts if a.device}
        plan = DemoPlan(kiosks={b: kiosks}, rate=self.rate,
                        businesses={b: [t.code for t in self.branches[b].business_types]})
        demo = Demo(parse_broker_url(broker.url).with_credentials("hub", secrets["hub"]), factory, plan, creds,
                    options=IngestOptions(role=Role.EDGE, branch=b, uplink_confirm_timeout_s=10),
                    extras=False, name=f"sz-demo-edge-{b}")
        demo.start()
        return Branch(b, plug, broker, demo, factory, db_url)

    def follow_plugs(self) -> None:
        """`<var>/unplug-<branch>` exists: that branch's link is pulled; removed: restored."""
        for b in self.edges:
            self.set_plug(b, not (self.var / f"unplug-{b}").exists())

    def set_plug(self, branch: str, connected: bool) -> None:
        plug = self.edges[branch].plug
        if connected and not plug.connected:
            plug.restore()
        elif not connected and plug.connected:
            plug.pull()

    def status(self) -> list[dict]:
        return [e.status(self.centre_factory) for e in self.edges.values()]

    def stop(self, timeout: float = 60) -> dict:
        """Put every plug back, stop the kiosks, wait for the edges to drain up to the centre; a summary."""
        for b in self.edges:
            self.set_plug(b, True)
        for e in self.edges.values():
            e.demo.drain(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(s["backlog"] or s["at_centre"] < s["at_edge"]
                                                  for s in self.status()):
            time.sleep(0.2)
        final = self.status()
        summaries = {b: e.demo.stop(timeout) for b, e in self.edges.items()}
        for e in self.edges.values():
            e.plug.stop()
            e.broker.stop()
        if self.centre_hub:
            self.centre_hub.stop()
        if self.central:
            self.central.stop()
        for engine in self.engines:
            engine.dispose()
        return {s["branch"]: {**summaries[s["branch"]].as_dict(), "at_edge": s["at_edge"],
                              "at_centre": s["at_centre"], "not_at_centre": s["at_edge"] - s["at_centre"]}
                for s in final}
