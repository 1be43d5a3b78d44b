"""The hub's side of the wire contract: every outbox row any domain writes is a message devices can decode, and
nothing untyped can be written."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import ValidationError
from sqlalchemy import select

from device_hub.ingest.relay import outbox_message
from device_hub.link.device import DeviceLink
from device_hub.link.mqtt import parse_broker_url
from server.customers.demo import demo_face, seed_demo_customers
from server.db import utcnow
from server.devices import commands
from server.devices.models import Device
from server.devices.timeline import Timeline
from server.ingest.records import EventRecord
from server.ingest.service import run_deferred, store_batch
from server.link import push
from server.outbox.models import OutboxMessage
from server.outbox.service import OutboxRow, enqueue, outbox_row
from server.queueing import calling
from server.referrals.scheduled import escalate_leads
from server.staff.service import create_staff
from tests.spine.hubkit import HubThread
from tests.support import wait_until
from wire import HUB_TOPICS, HUB_TYPES, TopicError, TopicKind, decode_hub_message, device_topic, encode, envelope, parse
from wire.messages import (
    CommandData,
    CommandMessage,
    QueueCallData,
    Refusal,
    TicketReplyData,
    TicketReplyMessage,
    hub_message_adapter,
)


def test_a_device_takes_only_well_formed_messages_meant_for_it(mosquitto) -> None:
    """GIVEN a kiosk's link WHEN its reply topic carries garbage, a reply for another kiosk, a command (on the
    wrong topic) and then a ticket reply with a field this version does not know THEN only the last reaches the
    kiosk, decoded: the unknown field ignored, the rest dropped with a log line."""
    url = parse_broker_url(mosquitto.url)
    got: list = []
    link = DeviceLink(url, branch="b001", device="k1", on_message=got.append, end_to_end=False).start()
    sender = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="sz-test-hub-sender")
    sender.connect(url.host, url.port)
    sender.loop_start()
    try:
        wait_until(link.connected.is_set, timeout=10, message="kiosk connected")
        topic = device_topic("b001", "k1", TopicKind.REPLY)
        refusal = Refusal(code="issuing_stopped", message="issuing is paused")
        reply = TicketReplyData(request_id="req-link-0001", refused=refusal)
        other = TicketReplyData(request_id="req-link-0002", refused=refusal)
        newer = json.loads(encode(envelope(TicketReplyMessage, branch="b001", device="k1", seq=4, data=reply)))
        newer["data"]["refused"]["retry_after_s"] = 60
        for payload in (b'{"v":1,"type":"ticket_re', encode(envelope(TicketReplyMessage, branch="b001",
                                                                      device="k2", seq=1, data=other)),
                        encode(envelope(CommandMessage, branch="b001", device="k1", seq=2, data=CommandData(
                            command_id="c-0000000001", name="diagnostics", expires_at=utcnow()))),
                        json.dumps(newer).encode()):
            sender.publish(topic, payload, qos=1).wait_for_publish(5)
        wait_until(lambda: any(m.data == reply for m in got), timeout=10, message="the well-formed reply")
        assert [m.data for m in got] == [reply]  # in order: the others, had they passed, would be before it
    finally:
        sender.loop_stop()
        sender.disconnect()
        link.stop(goodbye=False, timeout=1)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_outbox_row_the_domains_write_is_a_hub_message(migrated) -> None:
    """GIVEN a kiosk's birth, tickets (one refused), a recognised VIP's (confirmed) and a stranger's face probes,
    a refused enrolment and consent withdrawal, a remote
    command, a counter's call, the hub's deferred boards, an overdue lead's escalation and a staff account
    pushed down to the branch's edge
    WHEN the relay turns each outbox row into its message THEN every one decodes on a device as the type the
    row names, on that type's topic, with every field declared and none lost; every type the outbox can carry
    was written."""
    _engine, factory = migrated
    now = utcnow()
    with factory() as s, s.begin():
        seed_demo_customers(s, now)
    vip_face = (demo_face(0) + np.random.default_rng(3).normal(scale=0.01, size=128)).tolist()
    stranger = np.random.default_rng(4).normal(size=128)
    events = [("state", {"online": True, "session": 1, "components": ["printer"]}),
              ("ticket_request", {"request_id": "req-contract-1", "business": "card"}),
              ("ticket_request", {"request_id": "req-contract-2", "business": "no_such_business"}),
              ("face_probe", {"request_id": "req-contract-3", "embeddings": [vip_face], "consent_version": "c-1",
                              "visit_id": "visit-contract-1"}),
              ("face_probe", {"request_id": "req-contract-4", "consent_version": "c-1",
                              "embeddings": [(stranger / np.linalg.norm(stranger)).tolist()]}),
              ("face_confirm", {"request_id": "req-contract-3", "confirmed": True, "visit_id": "visit-contract-1"}),
              ("face_enrol", {"request_id": "req-contract-5", "card_hash": "0" * 64, "card_kind": "bank",
                              "embeddings": [vip_face] * 3, "consent_version": "face-2026-11", "age_confirmed": True}),
              ("face_consent", {"request_id": "req-contract-6", "action": "withdraw", "card_hash": "0" * 64,
                                "consent_version": "face-2026-11"})]
    with factory() as s, s.begin():
        store_batch(s, [EventRecord.of(id=str(uuid.uuid4()), branch="b001", device="k1", seq=i, type=t, data=d,
                                       ts=now) for i, (t, d) in enumerate(events)], now=now)
        dev = s.scalars(select(Device).where(Device.branch_id == "b001", Device.device_id == "k1")).one()
        _cmd, rows = commands.create(s, Timeline(), dev, name=commands.CommandName.DIAGNOSTICS, args={},
                                     ttl_s=300, actor="test", now=now)
        enqueue(s, rows)
        run_deferred(s, now=now)
        enqueue(s, calling.call_next(s, branch_id="b001", counter=3, now=now).outbox)
        create_staff(s, username="lobby9", role="lobby_staff", branch_ids=("b001",), password="a long passphrase 9")
        enqueue(s, push.staff_pushes(s, None, now))
    assert escalate_leads(factory, now + timedelta(minutes=16)) == 1

    with factory() as s:
        rows = list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    for seq, row in enumerate(rows, 1):
        built = outbox_message(row, seq)
        assert built is not None, f"outbox row {row.id} ({row.kind}) is no message"
        message, topic = built
        payload = encode(message)
        strict = hub_message_adapter.validate_json(payload)  # no field the contract does not declare
        assert decode_hub_message(payload) == strict == message
        assert (strict.type, parse(topic).kind, str(strict.id)) == (row.kind, HUB_TOPICS[row.kind], row.message_id)
        assert json.loads(payload)["data"] == row.data, f"{row.kind}: the wire lost part of the row"
    replies = {m.data.request_id: m.data for m in (outbox_message(r, 1)[0] for r in rows)
               if m.type in ("ticket_reply", "face_reply", "face_enrol_reply", "face_consent_reply")}
    assert replies["req-contract-1"].ticket.number == "C001"
    assert replies["req-contract-2"].refused.code == "unknown_business"
    assert replies["req-contract-3"].customer.masked_name == "王*明"
    assert replies["req-contract-4"].result == "unknown"
    assert replies["req-contract-5"].refused.code == replies["req-contract-6"].refused.code == "no_customer"
    assert {r.kind for r in rows} == set(HUB_TYPES) - {"confirm"}  # confirmations go out directly, QoS 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_nothing_untyped_can_be_written_to_the_outbox(migrated) -> None:
    """GIVEN a domain that tries to send a hand-built dict, an undeclared field, a reply without a device or a
    row not made by outbox_row THEN each is refused where it is written, before anything reaches the table."""
    _engine, factory = migrated
    now = utcnow()
    call = {"ticket": "C001", "counter": 3, "business": "card", "at": now.isoformat()}
    with pytest.raises(TypeError):
        outbox_row(branch_id="b001", data=call)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        OutboxRow(branch_id="b001", device_id=None, data=call, created_at=now)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        QueueCallData(**call, number="C001")  # an alias key
    with pytest.raises(TopicError):
        outbox_row(branch_id="b001", data=CommandData(command_id="c-0000000001", name="diagnostics", expires_at=now))
    row = outbox_row(branch_id="b001", data=QueueCallData(**call), now=now)
    assert (row.kind, row.retain) == ("queue_call", False)
    with factory() as s, s.begin():
        with pytest.raises(TypeError):
            enqueue(s, [row, {"message_id": str(uuid.uuid4()), "branch_id": "b001", "kind": "queue_call",
                              "data": call, "retain": False, "created_at": now}])  # type: ignore[list-item]
        assert s.scalars(select(OutboxMessage)).all() == []
        enqueue(s, [row])
    with factory() as s:
        assert [(r.kind, r.data["ticket"]) for r in s.scalars(select(OutboxMessage))] == [("queue_call", "C001")]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_row_that_is_no_message_does_not_block_the_relay(migrated, mosquitto, caplog) -> None:
    """GIVEN an unsent outbox row an older version wrote (kind `reply`, its alias keys) ahead of a good one
    WHEN the hub's relay runs THEN the good message goes out, and the old row is logged and marked sent
    without being sent (it stays in the table to be read), instead of stopping everything behind it."""
    _engine, factory = migrated
    now = utcnow()
    call = QueueCallData(ticket="C001", counter=3, business="card", at=now)
    with factory() as s, s.begin():
        s.add(OutboxMessage(message_id=str(uuid.uuid4()), branch_id="b001", device_id="k1", kind="reply",
                            data={"request_id": "req-old-0001", "status": "ok",
                                  "data": {"accepted": True, "ticket": "C001", "wait_min": 3}},
                            retain=False, created_at=now, attempts=0))
        s.flush()
        enqueue(s, [outbox_row(branch_id="b001", data=call, now=now)])
    url = parse_broker_url(mosquitto.url)
    seen: list = []
    watcher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="sz-test-watch")
    watcher.on_message = lambda _c, _u, m: seen.append((m.topic, decode_hub_message(m.payload)))
    watcher.connect(url.host, url.port)
    watcher.subscribe("sz/v1/b001/#", qos=1)
    watcher.loop_start()
    try:
        with HubThread(mosquitto.url, factory):
            wait_until(lambda: any(t.endswith("/queue/call") for t, _m in seen), timeout=10, message="the call")

            def all_marked() -> bool:
                with factory() as s:
                    return all(r.sent_at for r in s.scalars(select(OutboxMessage)))

            wait_until(all_marked, timeout=10, message="both rows marked sent")
    finally:
        watcher.loop_stop()
        watcher.disconnect()
    assert [(t, m.data) for t, m in seen if not t.endswith("/ack")] == [("sz/v1/b001/queue/call", call)]
    assert "is no message of this version" in caplog.text
