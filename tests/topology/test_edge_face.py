"""Face matching at the edge: a returning customer is greeted by the branch's edge with the link down.

The centre enrols an ORL person and pushes the templates down (as in test_pushdown); the edge and the centre
then store the same kiosk events on their own databases with the handlers of their roles (`store_batch(role=…)`),
as the edge's hub does with no link and the centre's hub does when the events come up the bridge.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import cache

import cv2
import pytest
from sqlalchemy import func, select

from hardware.face.datasets import orl_dir
from server.customers.models import Customer, FaceIdentification, FaceTemplate, Identity
from server.customers.recognition import INDEXES
from server.customers.service import enrol_face
from server.db import utcnow
from server.events.models import Event
from server.ingest.records import EventRecord
from server.ingest.service import store_batch
from server.link import push
from server.outbox.models import OutboxMessage
from server.touchpoints.models import Touchpoint
from smartzone.cli.compose import open_database
from szconfig.roles import Role
from tests.topology.kit import BRANCHES
from tests.topology.test_pushdown import _customer, _deliver

ORL_DIR = orl_dir()
VERSION = "face-2026-11"
ENROLLED, STRANGER = 1, 15


@cache
def _orl() -> dict[tuple[int, int], list[float]]:
    """Embeddings of ORL person 1 (images 1-3 to enrol, 7-8 to probe) and of a stranger (person 15)."""
    from hardware.face import FacePipeline
    from hardware.face.pipeline import prepare_small_crop

    if not FacePipeline.available():
        pytest.skip(FacePipeline.unavailable_reason())
    if not (ORL_DIR / "s1" / "1.pgm").is_file():
        pytest.skip(f"ORL face set not found at {ORL_DIR} (set SZ_ORL_DIR)")
    pipe = FacePipeline()
    out = {}
    for person, images in ((ENROLLED, (1, 2, 3, 7, 8)), (STRANGER, (1, 2))):
        for image in images:
            e = pipe.embed(prepare_small_crop(cv2.imread(str(ORL_DIR / f"s{person}" / f"{image}.pgm"),
                                                         cv2.IMREAD_GRAYSCALE)))
            assert isinstance(e, list), (person, image, e)
            out[(person, image)] = e
    return out


class Kiosk:
    """Events of kiosk k1 at b001, each stored at the sites it is given to, with their roles' handlers."""

    def __init__(self) -> None:
        self.seq, self.now = 0, utcnow()

    def event(self, type_: str, data: dict) -> EventRecord:
        self.seq += 1
        self.now += timedelta(seconds=1)
        return EventRecord.of(id=str(uuid.uuid4()), branch="b001", device="k1", seq=self.seq, type=type_,
                              data=data, ts=self.now)

    def probe(self, person: int, images: tuple[int, ...], visit: str) -> EventRecord:
        faces = _orl()
        return self.event("face_probe", {"request_id": f"p-{uuid.uuid4().hex[:10]}", "consent_version": VERSION,
                                         "embeddings": [faces[(person, i)] for i in images], "visit_id": visit})


def _store(factory, e: EventRecord, role: Role) -> None:
    with factory() as s, s.begin():
        store_batch(s, [e], now=e.ts, role=role)


def _replies(factory, request_id: str) -> list[dict]:
    with factory() as s:
        return [r.data for r in s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "face_reply")
                                          .order_by(OutboxMessage.id)) if r.data.get("request_id") == request_id]


def _identified(factory, request_id: str) -> tuple[str, int | None] | None:
    with factory() as s:
        row = s.scalar(select(FaceIdentification).where(FaceIdentification.request_id == request_id))
        return (row.result, row.customer_id) if row else None


def _templates(factory) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(FaceTemplate))


