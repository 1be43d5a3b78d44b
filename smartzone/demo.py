"""The demo's composition root: broker, database, hub, HTTP server and simulated kiosks in one process tree."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from device_hub.ingest.hub import Hub, IngestOptions
from device_hub.ingest.runner import HubThread
from device_hub.link.mqtt import BrokerUrl, SessionOptions
from device_hub.sim.devices import SimPlan, SimResult, run_devices
from server.events.models import Event
from server.events.service import counts
from wire import encode, envelope
from wire.messages import (
    FaceConfirmData,
    FaceConfirmMessage,
    FaceProbeData,
    FaceProbeMessage,
    SurveyData,
    SurveyMessage,
    TicketRequestData,
    TicketRequestMessage,
    VisitData,
    VisitMessage,
)
from wire.topics import TopicKind, device_topic

log = logging.getLogger(__name__)

# Demo only: which counters are staffed, and how the virtual tellers pace themselves.
TELLERS: dict[str, tuple[int, ...]] = {"b001": (1, 2, 3, 8, 9), "b002": (1,)}
TELLER_PACE_S = 6.0  # a customer's time at a counter when the line is at its target length
TELLER_TARGET_WAITING = 8  # per branch: the line the tellers keep the demo's queue near
TELLER_FASTEST_S, TELLER_SLOWEST_S = 1.0, 30.0
TELLER_TICK_S = 0.5


def service_time(waiting: int, *, pace_s: float = TELLER_PACE_S, target: int = TELLER_TARGET_WAITING) -> float:
    """How long a virtual teller takes per customer given the branch's line: quicker as it grows past the target,
    slower as it shrinks (with the square of the ratio, so a busy branch settles not far above the target), so the
    demo's queue stays steady whatever the kiosks' rate (real staff would open more counters)."""
    return min(TELLER_SLOWEST_S, max(TELLER_FASTEST_S, pace_s * (target / max(waiting, 1)) ** 2))

# Deliberately bad messages, so the demo shows dead-lettering at work. They come from b001's k1 account
# (the broker's ACL refuses anything a device may not publish, so the vandal can only spoil its own topics).
VANDAL = ("b001", "k1")
GREETER = ("b001", "k9")


def garbage() -> list[tuple[str, bytes]]:
    """(topic, payload): properly built surveys, each spoiled one way: cut short (invalid_json), given a type
    this protocol does not have (unknown_type), claiming another branch than its topic (topic_mismatch)."""
    branch, device = VANDAL
    survey_topic = device_topic(branch, device, TopicKind.EVENT, "survey")

    def survey(from_branch: str = branch) -> bytes:
        return encode(envelope(SurveyMessage, branch=from_branch, device=device, seq=1, data=SurveyData(score=5)))

    cut = survey()
    return [(survey_topic, cut[:len(cut) // 2]),
            (device_topic(branch, device, TopicKind.EVENT, "teleport"),
             survey().replace(b'"type":"survey"', b'"type":"teleport"')),
            (survey_topic, survey(from_branch="b002"))]


def demo_accounts(kiosks: dict[str, int], *, display_branch: str = "b001", extra_kiosks: tuple[str, ...] = ("k4",)):
    """The broker accounts the demo needs: its simulated kiosks, the greeter, b001's k4 and lobby display."""
    from device_hub.trust import Account

    out = [Account.for_device(b, f"k{i + 1}") for b, n in kiosks.items() for i in range(n)]
    if display_branch in kiosks:
        out += [Account.for_device(*GREETER)] + [Account.for_device(display_branch, d) for d in extra_kiosks]
        out.append(Account.for_device(display_branch, "lobby1", display=True))
    return out


@dataclass
class DemoSummary:
    published: int = 0
    stored: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    lost: int = 0

    def as_dict(self) -> dict:
        return {"published": self.published, "stored": self.stored, "duplicates": self.duplicates,
                "dead_lettered": self.dead_lettered, "lost": self.lost}


@dataclass(frozen=True)
class DemoPlan:
    kiosks: dict[str, int]  # branch → how many simulated kiosks
    rate: float  # events per second per kiosk
    businesses: dict[str, list[str]]


