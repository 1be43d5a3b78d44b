"""Notifications against real parts: a local SMTP server (aiosmtpd) and a local bot webhook receiver.

An unacknowledged alarm escalates to the on-call rota by e-mail, bot and bell; an overdue work order is told to
the first and second on call; deliveries are retried with back-off, signed, idempotent and logged.
"""

from __future__ import annotations

import email
import http.server
import threading
import uuid
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller

from device_hub.broker import free_port
from server.db import utcnow
from server.devices.scheduled import escalate_alarms
from server.ingest.records import EventRecord
from server.ingest.service import store_batch
from server.notifications.config import NotifyConfig, Smtp, configure
from server.notifications.models import OnCallShift
from server.notifications.scheduled import deliver_notifications
from server.notifications.service import Message, log, notify
from server.webhooks.service import verify
from server.workorders.scheduled import notify_overdue
from tests.devices.helpers import orders
from tests.server.helpers import bearer
from tests.support import WebhookReceiver
from wire.messages import StateData, StatusData

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
SECRET = "bot-signing-key-for-tests"


class Mailbox:
    """aiosmtpd handler: keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


Bot = WebhookReceiver


@pytest.fixture
def channels():
    """A local SMTP server and bot; the process's channels point at them."""
    box = Mailbox()
    smtp = Controller(box, hostname="127.0.0.1", port=free_port())
    smtp.start()
    bot = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Bot)
    threading.Thread(target=bot.serve_forever, daemon=True).start()
    Bot.plan[:], Bot.got[:] = [], []
    config = configure(NotifyConfig(
        smtp=Smtp(host="127.0.0.1", port=smtp.port, security="plain", sender="smartzone@bank.example"),
        bots={"b001/field": f"http://127.0.0.1:{bot.server_port}/bot"}, secret=SECRET,
        console_url="https://sz.bank.example"))
    yield box, config
    configure(NotifyConfig())
    bot.shutdown()
    smtp.stop()


