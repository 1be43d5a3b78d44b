"""Face opt-in at the hub: enrolment from a kiosk, refusals that store nothing, the customer's confirmation or
decline, withdrawal, and the branch setting that needs a privacy impact assessment."""

from __future__ import annotations

import uuid
from datetime import timedelta

import numpy as np
import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from server.audit.models import AuditEntry
from server.customers.config import crm
from server.customers.demo import DEMO_CARD_NUMBERS, demo_face, seed_demo_customers
from server.customers.face_report import branch_report, held_about
from server.customers.models import Consent, Customer, FaceIdentification, FaceTemplate
from server.customers.privacy import keyed_hash
from server.db import utcnow
from server.ingest.records import EventRecord
from server.ingest.service import store_batch
from server.outbox.models import OutboxMessage
from server.referrals.models import Referral
from server.touchpoints.models import Touchpoint, Visit
from szconfig.branch import RecognitionSettings

ZHANG = 2  # 张伟 (gold): a demo customer without a face template
VERSION = "face-2026-11"


def _face(index: int, seed: int, n: int = 3) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    return [(demo_face(index) + rng.normal(scale=0.01, size=128)).tolist() for _ in range(n)]


def _card(index: int) -> str:
    return keyed_hash(DEMO_CARD_NUMBERS[index], crm().identity_key("b001"))


class Hub:
    """store_batch as the hub runs it, one event per batch; the reply each request got."""

    def __init__(self, factory):
        self.factory, self.seq, self.now = factory, 0, utcnow()

    def send(self, type_: str, data: dict, *, branch: str = "b001", device: str = "k1") -> dict | None:
        self.seq += 1
        self.now += timedelta(seconds=1)
        with self.factory() as s, s.begin():
            store_batch(s, [EventRecord.of(id=str(uuid.uuid4()), branch=branch, device=device, seq=self.seq,
                                           type=type_, data=data, ts=self.now)], now=self.now)
        rid = data.get("request_id")
        with self.factory() as s:
            rows = s.scalars(select(OutboxMessage).where(OutboxMessage.device_id == device)
                             .order_by(OutboxMessage.id.desc())).all()
        return next((r.data for r in rows if r.data.get("request_id") == rid and r.kind != "ticket_reply"), None)

    def enrol(self, **over) -> dict:
        data = {"request_id": f"r-{uuid.uuid4().hex[:10]}", "card_hash": _card(ZHANG), "card_kind": "bank",
                "embeddings": _face(ZHANG, 1), "consent_version": VERSION, "age_confirmed": True,
                "visit_id": "v-enrol-1"}
        branch, device = over.pop("branch", "b001"), over.pop("device", "k1")
        return self.send("face_enrol", {**data, **over}, branch=branch, device=device)

    def probe(self, embeddings: list[list[float]], visit: str) -> dict:
        return self.send("face_probe", {"request_id": f"p-{uuid.uuid4().hex[:10]}", "embeddings": embeddings,
                                        "consent_version": VERSION, "visit_id": visit})


def _stored(factory) -> tuple[int, int]:
    with factory() as s:
        zhang = s.scalar(select(Customer.id).where(Customer.masked_name == "张*"))
        return (s.scalar(select(func.count()).select_from(FaceTemplate).where(FaceTemplate.customer_id == zhang)),
                s.scalar(select(func.count()).select_from(Consent).where(Consent.customer_id == zhang)))


