"""Face opt-in end to end: the kiosk (Qt offscreen, pty card reader and printer, ORL faces through the camera
simulator and the real dlib pipeline with its quality gates), a private Mosquitto and the real hub (SQLite)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import func, select

from hardware.card_reader.simulator import TEST_PAN
from hardware.face.datasets import orl_dir
from kiosk_client.core.flow import Screen
from server.customers.demo import demo_rows
from server.customers.importer import parse_row
from server.customers.models import Consent, Customer, FaceIdentification, FaceTemplate
from server.customers.service import upsert_customer
from server.db import utcnow
from tests.kiosk.conftest import KEY

ORL_DIR = orl_dir()
VERSION = "face-2026-11"  # one of b001's recognition.consent_versions


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


@pytest.fixture
def orl_camera(tmp_path: Path):
    """The camera simulator playing ORL subject s4 (10 images, looped), as the kiosk's camera file."""
    from hardware.camera.simulator import CameraSimulator
    from hardware.face import FacePipeline

    if not FacePipeline.available():
        pytest.skip(FacePipeline.unavailable_reason())
    if not (ORL_DIR / "s4" / "1.pgm").is_file():
        pytest.skip(f"ORL face set not found at {ORL_DIR} (set SZ_ORL_DIR)")
    (tmp_path / "camera").mkdir()
    sim = CameraSimulator(faces=str(ORL_DIR / "s4"), directory=tmp_path / "camera").start()
    yield sim
    sim.stop()


@pytest.fixture
def card_holder(hub) -> int:
    """A customer of b001 who holds the card reader simulator's test card (hashed with the kiosk's key)."""
    with hub.factory() as s, s.begin():
        row = {**demo_rows()[2], "customer_id": "E2E1", "name": "张伟", "phone": "", "card_number": TEST_PAN}
        c, _ = upsert_customer(s, parse_row(row, [KEY], KEY), branch_id="b001", now=utcnow())
        return c.id


def held(hub, customer_id: int) -> tuple[int, list[tuple[bool, str, str | None]]]:
    with hub.factory() as s:
        n = s.scalar(select(func.count()).select_from(FaceTemplate).where(FaceTemplate.customer_id == customer_id))
        ledger = [(e.granted, e.text_version, e.device_id) for e in s.scalars(
            select(Consent).where(Consent.customer_id == customer_id).order_by(Consent.id))]
    return n, ledger


def answer(hub, customer_id: int) -> str | None:
    with hub.factory() as s:
        return s.scalar(select(FaceIdentification.answer).where(FaceIdentification.customer_id == customer_id))


def ticket_with_card(qtbot, kiosk) -> str:
    w = kiosk.window
    click(qtbot, w.pages[Screen.ATTRACT].take)
    click(qtbot, w.pages[Screen.BUSINESS].buttons["deposit"])
    kiosk.peripherals.simulators["card_reader"].control("insert bank")
    qtbot.waitUntil(lambda: kiosk.screen is Screen.TICKET and not kiosk.flow.customer.ticket.provisional,
                    timeout=8000)
    return kiosk.flow.customer.ticket.number


def finish(qtbot, kiosk) -> None:
    kiosk.peripherals.simulators["card_reader"].control("take")
    click(qtbot, kiosk.window.pages[Screen.TICKET].done)
    qtbot.waitUntil(lambda: kiosk.screen is Screen.ATTRACT, timeout=5000)


def recognise(qtbot, kiosk) -> None:
    w = kiosk.window
    click(qtbot, w.pages[Screen.ATTRACT].face)
    click(qtbot, w.pages[Screen.CONSENT].check)
    click(qtbot, w.pages[Screen.CONSENT].yes)


