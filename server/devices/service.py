"""Device registry and presence, updated from a batch of device messages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from server.db import insert_for
from server.devices.models import Device
from server.ingest.records import EventRecord


def apply_device_messages(session: Session, events: Sequence[EventRecord],
                          heartbeats: Sequence[EventRecord]) -> None:
    """Register devices, apply births, wills, status changes and heartbeats, count seq gaps.

    Work is aggregated per device in plain Python and written once per device per batch. Rows
    are locked in id order (FOR UPDATE on PostgreSQL), so parallel hub workers serialise per
    device instead of losing updates.
    """
    per_device: dict[tuple[str, str], list[EventRecord]] = defaultdict(list)
    for e in events:
        per_device[(e.branch, e.device)].append(e)
    beats: dict[tuple[str, str], EventRecord] = {}
    for hb in heartbeats:
        key = (hb.branch, hb.device)
        if key not in beats or hb.ts > beats[key].ts:
            beats[key] = hb
    keys = sorted(per_device.keys() | beats.keys())
    if not keys:
        return
    session.connection().execute(
        insert_for(session, Device).on_conflict_do_nothing(),
        [{"branch_id": b, "device_id": d, "components": [], "status": {}, "online": False,
          "session": 0, "seq_gaps": 0} for b, d in keys])
    rows = session.scalars(
        select(Device).where(tuple_(Device.branch_id, Device.device_id).in_(keys))
        .order_by(Device.id).with_for_update()
    )
    for dev in rows:
        key = (dev.branch_id, dev.device_id)
        mine = per_device.get(key)
        if mine:
            _apply_events(dev, sorted(mine, key=lambda e: (e.ts, e.seq)))
        hb = beats.get(key)
        if hb is not None:
            if dev.last_seen_at is None or hb.ts > dev.last_seen_at:
                dev.last_seen_at = hb.ts
            if not dev.online:
                dev.online = True  # it is talking to us, whatever we missed
    session.flush()


def _apply_events(dev: Device, events: list[EventRecord]) -> None:
    last_seq, gaps = dev.last_seq, 0
    for e in events:
        if e.type == "state":
            _apply_state(dev, e)
            if e.data.get("online"):
                last_seq = e.seq  # a birth starts a new sequence
                continue
        elif e.type == "status":
            _apply_status(dev, e)
        if last_seq is not None and e.seq > last_seq + 1:
            gaps += e.seq - last_seq - 1
        if last_seq is None or e.seq > last_seq:
            last_seq = e.seq
    if last_seq != dev.last_seq:
        dev.last_seq = last_seq
    if gaps:
        dev.seq_gaps += gaps
    newest = events[-1].ts
    if dev.last_seen_at is None or newest > dev.last_seen_at:
        dev.last_seen_at = newest


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
