"""Centre → edge: a lead reaches the edge's console and commands reach a kiosk behind an edge that was away."""

from __future__ import annotations

import threading

from fastapi.testclient import TestClient
from sqlalchemy import select

from device_hub.link.mqtt import parse_broker_url
from device_hub.sim.devices import SimPlan, run_devices
from server.app import create_app
from server.db import make_engine, utcnow
from server.devices import commands
from server.devices.models import Device, DeviceCommand
from server.devices.scheduled import expire_commands
from server.devices.timeline import Timeline
from server.outbox.service import enqueue
from server.referrals.service import create_leads
from server.staff.service import create_staff
from szconfig import ServerSettings
from szconfig.roles import Role
from tests.server.helpers import PASSWORD, bearer
from tests.support import wait_until
from tests.topology.kit import backlog, central_hub, edge_hub, start_centre, start_edge


def _command(factory, device: str, ttl_s: int) -> str:
    with factory() as s, s.begin():
        dev = s.scalar(select(Device).where(Device.branch_id == "b001", Device.device_id == device))
        timeline = Timeline()
        cmd, rows = commands.create(s, timeline, dev, name=commands.CommandName.PRINT_TEST, args={}, ttl_s=ttl_s,
                                    actor="staff:fleet", now=utcnow())
        timeline.write(s)
        enqueue(s, rows)
        return cmd.command_id


def _status(factory, command_id: str) -> str:
    with factory() as s:
        return s.scalar(select(DeviceCommand.status).where(DeviceCommand.command_id == command_id))


def test_leads_and_commands_wait_for_an_edge_that_is_away(tmp_path) -> None:
    """GIVEN a branch's edge with two kiosks, bridged to the centre WHEN its link is cut and the centre raises a
    referral lead for the branch and sends a kiosk one command with a long time-to-live and one with a short one
    THEN nothing arrives while the link is down; once it returns the lead is on the edge's console, the first
    command runs (`ok` at the centre) and the second, past its time-to-live, is answered `expired`; a command
    queued at the centre for a kiosk it saw go offline is sent once the kiosk's heartbeats are back, and runs."""
    centre = start_centre(tmp_path, f"sqlite:///{tmp_path / 'central.db'}", branches=("b001",))
    edge = start_edge(tmp_path, centre, "b001")
    with edge.factory() as s, s.begin():
        create_staff(s, username="lobby", role="lobby_staff", branch_ids=["b001"], password=PASSWORD)
    hubs = [central_hub(centre), edge_hub(edge)]
    stop = threading.Event()
    plan = SimPlan(branch="b001", count=2, events=None, rate=0.5, heartbeat_s=1.0, device_prefix="k",
                   answer_commands=True, businesses=("deposit",))
    kiosks = threading.Thread(target=run_devices, args=(parse_broker_url(edge.broker.url), plan, stop))
    try:
        for h in hubs:
            h.start()
        kiosks.start()
        wait_until(lambda: _online(centre.factory) == 2, timeout=30, message="both kiosks known at the centre")
        wait_until(lambda: backlog(edge.factory) == 0, timeout=30, message="their births at the centre")
        edge.plug.pull()
        with centre.factory() as s, s.begin():
            enqueue(s, create_leads(s, [{"branch_id": "b001", "device_id": "k1", "reason": "vip_arrival",
                                         "business": "wealth", "referrer": "staff:hq", "note": "from head office",
                                         "walk_in_reason": "a head-office campaign",  # no customer: a reason
                                         "visit_id": "v-hq-1"}], utcnow()))
        runs, lapses = _command(centre.factory, "k1", ttl_s=600), _command(centre.factory, "k2", ttl_s=1)
        with centre.factory() as s, s.begin():  # a longer outage: the centre's presence job took k1 offline
            s.scalar(select(Device).where(Device.branch_id == "b001", Device.device_id == "k1")).online = False
        waits = _command(centre.factory, "k1", ttl_s=600)
        assert _status(centre.factory, waits) == "queued"
        wait_until(lambda: _sent(centre.factory), timeout=10, message="the centre relayed them")
        assert _status(centre.factory, runs) == "sent" and _leads(edge) == []

        wait_until(lambda: _expired_now(centre.factory, lapses), timeout=5, message="the short command's TTL passed")
        edge.plug.restore()
        wait_until(lambda: _status(centre.factory, runs) == "ok", timeout=30, message="the command ran")
        wait_until(lambda: _status(centre.factory, lapses) == "expired", timeout=30, message="the late one expired")
        # k1 is back by heartbeat (no new birth): the fleet's command job sends what waited for it
        wait_until(lambda: expire_commands(centre.factory, utcnow()) is not None
                   and _status(centre.factory, waits) == "ok", timeout=30, message="the queued command ran")
        leads = wait_until(lambda: _leads(edge), timeout=15, message="the lead on the edge's console")
        assert leads[0]["reason"] == "vip_arrival" and leads[0]["device_id"] == "k1"
        wait_until(lambda: backlog(edge.factory) == 0, timeout=30, message="the results confirmed by the centre")
    finally:
        stop.set()
        kiosks.join(30)
        for h in reversed(hubs):
            h.stop()
        edge.plug.stop()
        edge.broker.stop()
        centre.broker.stop()


