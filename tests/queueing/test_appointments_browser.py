"""The appointments page in headless Chromium: booking a slot, and a full slot refused with a clear message."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.appointments.models import Appointment
from tests.server.helpers import PASSWORD
from tests.server.test_browser import ARTIFACTS, chromium, live_server  # noqa: F401


@pytest.mark.timeout(120)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_booking_an_appointment_and_a_full_slot(chromium, live_server, make_user, migrated) -> None:  # noqa: F811
    """GIVEN lobby staff on the appointments page (b001: two places per slot) WHEN they book tomorrow's first
    wealth slot by phone last four twice THEN each booking shows its code and appears in the day's list; the
    third is refused on the page as full (409 slot_full), nothing else is booked, and no script error occurs."""
    _engine, factory = migrated
    make_user("lobby1", "lobby_staff")
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and "409" not in msg.text
            else None)
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", "lobby1")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/branches/b001")
    page.goto(f"{live_server.url}/appointments")
    page.get_by_test_id("appt-title").wait_for(timeout=10_000)
    tomorrow = page.get_by_test_id("appt-day").locator("option").nth(1).get_attribute("value")
    page.get_by_test_id("appt-day").select_option(tomorrow)
    page.click("form.filters button[type=submit]")
    page.wait_for_url(f"**day={tomorrow}")
    slot = page.get_by_test_id("appt-slot").locator("option").first.get_attribute("value")

    codes = []
    for phone in ("1234", "5678", "9012"):
        page.get_by_test_id("appt-phone").fill(phone)
        page.get_by_test_id("appt-business").select_option("wealth")
        page.get_by_test_id("appt-slot").select_option(slot)
        page.get_by_test_id("appt-submit").click()
        if phone == "9012":
            error = page.get_by_test_id("appt-error")
            error.wait_for(state="visible", timeout=10_000)
            assert "已约满" in error.inner_text()  # the refusal's code, in the staff member's language
            break
        page.get_by_test_id("appt-ok").wait_for(state="visible", timeout=10_000)
        code = page.url.split("booked=")[1]
        assert code in page.get_by_test_id("appt-ok").inner_text() and "预约成功" in page.get_by_test_id(
            "appt-ok").inner_text()
        assert page.locator(f"tr[data-code='{code}'][data-status='booked']").count() == 1
        codes.append(code)
    assert page.get_by_test_id("appt-count-booked").inner_text() == "2"
    with factory() as s:
        assert sorted(s.scalars(select(Appointment.code))) == sorted(codes)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "appointments.png"), full_page=True)
    context.close()
    assert not errors, errors
