"""Fleet HTTP API: devices, timeline, utilisation, commands, maintenance windows; alarms and work orders.

This module is the fleet's one entry in `server.app.ROUTERS`; it includes the alarms, work-order and
console-page routers and registers metrics, the overview card and the nav entry in `setup(app)`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from sqlalchemy import select

from server.branches.models import Branch
from server.db import utcnow
from server.devices import commands, live, queries
from server.devices.models import Device, DeviceCommand
from server.devices.schemas import (
    BranchUtilisation,
    CommandIn,
    CommandOut,
    DeviceOut,
    DeviceUtilisation,
    MaintenanceIn,
    TimelineOut,
)
from server.devices.timeline import Timeline
from server.errors import Invalid
from server.outbox.service import enqueue
from server.staff.models import Role
from server.web.deps import Audit, DbSession, Principal, branch_scope, not_found, require_roles
from server.web.validation import BranchId, IntId

router = APIRouter(tags=["devices"])
FleetReader = Annotated[Principal, Depends(require_roles(Role.MAINTENANCE, Role.BRANCH_MANAGER, Role.LOBBY_STAFF))]
FleetCommander = Annotated[Principal, Depends(require_roles(Role.MAINTENANCE, Role.BRANCH_MANAGER))]
CommandIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{8,64}$", description="the command id")]
MAX_RANGE = timedelta(days=93)


def load_device(session: DbSession, principal: Principal, device_pk: int) -> Device:
    dev = session.get(Device, device_pk)
    if dev is None:
        raise not_found("device")
    branch_scope(principal, dev.branch_id, "device")
    return dev


def branch_or_404(session: DbSession, principal: Principal, branch_id: str) -> Branch:
    branch_scope(principal, branch_id, "branch")
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise not_found("branch")
    return branch


def period(start: datetime | None, end: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """Default: the last 7 days. Naive times are read as UTC; at most 93 days at once."""
    from datetime import UTC

    end = (end or now)
    start = (start or end - timedelta(days=7))
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    end = end if end.tzinfo else end.replace(tzinfo=UTC)
    if end <= start:
        raise Invalid("bad_period", "`to` must be after `from`")
    if end - start > MAX_RANGE:
        raise Invalid("bad_period", "ask for at most 93 days at once")
    return start, end


From = Annotated[datetime | None, Query(alias="from", description="start (RFC 3339); default 7 days before `to`")]
To = Annotated[datetime | None, Query(alias="to", description="end (RFC 3339); default now")]


@router.get("/api/branches/{branch_id}/devices", response_model=list[DeviceOut])
def list_devices(branch_id: BranchId, principal: FleetReader, session: DbSession, request: Request) -> list[dict]:
    """Every device of the branch with presence, availability, component status and active alarms."""
    branch_or_404(session, principal, branch_id)
    live.ensure(request.app)
    return queries.devices(session, branch_id, utcnow())


@router.get("/api/devices/{device_pk}", response_model=DeviceOut)
def get_device(device_pk: IntId, principal: FleetReader, session: DbSession) -> dict:
    dev = load_device(session, principal, device_pk)
    from server.alarms.models import ACTIVE, Alarm

    alarms = list(session.scalars(select(Alarm).where(Alarm.branch_id == dev.branch_id,
                                                      Alarm.device_id == dev.device_id, Alarm.status.in_(ACTIVE))))
    return queries.device_out(dev, alarms, utcnow())


@router.get("/api/devices/{device_pk}/timeline", response_model=list[TimelineOut])
def device_timeline(device_pk: IntId, principal: FleetReader, session: DbSession,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list:
    """Presence, status history, availability, alarms, work orders and commands, newest first."""
    dev = load_device(session, principal, device_pk)
    return queries.timeline(session, dev.branch_id, dev.device_id, limit)


@router.get("/api/devices/{device_pk}/utilisation", response_model=DeviceUtilisation)
def device_utilisation(device_pk: IntId, principal: FleetReader, session: DbSession,
                       start: From = None, end: To = None) -> dict:
    """Availability and utilisation per hour and day, sessions, failures, MTTR split (from the roll-ups)."""
    dev = load_device(session, principal, device_pk)
    branch = session.get(Branch, dev.branch_id)
    s, e = period(start, end, utcnow())
    return queries.device_utilisation(session, dev, branch.timezone if branch else "UTC", s, e)


@router.get("/api/branches/{branch_id}/utilisation", response_model=BranchUtilisation)
def branch_utilisation(branch_id: BranchId, principal: FleetReader, session: DbSession,
                       start: From = None, end: To = None) -> dict:
    """The branch's figures, per zone, per device and per day."""
    branch = branch_or_404(session, principal, branch_id)
    s, e = period(start, end, utcnow())
    return queries.branch_utilisation(session, branch_id, branch.timezone, s, e)


