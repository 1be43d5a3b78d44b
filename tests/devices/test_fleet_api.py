"""Fleet API and jobs on SQLite and PostgreSQL: a scripted day rolled up, escalation, maintenance windows, metrics."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from server.devices.scheduled import end_maintenance, escalate_alarms, rollup
from server.ingest.records import EventRecord
from server.ingest.service import store_batch
from tests.devices.helpers import active_alarms, orders
from tests.server.helpers import bearer

DAY = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # Monday; the branch opens 08:30-17:00 Shanghai = 00:30-09:00 UTC


def ev(type_: str, seq: int, at: datetime, data: dict, device: str = "k1") -> EventRecord:
    return EventRecord.of(id=str(uuid.uuid4()), branch="b001", device=device, seq=seq, type=type_, ts=at, data=data)


def usage(i: int, start: datetime, minutes: float, outcome: str = "ok") -> EventRecord:
    return ev("usage_session", 100 + i, start + timedelta(minutes=minutes), {
        "session_id": f"s-{i:06d}-scripted", "function": "ticket", "started_at": start.isoformat(),
        "ended_at": (start + timedelta(minutes=minutes)).isoformat(), "outcome": outcome})


def token(client, make_user, username: str, role: str) -> dict:
    make_user(username, role)
    return bearer(client, username)


def test_scripted_day_through_api(client, factory, make_user, monkeypatch, real_hours):
    """GIVEN kiosk k1 born at opening, out of paper 10:00-11:00 local and used 20 times for 6 minutes
    WHEN the day is rolled up and GET /api/devices/{id}/utilisation is asked for that day
    THEN availability is 7.5/8.5 h, utilisation is busy/available, 20 sessions with 1 failure, and MTTR has the
    alarm's detect/acknowledge/fix split; the branch figures per zone agree."""
    import server.devices.service as svc

    clock = {"now": DAY + timedelta(minutes=30)}
    monkeypatch.setattr(svc, "utcnow", lambda: clock["now"])

    def at(h: float) -> datetime:
        return DAY + timedelta(hours=h)

    def store(events, now):
        clock["now"] = now
        with factory() as s, s.begin():
            store_batch(s, events, now=now)

    store([ev("state", 0, at(0.5), {"online": True, "session": 1, "components": ["printer"]})], at(0.5))
    store([ev("status", 1, at(2), {"component": "printer", "device": "userError", "paper": "out"})], at(2))
    store([ev("status", 2, at(3), {"component": "printer", "device": "online", "paper": "full"})], at(3))
    store([usage(i, at(4 + i * 0.2), 6, "failed" if i == 3 else "ok") for i in range(20)], at(8.5))
    with factory() as s, s.begin():
        rollup(s, at(0), at(24))
    headers = token(client, make_user, "maint-day", "maintenance")
    devices = client.get("/api/branches/b001/devices", headers=headers).json()
    k1 = next(d for d in devices if d["device"] == "k1")
    assert {d["device"] for d in devices} >= {"k1", "k2", "k3", "lobby1"}  # configured ones too
    assert k1["zone"] == "self_service" and k1["presence"] in ("online", "offline")
    r = client.get(f"/api/devices/{k1['id']}/utilisation", params={"from": at(0).isoformat(), "to": at(24).isoformat()},
                   headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    total = body["total"]
    assert (total["open_s"], total["available_s"]) == (8.5 * 3600, 7.5 * 3600)
    assert total["availability"] == round(7.5 / 8.5, 4)
    assert total["busy_s"] == 20 * 6 * 60 and total["utilisation"] == round(120 * 60 / (7.5 * 3600), 4)
    assert (total["sessions"], total["failed"]) == (20, 1)
    assert body["mttr"]["alarms"] == 1 and body["mttr"]["fix_s"] == 3600.0 and body["mttr"]["detect_s"] == 0.0
    assert body["days"][0]["sessions"] == 20  # local days (Asia/Shanghai): the UTC day touches two
    branch = client.get("/api/branches/b001/utilisation", params={"from": at(0).isoformat(), "to": at(24).isoformat()},
                        headers=headers).json()
    zone = next(z for z in branch["zones"] if z["name"] == "self_service")
    assert zone["busy_s"] == total["busy_s"]
    assert client.get(f"/api/devices/{k1['id']}/utilisation", params={"from": at(24).isoformat(),
                                                                      "to": at(0).isoformat()},
                      headers=headers).status_code == 422


def test_escalation_maintenance_and_metrics(client, factory, make_user):
    """GIVEN a kiosk whose printer runs out of paper
    WHEN nobody acknowledges for 15 minutes, then a maintenance window covers a camera fault, then it expires
    THEN the alarm escalates once per interval, the camera alarm is suppressed during the window and raised
    after it, the work-order API moves the refill order to closed (clearing the alarm), and /metrics shows
    devices online and active alarms by severity."""
    now = datetime.now(UTC)
    with factory() as s, s.begin():
        store_batch(s, [ev("state", 0, now, {"online": True, "session": 1, "components": ["printer", "camera"]}),
                        ev("status", 1, now, {"component": "printer", "device": "userError", "paper": "out"})])
    assert escalate_alarms(factory, now + timedelta(minutes=14)) == 0
    assert escalate_alarms(factory, now + timedelta(minutes=16)) == 1
    assert active_alarms(factory)["PAPER_OUT"].escalation_level == 1

    headers = token(client, make_user, "maint-esc", "maintenance")
    k1 = next(d for d in client.get("/api/branches/b001/devices", headers=headers).json() if d["device"] == "k1")
    r = client.post(f"/api/devices/{k1['id']}/maintenance", json={"minutes": 30, "reason": "camera swap"},
                    headers=headers)
    assert r.json()["presence"] == "maintenance"
    with factory() as s, s.begin():
        store_batch(s, [ev("status", 2, now, {"component": "camera", "device": "offline"})])
    assert "CAMERA_INOP" not in active_alarms(factory)
    assert end_maintenance(factory, now + timedelta(minutes=31)) == 1
    assert "CAMERA_INOP" in active_alarms(factory)

    alarms = client.get("/api/branches/b001/alarms", params={"status": "active"}, headers=headers).json()
    assert {a["type"] for a in alarms} == {"PAPER_OUT", "CAMERA_INOP"}
    paper = next(a for a in alarms if a["type"] == "PAPER_OUT")
    assert {"device", "type", "severity", "status", "started_at"} <= paper.keys()
    assert client.post(f"/api/alarms/{paper['id']}/ack", json={"comment": "fetching paper"},
                       headers=headers).json()["status"] == "ACTIVE_ACK"
    refill = next(o for o in orders(factory) if o.task == "refill_paper")
    for action in ("assign", "arrive", "resolve", "close"):
        r = client.post(f"/api/work-orders/{refill.id}/{action}", json={}, headers=headers)
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "closed" and r.json()["to_fix_s"] is not None
    assert client.post(f"/api/work-orders/{refill.id}/resolve", json={}, headers=headers).status_code == 409
    assert "PAPER_OUT" not in active_alarms(factory)  # resolving the order cleared it

    cmd = client.post(f"/api/devices/{k1['id']}/commands", json={"name": "restart", "ttl_s": 30}, headers=headers)
    assert cmd.status_code == 201 and cmd.json()["status"] == "sent"
    assert client.get(f"/api/commands/{cmd.json()['command_id']}", headers=headers).json()["name"] == "restart"
    metrics = client.get("/metrics").text
    assert 'sz_devices_online{branch="b001"} 1.0' in metrics
    assert 'sz_alarms_active{branch="b001",severity="MINOR"} 1.0' in metrics


def test_any_message_keeps_a_device_online(factory):
    """GIVEN a kiosk that sends no heartbeats, only face probes, and was timed out as offline
    WHEN its next probe arrives (and an old one, sent before it went quiet, arrives late)
    THEN the new probe brings it back online and clears DEVICE_OFFLINE; the late one changes nothing."""
    from server.devices.scheduled import check_presence
    from tests.devices.helpers import device

    t0 = datetime.now(UTC) - timedelta(minutes=10)
    probe = {"request_id": "probe-0001", "embeddings": [[0.0] * 128], "consent_version": "v1"}
    with factory() as s, s.begin():
        store_batch(s, [ev("state", 0, t0, {"online": True, "session": 1}),
                        ev("face_probe", 1, t0 + timedelta(seconds=5), probe)], now=t0 + timedelta(seconds=5))
    assert check_presence(factory, t0 + timedelta(seconds=100)) == 1
    assert device(factory).offline_reason == "timeout" and "DEVICE_OFFLINE" in active_alarms(factory)
    with factory() as s, s.begin():
        store_batch(s, [ev("face_probe", 2, t0 + timedelta(seconds=2), {**probe, "request_id": "probe-0002"})],
                    now=t0 + timedelta(seconds=110))
    assert not device(factory).online
    with factory() as s, s.begin():
        store_batch(s, [ev("face_probe", 3, t0 + timedelta(seconds=120), {**probe, "request_id": "probe-0003"})],
                    now=t0 + timedelta(seconds=120))
    assert device(factory).online and "DEVICE_OFFLINE" not in active_alarms(factory)
