"""The kiosk on its own (no broker reachable): screens, keypad, faults, idle, elder mode, offline tickets."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt

from kiosk_client.core.flow import Screen
from wire import Component


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def start_ticket(qtbot, kiosk, business: str = "deposit") -> None:
    w = kiosk.window
    click(qtbot, w.pages[Screen.ATTRACT].take)
    assert kiosk.screen is Screen.BUSINESS
    click(qtbot, w.pages[Screen.BUSINESS].buttons[business])


def test_offline_ticket_is_provisional_printed_and_kept_in_outbox(qtbot, make_kiosk, dead_broker):
    """GIVEN no broker WHEN a customer takes a ticket THEN after the reply timeout a K1- number is printed
    on the simulated printer and every event waits in the durable outbox."""
    kiosk = make_kiosk(dead_broker)
    start_ticket(qtbot, kiosk)
    assert kiosk.screen is Screen.IDENTIFY
    click(qtbot, kiosk.window.pages[Screen.IDENTIFY].skip)
    assert kiosk.screen is Screen.ISSUING
    qtbot.waitUntil(lambda: kiosk.screen is Screen.TICKET, timeout=5000)
    ticket = kiosk.flow.customer.ticket
    assert ticket.provisional and ticket.number == "K1-001"
    printer = kiosk.peripherals.simulators["printer"]
    qtbot.waitUntil(lambda: kiosk.flow.customer.ticket.printed is True, timeout=5000)
    assert any("K1-001" in line for line in printer.receipts[-1].lines)
    qtbot.waitUntil(lambda: kiosk.link.pending() >= 4, timeout=3000)  # visit, 2 ticket requests, statuses
    assert not kiosk.flow.online and kiosk.window.pages[Screen.ATTRACT].offline.text()


def test_card_and_printer_results_reach_the_flow_on_the_gui_thread(qtbot, make_kiosk, dead_broker, monkeypatch):
    """GIVEN a bank card read and a ticket printed by the worker threads THEN the flow and the window only ever
    run on the GUI thread (Qt widgets touched from another thread crash the kiosk, sooner or later)."""
    from kiosk_client.ui.kiosk import KioskApp

    where: list[str] = []
    apply = KioskApp.apply

    def recording_apply(self, effects):
        where.append(threading.current_thread().name)
        apply(self, effects)

    monkeypatch.setattr(KioskApp, "apply", recording_apply)
    kiosk = make_kiosk(dead_broker)
    start_ticket(qtbot, kiosk)
    kiosk.peripherals.simulators["card_reader"].control("insert bank")
    qtbot.waitUntil(lambda: kiosk.flow.customer.masked_id == "622202*********0128", timeout=5000)
    qtbot.waitUntil(lambda: kiosk.flow.customer.ticket is not None
                    and kiosk.flow.customer.ticket.printed is True, timeout=8000)
    assert set(where) == {threading.main_thread().name}


def test_jammed_printer_shows_ticket_with_qr_on_screen(qtbot, make_kiosk, dead_broker):
    """GIVEN the printer jams WHEN a ticket is issued THEN it is shown on screen with a QR code."""
    kiosk = make_kiosk(dead_broker)
    kiosk.peripherals.simulators["printer"].control("jam")
    qtbot.waitUntil(lambda: not kiosk.flow.components.printer, timeout=5000)
    assert kiosk.status["printer"]["device"] == "hardwareError"
    start_ticket(qtbot, kiosk)
    click(qtbot, kiosk.window.pages[Screen.IDENTIFY].skip)
    qtbot.waitUntil(lambda: kiosk.screen is Screen.TICKET, timeout=5000)
    page = kiosk.window.pages[Screen.TICKET]
    assert kiosk.flow.customer.ticket.printed is False
    assert page.qr.isVisible() and not page.qr.pixmap().isNull()


def test_dead_card_reader_offers_id_card_or_skip(qtbot, make_kiosk, dead_broker):
    """GIVEN the card reader is unplugged WHEN identification opens THEN the kiosk says so and offers the rest."""
    kiosk = make_kiosk(dead_broker)
    kiosk.peripherals.simulators["card_reader"].control("unplug")
    qtbot.waitUntil(lambda: not kiosk.flow.components.card_reader, timeout=8000)
    start_ticket(qtbot, kiosk)
    page = kiosk.window.pages[Screen.IDENTIFY]
    assert kiosk.screen is Screen.IDENTIFY and page.notice.isVisible()
    assert not page.card.isVisible() and page.id.isVisible() and page.skip.isVisible()


def test_id_card_identifies_with_masked_number_only(qtbot, make_kiosk, dead_broker):
    kiosk = make_kiosk(dead_broker)
    start_ticket(qtbot, kiosk)
    kiosk.peripherals.simulators["id_reader"].control("insert id")
    qtbot.waitUntil(lambda: kiosk.screen in (Screen.ISSUING, Screen.TICKET), timeout=5000)
    c = kiosk.flow.customer
    assert c.masked_id == "110***********002X" or c.masked_id.startswith("110")
    assert "11010519491231002X" not in repr(kiosk.flow.snapshot())


def test_idle_timeout_returns_to_attract_and_clears(qtbot, make_kiosk, dead_broker):
    kiosk = make_kiosk(dead_broker, idle_timeout_s=1)
    w = kiosk.window
    click(qtbot, w.pages[Screen.ATTRACT].appt)
    w.pages[Screen.APPOINTMENT].keypad.press("1")
    click(qtbot, w.lang_button)
    qtbot.waitUntil(lambda: kiosk.screen is Screen.ATTRACT, timeout=4000)
    assert kiosk.flow.customer is None and kiosk.flow.lang.value == "zh"
    click(qtbot, w.pages[Screen.ATTRACT].appt)
    assert w.pages[Screen.APPOINTMENT].values == {"phone": "", "code": ""}


def test_elder_mode_and_language_switch_on_every_screen(qtbot, make_kiosk, dead_broker):
    """GIVEN any screen WHEN the customer switches language or large text THEN the screen follows at once."""
    kiosk = make_kiosk(dead_broker)
    w = kiosk.window
    click(qtbot, w.pages[Screen.ATTRACT].take)
    title = w.pages[Screen.BUSINESS].title
    assert title.text() == "请选择您要办理的业务"
    click(qtbot, w.lang_button)
    assert title.text() == "What would you like to do today?"
    assert w.pages[Screen.BUSINESS].buttons["deposit"].text() == "Deposit && withdrawal"
    click(qtbot, w.elder_button)
    assert kiosk.flow.elder and "32px" in w.styleSheet()
    assert kiosk.speaker.spoken[-1] == ("en", "What would you like to do today?")
    click(qtbot, w.elder_button)
    assert "22px" in w.styleSheet()


def test_appointment_typed_on_keypad(qtbot, make_kiosk, dead_broker):
    kiosk = make_kiosk(dead_broker)
    w = kiosk.window
    click(qtbot, w.pages[Screen.ATTRACT].appt)
    page = w.pages[Screen.APPOINTMENT]
    for key in "5678":
        click(qtbot, page.keypad.buttons[key])
    for key in "AB12":
        click(qtbot, page.keypad.buttons[key])
    assert page.values == {"phone": "5678", "code": "AB12"}
    click(qtbot, page.submit)
    qtbot.waitUntil(lambda: kiosk.screen is Screen.TICKET, timeout=5000)
    t = kiosk.flow.customer.ticket
    assert t.provisional and not t.priority  # offline: the code is sent later; only the hub can grant priority
    assert kiosk.flow.customer.appointment_code == "AB12"


def test_appointment_qr_through_simulated_camera(qtbot, make_kiosk, dead_broker):
    kiosk = make_kiosk(dead_broker)
    kiosk.camera.qr_payload = "SZAPPT:QR77:wealth"
    click(qtbot, kiosk.window.pages[Screen.ATTRACT].appt)
    qtbot.waitUntil(lambda: kiosk.screen in (Screen.ISSUING, Screen.TICKET), timeout=5000)
    assert kiosk.flow.customer.appointment_code == "QR77"


def test_component_flags_follow_simulators(qtbot, make_kiosk, dead_broker):
    kiosk = make_kiosk(dead_broker)
    kiosk.peripherals.simulators["printer"].control("paper out")
    qtbot.waitUntil(lambda: not kiosk.flow.components.printer, timeout=5000)
    assert kiosk.status[str(Component.PRINTER)]["paper"] == "out"
    kiosk.peripherals.simulators["printer"].control("paper full")
    qtbot.waitUntil(lambda: kiosk.flow.components.printer, timeout=5000)