def test_enrol_recognise_withdraw_through_kiosk_hub_and_camera(qtbot, make_kiosk, hub, mosquitto, orl_camera,
                                                                card_holder):
    """GIVEN a customer with a bank card at a kiosk whose camera shows an ORL face
    WHEN they take a ticket with the card, opt in (consent, age, start), come back and are greeted, confirm,
    withdraw on the ticket screen, and come back once more
    THEN the hub enrols 5 templates with the consent (version, device) in the ledger and the slip says how to
    withdraw; the second visit shows "possibly 张*" and the confirmation reaches the identification log; the
    withdrawal deletes the templates at once; the third visit is not recognised."""
    kiosk = make_kiosk(mosquitto.url, camera=str(orl_camera.source), consent_version=VERSION, reply_timeout_s=8)
    w = kiosk.window
    qtbot.waitUntil(lambda: kiosk.flow.online, timeout=5000)

    ticket_with_card(qtbot, kiosk)
    row = w.pages[Screen.TICKET].face_row
    assert row.enrol.isVisible() and row.withdraw.isVisible()
    click(qtbot, row.enrol)
    consent = w.pages[Screen.ENROL_CONSENT]
    assert kiosk.screen is Screen.ENROL_CONSENT and VERSION in consent.version.text()
    assert not consent.yes.isEnabled() and consent.no.isEnabled()
    assert consent.no.size() == consent.yes.size() and consent.no.objectName() == consent.yes.objectName()
    click(qtbot, consent.check)
    click(qtbot, consent.yes)
    click(qtbot, w.pages[Screen.ENROL_AGE].adult)
    assert kiosk.screen is Screen.ENROL_START and held(hub, card_holder) == (0, [])  # nothing before "start"
    click(qtbot, w.pages[Screen.ENROL_START].start)
    qtbot.waitUntil(lambda: kiosk.screen is Screen.FACE_RESULT and not kiosk.flow.customer.pending_face,
                    timeout=30000)
    assert kiosk.flow.customer.message == "enrolled", kiosk.flow.customer.message_args
    assert held(hub, card_holder) == (5, [(True, VERSION, "k1")])
    qtbot.waitUntil(lambda: any("撤回" in line for r in kiosk.peripherals.simulators["printer"].receipts
                                for line in r.lines), timeout=5000)
    click(qtbot, w.pages[Screen.FACE_RESULT].done)
    assert kiosk.screen is Screen.TICKET and not row.enrol.isVisible()
    finish(qtbot, kiosk)

    recognise(qtbot, kiosk)
    qtbot.waitUntil(lambda: kiosk.screen is Screen.GREETING, timeout=30000)
    assert "张*" in w.pages[Screen.GREETING].title.text()
    click(qtbot, w.pages[Screen.GREETING].yes)
    qtbot.waitUntil(lambda: bool(hub.events("face_confirm")), timeout=5000)
    qtbot.waitUntil(lambda: answer(hub, card_holder) == "confirmed", timeout=5000)
    click(qtbot, w.pages[Screen.BUSINESS].buttons["deposit"])
    click(qtbot, w.pages[Screen.IDENTIFY].skip)
    qtbot.waitUntil(lambda: kiosk.screen is Screen.TICKET, timeout=8000)
    assert not row.enrol.isVisible() and row.withdraw.isVisible()  # identified by the confirmed match
    click(qtbot, row.withdraw)
    qtbot.waitUntil(lambda: kiosk.flow.customer.message == "withdrawn", timeout=10000)
    assert held(hub, card_holder) == (0, [(True, VERSION, "k1"), (False, VERSION, "k1")])
    click(qtbot, w.pages[Screen.FACE_RESULT].done)
    click(qtbot, w.pages[Screen.TICKET].done)
    qtbot.waitUntil(lambda: kiosk.screen is Screen.ATTRACT, timeout=5000)

    recognise(qtbot, kiosk)
    qtbot.waitUntil(lambda: kiosk.screen is Screen.BUSINESS and kiosk.flow.customer.message == "not_recognised",
                    timeout=30000)
    with hub.factory() as s:
        assert [r.result for r in s.scalars(select(FaceIdentification).order_by(FaceIdentification.id))] == [
            "matched", "unknown"]
    events = hub.events()
    assert not any("image" in (e.data or {}) for e in events)


def test_no_thanks_gives_the_same_ticket_and_stores_nothing(qtbot, make_kiosk, hub, mosquitto, card_holder):
    """GIVEN a customer identified by card with a ticket WHEN offered enrolment they say "no thanks" THEN they
    hold the same ticket, no face_enrol is sent, the hub holds no template and no consent for them."""
    kiosk = make_kiosk(mosquitto.url, consent_version=VERSION, reply_timeout_s=8)
    qtbot.waitUntil(lambda: kiosk.flow.online, timeout=5000)
    number = ticket_with_card(qtbot, kiosk)
    click(qtbot, kiosk.window.pages[Screen.TICKET].face_row.enrol)
    click(qtbot, kiosk.window.pages[Screen.ENROL_CONSENT].no)
    assert kiosk.screen is Screen.TICKET and kiosk.flow.customer.ticket.number == number
    assert not kiosk.window.pages[Screen.TICKET].face_row.enrol.isVisible()  # asked once
    finish(qtbot, kiosk)
    qtbot.waitUntil(lambda: bool(hub.events("usage_session")), timeout=5000)
    assert hub.events("face_enrol") == [] and held(hub, card_holder) == (0, [])
    with hub.factory() as s:
        assert s.scalar(select(Customer.consent_face).where(Customer.id == card_holder)) is False