@router.post("/api/devices/{device_pk}/commands", response_model=CommandOut, status_code=201)
def send_command(device_pk: IntId, body: CommandIn, principal: FleetCommander, session: DbSession,
                 audit: Audit) -> dict:
    """Send a remote command with a time-to-live: refused when unsafe, queued while the device is offline."""
    dev = load_device(session, principal, device_pk)
    timeline = Timeline()
    cmd, rows = commands.create(session, timeline, dev, name=body.name, args=dict(body.args), ttl_s=body.ttl_s,
                                actor=principal.actor, now=utcnow())
    enqueue(session, rows)
    timeline.write(session)
    audit.record("device.command", "device", dev.id, branch_id=dev.branch_id,
                 detail={"command_id": cmd.command_id, "name": cmd.name, "status": cmd.status})
    return queries.command_out(cmd)


@router.get("/api/devices/{device_pk}/commands", response_model=list[CommandOut])
def list_commands(device_pk: IntId, principal: FleetReader, session: DbSession) -> list[dict]:
    dev = load_device(session, principal, device_pk)
    rows = session.scalars(select(DeviceCommand).where(DeviceCommand.branch_id == dev.branch_id,
                                                       DeviceCommand.device_id == dev.device_id)
                           .order_by(DeviceCommand.id.desc()).limit(50))
    return [queries.command_out(c) for c in rows]


@router.get("/api/commands/{command_id}", response_model=CommandOut)
def get_command(command_id: CommandIdPath, principal: FleetReader,
                session: DbSession) -> dict:
    """A command and its result (`queued`, `sent`, `ok`, `refused`, `failed`, `expired`)."""
    cmd = session.scalars(select(DeviceCommand).where(DeviceCommand.command_id == command_id)).first()
    if cmd is None:
        raise not_found("command")
    branch_scope(principal, cmd.branch_id, "command")
    return queries.command_out(cmd)


@router.post("/api/devices/{device_pk}/maintenance", response_model=DeviceOut)
def set_maintenance(device_pk: IntId, body: MaintenanceIn, principal: FleetCommander, session: DbSession,
                    audit: Audit) -> dict:
    """Open (or end, with minutes=0) a maintenance window: no new alarms for the device until it expires."""
    dev = load_device(session, principal, device_pk)
    now = utcnow()
    timeline = Timeline()
    if body.minutes:
        dev.maintenance_until = now + timedelta(minutes=body.minutes)
        dev.maintenance_reason = body.reason
        timeline.add(dev.branch_id, dev.device_id, now, "service", "maintenance_started",
                     {"until": dev.maintenance_until.isoformat(), "by": principal.actor})
    else:
        dev.maintenance_until = now  # ends at the next maintenance job run, which re-raises current faults
    dev.changed_at = now
    timeline.write(session)
    audit.record("device.maintenance", "device", dev.id, branch_id=dev.branch_id, detail={"minutes": body.minutes})
    return queries.device_out(dev, [], now)


def _include() -> None:
    from server.alarms.api import router as alarms_router
    from server.devices.pages import router as pages_router
    from server.workorders.api import router as orders_router

    router.include_router(alarms_router)
    router.include_router(orders_router)
    router.include_router(pages_router)


_include()


def setup(app: FastAPI) -> None:
    from server.devices import pages
    from server.devices.metrics import FleetCollector

    app.state.metrics.registry.register(FleetCollector(app.state.sessions))
    pages.setup(app)
    try:  # configured devices are in the registry before their first birth
        from server.devices.scheduled import sync_planned_devices

        with app.state.sessions() as session, session.begin():
            sync_planned_devices(session)
    except Exception:  # not migrated yet: the roll-up job does it later  # pragma: no cover
        pass
