"""Push-down of what an edge needs from the centre: branch config, routing hints, consenting customers' templates.

The centre's job and the edge's `apply` run on real databases (the centre on SQLite and PostgreSQL, the edge
on SQLite); the messages are handed over as the relay and the bridge would, through their wire model. The
whole path through brokers is `test_pushdown_over_the_bridge` below.
"""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select, update

from server.branches.models import Branch
from server.customers.demo import demo_rows
from server.customers.importer import parse_row
from server.customers.models import ConsentKind, Customer, FaceTemplate, Identity
from server.customers.recognition import INDEXES
from server.customers.service import enrol_face, match_probe, record_consent, upsert_customer
from server.db import utcnow
from server.link import push
from server.link.mirror import config_hash, reapply_configs
from server.link.models import CachedItem
from server.outbox.models import OutboxMessage
from server.queueing.locks import branch_config
from smartzone.cli.compose import open_database
from tests.support import wait_until
from tests.topology.kit import BRANCHES, central_hub, edge_hub, start_centre, start_edge
from wire.messages import PushData

RNG = np.random.default_rng(14)


def _face() -> list[list[float]]:
    base = RNG.normal(size=128)
    base /= np.linalg.norm(base)
    return [(base + RNG.normal(scale=0.01, size=128)).tolist() for _ in range(3)]


def _customer(session, branch: str, name: str, card: str, tier: str):
    row = {**demo_rows()[0], "customer_id": f"C-{card[-6:]}", "name": name, "phone": "", "card_number": card,
           "tier": tier, "aum_band": "", "birth_date": ""}
    c, _ = upsert_customer(session, parse_row(row, ["k" * 8], "k" * 8), branch_id=branch, now=utcnow())
    return c


def _deliver(centre, edge, branch: str = "b001") -> dict[str, int]:
    """What the centre's relay would publish to `branch` and the edge's link would apply, in order."""
    applied: dict[str, int] = {}
    with centre() as s, s.begin():
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "push", OutboxMessage.sent_at.is_(None))
                         .order_by(OutboxMessage.id)).all()
        for r in rows:
            r.sent_at = utcnow()
        mine = [PushData.model_validate(r.data) for r in rows if r.branch_id == branch]
    for item in mine:
        with edge() as s, s.begin():
            if push.apply(s, branch=branch, kind=item.kind, key=item.key, version=item.version, data=item.data):
                applied[item.kind] = applied.get(item.kind, 0) + 1
    return applied


