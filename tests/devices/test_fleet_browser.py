"""The maintenance console in Debian's headless Chromium: an alarm appears live and is acknowledged."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from server.db import utcnow
from server.ingest.records import EventRecord
from server.ingest.service import store_batch
from server.notifications.service import Message, notify
from tests.devices.helpers import active_alarms
from tests.server.helpers import PASSWORD
from tests.server.test_browser import ARTIFACTS, chromium  # noqa: F401 (fixture)


def _event(type_: str, seq: int, data: dict, device: str = "k1") -> EventRecord:
    return EventRecord.of(id=str(uuid.uuid4()), branch="b001", device=device, seq=seq, type=type_,
                          ts=utcnow() - timedelta(seconds=1), data=data)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("viewport", [(1366, 768), (800, 1280)], ids=["branch-pc", "tablet-portrait"])
def test_alarm_appears_live_and_is_acknowledged(chromium, migrated, make_user, viewport):  # noqa: F811
    """GIVEN a maintenance user on the fleet page with kiosk k1 online
    WHEN the hub stores a paper-out status for k1 (as another process would)
    THEN the alarm and its work order appear without a reload, the k1 tile turns red, acknowledging it from the
    page moves it to ACTIVE_ACK, and the page fits the screen."""
    from server.app import create_app
    from server.runner import ServerThread

    engine, factory = migrated
    maint_id = make_user("maint1", "maintenance")
    with factory() as s, s.begin():
        store_batch(s, [_event("state", 0, {"online": True, "session": 1, "model": "SZ-K1", "sw": "1.0",
                                            "components": ["cardReader", "printer", "camera"]}),
                        _event("status", 1, {"component": "cardReader", "device": "online", "media": "notPresent",
                                             "retain_bin": "ok", "retain_count": 0})])
    srv = ServerThread(create_app(engine=engine), "127.0.0.1", 0).start()
    try:
        width, height = viewport
        context = chromium.new_context(viewport={"width": width, "height": height}, locale="en-US")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{srv.url}/login?lang=en")
        page.fill("input[name=username]", "maint1")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/branches/b001")
        page.goto(f"{srv.url}/fleet")
        page.wait_for_url("**/branches/b001/fleet")
        page.get_by_test_id("tile-k1").wait_for(timeout=10_000)
        assert page.get_by_test_id("tile-k1").get_attribute("data-state") == "ok"
        page.locator("#live-status.ok").wait_for(state="attached", timeout=10_000)  # no eval: the CSP forbids it

        with factory() as s, s.begin():
            store_batch(s, [_event("status", 2, {"component": "printer", "device": "userError", "paper": "out",
                                                 "action": "clear"})])
        [alarm] = active_alarms(factory).values()
        item = page.get_by_test_id(f"alarm-{alarm.id}")
        item.wait_for(timeout=10_000)
        assert "缺纸" in item.inner_text()  # the account speaks zh-CN
        page.locator("[data-testid=tile-k1][data-state=bad]").wait_for(timeout=10_000)
        assert "补充纸张" in page.get_by_test_id("fleet-orders").inner_text()

        page.get_by_test_id(f"alarm-{alarm.id}").locator("input[name=comment]").fill("on my way with paper")
        page.get_by_test_id(f"ack-{alarm.id}").click()
        page.locator(f"[data-testid=alarm-{alarm.id}][data-status=ACTIVE_ACK]").wait_for(timeout=10_000)
        acked = active_alarms(factory)["PAPER_OUT"]
        assert acked.acked_by == "maint1" and acked.comments[0]["text"] == "on my way with paper"
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"fleet-{width}x{height}.png"), full_page=True)

        # the bell: a notification for maint1 (written by a job, maybe in another process) counts live
        with factory() as s, s.begin():
            notify(s, Message(key="test:bell", branch_id="b001", team="field", kind="alarm_escalated",
                              severity="MAJOR", title=("Unacknowledged alarm, level 1: b001/k1 Paper out",
                                                       "告警未确认（第 1 级）：b001/k1 缺纸"),
                              body=("Nobody has acknowledged it.", "无人确认。"), also=(maint_id,)), utcnow())
        page.locator("[data-testid=bell-count][data-count='1']").wait_for(timeout=10_000)
        page.goto(f"{srv.url}/branches/b001/notifications")
        page.get_by_test_id("notify-log").get_by_text("告警未确认").wait_for(timeout=10_000)
        page.screenshot(path=str(ARTIFACTS / f"fleet-notifications-{width}x{height}.png"), full_page=True)

        # the device page: timeline, status and a command
        page.goto(f"{srv.url}/devices/{_device_pk(factory)}")
        page.get_by_test_id("device-timeline").get_by_text("alarm · opened").first.wait_for(timeout=10_000)
        assert "notPresent" in page.get_by_test_id("component-cardReader").inner_text()
        assert "尚未上报" in page.get_by_test_id("component-camera").inner_text()  # declared, not reported yet
        page.get_by_test_id("command-name").select_option("diagnostics")
        page.get_by_test_id("command-send").click()
        page.get_by_test_id("device-commands").get_by_text("diagnostics").wait_for(timeout=10_000)
        page.screenshot(path=str(ARTIFACTS / f"fleet-device-{width}x{height}.png"), full_page=True)
        assert not errors, errors
        context.close()
    finally:
        srv.stop()


def _device_pk(factory) -> int:
    from tests.devices.helpers import device

    return device(factory).id
