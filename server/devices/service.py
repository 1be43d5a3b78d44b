"""Device registry and presence, updated from a batch of device messages.

Presence and status changes go on the device timeline and are handed to `server.devices.flows`,
which opens and clears alarms, opens work orders and keeps the device's availability current.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.alarms.rules import card_retained
from server.branches.models import Branch
from server.bulk import Bulk
from server.db import insert_for, utcnow
from server.devices.flows import Change, evaluate, planned
from server.devices.models import Device
from server.devices.timeline import Timeline
from server.ingest.records import EventRecord


def apply_device_messages(session: Session, events: Sequence[EventRecord],
                          heartbeats: Sequence[EventRecord]) -> None:
    """Register devices, apply births, wills, status changes and heartbeats, count seq gaps.

    Rows are locked in id order (FOR UPDATE on PostgreSQL), so parallel hub workers serialise per
    device instead of losing updates. Most devices in a batch only sent business events or a
    heartbeat while online: their last-seen time and sequence move with one Core statement for all of
    them (the quiet path). The ORM path, with the timeline and alarm evaluation, is for devices that
    are new, sent a birth, will or status, or come back from offline.
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
    light = _lock(session, keys)
    missing = sorted(set(keys) - {(r.branch_id, r.device_id) for r in light})
    new_keys: set[tuple[str, str]] = set()
    if missing:  # first sight: register (another worker may do the same at this moment)
        ins = insert_for(session, Device).on_conflict_do_nothing().returning(
            Device.__table__.c.branch_id, Device.__table__.c.device_id)
        new_keys = {tuple(r) for r in session.connection().execute(
            ins, [{"branch_id": b, "device_id": d, "components": [], "status": {}, "online": False,
                   "session": 0, "seq_gaps": 0} for b, d in missing])}
        light = [*light, *_lock(session, missing)]
    eventful: list[int] = []
    quiet: list[tuple] = []
    db = Bulk(session)
    for r in light:
        key = (r.branch_id, r.device_id)
        mine = per_device.get(key, ())
        if key in new_keys or (key in beats and not r.online) or any(e.type in _EVENTFUL for e in mine):
            eventful.append(r.id)
        else:
            quiet.append(_quiet_update(db, r.id, mine, beats.get(key)))
    if quiet:
        db.run(_QUIET_COLUMNS, _QUIET_UPDATE, quiet)
    if eventful:
        _apply_eventful(session, keys, eventful, per_device, beats)


_EVENTFUL = {"state", "status"}


def _lock(session: Session, keys: Sequence[tuple[str, str]]) -> list[Any]:
    """Id, key and presence of the devices, locked in id order (FOR UPDATE on PostgreSQL)."""
    db = Bulk(session)
    return db.run((("branch_id", "text"), ("device_id", "text")),
                  "SELECT d.id, d.branch_id, d.device_id, d.online FROM devices AS d "
                  "JOIN {v} ON d.branch_id = v.branch_id AND d.device_id = v.device_id ORDER BY d.id"
                  + ("" if db.sqlite else " FOR UPDATE OF d"), keys)


def _quiet_update(db: Bulk, device_pk: int, events: Sequence[EventRecord], beat: EventRecord | None) -> tuple:
    """(pk, last seen, count of distinct seqs, lowest, highest) for `_QUIET_UPDATE`."""
    seen = max([e.ts for e in events] + ([beat.ts] if beat else []))
    seqs = sorted({e.seq for e in events})
    return (device_pk, db.ts(seen), len(seqs), seqs[0] if seqs else 0, seqs[-1] if seqs else 0)


# Last-seen time and sequence of devices with nothing but business events or heartbeats, one statement
# for all of them. Gaps: the numbers missing between the stored last seq and this batch's highest (hi),
# less the n distinct ones the batch brought from lo up (the ORM path counts the same, event by event).
_QUIET_UPDATE = (
    "UPDATE devices SET "
    "last_seen_at = CASE WHEN devices.last_seen_at IS NULL OR devices.last_seen_at < v.seen "
    "THEN v.seen ELSE devices.last_seen_at END, "
    "seq_gaps = devices.seq_gaps + CASE WHEN v.n = 0 THEN 0 "
    "WHEN devices.last_seq IS NULL THEN v.hi - v.lo + 1 - v.n "
    "WHEN v.hi > devices.last_seq + v.n THEN v.hi - devices.last_seq - v.n ELSE 0 END, "
    "last_seq = CASE WHEN v.n = 0 THEN devices.last_seq WHEN devices.last_seq IS NULL THEN v.hi "
    "WHEN v.hi > devices.last_seq THEN v.hi ELSE devices.last_seq END "
    "FROM {v} WHERE devices.id = v.pk")
