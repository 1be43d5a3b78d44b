"""The fleet through the real broker and hub with simulated kiosks: presence, alarms, work orders, commands."""

from __future__ import annotations

from datetime import timedelta

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from server.db import utcnow
from server.devices import commands as cmds
from server.devices.scheduled import check_presence, expire_commands
from server.devices.timeline import Timeline
from server.outbox.service import enqueue
from server.workorders.service import transition
from tests.devices.helpers import active_alarms, alarms, command, device, kiosk, orders, timeline
from tests.spine.hubkit import HubThread
from wire import decode_hub_message, encode, envelope
from wire.messages import CommandData, StateData, StateMessage

pytestmark = [pytest.mark.timeout(120), pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


def _publish(url: str, topic: str, payload: bytes, retain: bool = False) -> None:
    host, port = url.removeprefix("mqtt://").split(":")
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="sz-test-stale")
    c.connect(host, int(port))
    c.loop_start()
    c.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)
    c.disconnect()
    c.loop_stop()


def test_killed_device_goes_offline_and_returns(migrated, mosquitto, wait_until):
    """GIVEN a kiosk online through the real broker and hub
    WHEN it is killed (the broker fires its will), a stale will of that old session arrives after it
    reconnected, and later it goes silent past the inactivity timeout
    THEN DEVICE_OFFLINE opens on the will, clears on return, the stale will is ignored, and the timeout
    job (driven with a controlled clock) opens the alarm again with onset at the last message."""
    _engine, factory = migrated
    with HubThread(mosquitto.url, factory):
        link, _ = kiosk(mosquitto.url)
        wait_until(lambda: (d := device(factory)) is not None and d.online and d.available, message="k1 online")
        assert device(factory).zone == "self_service"  # from the branch config
        old_session = link.session_no
        link.kill()
        wait_until(lambda: "DEVICE_OFFLINE" in active_alarms(factory), message="offline alarm")
        d = device(factory)
        assert not d.online and not d.available
        assert active_alarms(factory)["DEVICE_OFFLINE"].severity == "CRITICAL"

        link2, _ = kiosk(mosquitto.url)
        wait_until(lambda: device(factory).online and not active_alarms(factory), message="back online, cleared")
        [offline] = alarms(factory, type_="DEVICE_OFFLINE")
        assert offline.status == "CLEARED_UNACK" and offline.cleared_by == "device"

        # a will from the old session, delivered late, must not take the new session offline
        will = envelope(StateMessage, branch="b001", device="k1", seq=0, data=StateData(online=False,
                                                                                      session=old_session))
        _publish(mosquitto.url, "sz/v1/b001/dev/k1/state", encode(will))
        wait_until(lambda: any(e.what == "stale_will_ignored" for e in timeline(factory, kind="presence")),
                   message="stale will recorded")
        assert device(factory).online and not active_alarms(factory)

        # silence: the presence job with a clock 91 s after the last message
        last_seen = device(factory).last_seen_at
        link2.kill()  # its will would also do it; remove the will's effect by checking the job on a quiet device
        wait_until(lambda: not device(factory).online, message="will after second kill")
    # the job alone: a device that is online but silent
    with factory() as s, s.begin():
        d = s.get(type(device(factory)), device(factory).id)
        d.online, d.available = True, True
    assert check_presence(factory, last_seen + timedelta(seconds=89)) == 0
    assert check_presence(factory, last_seen + timedelta(seconds=91)) == 1
    alarm = active_alarms(factory)["DEVICE_OFFLINE"]
    assert alarm.onset_at == device(factory).last_seen_at


