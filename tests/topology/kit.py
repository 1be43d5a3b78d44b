"""A branch topology on this machine: a central Mosquitto with the edges' accounts, and per branch an
edge Mosquitto bridged to it through a plug the test can pull, each with its own database and hub."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from device_hub.broker import MosquittoBroker
from device_hub.ingest.hub import Hub, IngestOptions
from device_hub.ingest.runner import HubThread
from device_hub.link.mqtt import SessionOptions, parse_broker_url
from device_hub.sim.plug import LinkPlug
from device_hub.trust import Account
from device_hub.trust.bridge import BridgeSpec, mosquitto_bridge
from device_hub.trust.store import AccountStore
from server.events.models import Event
from server.link.models import UplinkItem
from smartzone.cli.compose import open_database
from szconfig import load_branches
from szconfig.roles import Role

REPO = Path(__file__).resolve().parents[2]
BRANCHES = load_branches(REPO / "configs" / "branches")


@dataclass
class Centre:
    broker: MosquittoBroker
    secrets: dict[str, str]
    db_url: str
    factory: object = None

    @property
    def hub_url(self) -> str:
        return f"mqtt://hub:{self.secrets['hub']}@127.0.0.1:{self.broker.port}"


@dataclass
class Edge:
    branch: str
    broker: MosquittoBroker
    plug: LinkPlug
    db_url: str
    factory: object = None
    hubs: list = field(default_factory=list)


def start_centre(tmp: Path, db_url: str, branches=("b001", "b002")) -> Centre:
    store = AccountStore(tmp / "central-trust")
    secrets = store.provision([Account.service("hub"), *[Account.edge(b) for b in branches]])
    broker = MosquittoBroker(tmp / "central", password_file=store.password_file.resolve(),
                             acl_file=store.acl_file.resolve()).start()
    _e, factory = open_database(db_url, BRANCHES)
    return Centre(broker, secrets, db_url, factory)


def start_edge(tmp: Path, centre: Centre, branch: str, *, port: int | None = None) -> Edge:
    plug = LinkPlug(centre.broker.port).start()
    bridge = mosquitto_bridge(BridgeSpec(branch, "127.0.0.1", plug.port, centre.secrets[f"edge@{branch}"],
                                         restart_s=(1, 2), keepalive_s=5))
    broker = MosquittoBroker(tmp / f"edge-{branch}", port, extra_conf=bridge).start()
    db_url = f"sqlite:///{tmp / f'edge-{branch}.db'}"
    _e, factory = open_database(db_url, {branch: BRANCHES[branch]})
    return Edge(branch, broker, plug, db_url, factory)


def edge_hub(edge: Edge, *, confirm_timeout_s: float = 3.0) -> HubThread:
    hub = Hub(url=parse_broker_url(edge.broker.url), db=edge.factory, branches={edge.branch},
              session=SessionOptions(client_id=f"sz-edge-{edge.branch}-hub"),
              options=IngestOptions(role=Role.EDGE, branch=edge.branch, uplink_confirm_timeout_s=confirm_timeout_s))
    return HubThread(hub, name=f"edge-{edge.branch}")


def central_hub(centre: Centre, *, client_id: str = "sz-central-hub") -> HubThread:
    hub = Hub(url=parse_broker_url(centre.hub_url), db=centre.factory, branches=set(BRANCHES),
              session=SessionOptions(client_id=client_id), options=IngestOptions(role=Role.CENTRAL))
    return HubThread(hub, name="central")


def event_ids(factory, branch: str | None = None) -> list[str]:
    q = select(Event.id)
    if branch:
        q = q.where(Event.branch_id == branch)
    with factory() as s:
        return list(s.scalars(q))


def steps_queued(factory) -> bool:
    """The edge's deferred work has turned every ticket step into an event waiting to go up."""
    from server.link.models import CachedItem
    from server.link.steps import WATERMARK
    from server.queueing.models import TicketStep

    with factory() as s:
        last = s.scalar(select(func.max(TicketStep.id)))
        mark = s.get(CachedItem, WATERMARK)
        return last is None or (mark is not None and mark.version >= last)


def backlog(factory) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(UplinkItem))
