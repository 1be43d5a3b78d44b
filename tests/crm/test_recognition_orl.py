"""Recognition on the ORL faces through the hub: enrol with consent, match, reject strangers, withdraw, purge."""

from __future__ import annotations

import uuid
from datetime import timedelta

import cv2
import pytest
from sqlalchemy import func, select

from hardware.face.datasets import orl_dir
from server.customers.demo import demo_rows
from server.customers.importer import parse_row
from server.customers.models import ConsentKind, Customer, FaceTemplate
from server.customers.scheduled import purge_templates
from server.customers.service import enrol_face, record_consent, upsert_customer
from server.db import utcnow
from tests.crm.kit import Kiosk
from tests.spine.hubkit import HubThread
from wire.messages import FaceReplyData

ORL_DIR = orl_dir()
ENROLLED, STRANGERS = range(1, 9), range(15, 21)


def _embeddings() -> dict[tuple[int, int], list[float]]:
    from hardware.face import FacePipeline
    from hardware.face.pipeline import prepare_small_crop

    if not FacePipeline.available():
        pytest.skip(FacePipeline.unavailable_reason())
    if not (ORL_DIR / "s1" / "1.pgm").is_file():
        pytest.skip(f"ORL face set not found at {ORL_DIR} (set SZ_ORL_DIR)")
    pipe = FacePipeline()
    out = {}
    for person in [*ENROLLED, *STRANGERS]:
        for image in (1, 2, 3, 7, 8) if person in ENROLLED else (1, 2):
            e = pipe.embed(prepare_small_crop(cv2.imread(str(ORL_DIR / f"s{person}" / f"{image}.pgm"),
                                                         cv2.IMREAD_GRAYSCALE)))
            if isinstance(e, list):
                out[(person, image)] = e
    return out


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_orl_recognition_through_the_hub(migrated, mosquitto, wait_until):
    """GIVEN 8 ORL people enrolled (images 1-3) with recorded consent
    WHEN kiosks probe with 2 unseen frames (images 7, 8) of each, and of 6 strangers, through broker and hub
    THEN enrolled people are matched (≥ 7 of 8, never as someone else), strangers are unknown; after a
    withdrawal that person's templates are gone and the probe is unknown; the purge job removes unused ones."""
    faces = _embeddings()
    _engine, factory = migrated
    now = utcnow()
    refs: dict[int, str] = {}
    with factory() as s, s.begin():
        for p in ENROLLED:
            row = {**demo_rows()[0], "customer_id": f"ORL{p}", "name": f"测试{p}号", "phone": "", "card_number": ""}
            c, _ = upsert_customer(s, parse_row(row, ["k" * 8], "k" * 8), branch_id="b001", now=now)
            enrol_face(s, c, [faces[(p, i)] for i in (1, 2, 3) if (p, i) in faces], source="staff:1",
                       text_version="face-2026-11", now=now, device_id="k1")
            refs[p] = c.ref
        stored = s.scalars(select(FaceTemplate.ciphertext)).all()
        assert len(stored) >= 20 and all(len(ct) == 128 * 4 + 16 for ct in stored)

    kiosk = Kiosk(mosquitto.url)

    def probe(frames: list[list[float]]) -> FaceReplyData:
        rid = f"r-{uuid.uuid4().hex[:10]}"
        kiosk.send("face_probe", {"request_id": rid, "embeddings": frames, "consent_version": "face-2026-11"})
        wait_until(lambda: rid in kiosk.replies, timeout=30, message=f"reply to {rid}")
        return kiosk.replies[rid]

    with HubThread(mosquitto.url, factory):
        matched = 0
        for p in ENROLLED:
            frames = [faces[(p, i)] for i in (7, 8) if (p, i) in faces]
            answer = probe(frames)
            if answer.result == "matched":
                assert answer.customer.customer_ref == refs[p], f"s{p} matched as someone else"
                matched += 1
        assert matched >= 7
        for p in STRANGERS:
            assert probe([faces[(p, i)] for i in (1, 2) if (p, i) in faces]).customer is None

        with factory() as s, s.begin():
            c = s.scalar(select(Customer).where(Customer.ref == refs[1]))
            record_consent(s, c, kind=ConsentKind.FACE, granted=False, source="staff:1", text_version="face-2026-11",
                           now=utcnow())
            assert s.scalar(select(func.count()).select_from(FaceTemplate).where(FaceTemplate.customer_id == c.id)) == 0
        assert probe([faces[(1, i)] for i in (7, 8) if (1, i) in faces]).result == "unknown"
    kiosk.close()

    with factory() as s:
        remaining = s.scalar(select(func.count()).select_from(FaceTemplate))
    assert purge_templates(factory, utcnow() + timedelta(days=364)) == 0
    assert purge_templates(factory, utcnow() + timedelta(days=366)) == remaining
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(FaceTemplate)) == 0