def test_paper_low_out_refilled_lifecycle(migrated, mosquitto, wait_until):
    """GIVEN a kiosk online
    WHEN its printer reports paper low, then out, staff take the work order and arrive, then it reports paper full
    THEN PAPER_LOW opens a branch refill order; PAPER_OUT replaces PAPER_LOW on the same order and takes the
    device out of service; the refill clears the alarm, resolves the order (by the device) and restores service."""
    _engine, factory = migrated
    with HubThread(mosquitto.url, factory):
        link, kiosk_ = kiosk(mosquitto.url, "k2")
        wait_until(lambda: (d := device(factory, "k2")) is not None and d.available, message="k2 available")
        kiosk_.paper("low")
        wait_until(lambda: "PAPER_LOW" in active_alarms(factory, "k2"), message="paper low alarm")
        [order] = orders(factory, "k2")
        assert (order.team, order.task, order.status) == ("branch", "refill_paper", "open")
        assert device(factory, "k2").available  # low paper still prints

        kiosk_.paper("low")  # a repeat updates the alarm, no flood
        wait_until(lambda: active_alarms(factory, "k2")["PAPER_LOW"].occurrences == 2, message="repeat counted")
        assert len(alarms(factory, "k2", "PAPER_LOW")) == 1

        kiosk_.paper("out")
        wait_until(lambda: set(active_alarms(factory, "k2")) == {"PAPER_OUT"}, message="paper out replaces low")
        assert not device(factory, "k2").available
        [order] = orders(factory, "k2")  # the same order
        assert active_alarms(factory, "k2")["PAPER_OUT"].work_order_id == order.id

        with factory() as s, s.begin():
            o = s.get(type(order), order.id)
            t = Timeline()
            transition(s, t, o, "assign", actor="lobby1", now=utcnow())
            transition(s, t, o, "arrive", actor="lobby1", now=utcnow())
            t.write(s)
        kiosk_.paper("full")
        wait_until(lambda: not active_alarms(factory, "k2"), message="refill clears")
        [order] = orders(factory, "k2")
        assert order.status == "resolved" and order.resolved_by == "device"
        assert order.assigned_at <= order.arrived_at <= order.resolved_at
        assert device(factory, "k2").available and device(factory, "k2").receipts_since_refill == 0
        link.stop()


def test_commands_ttl_refusal_and_offline_queue(migrated, mosquitto, wait_until):
    """GIVEN a kiosk that answers commands
    WHEN staff send diagnostics, a restart while a card is inside (the kiosk refuses), a restart the server
    refuses from the reported status, then commands while the kiosk is offline (one long-lived, one short)
    THEN results are recorded; the queued command reaches the kiosk when it returns, the expired one never does."""
    _engine, factory = migrated

    def send(name: str, ttl_s: int = 60) -> str:
        with factory() as s, s.begin():
            dev = s.get(type(device(factory)), device(factory).id)
            t = Timeline()
            cmd, rows = cmds.create(s, t, dev, name=cmds.CommandName(name), args={}, ttl_s=ttl_s, actor="m1",
                                    now=utcnow())
            enqueue(s, rows)
            t.write(s)
            return cmd.command_id

    with HubThread(mosquitto.url, factory):
        link, kiosk_ = kiosk(mosquitto.url)
        wait_until(lambda: (d := device(factory)) is not None and d.online, message="k1 online")
        ok = send("diagnostics")
        wait_until(lambda: command(factory, ok).status == "ok", message="diagnostics answered")

        kiosk_.card_inside = True  # the card is in, but the status report has not reached the hub yet
        refused = send("restart")
        wait_until(lambda: command(factory, refused).status == "refused", message="kiosk refuses restart")
        assert "card" in command(factory, refused).detail

        kiosk_.card(True)  # now the hub knows: the server refuses without sending
        wait_until(lambda: device(factory).status.get("cardReader", {}).get("media") == "present")
        early = send("restart")
        assert command(factory, early).status == "refused" and early not in kiosk_.received
        kiosk_.card(False)
        wait_until(lambda: device(factory).status["cardReader"]["media"] == "notPresent")

        link.kill()
        wait_until(lambda: not device(factory).online, message="offline")
        queued = send("print_test", ttl_s=120)
        short = send("reload_config", ttl_s=5)
        assert command(factory, queued).status == command(factory, short).status == "queued"
        later = utcnow() + timedelta(seconds=6)
        assert expire_commands(factory, later) == 1  # the short one
        assert command(factory, short).status == "expired"

        link2, kiosk2 = kiosk(mosquitto.url)
        wait_until(lambda: command(factory, queued).status == "ok", message="queued command delivered on return")
        assert short not in kiosk2.received
        link2.stop()