class Demo:
    def __init__(self, url: BrokerUrl, factory, plan: DemoPlan,
                 credentials: dict[tuple[str, str], tuple[str, str]] | None = None, *,
                 options: IngestOptions | None = None, extras: bool = True, name: str = "sz-demo-hub"):
        """`url` is the hub's; `credentials` maps (branch, device) → (username, secret) of each device;
        `options` the hub's (a branch's edge in `demo --topology edge`); `extras` adds the vandal's garbage and
        the recognised-VIP greeter (both need the centre's CRM in the same database)."""
        self.url = url
        self.credentials = credentials
        self.factory = factory
        self.plan = plan
        self.stop_sims = threading.Event()
        self.extras = extras
        self.hub = Hub(url=url, db=factory, branches=set(plan.businesses),
                       session=SessionOptions(client_id=name), options=options or IngestOptions())
        self.results: dict[str, SimResult] = {}
        self._threads: list[threading.Thread] = []
        self._hub_thread = HubThread(self.hub)
        self.sim_progress: dict[str, int] = {}

    def device_url(self, branch: str, device: str) -> BrokerUrl:
        """The broker URL with this device's own account (the hub's URL when there are no per-device ones)."""
        if not self.credentials:
            return self.url
        username, secret = self.credentials[(branch, device)]
        return replace(self.url, username=username, password=secret)

    def _client(self, branch: str, device: str, role: str) -> mqtt.Client:
        url = self.device_url(branch, device)
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"sz-demo-{role}-{uuid.uuid4().hex[:6]}")
        if url.username:
            c.username_pw_set(url.username, url.password)
        c.connect(url.host, url.port)
        return c

    def start(self) -> None:
        self._hub_thread.start()
        for branch, n in self.plan.kiosks.items():
            plan = SimPlan(branch=branch, count=n, events=None, rate=self.plan.rate, heartbeat_s=10,
                           businesses=self.plan.businesses[branch], device_prefix="k", track_ids=True,
                           answer_commands=True,
                           credentials=(lambda d, b=branch: self.credentials[(b, d)]) if self.credentials else None)
            t = threading.Thread(target=self._run_sim, args=(branch, plan), name=f"sim-{branch}", daemon=True)
            t.start()
            self._threads.append(t)
        if self.extras:
            self._send_garbage()
            self._start_greeter()
        self._start_tellers()


    def _start_tellers(self) -> None:
        """Virtual tellers open some counters and call the next ticket every few seconds, so the queue,
        the board and the lobby display move in the demo. Real staff do this in the console."""
        from server.db import utcnow
        from server.queueing import calling

        with self.factory() as s, s.begin():
            for branch, counters in TELLERS.items():
                if branch in self.plan.businesses:
                    for n in counters:
                        calling.set_counter(s, branch_id=branch, counter=n, open=True, now=utcnow(),
                                          staff_name=f"Demo teller {n}", actor="demo-teller")
        t = threading.Thread(target=self._tell, name="demo-tellers", daemon=True)
        t.start()
        self._threads.append(t)

    def waiting(self) -> dict[str, int]:
        """Tickets waiting per branch of the demo (what the lobby's line looks like now)."""
        from sqlalchemy import func

        from server.queueing.models import Ticket
        from server.queueing.transitions import WAITING_STATES

        with self.factory() as s:
            rows = dict(s.execute(select(Ticket.branch_id, func.count()).where(
                Ticket.branch_id.in_(list(self.plan.businesses)), Ticket.status.in_(WAITING_STATES))
                .group_by(Ticket.branch_id)).all())
        return {b: rows.get(b, 0) for b in self.plan.businesses}

    def _tell(self) -> None:
        from server.db import utcnow
        from server.errors import DomainError
        from server.outbox.service import enqueue
        from server.queueing import calling
        from server.queueing.models import CounterState

        last_call: dict[tuple[str, int], float] = {}
        while not self.stop_sims.wait(TELLER_TICK_S):
            waiting = self.waiting()
            for branch, counters in TELLERS.items():
                if branch not in self.plan.businesses:
                    continue
                pace = service_time(waiting[branch])
                for n in counters:
                    now = time.monotonic()
                    if now - last_call.get((branch, n), 0.0) < pace:
                        continue
                    last_call[(branch, n)] = now
                    try:
                        with self.factory() as s, s.begin():
                            state = s.get(CounterState, (branch, n))
                            if state is not None and state.teller_id is not None:
                                continue  # a person signed in here at /counter: the counter is theirs
                            res = calling.call_next(s, branch_id=branch, counter=n, now=utcnow(), actor="demo-teller",
                                                  staff_name=f"Demo teller {n}")
                            enqueue(s, res.outbox)
                    except DomainError as err:
                        log.info("demo teller at %s/%s: %s", branch, n, err)

    def _start_greeter(self) -> None:
        """CRM: seed known demo customers, then a recognised VIP arrives every 20 s (face probe, confirmed, ticket)."""
        from server.customers.demo import seed_demo_customers
        from server.db import utcnow

        branch = "b001" if "b001" in self.plan.businesses else next(iter(self.plan.businesses))
        from hardware.card_reader.simulator import TEST_PAN
        from server.customers.demo import seed_card_holder

        with self.factory() as s, s.begin():
            seed_demo_customers(s, utcnow(), branch)
            seed_card_holder(s, utcnow(), branch, card=TEST_PAN)  # whoever inserts the kiosk's simulated card
            _manager_on_duty(s, branch, utcnow())
        t = threading.Thread(target=self._greet, args=(branch,), name="crm-greeter", daemon=True)
        t.start()
        self._threads.append(t)

    def _greet(self, branch: str) -> None:
        import numpy as np

        from server.customers.demo import demo_face

        c = self._client(branch, GREETER[1], "greeter")  # provisioned for b001 by demo_accounts
        c.loop_start()
        seq, rng, n = 0, np.random.default_rng(9), 0
        try:
            while not self.stop_sims.wait(3 if n == 0 else 20):
                who, visit = n % 2, f"v-greet-{uuid.uuid4().hex[:10]}"
                probe = (demo_face(who) + rng.normal(scale=0.01, size=128)).astype(float).round(5).tolist()
                rid = f"r-{uuid.uuid4().hex[:12]}"
                for message_type, data in (
                        (VisitMessage, VisitData(visit_id=visit, phase="start")),
                        (FaceProbeMessage, FaceProbeData(request_id=rid, embeddings=[probe],
                                                         consent_version="demo-2026-11", visit_id=visit)),
                        # the customer answers "yes, it's me": only then is the match theirs (and a lead may follow)
                        (FaceConfirmMessage, FaceConfirmData(request_id=rid, confirmed=True, visit_id=visit)),
                        (TicketRequestMessage, TicketRequestData(request_id=f"t-{uuid.uuid4().hex[:12]}",
                                                                 business="wealth" if who else "deposit",
                                                                 visit_id=visit))):
                    seq += 1
                    msg = envelope(message_type, branch=branch, device=GREETER[1], seq=seq, data=data)
                    c.publish(device_topic(branch, GREETER[1], TopicKind.EVENT, msg.type), encode(msg),
                              qos=1).wait_for_publish(5)
                n += 1
        finally:
            c.disconnect()
            c.loop_stop()

    def _run_sim(self, branch: str, plan: SimPlan) -> None:
        from smartzone.demo_fleet import FleetScript  # fleet: paper out → work order → refill, on b001's k2

        fleet = FleetScript(self.factory, self.stop_sims) if branch == "b001" else None
        self.results[branch] = run_devices(self.url, plan, self.stop_sims,
                                           on_progress=lambda n: self.sim_progress.__setitem__(branch, n),
                                           on_links=fleet.on_links if fleet else None)

    def _send_garbage(self) -> None:
        c = self._client(*VANDAL, "vandal")
        c.loop_start()
        for topic, payload in garbage():
            c.publish(topic, payload, qos=1).wait_for_publish(5)
        c.disconnect()
        c.loop_stop()

    def published_so_far(self) -> int:
        return sum(self.sim_progress.values())

    def drain(self, timeout: float = 60) -> list[str]:
        """Stop the kiosks (each says goodbye) and wait until the hub has stored everything; their event ids."""
        self.stop_sims.set()
        for t in self._threads:
            t.join(timeout)
        ids = [i for r in self.results.values() for i in r.ids]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._missing(ids):
            time.sleep(0.2)
        dead_target = len(garbage()) if self.extras else 0
        while time.monotonic() < deadline and self.hub.counters.dead_lettered < dead_target:
            time.sleep(0.1)
        return ids

    def stop(self, timeout: float = 60) -> DemoSummary:
        """Drain the kiosks into the hub, then stop the hub; what was published, stored and lost."""
        ids = self.drain(timeout)
        self._hub_thread.stop()
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


def _manager_on_duty(session, branch: str, now: datetime) -> None:
    """The branch's first customer manager is on the managers' rota for the demo's day (leads of customers without
    a manager go to them; lead SLA breaches ring their bell), unless someone already is."""
    from server.notifications.models import OnCallShift, RotaTeam
    from server.notifications.rota import first_on_call
    from server.referrals.routing import managers_of
    from server.staff.models import Role

    managers = managers_of(session, [branch], (Role.CUSTOMER_MANAGER,))[branch]
    if managers and first_on_call(session, branch, RotaTeam.MANAGERS.value, now) is None:
        session.add(OnCallShift(branch_id=branch, team=RotaTeam.MANAGERS.value, staff_id=managers[0], level=1,
                                starts_at=now, ends_at=now + timedelta(hours=12), created_by="demo", created_at=now))


def snapshot(factory) -> dict:
    with factory() as s:
        return counts(s)