_QUIET_COLUMNS = (("pk", "integer"), ("seen", "timestamp"), ("n", "integer"), ("lo", "bigint"), ("hi", "bigint"))


def _apply_eventful(session: Session, keys: list[tuple[str, str]], ids: list[int],
                    per_device: dict[tuple[str, str], list[EventRecord]],
                    beats: dict[tuple[str, str], EventRecord]) -> None:
    rows = session.scalars(select(Device).where(Device.id.in_(ids)).order_by(Device.id))
    now = utcnow()
    timeline = Timeline()
    changes: list[Change] = []
    configs: dict[str, dict] | None = None
    for dev in rows:
        key = (dev.branch_id, dev.device_id)
        was_online, last_seen = dev.online, dev.last_seen_at
        change = Change(dev)
        if dev.zone is None and dev.kind is None:
            if configs is None:
                configs = {b: c for b, c in session.execute(
                    select(Branch.id, Branch.config).where(Branch.id.in_({b for b, _ in keys})))}
            plan = planned(configs.get(dev.branch_id), dev.device_id)
            if plan:
                dev.zone, dev.kind = plan.get("zone"), plan.get("kind")
        mine = per_device.get(key)
        if mine:
            _apply_events(dev, sorted(mine, key=lambda e: (e.ts, e.seq)), change, timeline)
        hb = beats.get(key)
        if hb is not None:
            if dev.last_seen_at is None or hb.ts > dev.last_seen_at:
                dev.last_seen_at = hb.ts
            if not dev.online:
                dev.online = True  # it is talking to us, whatever we missed
                timeline.add(dev.branch_id, dev.device_id, hb.ts, "presence", "online", {"via": "heartbeat"})
        if dev.online != was_online:
            change.presence_changed = True
            dev.presence_changed_at = now
            change.onset_at = last_seen or now
        if change.presence_changed or change.status_changed or change.retained:
            changes.append(change)
    session.flush()
    evaluate(session, changes, timeline, now)
    timeline.write(session)


def _apply_events(dev: Device, events: list[EventRecord], change: Change, timeline: Timeline) -> None:
    last_seq, gaps = dev.last_seq, 0
    for e in events:
        if e.type == "state":
            was = dev.online
            what = _apply_state(dev, e)
            if what == "stale" or dev.online != was:
                timeline.add(dev.branch_id, dev.device_id, e.ts, "presence",
                             _presence_label(what, e.data, dev.online),
                             {"session": e.data.get("session"), "via": what})
            if dev.online and was and what == "birth":
                change.presence_changed = True  # a rebirth: re-read its status
            if e.data.get("online"):
                last_seq = e.seq  # a birth starts a new sequence
                continue
        elif e.type == "status":
            _apply_status(dev, e, change)
            timeline.add(dev.branch_id, dev.device_id, e.ts, "status", e.data["component"],
                         {k: v for k, v in e.data.items() if k != "component"})
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


def _apply_state(dev: Device, e: EventRecord) -> str:
    """"birth", "will" or "stale" (a will or birth of an older session, ignored as Sparkplug's bdSeq)."""
    data = e.data
    session_no = int(data.get("session", 0))
    if data.get("online"):
        if session_no < dev.session:
            return "stale"  # an old birth, redelivered late
        dev.session = session_no
        dev.online = True
        if dev.registered_at is None:
            dev.registered_at = e.ts
        for field in ("model", "serial", "sw"):
            if data.get(field) is not None:
                setattr(dev, field, data[field])
        if data.get("components"):
            dev.components = list(data["components"])
        return "birth"
    if session_no == dev.session:
        dev.online = False  # a will or a clean goodbye for the current session; older ones are stale
        return "will"
    return "stale"


def _apply_status(dev: Device, e: EventRecord, change: Change) -> None:
    status = dict(dev.status or {})
    entry = {k: v for k, v in e.data.items() if k != "component"}
    entry["at"] = e.ts.isoformat()
    component = e.data["component"]
    before = status.get(component)
    if card_retained(before, entry):
        change.retained.append(component)
    if entry.get("paper") == "full" and (before or {}).get("paper") in ("low", "out", "jammed"):
        dev.receipts_since_refill = 0  # refilled
        dev.paper_refilled_at = e.ts
    status[component] = entry
    dev.status = status
    change.status_changed = True


def _presence_label(what: str, data: dict, online: bool) -> str:
    if what == "stale":
        return "stale_birth_ignored" if data.get("online") else "stale_will_ignored"
    return "online" if online else "offline"
