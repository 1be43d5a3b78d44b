"""Appointments and opening hours at the kiosk, end to end: pty simulators, a private Mosquitto, the real hub
and its database (SQLite). Time is never the wall clock's relation to the hours: bookings are placed around the
current moment, and the closed branch is a config whose only hours lie six hours away."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

from PySide6.QtCore import Qt

from kiosk_client.core.flow import Screen
from server.appointments import service
from server.appointments.models import Appointment, AppointmentStatus
from server.branches.service import sync_branches
from server.db import utcnow
from szconfig import calendar, load_branches
from szconfig.branch import BranchConfig
from tests.open_hours import OPEN_CONFIGS, to_toml


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def type_code(qtbot, kiosk, code: str) -> None:
    page = kiosk.window.pages[Screen.APPOINTMENT]
    click(qtbot, page.code_btn)
    page.keypad.value = ""
    for ch in code:
        click(qtbot, page.keypad.buttons[ch])
    assert page.values["code"] == code
    click(qtbot, page.submit)


def _next_slot(cfg: BranchConfig, now: datetime) -> datetime:
    """The first slot start after `now` (the tests' branch is open around the clock, slots every 30 min)."""
    local = calendar.local(cfg, now)
    day = [s for d in (local.date(), local.date() + timedelta(days=1)) for s in _slots(cfg, d)]
    return next(s for s in day if s > now)


def _slots(cfg, day):
    from server.appointments.rules import slots

    return slots(cfg, day)


def test_check_in_with_a_valid_an_invented_and_an_expired_code(qtbot, make_kiosk, hub, mosquitto, migrated):
    """GIVEN a booking for the next slot (within its check-in window now) and one whose window closed an hour ago
    WHEN a customer types an invented code, the expired one and then the valid one THEN the first two are refused
    on the check-in screen with their reasons (no ticket, no priority), the valid one gets a ticket with priority
    for the booked business, and the booking is checked in with that ticket."""
    _engine, factory = migrated
    b001 = load_branches(OPEN_CONFIGS / "branches")["b001"]
    now = utcnow()
    with factory() as s, s.begin():
        valid = service.book(s, branch_id="b001", business="wealth", slot_at=_next_slot(b001, now), now=now,
                             actor="test", phone_last4="1234")
        gone = Appointment(branch_id="b001", code="EXP1RED", business="loan", slot_at=now - timedelta(hours=1),
                           phone_last4="1234", status=AppointmentStatus.BOOKED, created_at=now, created_by="test",
                           updated_at=now)
        s.add(gone)
        code = valid.code
    kiosk = make_kiosk(mosquitto.url, reply_timeout_s=8)
    qtbot.waitUntil(lambda: kiosk.flow.online, timeout=5000)
    click(qtbot, kiosk.window.pages[Screen.ATTRACT].appt)
    page = kiosk.window.pages[Screen.APPOINTMENT]

    type_code(qtbot, kiosk, "NB0000")  # no code drawn contains 0 or O: it cannot exist
    qtbot.waitUntil(lambda: kiosk.screen is Screen.APPOINTMENT and kiosk.flow.customer.message == "appt_unknown",
                    timeout=6000)
    assert page.notice.isVisible() and "未找到该预约" in page.notice.text()

    type_code(qtbot, kiosk, "EXP1RED")
    qtbot.waitUntil(lambda: kiosk.flow.customer.message == "appt_expired", timeout=6000)
    assert "已过签到时间" in page.notice.text() and kiosk.flow.customer.ticket is None

    type_code(qtbot, kiosk, code)
    qtbot.waitUntil(lambda: kiosk.screen is Screen.TICKET, timeout=6000)
    ticket = kiosk.flow.customer.ticket
    assert ticket.priority and not ticket.provisional and ticket.business == "wealth"
    with factory() as s:
        booked = s.get(Appointment, valid.id)
        assert booked.status is AppointmentStatus.CHECKED_IN and booked.ticket_id is not None
        assert s.get(Appointment, gone.id).status is AppointmentStatus.BOOKED  # the no-show job marks it
    refusals = [e.data for e in hub.events("ticket_request")]
    assert [r.get("appointment_code") for r in refusals] == ["NB0000", "EXP1RED", code]


def closed_now(cfg: BranchConfig, now: datetime) -> BranchConfig:
    """`cfg` open one hour a day, six hours from `now`: closed now, whatever the hour."""
    start = (calendar.local(cfg, now) + timedelta(hours=6)).hour
    end = time(start + 1) if start < 23 else calendar.MIDNIGHT_END
    data = calendar.around_the_clock(cfg).model_dump()
    data["hours"] = [{"weekday": h["weekday"], "open": time(start), "close": end} for h in data["hours"]]
    return BranchConfig.model_validate(data)


def test_a_closed_branch_refuses_at_the_kiosk_with_the_closed_screen(qtbot, make_kiosk, hub, mosquitto, migrated,
                                                                     tmp_path: Path):
    """GIVEN the hub's b001 closed now (its hours six hours away) and a kiosk that does not know that calendar
    WHEN a customer asks for a ticket THEN the hub refuses it (closed, opens_at) and the kiosk shows the closed
    screen with the opening time, in Chinese and English and in large text. GIVEN a kiosk that knows the calendar
    THEN it shows the closed screen by itself while idle, and asks the hub for nothing."""
    _engine, factory = migrated
    now = utcnow()
    shut = closed_now(load_branches(OPEN_CONFIGS / "branches")["b001"], now)
    with factory() as s, s.begin():
        sync_branches(s, {"b001": shut})
    opens = calendar.issuing(shut, now).opens_at
    assert opens is not None
    kiosk = make_kiosk(mosquitto.url, reply_timeout_s=8)
    qtbot.waitUntil(lambda: kiosk.flow.online, timeout=5000)
    w = kiosk.window
    click(qtbot, w.pages[Screen.ATTRACT].take)
    click(qtbot, w.pages[Screen.BUSINESS].buttons["card"])
    click(qtbot, w.pages[Screen.IDENTIFY].skip)
    qtbot.waitUntil(lambda: kiosk.screen is Screen.CLOSED, timeout=6000)
    page = w.pages[Screen.CLOSED]
    hhmm = calendar.local(shut, opens).strftime("%H:%M")
    assert "不办理" in page.title.text() and hhmm in page.when.text()
    click(qtbot, w.lang_button)
    assert page.title.text().endswith("We are closed for tickets now") and f"We open at {hhmm}" in page.when.text()
    normal = page.title.font().pixelSize()
    click(qtbot, w.elder_button)
    assert kiosk.flow.elder and page.title.font().pixelSize() > normal and hhmm in page.when.text()
    assert kiosk.flow.customer.ticket is None and not kiosk.peripherals.simulators["printer"].receipts
    requests = hub.events("ticket_request")
    assert len(requests) == 1

    branches = tmp_path / "branches"
    branches.mkdir()
    (branches / "b001.toml").write_text(to_toml(shut.model_dump(mode="json")), encoding="utf-8")
    knows = make_kiosk(mosquitto.url, device="k2", local_numbers={"prefix": "K2"}, branches_dir=str(branches))
    qtbot.waitUntil(lambda: knows.screen is Screen.CLOSED, timeout=5000)  # the idle tick, about once a second
    assert hhmm in knows.window.pages[Screen.CLOSED].when.text()
    click(qtbot, knows.window.pages[Screen.CLOSED].home)  # hidden: nobody to send home; the screen stays
    knows.act("take_ticket")
    assert knows.screen is Screen.CLOSED and knows.flow.customer is None
    assert len(hub.events("ticket_request")) == 1


def test_every_code_letter_can_be_typed(qtbot) -> None:
    """GIVEN the check-in keypad WHEN every character a code may be drawn from is pressed THEN each is typed
    (the clear key once was "C", so codes with a C could not be entered)."""
    from kiosk_client.ui.keypad import Keypad
    from server.appointments.rules import CODE_ALPHABET

    pad = Keypad(letters=True, max_len=64)
    qtbot.addWidget(pad)
    for ch in CODE_ALPHABET:
        click(qtbot, pad.buttons[ch])
    assert pad.value == CODE_ALPHABET