@pytest.fixture
def sites(tmp_path, db_url):
    """The centre (SQLite or PostgreSQL) with an ORL person enrolled at b001, pushed down to b001's edge."""
    faces = _orl()
    _ce, centre = open_database(db_url, BRANCHES)
    _ee, edge = open_database(f"sqlite:///{tmp_path / 'edge-b001.db'}", {"b001": BRANCHES["b001"]})
    with centre() as s, s.begin():
        c = _customer(s, "b001", "王小明", "6222020200112233", "gold")
        enrol_face(s, c, [faces[(ENROLLED, i)] for i in (1, 2, 3)], source="device:b001/k1", text_version=VERSION,
                   now=utcnow(), device_id="k1", branch_id="b001")
        cid, ref = c.id, c.ref
    push.push_down(centre, utcnow())
    assert _deliver(centre, edge)["template"] == 1
    assert _templates(edge) == 3
    yield centre, edge, cid, ref
    INDEXES.clear()


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_the_edge_greets_with_the_link_down_and_the_centre_only_records(sites) -> None:
    """GIVEN an ORL person enrolled at the centre and their templates pushed down to b001's edge, the link cut
    WHEN the person's unseen frames and a stranger's are probed at a kiosk behind the edge
    THEN the edge answers the first as matched with the masked name and tier and the stranger as unknown (one
    reply each), keeping its own identification log; WHEN the events reach the centre (role central) THEN it
    records both (touchpoint outcome, identification, audit) with the same result but writes no reply, and
    keeps no embeddings in its event log."""
    centre, edge, cid, ref = sites
    kiosk = Kiosk()
    known, stranger = kiosk.probe(ENROLLED, (7, 8), "v-visit-1"), kiosk.probe(STRANGER, (1, 2), "v-visit-2")
    for e in (known, stranger):
        _store(edge, e, Role.EDGE)
    hit, miss = _replies(edge, known.data.request_id), _replies(edge, stranger.data.request_id)
    assert len(hit) == 1 and hit[0]["result"] == "matched"
    assert hit[0]["customer"]["masked_name"] == "王*明" and hit[0]["customer"]["tier"] == "gold"
    assert hit[0]["customer"]["customer_ref"] == ref
    assert len(miss) == 1 and miss[0]["result"] == "unknown" and miss[0].get("customer") is None
    assert _identified(edge, known.data.request_id) == ("matched", cid)
    assert _identified(edge, stranger.data.request_id) == ("unknown", None)

    for e in (known, stranger):  # the link is back: the events come up, in order
        _store(centre, e, Role.CENTRAL)
    with centre() as s:
        replies = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "face_reply")
        assert s.scalar(replies) == 0
        outcomes = dict(s.execute(select(Touchpoint.event_id, Touchpoint.outcome)
                                  .where(Touchpoint.type == "face_probe")).tuples().all())
        kept = [d for d in s.scalars(select(Event.data).where(Event.type == "face_probe"))]
    assert outcomes == {known.id: "matched", stranger.id: "unknown"}
    assert _identified(centre, known.data.request_id) == ("matched", cid)
    assert _identified(centre, stranger.data.request_id) == ("unknown", None)
    assert kept and all(not any(x for frame in d.get("embeddings", []) for x in frame) for d in kept)  # forgotten


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_withdrawal_at_the_edge_stops_recognition_there_at_once(sites) -> None:
    """GIVEN the enrolled person greeted at the edge with the link down, who confirms it is them
    WHEN they withdraw face consent at the same kiosk (identified by that confirmed match), the link still down
    THEN the edge's cached templates are gone in that batch and the next probe is answered unknown; WHEN the
    events reach the centre THEN it deletes its templates too, and its next push-down leaves the edge as it is."""
    centre, edge, cid, ref = sites
    kiosk = Kiosk()
    first = kiosk.probe(ENROLLED, (7, 8), "v-visit-1")
    _store(edge, first, Role.EDGE)
    assert _replies(edge, first.data.request_id)[0]["result"] == "matched"
    confirm = kiosk.event("face_confirm", {"request_id": first.data.request_id, "confirmed": True,
                                           "visit_id": "v-visit-1"})
    withdraw = kiosk.event("face_consent", {"request_id": "w-withdraw-1", "action": "withdraw",
                                            "consent_version": VERSION, "customer_ref": ref, "visit_id": "v-visit-1"})
    for e in (confirm, withdraw):
        _store(edge, e, Role.EDGE)
    assert _templates(edge) == 0
    with edge() as s:
        assert s.get(Customer, cid).consent_face is False
    again = kiosk.probe(ENROLLED, (7, 8), "v-visit-3")
    _store(edge, again, Role.EDGE)
    assert [r["result"] for r in _replies(edge, again.data.request_id)] == ["unknown"]

    for e in (first, confirm, withdraw, again):
        _store(centre, e, Role.CENTRAL)
    assert _templates(centre) == 0
    assert _identified(centre, again.data.request_id) == ("unknown", None)
    with centre() as s:
        reply = s.scalar(select(OutboxMessage.data).where(OutboxMessage.kind == "face_consent_reply"))
    assert reply["result"] == "withdrawn" and reply["deleted_templates"] == 3
    push.push_down(centre, utcnow())
    _deliver(centre, edge)
    assert _templates(edge) == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_role_all_matches_once_and_answers_once(sites) -> None:
    """GIVEN the centre's database in role all (one site: the kiosk talks to it directly) WHEN the enrolled
    person is probed THEN exactly one reply, matched, and one identification row."""
    centre, _edge, cid, _ref = sites
    e = Kiosk().probe(ENROLLED, (7, 8), "v-visit-1")
    _store(centre, e, Role.ALL)
    assert [r["result"] for r in _replies(centre, e.data.request_id)] == ["matched"]
    with centre() as s:
        assert s.scalar(select(func.count()).select_from(FaceIdentification)) == 1
    assert _identified(centre, e.data.request_id) == ("matched", cid)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_edge_without_the_template_key_answers_unknown_and_says_so_once(sites, caplog) -> None:
    """GIVEN b001's edge with the pushed-down templates but no template key (SZ_TEMPLATE_KEYS not set there)
    WHEN the enrolled person is probed twice THEN both are answered unknown, nothing fails, and the log says why
    once."""
    from pydantic import SecretStr

    from server.customers import face_probe
    from server.customers.config import configure, crm

    _centre, edge, _cid, _ref = sites
    before = crm()
    face_probe.warn_key.seen.clear()
    configure(before.settings.model_copy(update={"template_keys": SecretStr("")}), before.rules)
    try:
        kiosk = Kiosk()
        probes = [kiosk.probe(ENROLLED, (7, 8), f"v-visit-{i}") for i in range(2)]
        with caplog.at_level("ERROR", logger="server.customers.face_probe"):
            for e in probes:
                _store(edge, e, Role.EDGE)
    finally:
        configure(before.settings, before.rules)
        face_probe.warn_key.seen.clear()
    assert [_replies(edge, e.data.request_id)[0]["result"] for e in probes] == ["unknown", "unknown"]
    said = [r.getMessage() for r in caplog.records if r.name == "server.customers.face_probe"]
    assert len(said) == 1 and "template key" in said[0]