def test_staff_accounts_are_pushed_down_so_staff_sign_in_at_the_branch(tmp_path) -> None:
    """GIVEN a lobby manager's account created at the centre for b001, and b001's edge with its link cut
    WHEN the centre's push job runs and the link returns THEN the manager signs in at b001's console with
    the password set at the centre; a later change (deactivation) follows the same way, and an account of
    another branch never reaches b001."""
    from server.link.push import push_down
    from server.staff.models import Staff

    centre = start_centre(tmp_path, f"sqlite:///{tmp_path / 'central.db'}")
    edge = start_edge(tmp_path, centre, "b001")
    hubs = [central_hub(centre), edge_hub(edge)]
    try:
        for h in hubs:
            h.start()
        with centre.factory() as s, s.begin():
            create_staff(s, username="wang.lobby", role="lobby_staff", branch_ids=["b001"], password=PASSWORD)
            create_staff(s, username="li.other", role="lobby_staff", branch_ids=["b002"], password=PASSWORD)
        edge.plug.pull()
        assert push_down(centre.factory, utcnow())["staff"] == 2
        wait_until(lambda: _sent(centre.factory), timeout=10, message="the centre relayed the pushes")
        edge.plug.restore()
        wait_until(lambda: _sign_in(edge, "wang.lobby") == 200, timeout=20, message="signed in at the branch")
        with centre.factory() as s, s.begin():
            s.scalar(select(Staff).where(Staff.username == "wang.lobby")).active = False
        assert push_down(centre.factory, utcnow())["staff"] == 1  # only what changed since the last run
        wait_until(lambda: _sign_in(edge, "wang.lobby") == 403, timeout=20, message="disabled at the branch")
        with edge.factory() as s:
            assert s.scalar(select(Staff).where(Staff.username == "li.other")) is None
    finally:
        for h in reversed(hubs):
            h.stop()
        edge.plug.stop()
        edge.broker.stop()
        centre.broker.stop()


def _sign_in(edge, username: str) -> int:
    engine = make_engine(edge.db_url)
    try:
        with TestClient(create_app(ServerSettings(role=Role.EDGE, db=edge.db_url, jobs=False), engine=engine)) as c:
            return c.post("/api/auth/token", data={"username": username, "password": PASSWORD}).status_code
    finally:
        engine.dispose()


def _online(factory) -> int:
    with factory() as s:
        return len(s.scalars(select(Device.id).where(Device.branch_id == "b001", Device.online.is_(True))).all())


def _sent(factory) -> bool:
    from server.outbox.models import OutboxMessage

    with factory() as s:
        return not s.scalars(select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None))).all()


def _expired_now(factory, command_id: str) -> bool:
    with factory() as s:
        return s.scalar(select(DeviceCommand.expires_at).where(DeviceCommand.command_id == command_id)) <= utcnow()


def _leads(edge) -> list:
    """What a lobby manager sees on the edge's console (its HTTP API)."""
    engine = make_engine(edge.db_url)
    try:
        with TestClient(create_app(ServerSettings(role=Role.EDGE, db=edge.db_url, jobs=False), engine=engine)) as c:
            r = c.get("/api/link/b001/leads", headers=bearer(c, "lobby"))
            assert r.status_code == 200, r.text
            return r.json()
    finally:
        engine.dispose()
