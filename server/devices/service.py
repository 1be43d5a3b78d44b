"""Device registry and presence, updated from a batch of device messages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from server.db import insert_for
from server.devices.models import Device
from server.ingest.records import EventRecord

_TRACKED = {"state", "status", "heartbeat"}


def apply_device_messages(session: Session, events: Sequence[EventRecord],
                          heartbeats: Sequence[EventRecord]) -> None:
    """Register devices, apply births, wills, status changes and heartbeats, count seq gaps.

    Rows are locked in id order (FOR UPDATE on PostgreSQL) so parallel hub workers serialise
    per device instead of losing updates.
    """
    keys = sorted({(e.branch, e.device) for e in (*events, *heartbeats)})
    if not keys:
        return
    session.execute(insert_for(session, Device).on_conflict_do_nothing(),
                    [{"branch_id": b, "device_id": d, "components": [], "status": {}, "online": False,
                      "session": 0, "seq_gaps": 0} for b, d in keys])
    rows = session.scalars(
        select(Device).where(tuple_(Device.branch_id, Device.device_id).in_(keys))
        .order_by(Device.id).with_for_update()
    )
    devices = {(d.branch_id, d.device_id): d for d in rows}
    for e in sorted(events, key=lambda e: (e.ts, e.seq)):
        dev = devices[(e.branch, e.device)]
        _touch(dev, e.ts)
        _count_seq(dev, e)
        if e.type == "state":
            _apply_state(dev, e)
        elif e.type == "status":
            _apply_status(dev, e)
    for hb in heartbeats:
        dev = devices[(hb.branch, hb.device)]
        _touch(dev, hb.ts)
        if not dev.online and hb.data.get("session", dev.session) == dev.session:
            dev.online = True
    session.flush()


def _touch(dev: Device, ts: datetime) -> None:
    if dev.last_seen_at is None or ts > dev.last_seen_at:
        dev.last_seen_at = ts


def _count_seq(dev: Device, e: EventRecord) -> None:
    if e.type == "state" and e.data.get("online"):
        dev.last_seq = e.seq  # a birth starts a new sequence
        return
    if dev.last_seq is not None and e.seq > dev.last_seq + 1:
        dev.seq_gaps += e.seq - dev.last_seq - 1
    if dev.last_seq is None or e.seq > dev.last_seq:
        dev.last_seq = e.seq


def _apply_state(dev: Device, e: EventRecord) -> None:
    data = e.data
    session_no = int(data.get("session", 0))
    if data.get("online"):
        if session_no < dev.session:
            return  # an old birth, redelivered late
        dev.session = session_no
        dev.online = True
        if dev.registered_at is None:
            dev.registered_at = e.ts
        for field in ("model", "serial", "sw"):
            if data.get(field) is not None:
                setattr(dev, field, data[field])
        if data.get("components"):
            dev.components = list(data["components"])
    elif session_no == dev.session:
        dev.online = False  # a will or a clean goodbye for the current session; older ones are stale


def _apply_status(dev: Device, e: EventRecord) -> None:
    status = dict(dev.status or {})
    entry = {k: v for k, v in e.data.items() if k != "component"}
    entry["at"] = e.ts.isoformat()
    status[e.data["component"]] = entry
    dev.status = status


def device_keys(events: Iterable[EventRecord]) -> set[tuple[str, str]]:
    return {(e.branch, e.device) for e in events if e.type in _TRACKED}
