"""CRM end to end: simulated kiosks → Mosquitto → hub → touchpoints, recognition replies, leads → console API."""

from __future__ import annotations

import re
import uuid

import numpy as np
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.audit.models import AuditEntry
from server.customers.demo import DEMO_CARD_NUMBERS, demo_face, demo_rows, seed_demo_customers
from server.customers.models import Customer
from server.customers.privacy import keyed_hash, mask_card
from server.db import utcnow
from server.referrals.models import Referral
from server.staff import security
from server.touchpoints.models import Touchpoint, Visit
from tests.crm.kit import Kiosk
from tests.spine.hubkit import HubThread, simulate
from wire.messages import FaceReplyData, RecognisedCustomer

SIM_KEY = "smartzone-simulator-branch-key"
PASSWORD = "correct horse battery"
CLEAR = re.compile(r"(?<![0-9a-f])\d{11,}(?![0-9a-f])")  # a phone, card or ID number in clear


@pytest.fixture(autouse=True)
def cheap_hashing():
    security.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    security.use_hasher(PasswordHasher())


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_recognised_customer_greeting_touchpoints_lead_kpis_masking_audit(migrated, mosquitto, wait_until):
    """GIVEN demo customers (a VIP with an enrolled face) and a customer manager
    WHEN simulated kiosks run and the VIP reads a card, shows a face and takes a ticket through broker and hub
    THEN the kiosk gets a masked greeting, touchpoints link to the customer, a lead reaches staff/lead,
    the manager accepts it through the API, KPIs change, no answer carries a clear number, every read is audited."""
    from server.app import create_app
    from server.staff.service import create_staff

    engine, factory = migrated
    with factory() as s, s.begin():
        seed_demo_customers(s, utcnow())
        create_staff(s, username="cm1", role="customer_manager", branch_ids=("b001",), password=PASSWORD)
        create_staff(s, username="bm1", role="branch_manager", branch_ids=("b001",), password=PASSWORD)
        vip = s.scalar(select(Customer).where(Customer.masked_name == "王*明"))
        vip_id = vip.id
    app = create_app(engine=engine)
    with TestClient(app) as client:
        auth = {"Authorization": "Bearer " + client.post(
            "/api/auth/token", data={"username": "cm1", "password": PASSWORD}).json()["access_token"]}
        before = client.get("/api/branches/b001/kpis", headers=auth).json()

        kiosk = Kiosk(mosquitto.url)
        with HubThread(mosquitto.url, factory):
            sim = simulate(mosquitto.url, count=2, events=150, seed=7)
            visit, rid = f"v-{uuid.uuid4().hex[:8]}", f"r-{uuid.uuid4().hex[:8]}"
            card = DEMO_CARD_NUMBERS[0]
            kiosk.send("visit", {"visit_id": visit, "phase": "start"})
            kiosk.send("card_read", {"card_kind": "bank", "card_hash": keyed_hash(card, SIM_KEY),
                                     "masked": mask_card(card), "visit_id": visit})
            # the ticket first: the greeting's usual business then comes from history whether the hub puts
            # the probe in the same batch or the next one
            kiosk.send("ticket_request", {"request_id": f"t-{uuid.uuid4().hex[:8]}", "business": "deposit",
                                          "visit_id": visit, "customer_ref": keyed_hash(card, SIM_KEY)})
            probe = demo_face(0) + np.random.default_rng(3).normal(scale=0.01, size=128).astype(np.float32)
            kiosk.send("face_probe", {"request_id": rid, "embeddings": [probe.tolist()] * 2,
                                      "consent_version": "2026-11", "visit_id": visit})
            wait_until(lambda: rid in kiosk.replies, timeout=30, message="the face probe's reply")
            wait_until(lambda: any(m.customer_ref == vip.ref for m in kiosk.leads), timeout=30,
                       message="the VIP's lead on staff/lead")
            ids = sim.ids

        assert kiosk.replies[rid] == FaceReplyData(request_id=rid, result="matched", customer=RecognisedCustomer(
            customer_ref=vip.ref, masked_name="王*明", tier="vip", usual_business="deposit"))
        kiosk.close()
        with factory() as s:
            tps = s.scalars(select(Touchpoint).where(Touchpoint.visit_id == visit)).all()
            assert {t.type for t in tps} == {"card_read", "face_probe", "ticket_request"}
            assert all(t.customer_id == vip_id for t in tps)
            assert s.get(Visit, visit).customer_id == vip_id
            assert len(ids) >= 300 and s.scalar(select(func.count()).select_from(Touchpoint)) > 50
            leads = s.scalars(select(Referral).where(Referral.customer_id == vip_id)).all()
            assert len(leads) == 1, "one lead per customer visit, though card, face and ticket all matched"
            lead_id = leads[0].id

        listed = client.get("/api/referrals", headers=auth, params={"status": "created"}).json()["items"]
        assert any(x["id"] == lead_id and x["masked_name"] == "王*明" for x in listed)
        accepted = client.post(f"/api/referrals/{lead_id}/accept", headers=auth)
        assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
        assert client.post(f"/api/referrals/{lead_id}/accept", headers=auth).status_code == 409
        after = client.get("/api/branches/b001/kpis", headers=auth).json()
        assert after["visits"] > before["visits"] and after["identified_visits"] >= 1
        assert after["referrals"]["funnel"]["accepted"] >= 1 and after["tickets"] > 0
        assert after["diversion_rate"] is not None

        # notes and follow-ups are free text: a number typed into one is masked before it is stored
        phone = demo_rows()[0]["phone"]
        assert client.post(f"/api/customers/{vip_id}/notes", headers=auth,
                           json={"body": f"prefers calls on {phone} after 5pm"}).status_code == 201
        assert client.post(f"/api/referrals/{lead_id}/tasks", headers=auth, json={
            "due_at": "2030-01-01T09:00:00+08:00", "note": f"call {phone} about the fund"}).status_code == 201
        bm = {"Authorization": "Bearer " + client.post(
            "/api/auth/token", data={"username": "bm1", "password": PASSWORD}).json()["access_token"]}

        # masking everywhere: every customer-facing answer, API and pages
        clear = [r["name"] for r in demo_rows()] + [r["phone"] for r in demo_rows()] + list(DEMO_CARD_NUMBERS)
        bodies = [client.get(u, headers=auth) for u in (
            "/api/customers?query=vip", "/api/customers?query=王*明", f"/api/customers/{vip_id}",
            f"/api/customers/{vip_id}/timeline", f"/api/customers/{vip_id}/consents", "/api/referrals",
            "/api/branches/b001/kpis", f"/customers/{vip_id}", "/customers?query=vip", "/referrals",
            f"/api/customers/{vip_id}/notes", f"/api/referrals/{lead_id}", "/api/referrals?status=all",
            "/referrals?status=all", "/branches/b001/kpis", "/branches/b001/recognition",
            "/api/branches/b001/recognition", f"/api/customers/{vip_id}/held", f"/customers/{vip_id}/held")]
        bodies += [client.get(u, headers=bm) for u in ("/webhooks", "/api/webhooks/deliveries",
                                                       f"/customers/{vip_id}", "/referrals")]
        for r in bodies:
            assert r.status_code == 200, (r.url, r.text[:300])
            for value in clear:
                assert value not in r.text, f"{r.url} shows a clear value"
            assert not CLEAR.search(r.text), f"{r.url}: {CLEAR.search(r.text).group(0)}"
        assert "138****0000" in bodies[2].text and "622848******0018" in bodies[3].text
        assert "138****0000 after 5pm" in bodies[10].text and "call 138****0000" in bodies[11].text
        assert (bodies[2].json()["holdings"], bodies[2].json()["manager"]) == ("500k – 6m", None)

        # recognition duties as records: the probe was a suggestion nobody confirmed, so no name in the log
        report = bodies[16].json()
        assert report["enabled"] and report["pia"]["reference"] == "PIA-2026-017"
        assert report["suggested"] >= 1 and report["confirmed"] == 0 and report["enrolled_customers"] >= 2
        assert all(row["masked_name"] is None for row in report["log"]) and "王*明" not in bodies[15].text
        # an access request: what is held (masked, no template values), then "delete my template"
        held = bodies[17].json()
        assert held["face_templates"]["count"] == 1 and held["consents"]["face"] is True
        assert [e["granted"] for e in held["ledger"] if e["kind"] == "face"] == [True]
        assert f'href="/customers/{vip_id}/held"' in bodies[7].text  # the 360 leads to the access request page
        assert 'data-testid="held-template-count">1<' in bodies[18].text and "622848******0018" in bodies[18].text
        deleted = client.delete(f"/api/customers/{vip_id}/face-templates", headers=auth).json()
        assert deleted == {"customer_ref": vip.ref, "deleted_templates": 1, "consent_face": False}
        assert client.get(f"/api/customers/{vip_id}/held", headers=auth).json()["face_templates"]["count"] == 0

    with factory() as s:
        actions = set(s.scalars(select(AuditEntry.action).where(AuditEntry.object_id == vip.ref)))
        assert {"customer.read", "customer.timeline", "customer.consents", "face.match", "face.enrol",
                "consent.grant", "customer.access_request", "customer.access_delete", "consent.withdraw",
                "face.delete"} <= actions
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action.in_(["customer.search", "referral.list"]))) >= 4
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "referral.accept")) == 1