@pytest.fixture
def sites(tmp_path, db_url):
    _ce, centre = open_database(db_url, BRANCHES)
    _ee, edge = open_database(f"sqlite:///{tmp_path / 'edge-b001.db'}", {"b001": BRANCHES["b001"]})
    yield centre, edge
    INDEXES.clear()


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_config_hints_and_templates_reach_the_edge_and_a_withdrawal_follows(sites) -> None:
    """GIVEN at the centre b001's config, a gold customer of b001 enrolled with face consent, and a customer of
    b002 WHEN the push job runs and its messages reach b001's edge THEN the edge's branch config has the
    centre's hash, the gold customer's tier, masked name and card hash are in the edge's customer table (not
    b002's customer), and a probe at the edge finds the customer in its own templates; a tier change follows;
    after the customer withdraws face consent at the centre the next push deletes the templates at the edge
    and the probe finds nobody; a run with nothing new pushes nothing."""
    centre, edge = sites
    face = _face()
    with centre() as s, s.begin():
        gold = _customer(s, "b001", "王小明", "6222020200112233", "gold")
        _customer(s, "b002", "李四", "6222020200445566", "standard")
        enrol_face(s, gold, face, source="device:b001/k1", text_version="face-2026-11", now=utcnow(),
                   device_id="k1", branch_id="b001")
        gold_id, gold_ref = gold.id, gold.ref
        card_hash = s.scalar(select(Identity.hash).where(Identity.customer_id == gold.id, Identity.kind == "card"))
    assert card_hash

    counts = push.push_down(centre, utcnow())
    assert counts["config"] == len(BRANCHES) and counts["hint"] == 2 and counts["template"] == 1
    assert _deliver(centre, edge) == {"config": 1, "hint": 1, "template": 1}

    with edge() as s:
        cfg = s.scalar(select(Branch.config).where(Branch.id == "b001"))
        c = s.get(Customer, gold_id)
        assert c.ref == gold_ref and c.tier == "gold" and c.masked_name == "王*明" and c.consent_face
        assert s.scalar(select(Identity.customer_id).where(Identity.hash == card_hash)) == gold_id
        assert s.scalar(select(func.count()).select_from(Customer)) == 1  # not b002's customer
        assert s.scalar(select(func.count()).select_from(FaceTemplate)) == 3
        assert match_probe(s, "b001", face[:2], now=utcnow()).customer_id == gold_id
    with centre() as s:
        assert config_hash(cfg) == config_hash(s.scalar(select(Branch.config).where(Branch.id == "b001")))

    assert push.push_down(centre, utcnow()) == {"config": 0, "staff": 0, "hint": 0, "template": 0,
                                              "appointment": 0}

    with centre() as s, s.begin():
        s.execute(update(Customer).where(Customer.id == gold_id).values(tier="vip", updated_at=utcnow()))
    assert push.push_down(centre, utcnow())["hint"] == 1
    _deliver(centre, edge)
    with edge() as s:
        assert s.get(Customer, gold_id).tier == "vip"

    with centre() as s, s.begin():
        record_consent(s, s.get(Customer, gold_id), kind=ConsentKind.FACE, granted=False, source="device:b001/k1",
                       text_version="face-2026-11", now=utcnow(), device_id="k1")
    assert push.push_down(centre, utcnow())["template"] == 1
    _deliver(centre, edge)
    with edge() as s:
        assert s.scalar(select(func.count()).select_from(FaceTemplate)) == 0
        assert s.get(Customer, gold_id).consent_face is False
        assert match_probe(s, "b001", face[:2], now=utcnow()).customer_id is None
        leftovers = s.scalars(select(CachedItem.data).where(CachedItem.kind == "template")).all()
        assert leftovers == [{"templates": 0}]  # no ciphertext kept in the cache either


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_pushed_config_is_validated_and_outlives_a_restart(sites) -> None:
    """GIVEN b001's edge WHEN the centre pushes a changed config for b001 THEN the edge's queue reads it; the
    edge's files mirrored again at a restart do not undo it; a config that does not validate, or one for
    another branch, is refused and changes nothing; an older version arriving late is ignored."""
    centre, edge = sites
    with centre() as s, s.begin():
        b = s.get(Branch, "b001")
        b.config = {**b.config, "name": {"zh": "新名字支行", "en": "Renamed branch"}}
    push.push_down(centre, utcnow())
    _deliver(centre, edge)
    with edge() as s:
        assert branch_config(s, "b001").name.en == "Renamed branch"
        pushed = s.get(CachedItem, ("config", "b001"))
    with edge() as s, s.begin():  # a restart: the files are mirrored again, then the pushed config put back
        from server.branches.service import sync_branches

        sync_branches(s, {"b001": BRANCHES["b001"]})
        assert reapply_configs(s) == 1
    with edge() as s:
        assert branch_config(s, "b001").name.en == "Renamed branch"

    for kind_key, data in ((("config", "b001"), {"hash": "x", "config": {"name": "not a config"}}),
                           (("config", "b002"), {"hash": "y", "config": BRANCHES["b002"].model_dump(mode="json")})):
        with pytest.raises(ValueError), edge() as s, s.begin():
            push.apply(s, branch="b001", kind=kind_key[0], key=kind_key[1], version=pushed.version + 1, data=data)
    with edge() as s, s.begin():
        assert not push.apply(s, branch="b001", kind="config", key="b001", version=pushed.version - 1,
                              data={"hash": "z", "config": BRANCHES["b001"].model_dump(mode="json")})
    with edge() as s:
        assert branch_config(s, "b001").name.en == "Renamed branch"
        assert s.get(CachedItem, ("config", "b001")).version == pushed.version