@pytest.fixture
def hub(migrated) -> Hub:
    _engine, factory = migrated
    with factory() as s, s.begin():
        seed_demo_customers(s, utcnow())
    return Hub(factory)


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_bad_enrolments_are_refused_with_a_reason_and_store_nothing(hub: Hub) -> None:
    """GIVEN enrolments without an identified customer, with too few or mismatched frames, an unknown consent
    version, no age confirmation, from a device that is not a kiosk of the branch, or at a branch without
    recognition THEN each is refused with its code and a bilingual reason; no template, no consent is stored."""
    stranger = np.random.default_rng(9).normal(size=128)
    stranger = (stranger / np.linalg.norm(stranger) * 0.9).tolist()
    cases = {
        "no_customer": {"card_hash": keyed_hash("6222020000000000000", crm().identity_key("b001"))},
        "too_few_embeddings": {"embeddings": _face(ZHANG, 1, n=2)},
        "mismatched_embeddings": {"embeddings": [*_face(ZHANG, 1, n=2), stranger]},
        "unknown_consent_version": {"consent_version": "face-1999-01"},
        "age_not_confirmed": {"age_confirmed": False},
        "wrong_branch": {"device": "k9"},
        "recognition_off": {"branch": "b002"},
    }
    for code, over in cases.items():
        reply = hub.enrol(**over)
        assert reply["result"] == "refused" and reply["refused"]["code"] == code, (code, reply)
        assert reply["refused"]["message"]["zh"] and reply["refused"]["message"]["en"]
        assert "templates" not in reply or reply["templates"] == 0
        assert _stored(hub.factory) == (0, 0), f"{code}: something was stored"
    with hub.factory() as s:
        reasons = s.scalars(select(AuditEntry.detail).where(AuditEntry.action == "face.enrol_refused")).all()
    assert sorted(d["reason"] for d in reasons) == sorted(cases)


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_enrol_recognise_confirm_decline_and_withdraw(hub: Hub) -> None:
    """GIVEN a customer who enrols at k1 with their card
    WHEN they come back, are suggested and confirm; come back again and decline; then withdraw by card
    THEN the ledger holds the grant (version, device) and the withdrawal; the confirmed visit is theirs, the
    declined probe is no match for staff; after the withdrawal the templates are gone and the probe is unknown."""
    reply = hub.enrol()
    assert reply == {"request_id": reply["request_id"], "result": "enrolled", "templates": 3, "masked_name": "张*"}
    assert _stored(hub.factory) == (3, 1)
    with hub.factory() as s:
        grant = s.scalar(select(Consent).join(Customer, Customer.id == Consent.customer_id)
                         .where(Customer.masked_name == "张*"))
        assert (grant.granted, grant.text_version, grant.device_id, grant.source) == (True, VERSION, "k1",
                                                                                     "device:b001/k1")

    first = hub.probe(_face(ZHANG, 2, n=2), "v-back-1")
    assert first["result"] == "matched" and first["customer"]["masked_name"] == "张*"
    with hub.factory() as s:
        assert s.get(Visit, "v-back-1") is None or s.get(Visit, "v-back-1").customer_id is None  # a suggestion
    hub.send("face_confirm", {"request_id": first["request_id"], "confirmed": True, "visit_id": "v-back-1"})
    hub.send("visit", {"visit_id": "v-back-1", "phase": "end"})

    second = hub.probe(_face(ZHANG, 3, n=2), "v-back-2")
    assert second["result"] == "matched"
    hub.send("face_confirm", {"request_id": second["request_id"], "confirmed": False, "visit_id": "v-back-2"})
    hub.send("face_confirm", {"request_id": second["request_id"], "confirmed": True})  # the first answer stands
    with hub.factory() as s:
        log = {r.request_id: r for r in s.scalars(select(FaceIdentification))}
        assert (log[first["request_id"]].answer, log[second["request_id"]].answer) == ("confirmed", "declined")
        zhang = s.scalar(select(Customer.id).where(Customer.masked_name == "张*"))
        probes = s.scalars(select(Touchpoint).where(Touchpoint.type == "face_probe")).all()
        assert {(t.visit_id, t.customer_id, t.outcome) for t in probes} == {("v-back-1", zhang, "matched"),
                                                                           ("v-back-2", None, "declined")}
        assert s.get(Visit, "v-back-1").customer_id == zhang
        assert not s.scalars(select(Referral).where(Referral.visit_id == "v-back-2")).all()

    withdrawn = hub.send("face_consent", {"request_id": "w-0000000001", "action": "withdraw",
                                          "card_hash": _card(ZHANG), "consent_version": VERSION})
    assert withdrawn == {"request_id": "w-0000000001", "action": "withdraw", "result": "withdrawn",
                         "deleted_templates": 3}
    assert _stored(hub.factory) == (0, 2)
    assert hub.probe(_face(ZHANG, 4, n=2), "v-back-3")["result"] == "unknown"
    again = hub.send("face_consent", {"request_id": "w-0000000002", "action": "grant",
                                      "card_hash": _card(ZHANG), "consent_version": VERSION})
    assert again["refused"]["code"] == "not_enrolled"  # consent at the kiosk comes with an enrolment

    with hub.factory() as s:
        report = branch_report(s, "b001", hub.now - timedelta(hours=1), hub.now + timedelta(seconds=1))
        held = held_about(s, s.scalar(select(Customer).where(Customer.masked_name == "张*")))
    assert {k: report[k] for k in ("enrolments", "withdrawals", "probes", "suggested", "confirmed", "declined",
                                   "unknown", "templates")} == {
        "enrolments": 3, "withdrawals": 1, "probes": 3, "suggested": 2, "confirmed": 1, "declined": 1, "unknown": 1,
        "templates": 2}  # enrolments: the two seeded demo customers' and 张*'s; only the demo templates remain
    assert [(r["outcome"], r["masked_name"]) for r in report["log"]] == [
        ("unknown", None), ("declined", None), ("confirmed", "张*")]
    assert held["face_templates"]["count"] == 0 and [e["granted"] for e in held["ledger"]] == [True, False]
    assert [(i["result"], i["answer"]) for i in held["identifications"]] == [("matched", "declined"),
                                                                           ("matched", "confirmed")]


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_withdrawal_by_a_confirmed_face_match(hub: Hub) -> None:
    """GIVEN an enrolled customer recognised and confirmed at k1 WHEN they withdraw naming the pseudonymous ref
    THEN the templates are deleted; the same ref from another kiosk, without a confirmed match there, is
    refused."""
    hub.enrol()
    match = hub.probe(_face(ZHANG, 5, n=2), "v-face-1")
    ref = match["customer"]["customer_ref"]
    hub.send("face_confirm", {"request_id": match["request_id"], "confirmed": True, "visit_id": "v-face-1"})
    elsewhere = hub.send("face_consent", {"request_id": "w-0000000003", "action": "withdraw", "customer_ref": ref,
                                          "consent_version": VERSION, "visit_id": "v-face-1"}, device="k2")
    assert elsewhere["refused"]["code"] == "no_customer" and _stored(hub.factory)[0] == 3
    done = hub.send("face_consent", {"request_id": "w-0000000004", "action": "withdraw", "customer_ref": ref,
                                     "consent_version": VERSION, "visit_id": "v-face-1"})
    assert done["result"] == "withdrawn" and _stored(hub.factory)[0] == 0