def test_through_the_bridge_the_edge_greets_with_the_link_cut_and_the_centre_records_on_return(tmp_path) -> None:
    """GIVEN b001's edge bridged to the centre (real brokers and hubs) and an ORL person's templates pushed down
    WHEN the link is cut and a kiosk on the edge's broker probes the person and a stranger
    THEN the kiosk is answered from the edge (matched with the masked name; unknown) while the centre has seen
    nothing; WHEN the link returns THEN the centre records both probes, with the same results, and sends no
    reply of its own."""
    from tests.crm.kit import Kiosk as MqttKiosk
    from tests.support import wait_until
    from tests.topology.kit import central_hub, edge_hub, start_centre, start_edge

    faces = _orl()
    centre = start_centre(tmp_path, f"sqlite:///{tmp_path / 'central.db'}", branches=("b001",))
    edge = start_edge(tmp_path, centre, "b001")
    hubs = [central_hub(centre), edge_hub(edge)]
    kiosk = None
    try:
        with centre.factory() as s, s.begin():
            c = _customer(s, "b001", "王小明", "6222020200112233", "gold")
            enrol_face(s, c, [faces[(ENROLLED, i)] for i in (1, 2, 3)], source="device:b001/k1",
                       text_version=VERSION, now=utcnow(), device_id="k1", branch_id="b001")
            cid = c.id
        for h in hubs:
            h.start()
        push.push_down(centre.factory, utcnow())
        wait_until(lambda: _templates(edge.factory) == 3, timeout=30, message="templates at the edge")

        edge.plug.pull()
        kiosk = MqttKiosk(edge.broker.url, "b001", "k1")
        probes = {}
        for name, person, images in (("known", ENROLLED, (7, 8)), ("stranger", STRANGER, (1, 2))):
            rid = f"p-{uuid.uuid4().hex[:10]}"
            kiosk.send("face_probe", {"request_id": rid, "consent_version": VERSION, "visit_id": f"v-{name}-01",
                                      "embeddings": [faces[(person, i)] for i in images]})
            probes[name] = rid
        wait_until(lambda: set(probes.values()) <= kiosk.replies.keys(), timeout=20,
                   message="the edge answered both probes with the link cut")
        hit, miss = kiosk.replies[probes["known"]], kiosk.replies[probes["stranger"]]
        assert hit.result == "matched" and hit.customer.masked_name == "王*明"
        assert miss.result == "unknown" and miss.customer is None
        assert _identified(centre.factory, probes["known"]) is None  # nothing went up

        edge.plug.restore()
        wait_until(lambda: _identified(centre.factory, probes["stranger"]) is not None, timeout=60,
                   message="the centre recorded the probes once they came up")
        assert _identified(centre.factory, probes["known"]) == ("matched", cid)
        assert _identified(centre.factory, probes["stranger"]) == ("unknown", None)
        with centre.factory() as s:
            assert s.scalar(select(func.count()).select_from(OutboxMessage)
                            .where(OutboxMessage.kind == "face_reply")) == 0
    finally:
        if kiosk is not None:
            kiosk.close()
        for h in reversed(hubs):
            h.stop()
        edge.plug.stop()
        edge.broker.stop()
        centre.broker.stop()
        INDEXES.clear()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_push_that_crossed_a_withdrawal_does_not_bring_the_face_back(tmp_path, db_url) -> None:
    """GIVEN a customer enrolled at the centre whose templates' push is still on its way to b001's edge
    WHEN they withdraw at b001's kiosk with their card before it arrives (the edge has nothing to delete yet)
    THEN the late push does not put their templates at the edge, and a probe there is answered unknown."""
    faces = _orl()
    _ce, centre = open_database(db_url, BRANCHES)
    _ee, edge = open_database(f"sqlite:///{tmp_path / 'edge-b001.db'}", {"b001": BRANCHES["b001"]})
    try:
        with centre() as s, s.begin():
            c = _customer(s, "b001", "王小明", "6222020200112233", "gold")
            enrol_face(s, c, [faces[(ENROLLED, i)] for i in (1, 2, 3)], source="device:b001/k1",
                       text_version=VERSION, now=utcnow(), device_id="k1", branch_id="b001")
            card = s.scalar(select(Identity.hash).where(Identity.customer_id == c.id, Identity.kind == "card"))
            cid = c.id
        push.push_down(centre, utcnow())  # queued at the centre, not yet at the edge
        kiosk = Kiosk()
        _store(edge, kiosk.event("face_consent", {"request_id": "w-withdraw-2", "action": "withdraw",
                                                  "consent_version": VERSION, "card_hash": card}), Role.EDGE)
        _deliver(centre, edge)  # the push arrives after the withdrawal
        assert _templates(edge) == 0
        with edge() as s:
            assert s.get(Customer, cid).consent_face is False  # the edge keeps the centre's ids
        probe = kiosk.probe(ENROLLED, (7, 8), "v-visit-9")
        _store(edge, probe, Role.EDGE)
        assert [r["result"] for r in _replies(edge, probe.data.request_id)] == ["unknown"]
    finally:
        INDEXES.clear()
