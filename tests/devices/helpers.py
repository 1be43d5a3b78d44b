"""Fleet test helpers: reading alarms, orders and devices; a device link that answers commands."""

from __future__ import annotations

from sqlalchemy import select

from device_hub.link.mqtt import parse_broker_url
from device_hub.sim.responder import responding_link
from server.alarms.models import ACTIVE, Alarm
from server.devices.models import Device, DeviceCommand, TimelineEntry
from server.workorders.models import WorkOrder


def kiosk(broker_url: str, device: str = "k1", branch: str = "b001"):
    """A started simulated kiosk that answers commands: (link, responder)."""
    link, responder = responding_link(parse_broker_url(broker_url), branch=branch, device=device, keepalive_s=5)
    link.start()
    assert link.connected.wait(10), "simulated kiosk could not connect"
    return link, responder


def device(factory, device_id: str = "k1", branch: str = "b001") -> Device | None:
    with factory() as s:
        return s.scalars(select(Device).where(Device.branch_id == branch, Device.device_id == device_id)).first()


def active_alarms(factory, device_id: str = "k1", branch: str = "b001") -> dict[str, Alarm]:
    with factory() as s:
        return {a.type: a for a in s.scalars(select(Alarm).where(
            Alarm.branch_id == branch, Alarm.device_id == device_id, Alarm.status.in_(ACTIVE)))}


def alarms(factory, device_id: str = "k1", type_: str | None = None) -> list[Alarm]:
    with factory() as s:
        stmt = select(Alarm).where(Alarm.device_id == device_id).order_by(Alarm.id)
        if type_:
            stmt = stmt.where(Alarm.type == type_)
        return list(s.scalars(stmt))


def orders(factory, device_id: str = "k1") -> list[WorkOrder]:
    with factory() as s:
        return list(s.scalars(select(WorkOrder).where(WorkOrder.device_id == device_id).order_by(WorkOrder.id)))


def command(factory, command_id: str) -> DeviceCommand:
    with factory() as s:
        return s.scalars(select(DeviceCommand).where(DeviceCommand.command_id == command_id)).one()


def timeline(factory, device_id: str = "k1", kind: str | None = None) -> list[TimelineEntry]:
    with factory() as s:
        stmt = select(TimelineEntry).where(TimelineEntry.device_id == device_id).order_by(TimelineEntry.id)
        if kind:
            stmt = stmt.where(TimelineEntry.kind == kind)
        return list(s.scalars(stmt))