def test_recognition_cannot_be_switched_on_without_an_impact_assessment() -> None:
    """GIVEN a branch config enabling recognition without a PIA record (or consent versions) THEN it is refused
    with a message saying what to add."""
    with pytest.raises(ValidationError, match="privacy impact assessment"):
        RecognitionSettings.model_validate({"enabled": True, "consent_versions": [VERSION]})
    with pytest.raises(ValidationError, match="consent_versions"):
        RecognitionSettings.model_validate({"enabled": True, "pia": {
            "reference": "PIA-1", "approved_by": "DPO", "approved_on": "2026-10-01", "review_by": "2027-10-01"}})
    with pytest.raises(ValidationError, match="review_by"):
        RecognitionSettings.model_validate({"enabled": True, "consent_versions": [VERSION], "pia": {
            "reference": "PIA-1", "approved_by": "DPO", "approved_on": "2026-10-01", "review_by": "2026-09-01"}})
    assert not RecognitionSettings().enabled


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_the_event_log_keeps_no_face_embeddings_and_a_repeat_is_still_a_repeat(hub: Hub) -> None:
    """GIVEN a refused enrolment and a probe WHEN the hub has handled them THEN the event log holds their frame
    counts but not their embeddings; the same messages delivered again are duplicates, not id conflicts (nothing
    is dead-lettered, so the embeddings do not come back through the dead letters either)."""
    from server.events.models import DeadLetter, Event
    from server.ingest.records import EventRecord

    hub.enrol(consent_version="face-1999-01")
    hub.probe(_face(0, 7, n=2), "v-log-0001")
    with hub.factory() as s:
        stored = {e.type: e for e in s.scalars(select(Event).where(Event.type.in_(["face_enrol", "face_probe"])))}
    assert len(stored["face_enrol"].data["embeddings"]) == 3 and len(stored["face_probe"].data["embeddings"]) == 2
    for e in stored.values():
        assert all(v == 0.0 for frame in e.data["embeddings"] for v in frame), e.type
    again = [EventRecord.of(id=e.id, branch=e.branch_id, device=e.device_id, seq=e.seq, type=e.type, ts=e.ts,
                            data={**e.data, "embeddings": _face(0, 8, n=len(e.data["embeddings"]))})
             for e in stored.values()]
    with hub.factory() as s, s.begin():
        result = store_batch(s, again, now=hub.now)
    assert (result.stored, result.duplicates, result.dead_lettered) == (0, 2, 0)
    with hub.factory() as s:
        assert s.scalar(select(func.count()).select_from(DeadLetter)) == 0
