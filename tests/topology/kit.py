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
from tests.open_hours import OPEN_CONFIGS

REPO = Path(__file__).resolve().parents[2]
BRANCHES = load_branches(OPEN_CONFIGS / "branches")


@dataclass
class Centre:
    broker: MosquittoBroker
    secrets: dict[str, str]
    db_url: str
    factory: object = None
    ca_file: Path | None = None  # the central broker listens with TLS under this CA

    @property
    def hub_url(self) -> str:
        scheme = "mqtts" if self.ca_file else "mqtt"
        return f"{scheme}://hub:{self.secrets['hub']}@127.0.0.1:{self.broker.port}"


@dataclass
class Edge:
    branch: str
    broker: MosquittoBroker
    plug: LinkPlug
    db_url: str
    factory: object = None
    hubs: list = field(default_factory=list)


def start_centre(tmp: Path, db_url: str, branches=("b001", "b002"), *, tls: Pki | None = None) -> Centre:
    """`tls`: the central broker listens with TLS only, under the test's CA (`make_pki`)."""
    store = AccountStore(tmp / "central-trust")
    secrets = store.provision([Account.service("hub"), *[Account.edge(b) for b in branches]])
    broker = MosquittoBroker(tmp / "central", password_file=store.password_file.resolve(),
                             acl_file=store.acl_file.resolve(),
                             tls=(tls.ca, tls.cert, tls.key) if tls else None).start()
    _e, factory = open_database(db_url, BRANCHES)
    return Centre(broker, secrets, db_url, factory, tls.ca if tls else None)


def start_edge(tmp: Path, centre: Centre, branch: str, *, port: int | None = None,
               ca_file: Path | None = None, password: str | None = None, log_file: Path | None = None) -> Edge:
    """The bridge trusts `ca_file` (default: the centre's CA when it has TLS) and uses the branch's own account
    (`password`: another, to see a wrong one refused); `log_file`: the broker also logs there, line by line
    (its stdout log is buffered until it stops)."""
    plug = LinkPlug(centre.broker.port).start()
    bridge = mosquitto_bridge(BridgeSpec(branch, "127.0.0.1", plug.port, password or centre.secrets[f"edge@{branch}"],
                                         tls_ca_file=ca_file or centre.ca_file, restart_s=(1, 2), keepalive_s=5))
    if log_file:
        bridge += f"log_dest file {log_file}\n"
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
              session=SessionOptions(client_id=client_id, ca_file=centre.ca_file),
              options=IngestOptions(role=Role.CENTRAL))
    return HubThread(hub, name="central")


@dataclass(frozen=True)
class Pki:
    ca: Path
    cert: Path
    key: Path


def make_pki(directory: Path, name: str = "central", host: str = "127.0.0.1") -> Pki:
    """A CA made for the test and a server certificate it signed for `host` (an IP address), with the
    `cryptography` package; files readable by the broker, the key too (a test's throwaway)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)

    def cert(subject: str, key, issuer: str, signer, *, ca: bool) -> x509.Certificate:
        b = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
             .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)])).public_key(key.public_key())
             .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
             .not_valid_after(now + dt.timedelta(days=2))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if ca:
            b = b.add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                              content_commitment=False, key_encipherment=False,
                                              data_encipherment=False, key_agreement=False, encipher_only=False,
                                              decipher_only=False), critical=True)
        else:
            b = b.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
                                critical=False)
        return b.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = cert(f"sz-test-{name}-ca", ca_key, f"sz-test-{name}-ca", ca_key, ca=True)
    server = cert(host, key, f"sz-test-{name}-ca", ca_key, ca=False)
    pki = Pki(directory / f"{name}-ca.crt", directory / f"{name}.crt", directory / f"{name}.key")
    pki.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    pki.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                          serialization.NoEncryption()))
    for f in (pki.ca, pki.cert, pki.key):
        f.chmod(0o644)
    return pki


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
