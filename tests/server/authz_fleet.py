"""Authorisation cases of the fleet's routes (merged into test_authz_matrix), and the objects they touch."""

from __future__ import annotations

from datetime import timedelta

from server.db import utcnow

OWN, OTHER = "b001", "b002"


def fixtures(factory) -> dict:
    """A device with an alarm, a work order and a command in each branch."""
    from server.alarms.models import AlarmType, Severity
    from server.alarms.service import raise_alarm
    from server.devices.commands import CommandName, create
    from server.devices.models import Device
    from server.devices.timeline import Timeline
    from server.workorders.service import order_for_alarm

    ctx = {}
    now = utcnow()
    with factory() as s, s.begin():
        for where, branch in (("own", OWN), ("other", OTHER)):
            dev = Device(branch_id=branch, device_id="fx1", components=["printer"], status={}, online=True,
                         session=1, seq_gaps=0, last_seen_at=now, zone=None, kind="kiosk")
            s.add(dev)
            s.flush()
            t = Timeline()
            alarm, _ = raise_alarm(s, t, branch_id=branch, device_id="fx1", type=AlarmType.PAPER_LOW,
                                   severity=Severity.WARNING, detail="printer: paper low", onset_at=now, now=now,
                                   existing=None)
            order = order_for_alarm(s, t, alarm, now)
            cmd, _rows = create(s, t, dev, name=CommandName.DIAGNOSTICS, args={}, ttl_s=60, actor="fx", now=now)
            t.write(s)
            ctx.update({f"{where}_device": dev.id, f"{where}_alarm": alarm.id, f"{where}_order": order.id,
                        f"{where}_command": cmd.command_id})
    ctx["util_from"] = (now - timedelta(days=1)).isoformat()
    return ctx


def _cases() -> dict:
    from tests.server.test_authz_matrix import Case, Req, fixed

    def both(path: str, ok=(200,), **kw) -> Case:
        return Case(fixed(path.replace("{X}", "{own_device}"), **kw), ok,
                    other=fixed(path.replace("{X}", "{other_device}"), **kw))

    return {
        ("GET", "/api/branches/{branch_id}/devices"): Case(fixed(f"/api/branches/{OWN}/devices"),
                                                           other=fixed(f"/api/branches/{OTHER}/devices")),
        ("GET", "/api/devices/{device_pk}"): both("/api/devices/{X}"),
        ("GET", "/api/devices/{device_pk}/timeline"): both("/api/devices/{X}/timeline"),
        ("GET", "/api/devices/{device_pk}/utilisation"): Case(
            lambda ctx, role: Req(f"/api/devices/{ctx['own_device']}/utilisation", params={"from": ctx["util_from"]}),
            other=lambda ctx, role: Req(f"/api/devices/{ctx['other_device']}/utilisation")),
        ("GET", "/api/branches/{branch_id}/utilisation"): Case(fixed(f"/api/branches/{OWN}/utilisation"),
                                                               other=fixed(f"/api/branches/{OTHER}/utilisation")),
        ("POST", "/api/devices/{device_pk}/commands"): both("/api/devices/{X}/commands", (201,),
                                                            json={"name": "diagnostics", "ttl_s": 60}),
        ("GET", "/api/devices/{device_pk}/commands"): both("/api/devices/{X}/commands"),
        ("GET", "/api/commands/{command_id}"): Case(fixed("/api/commands/{own_command}"),
                                                    other=fixed("/api/commands/{other_command}")),
        ("POST", "/api/devices/{device_pk}/maintenance"): both("/api/devices/{X}/maintenance", json={"minutes": 0}),
        ("GET", "/api/branches/{branch_id}/alarms"): Case(fixed(f"/api/branches/{OWN}/alarms"),
                                                          other=fixed(f"/api/branches/{OTHER}/alarms")),
        ("GET", "/api/alarms/{alarm_id}"): Case(fixed("/api/alarms/{own_alarm}"),
                                                other=fixed("/api/alarms/{other_alarm}")),
        ("POST", "/api/alarms/{alarm_id}/ack"): Case(fixed("/api/alarms/{own_alarm}/ack", json={}),
                                                     other=fixed("/api/alarms/{other_alarm}/ack", json={})),
        ("POST", "/api/alarms/{alarm_id}/comments"): Case(
            fixed("/api/alarms/{own_alarm}/comments", json={"text": "on my way"}),
            other=fixed("/api/alarms/{other_alarm}/comments", json={"text": "x"})),
        ("GET", "/api/work-orders"): Case(fixed("/api/work-orders", params={"status": "all"})),
        ("GET", "/api/work-orders/{order_id}"): Case(fixed("/api/work-orders/{own_order}"),
                                                     other=fixed("/api/work-orders/{other_order}")),
        ("POST", "/api/work-orders/{order_id}/{action}"): Case(
            fixed("/api/work-orders/{own_order}/assign", json={}), (200, 409),
            other=fixed("/api/work-orders/{other_order}/assign", json={})),
        ("GET", "/fleet"): Case(fixed("/fleet"), (303,)),
        ("GET", "/branches/{branch_id}/fleet"): Case(fixed(f"/branches/{OWN}/fleet"),
                                                     other=fixed(f"/branches/{OTHER}/fleet")),
        ("GET", "/devices/{device_pk}"): both("/devices/{X}"),
    }


CASES = _cases()
FIXTURES = [fixtures]