def test_pushdown_over_the_bridge(tmp_path) -> None:
    """GIVEN b001's edge bridged to the centre, its link cut WHEN a customer of b001 is enrolled at the centre
    and the push job runs THEN nothing arrives while the link is down, and once it returns the edge holds the
    customer's tier and templates; a withdrawal then removes the templates at the edge."""
    centre = start_centre(tmp_path, f"sqlite:///{tmp_path / 'central.db'}", branches=("b001",))
    edge = start_edge(tmp_path, centre, "b001")
    hubs = [central_hub(centre), edge_hub(edge)]
    face = _face()
    try:
        for h in hubs:
            h.start()
        edge.plug.pull()
        with centre.factory() as s, s.begin():
            c = _customer(s, "b001", "张三丰", "6222020200998877", "private")
            enrol_face(s, c, face, source="staff:1", text_version="face-2026-11", now=utcnow(), branch_id="b001")
            cid = c.id
        push.push_down(centre.factory, utcnow())
        wait_until(lambda: _unsent(centre.factory) == 0, timeout=10, message="the centre relayed the pushes")
        assert _templates(edge.factory) == 0
        edge.plug.restore()
        wait_until(lambda: _templates(edge.factory) == 3, timeout=30, message="templates at the edge")
        with edge.factory() as s:
            assert s.get(Customer, cid).tier == "private"
        with centre.factory() as s, s.begin():
            record_consent(s, s.get(Customer, cid), kind=ConsentKind.FACE, granted=False, source="staff:1",
                           text_version="face-2026-11", now=utcnow())
        push.push_down(centre.factory, utcnow())
        wait_until(lambda: _templates(edge.factory) == 0, timeout=30, message="the withdrawal at the edge")
    finally:
        for h in reversed(hubs):
            h.stop()
        edge.plug.stop()
        edge.broker.stop()
        centre.broker.stop()
        INDEXES.clear()


def _unsent(factory) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None)))


def _templates(factory) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(FaceTemplate))




@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_hints_go_in_slices_and_none_is_skipped_when_many_share_a_time(sites) -> None:
    """GIVEN 7 customers of b001 imported at one instant WHEN the centre pushes hints 3 at a time THEN three runs
    push all 7, each once, and a fourth pushes nothing."""
    from server.link import mirror

    centre, _edge = sites
    with centre() as s, s.begin():
        for i in range(7):
            _customer(s, "b001", f"客户{i}号", f"62220202001{i:05d}", "standard")
        s.execute(update(Customer).values(updated_at=utcnow()))
    seen, since = [], None
    for _run in range(4):
        with centre() as s:
            rows, reached = mirror.hint_pushes(s, since, utcnow(), limit=3)
        seen += [r.data.key for r in rows]
        since = reached or since
    assert len(seen) == len(set(seen)) == 7


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_tier_pushed_down_routes_the_card_holders_ticket_at_the_edge(sites) -> None:
    """GIVEN a gold customer of b001 at the centre, pushed down to b001's edge WHEN their card asks a kiosk of b001
    for a ticket at the edge (role edge: its hub, its own database, no link needed) THEN the ticket is gold, with
    the reason that the CRM's tier came from the card; a stranger's card stays regular."""
    import uuid
    from datetime import UTC, datetime

    from server.customers.privacy import keyed_hash
    from server.ingest.records import EventRecord
    from server.ingest.service import store_batch
    from server.queueing.models import Ticket
    from szconfig.roles import Role

    centre, edge = sites
    gold_card, stranger = "6222020200112233", "6222020200999999"
    with centre() as s, s.begin():
        _customer(s, "b001", "王小明", gold_card, "gold")
    push.push_down(centre, utcnow())
    _deliver(centre, edge)
    morning = datetime(2026, 12, 7, 1, 30, tzinfo=UTC)  # 09:30 Monday in Shanghai
    events = [EventRecord.of(id=str(uuid.uuid4()), branch="b001", device="k1", seq=i, type="ticket_request",
                             ts=morning, data={"request_id": f"req-{i:04d}", "business": "card",
                                               "customer_ref": keyed_hash(card, "k" * 8)})
              for i, card in enumerate((gold_card, stranger))]
    with edge() as s, s.begin():
        store_batch(s, events, now=morning, role=Role.EDGE)
    with edge() as s:
        tickets = {t.request_id: t for t in s.scalars(select(Ticket))}
    assert tickets["req-0000"].tier == "gold" and "crm_tier" in {r["rule"] for r in tickets["req-0000"].reasons}
    assert tickets["req-0001"].tier == "regular"
