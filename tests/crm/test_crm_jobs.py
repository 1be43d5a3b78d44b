"""CRM jobs on a controlled clock (SLA escalation, expiry, re-evaluation), webhooks to a local receiver, import."""

from __future__ import annotations

import csv
import http.server
import json
import threading
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from server.customers.config import configure, crm
from server.customers.demo import demo_rows
from server.customers.importer import parse_row
from server.customers.models import Customer, Identity
from server.customers.scheduled import reevaluate_customers
from server.customers.service import upsert_customer
from server.db import utcnow
from server.notifications.service import log as notification_log
from server.referrals.models import Referral
from server.referrals.scheduled import escalate_leads, expire_leads
from server.referrals.service import create_leads
from server.touchpoints.models import Visit
from server.webhooks.models import WebhookDelivery
from server.webhooks.scheduled import deliver_webhooks
from server.webhooks.service import MAX_ATTEMPTS, enqueue, verify
from tests.support import WebhookReceiver, outbox


def _customer(s, n: int, now) -> Customer:
    row = {**demo_rows()[n % 6], "customer_id": f"JOB{n}", "phone": "", "card_number": ""}
    return upsert_customer(s, parse_row(row, ["k" * 8], "k" * 8), branch_id="b001", now=now)[0]


def test_sla_escalation_and_expiry_with_a_controlled_clock(migrated):
    """GIVEN two leads, one customer still in the branch and one who left, and a branch manager
    WHEN the escalation job runs before and after the 15-minute SLA, and expiry after 30 days
    THEN only the lead of the customer still present is escalated (once, to the manager, on staff/lead, and on the
    manager's bell: nobody is on the managers' rota); open leads expire after the conversion window."""
    from server.staff.service import create_staff

    _engine, factory = migrated
    t0 = utcnow()
    with factory() as s, s.begin():
        bm, _ = create_staff(s, username="bm1", role="branch_manager", branch_ids=("b001",), password="x" * 12)
        a, b = _customer(s, 0, t0), _customer(s, 1, t0)
        s.add_all([Visit(id="v-in", branch_id="b001", device_id="k1", started_at=t0, last_event_at=t0,
                         touchpoints=1, customer_id=a.id),
                   Visit(id="v-out", branch_id="b001", device_id="k1", started_at=t0, last_event_at=t0,
                         ended_at=t0 + timedelta(minutes=5), touchpoints=1, customer_id=b.id)])
        s.flush()
        create_leads(s, [{"branch_id": "b001", "customer_id": a.id, "visit_id": "v-in", "reason": "vip_arrival",
                          "referrer": "rule:vip_arrival"},
                         {"branch_id": "b001", "customer_id": b.id, "visit_id": "v-out", "reason": "vip_arrival",
                          "referrer": "rule:vip_arrival"}], t0)
        bm_id = bm.id
    assert escalate_leads(factory, t0 + timedelta(minutes=14)) == 0
    assert escalate_leads(factory, t0 + timedelta(minutes=16)) == 1
    assert escalate_leads(factory, t0 + timedelta(minutes=20)) == 0
    with factory() as s:
        leads = {r.visit_id: r for r in s.scalars(select(Referral))}
        assert leads["v-in"].escalated_to == bm_id and leads["v-out"].escalated_at is None
        msgs = outbox(s, "staff_lead")
        assert any(m.escalated and m.escalated_to == bm_id for m in msgs)
        assert all("王小明" not in m.model_dump_json() for m in msgs)
        [(note, deliveries)] = notification_log(s, "b001")
        assert note.key == f"lead:{leads['v-in'].id}:sla" and note.team == "managers"
        assert [(d.channel, d.staff_id) for d in deliveries] == [("bell", bm_id)]
    assert expire_leads(factory, t0 + timedelta(days=29)) == 0
    assert expire_leads(factory, t0 + timedelta(days=31)) == 2


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_nightly_reevaluation_moves_windows(migrated):
    """GIVEN a customer born 59 years and 364 days ago WHEN the nightly job runs two days later THEN elderly."""
    _engine, factory = migrated
    now = utcnow()
    with factory() as s, s.begin():
        c = _customer(s, 3, now)
        c.birth_date = now.date().replace(year=now.year - 60) + timedelta(days=1)
        c.elderly, c.tags = False, []
        cid = c.id
    reevaluate_customers(factory, now)
    with factory() as s:
        assert s.get(Customer, cid).elderly is False
    reevaluate_customers(factory, now + timedelta(days=2))
    with factory() as s:
        assert s.get(Customer, cid).elderly is True and "elderly" in s.get(Customer, cid).tags


