"""Identity hygiene on the real pty simulators: a card or ID identifies one customer session only."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from hardware.common.status import MediaState
from kiosk_client.core.flow import Screen
from kiosk_client.core.hygiene import MediaGate
from wire import Component


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def identify_screen(qtbot, kiosk) -> None:
    click(qtbot, kiosk.window.pages[Screen.ATTRACT].take)
    click(qtbot, kiosk.window.pages[Screen.BUSINESS].buttons["deposit"])
    assert kiosk.screen is Screen.IDENTIFY


def finish(qtbot, kiosk) -> None:
    qtbot.waitUntil(lambda: kiosk.screen is Screen.TICKET, timeout=8000)
    click(qtbot, kiosk.window.pages[Screen.TICKET].done)
    assert kiosk.screen is Screen.ATTRACT and kiosk.flow.customer is None


def test_media_gate_reads_once_until_the_reader_was_seen_empty():
    """GIVEN a gate WHEN a card is read THEN no read until a status shows the reader empty."""
    gate = MediaGate()
    assert not gate.may_read()  # a card found at start-up is nobody's
    assert gate.observe(MediaState.NOT_PRESENT) and gate.may_read()
    gate.used()
    for media in (MediaState.ENTERING, MediaState.PRESENT, MediaState.UNKNOWN):
        assert not gate.observe(media) and not gate.may_read()
    assert gate.observe(MediaState.NOT_PRESENT) and gate.may_read()
    assert not gate.observe(MediaState.NOT_PRESENT)  # already armed: not "just taken" again


@pytest.mark.parametrize(("reader", "card", "message", "masked"), [
    ("card_reader", "bank", "take_card", "622202*********0128"),
    ("id_reader", "id", "take_id_card", "110***********002X"),
])
def test_a_card_left_in_the_reader_is_not_reused_for_the_next_customer(qtbot, make_kiosk, dead_broker, reader,
                                                                       card, message, masked):
    """GIVEN customer A identified by a card (or ID) that A leaves in the reader WHEN customer B opens
    identification THEN B is asked to take it out, the kiosk keeps polling the reader without reading it, and
    B is identified only by a card inserted after the reader showed empty."""
    kiosk = make_kiosk(dead_broker)
    sim = kiosk.peripherals.simulators[reader]
    gate = kiosk.cards.gates[Component.CARD_READER if reader == "card_reader" else Component.ID_READER]
    identify_screen(qtbot, kiosk)
    sim.control(f"insert {card}")
    qtbot.waitUntil(lambda: kiosk.flow.customer.masked_id is not None, timeout=5000)
    assert kiosk.flow.customer.masked_id == masked
    finish(qtbot, kiosk)
    assert sim.snapshot()["card"] is not None  # A walked away without it

    identify_screen(qtbot, kiosk)  # customer B
    qtbot.waitUntil(lambda: kiosk.flow.customer.message == message, timeout=5000)
    seen = len(sim.commands)
    qtbot.waitUntil(lambda: len(sim.commands) >= seen + 8, timeout=8000)  # several watch cycles later …
    assert kiosk.screen is Screen.IDENTIFY and kiosk.flow.customer.customer_ref is None  # … still not read
    if reader == "card_reader":
        assert sim.snapshot()["position"] == "gate"  # the shutter stayed shut: not pulled back in
    sim.control("take")
    qtbot.waitUntil(gate.may_read, timeout=5000)  # the reader was seen empty
    if reader == "card_reader":
        qtbot.waitUntil(lambda: sim.snapshot()["entryEnabled"], timeout=5000)  # and the shutter opened for B
    sim.control(f"insert {card}")  # B's own card
    qtbot.waitUntil(lambda: kiosk.flow.customer.customer_ref is not None, timeout=8000)
    assert kiosk.flow.customer.masked_id == masked