def test_escalation_reaches_the_rota_by_mail_bot_and_bell(client, factory, make_user, channels):
    """GIVEN engineers m1 (first on call, m1@bank.example) and m2 (second) on the field rota of b001, a bot for
    b001's field team that fails once, and a kiosk whose card reader reports a hardware error needing maintenance
    WHEN nobody acknowledges the alarm for 15 minutes, then 30, and the repair is not done by its due time
    THEN the repair order is the field team's and named to m1; level 1 is mailed to m1 and posted to the bot
    (signed, retried after back-off, the same idempotency key), m1's bell counts it; level 2 adds m2; the overdue
    order is told to both; repeating a job sends nothing twice, and the branch's log shows every delivery."""
    box, _config = channels
    now = utcnow()
    m1, m2 = make_user("m1", "maintenance"), make_user("m2", "maintenance")
    with factory() as s, s.begin():
        for staff_id, level, mail in ((m1, 1, "m1@bank.example"), (m2, 2, "m2@bank.example")):
            s.add(OnCallShift(branch_id="b001", team="field", staff_id=staff_id, level=level, email=mail,
                              starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=12),
                              created_by="test", created_at=now))
        store_batch(s, [EventRecord(str(uuid.uuid4()), "b001", "k1", 0, "state", now,
                                    StateData(online=True, session=1, components=["cardReader"])),
                        EventRecord(str(uuid.uuid4()), "b001", "k1", 1, "status", now,
                                    StatusData(component="cardReader", device="hardwareError",
                                               action="maintenance", detail="motor stalled"))], now=now)
    [order] = orders(factory)
    assert (order.team, order.task, order.assignee, order.severity) == ("field", "repair_hardware", "m1", "CRITICAL")
    assert order.due_at == now + timedelta(hours=4)

    Bot.plan[:] = [500]
    t1 = now + timedelta(minutes=16)
    assert escalate_alarms(factory, t1) == 1
    assert deliver_notifications(factory, t1) == {"sent": 1, "retried": 1, "dead": 0}
    [mail] = box.messages
    assert mail["To"] == "m1@bank.example" and "告警未确认（第 1 级）" in mail["Subject"]
    assert "Unacknowledged alarm, level 1: b001/k1 Hardware error" in mail["Subject"]
    assert "https://sz.bank.example/devices/" in mail.get_content()
    assert deliver_notifications(factory, t1 + timedelta(seconds=10)) == {"sent": 0, "retried": 0, "dead": 0}
    assert deliver_notifications(factory, t1 + timedelta(seconds=31)) == {"sent": 1, "retried": 0, "dead": 0}
    (h1, _), (h2, b2) = Bot.got
    assert h1["idempotency-key"] == h2["idempotency-key"] and h2["idempotency-key"].startswith("alarm:")
    assert verify(SECRET, h2["x-sz-timestamp"], b2, h2["x-sz-signature"])
    assert '"msgtype":"text"' in b2.decode() and "motor stalled" in b2.decode()

    headers = bearer(client, "m1")
    assert client.get("/api/me/notifications/count", headers=headers).json() == {"unread": 1}
    [bell] = client.get("/api/me/notifications", headers=headers).json()
    assert bell["title"].startswith("告警未确认") and bell["link"].startswith("/devices/")  # m1 reads zh-CN

    assert escalate_alarms(factory, t1) == 0  # not due again: nothing new
    t2 = now + timedelta(minutes=31)
    assert escalate_alarms(factory, t2) == 1
    deliver_notifications(factory, t2)
    assert sorted(m["To"] for m in box.messages[1:]) == ["m1@bank.example", "m2@bank.example"]

    t3 = order.due_at + timedelta(minutes=1)
    assert notify_overdue(factory, t3) == 1
    assert notify_overdue(factory, t3 + timedelta(minutes=1)) == 0  # told once
    deliver_notifications(factory, t3)
    overdue = [m for m in box.messages if "工单超时" in m["Subject"]]
    assert sorted(m["To"] for m in overdue) == ["m1@bank.example", "m2@bank.example"]
    assert client.get("/api/me/notifications/count", headers=headers).json() == {"unread": 3}
    assert client.post("/api/me/notifications/read", json={"ids": [bell["id"]]}, headers=headers).json() == \
        {"unread": 2}
    assert client.post("/api/me/notifications/read", json={"ids": [10_000]}, headers=headers).status_code == 404

    log = client.get("/api/branches/b001/notifications", headers=headers).json()
    assert [n["kind"] for n in log] == ["work_order_due", "alarm_escalated", "alarm_escalated"]
    first = log[-1]["deliveries"]
    assert {(d["channel"], d["status"]) for d in first} == {("bell", "sent"), ("email", "sent"), ("webhook", "sent")}
    assert next(d for d in first if d["channel"] == "webhook")["attempts"] == 2


def test_unreachable_channels_are_given_up_and_kept(factory, make_user, channels):
    """GIVEN a notification for a bot that answers 404 and an address the SMTP server cannot reach
    WHEN delivered THEN the bot's delivery is given up at once (a 4xx will not heal) and the mail is retried with
    back-off until it is given up; both stay in the log with their last error."""
    _box, config = channels
    now = utcnow()
    broken = NotifyConfig(smtp=Smtp(host="127.0.0.1", port=free_port(), security="plain"), bots=config.bots,
                          secret=SECRET)
    staff_id = make_user("e1", "maintenance")
    with factory() as s, s.begin():
        s.add(OnCallShift(branch_id="b001", team="field", staff_id=staff_id, level=1, email="e1@bank.example",
                          starts_at=now, ends_at=now + timedelta(hours=1), created_by="test", created_at=now))
        s.flush()
        notify(s, Message(key="test:1", branch_id="b001", team="field", kind="alarm_escalated", severity="MAJOR",
                          title=("t", "t"), body=("b", "b")), now, broken)
        assert notify(s, Message(key="test:1", branch_id="b001", team="field", kind="alarm_escalated",
                                 severity="MAJOR", title=("t", "t"), body=("b", "b")), now, broken) is None
    Bot.plan[:] = [404]
    clock = now
    for _ in range(10):
        deliver_notifications(factory, clock, broken)
        clock += timedelta(hours=2)
    with factory() as s:
        [(_note, deliveries)] = log(s, "b001")
        by = {d.channel: d for d in deliveries}
        assert (by["webhook"].status, by["webhook"].attempts, by["webhook"].last_error) == ("dead", 1, "HTTP 404")
        assert (by["email"].status, by["email"].attempts) == ("dead", 8)
        assert "Connection" in by["email"].last_error or "refused" in by["email"].last_error