_Receiver = WebhookReceiver


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_webhooks_signed_retried_and_dead_lettered(migrated):
    """GIVEN a local receiver that fails twice, and one that always fails
    WHEN the delivery job runs as the back-off allows THEN the first arrives signed with its idempotency key
    after two retries; the other is dead after MAX_ATTEMPTS; the log keeps every attempt's outcome."""
    _Receiver.plan[:], _Receiver.got[:] = [], []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    saved = crm()
    configure(saved.settings.model_copy(update={"webhook_url": f"http://127.0.0.1:{server.server_port}/hook",
                                                "webhook_secret": "test-secret-1"}), saved.rules)
    try:
        _engine, factory = migrated
        t = utcnow()
        with factory() as s, s.begin():
            enqueue(s, [("lead:1:created", "lead.created", "b001", {"lead_id": 1})], t)
        _Receiver.plan[:] = [500, 503]
        deliver_webhooks(factory, t)
        deliver_webhooks(factory, t + timedelta(seconds=10))  # not due yet: nothing sent
        assert len(_Receiver.got) == 1
        deliver_webhooks(factory, t + timedelta(seconds=31))
        deliver_webhooks(factory, t + timedelta(seconds=31 + 61))
        assert len(_Receiver.got) == 3
        headers, body = _Receiver.got[-1]
        assert headers["idempotency-key"] == "lead:1:created"
        assert verify("test-secret-1", headers["x-sz-timestamp"], body, headers["x-sz-signature"])
        with factory() as s:
            d = s.scalar(select(WebhookDelivery))
            assert (d.status, d.attempts, d.last_status) == ("delivered", 3, 200)
        with factory() as s, s.begin():
            enqueue(s, [("tp:x", "touchpoint", "b001", {"n": 1})], t)
        _Receiver.plan[:] = [503] * 20
        clock = t
        for _ in range(MAX_ATTEMPTS):
            clock += timedelta(hours=2)
            deliver_webhooks(factory, clock)
        with factory() as s:
            dead = s.scalar(select(WebhookDelivery).where(WebhookDelivery.idempotency_key == "tp:x"))
            assert (dead.status, dead.attempts, dead.last_error) == ("dead", MAX_ATTEMPTS, "HTTP 503")
    finally:
        configure(saved.settings, saved.rules)
        server.shutdown()


def test_crm_import_cli(tmp_path, monkeypatch):
    """GIVEN a CSV with good and bad rows WHEN `smartzone crm import` runs twice THEN good rows are stored as
    hashes and masks (never clear), bad ones land in FILE.rejected.csv with reasons, the re-run only updates."""
    from smartzone.cli.main import cli

    db = f"sqlite:///{tmp_path / 'crm.db'}"
    rows = [
        *demo_rows(),
        {**demo_rows()[0], "customer_id": "BAD1", "phone": "99999"},
        {**demo_rows()[0], "customer_id": "BAD2", "id_number": "110105194912310021"},
        {**demo_rows()[1]},  # repeated customer_id
    ]
    path = tmp_path / "customers.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    result = CliRunner().invoke(cli, ["crm", "import", "--db", db, str(path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary == {"rows": 9, "created": 6, "updated": 0, "rejected": 3,
                       "rejected_file": str(tmp_path / "customers.rejected.csv")}
    rejected = list(csv.DictReader((tmp_path / "customers.rejected.csv").open(encoding="utf-8")))
    assert [r["reason"].split(":")[0] for r in rejected] == ["phone", "id_number", "customer_id"]
    again = CliRunner().invoke(cli, ["crm", "import", "--db", db, str(path), "--json"])
    assert json.loads(again.output.strip().splitlines()[-1])["updated"] == 6
    raw = (tmp_path / "crm.db").read_bytes()
    for r in demo_rows():
        assert r["phone"].encode() not in raw and r["card_number"].encode() not in raw
        assert r["name"].encode() not in raw
    from server.db import make_engine, session_factory

    engine = make_engine(db)
    with session_factory(engine)() as s:
        assert s.scalar(select(Identity).where(Identity.kind == "card")).masked == "622848******0018"
    engine.dispose()
