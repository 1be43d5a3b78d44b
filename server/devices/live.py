"""Live fleet updates for the console: a poller in the server process turns database changes into SSE events.

The hub (often another process) changes devices, alarms, work orders and commands; the broadcaster is
per process. So one thread per app polls rows changed since its watermark (with a small overlap for
transactions that committed late) and publishes `fleet.device`, `fleet.alarm`, `fleet.work_order`,
`fleet.command` and a `card.update` for the overview card. It starts with the first fleet request and
stops when the broadcaster closes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from server.alarms.models import ACTIVE, Alarm
from server.db import utcnow
from server.devices.models import Device, DeviceCommand
from server.web import live
from server.workorders.models import WorkOrder


def ensure(app: Any) -> None:
    """Start the app's poller once (idempotent, cheap)."""
    live.ensure(app, Poller)


class Poller(live.ChangePoller):
    name = "fleet"

    def poll(self) -> int:
        now = utcnow()
        since = self.since - self.overlap
        published = 0
        branches: set[str] = set()
        with self.factory() as s:
            for d in s.scalars(select(Device).where(Device.changed_at >= since)):
                if self._new("device", d.id, d.changed_at):
                    branches.add(d.branch_id)
                    published += 1
                    self.events.publish("fleet.device", {
                        "id": d.id, "device": d.device_id, "online": d.online, "available": d.available,
                        "zone": d.zone, "text": f"{d.device_id}: {'online' if d.online else 'offline'}"},
                        branch_id=d.branch_id)
            for a in s.scalars(select(Alarm).where(Alarm.updated_at >= since)):
                if self._new("alarm", a.id, a.updated_at):
                    branches.add(a.branch_id)
                    published += 1
                    self.events.publish("fleet.alarm", {
                        "id": a.id, "device": a.device_id, "type": a.type, "severity": a.severity,
                        "status": a.status, "text": f"{a.device_id} {a.type} {a.status}"}, branch_id=a.branch_id)
            for o in s.scalars(select(WorkOrder).where(WorkOrder.updated_at >= since)):
                if self._new("order", o.id, o.updated_at):
                    published += 1
                    self.events.publish("fleet.work_order", {
                        "id": o.id, "device": o.device_id, "task": o.task, "status": o.status,
                        "text": f"{o.device_id} {o.task} {o.status}"}, branch_id=o.branch_id)
            for c in s.scalars(select(DeviceCommand).where(DeviceCommand.updated_at >= since)):
                if self._new("command", c.id, c.updated_at):
                    published += 1
                    self.events.publish("fleet.command", {
                        "id": c.id, "command_id": c.command_id, "device": c.device_id, "name": c.name,
                        "status": c.status}, branch_id=c.branch_id)
            for b in sorted(branches):
                self._card(s, b)
        self.advance(now)
        return published

    def _new(self, kind: str, id_: int, at: datetime | None) -> bool:
        return self.first_time((kind, id_), at)

    def _card(self, s: Any, branch_id: str) -> None:
        from sqlalchemy import func

        total = s.scalar(select(func.count()).where(Device.branch_id == branch_id)) or 0
        online = s.scalar(select(func.count()).where(Device.branch_id == branch_id, Device.online.is_(True))) or 0
        alarms = s.scalar(select(func.count()).where(Alarm.branch_id == branch_id, Alarm.status.in_(ACTIVE))) or 0
        self.events.publish("card.update", {"card": "devices", "text": f"{online}/{total} · ⚠ {alarms}"},
                            branch_id=branch_id)