def test_relay_never_sends_an_expired_command(migrated, mosquitto, wait_until):
    """GIVEN an outbox command row whose expiry passed before the relay saw it
    WHEN the hub's relay runs THEN it marks the row sent without publishing it."""
    _engine, factory = migrated
    from server.outbox.models import OutboxMessage
    from server.outbox.service import outbox_row

    seen: list[str] = []
    host, port = mosquitto.url.removeprefix("mqtt://").split(":")
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="sz-test-watch")
    c.on_message = lambda _c, _u, m: seen.append(decode_hub_message(m.payload).data.command_id)
    c.connect(host, int(port))
    c.subscribe("sz/v1/b001/dev/k5/cmd", qos=1)
    c.loop_start()
    past, future = utcnow() - timedelta(seconds=1), utcnow() + timedelta(seconds=60)
    with factory() as s, s.begin():
        enqueue(s, [outbox_row(branch_id="b001", device_id="k5", data=CommandData(
            command_id=cid, name="diagnostics", expires_at=at)) for cid, at in (("c-expired-1", past),
                                                                                ("c-fresh-1", future))])
    with HubThread(mosquitto.url, factory):
        wait_until(lambda: "c-fresh-1" in seen, message="fresh command published")

        def all_marked() -> bool:
            from sqlalchemy import select

            with factory() as s:
                return all(r.sent_at for r in s.scalars(select(OutboxMessage)))

        wait_until(all_marked, message="both rows marked sent (the expired one without publishing)")
    c.loop_stop()
    c.disconnect()
    assert seen == ["c-fresh-1"]


def test_goodbye_is_not_a_crash_and_the_timeline_keeps_true_order(migrated, mosquitto, wait_until):
    """GIVEN two kiosks online through the real broker and hub
    WHEN k1 stops cleanly (goodbye) and k2 crashes (the broker publishes its will), and k2 comes back
    THEN k1 is `offline (shut down)` with no alarm; k2 is `offline (lost)` with a CRITICAL DEVICE_OFFLINE dated by
    the will's arrival, not by its connect-time timestamp, so its timeline reads online → offline → online."""
    _engine, factory = migrated
    with HubThread(mosquitto.url, factory):
        k1, _ = kiosk(mosquitto.url, "k1")
        k2, _ = kiosk(mosquitto.url, "k2")
        wait_until(lambda: all((d := device(factory, k)) is not None and d.online for k in ("k1", "k2")),
                   message="both online")
        k1.stop(goodbye=True)
        k2.kill()
        wait_until(lambda: not device(factory, "k1").online and not device(factory, "k2").online,
                   message="both offline")
        wait_until(lambda: "DEVICE_OFFLINE" in active_alarms(factory, "k2"), message="k2's offline alarm")
        assert device(factory, "k1").offline_reason == "shutdown" and not active_alarms(factory, "k1")
        assert device(factory, "k2").offline_reason == "lost"
        assert active_alarms(factory, "k2")["DEVICE_OFFLINE"].severity == "CRITICAL"
        [bye] = [e for e in timeline(factory, "k1", "presence") if e.what == "offline"]
        assert bye.detail["cause"] == "shutdown" and bye.detail["via"] == "goodbye"

        again, _ = kiosk(mosquitto.url, "k2")
        wait_until(lambda: device(factory, "k2").online, message="k2 back")
        again.stop()
    presence = sorted(timeline(factory, "k2", "presence"), key=lambda e: (e.at, e.id))
    assert [(e.what, e.detail.get("cause")) for e in presence] == [
        ("online", None), ("offline", "lost"), ("online", None), ("offline", "shutdown")]
    lost = presence[1]
    assert lost.detail["via"] == "will" and lost.at > presence[0].at
    assert "DEVICE_OFFLINE" not in active_alarms(factory, "k2")  # cleared on return; the goodbye raises none
