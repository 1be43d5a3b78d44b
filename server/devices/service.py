"""Device registry and presence, updated from a batch of device messages.

Presence and status changes go on the device timeline and are handed to `server.devices.flows`,
which opens and clears alarms, opens work orders and keeps the device's availability current.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.alarms.rules import card_retained
from server.branches.models import Branch
from server.bulk import Bulk
from server.db import insert_for, utcnow
from server.devices.flows import Change, evaluate, planned
from server.devices.models import Device, OfflineCause, PaperRoll
from server.devices.timeline import Timeline
from server.ingest.records import EventRecord
from wire.enums import OfflineReason
from wire.messages import StateData, StatusData


def apply_device_messages(session: Session, events: Sequence[EventRecord],
                          heartbeats: Sequence[EventRecord], *, now: datetime | None = None) -> None:
    """Register devices, apply births, goodbyes, wills, status changes and heartbeats, count seq gaps.

    Rows are locked in id order (FOR UPDATE on PostgreSQL), so parallel hub workers serialise per
    device instead of losing updates. Most devices in a batch only sent business events or a
    heartbeat while online: their last-seen time and sequence move with one Core statement for all of
    them (the quiet path). The ORM path, with the timeline and alarm evaluation, is for devices that
    are new, sent a birth, will or status, or were offline: any message from them brings them back.
    `now` is the hub's clock when the batch arrived: a last will is dated by it (see `_ordered`).
    """
    now = now or utcnow()
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
        if key in new_keys or not r.online or any(e.type in _EVENTFUL for e in mine):
            eventful.append(r.id)
        else:
            quiet.append(_quiet_update(db, r.id, mine, beats.get(key)))
    if quiet:
        db.run(_QUIET_COLUMNS, _QUIET_UPDATE, quiet)
    if eventful:
        _apply_eventful(session, keys, eventful, per_device, beats, now)


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
                    beats: dict[tuple[str, str], EventRecord], now: datetime) -> None:
    rows = session.scalars(select(Device).where(Device.id.in_(ids)).order_by(Device.id))
    timeline = Timeline()
    changes: list[Change] = []
    rolls: list[dict[str, Any]] = []  # paper rolls finished by a refill
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
        mine = [*per_device.get(key, ()), *([beats[key]] if key in beats else [])]
        _apply_events(dev, _ordered(mine, now), change, timeline, rolls)
        if dev.online != was_online:
            change.presence_changed = True
            dev.presence_changed_at = now
            change.onset_at = (last_seen if dev.online else dev.last_seen_at) or now  # offline: its last message
        if change.presence_changed or change.status_changed or change.retained:
            changes.append(change)
    session.flush()
    if rolls:
        session.connection().execute(PaperRoll.__table__.insert(), rolls)
    evaluate(session, changes, timeline, now)
    timeline.write(session)


def _is_will(e: EventRecord) -> bool:
    """A last will (or an older device's offline state, which cannot say it was a goodbye)."""
    return isinstance(e.data, StateData) and not e.data.online and e.data.reason != OfflineReason.SHUTDOWN


def _ordered(events: list[EventRecord], now: datetime) -> list[tuple[datetime, EventRecord]]:
    """(when it happened, event) in the order they happened.

    A will is written at connect time, so its own `ts` is the session's start: it happened when the broker
    published it, which is when the hub received it (`now`), after everything else its session sent, and
    before the birth of a newer session that came in the same batch.
    """
    births = [(e.ts, e.data.session) for e in events if isinstance(e.data, StateData) and e.data.online]
    out = []
    for e in events:
        at = e.ts
        if _is_will(e):
            session_no = e.data.session  # type: ignore[union-attr]  # a will is a state
            later = min((ts for ts, session in births if session > session_no), default=None)
            cap = None if later is None else later - timedelta(microseconds=1)
            at = now if cap is None else min(now, cap)
            # after everything else it sent (a device clock ahead of the hub's may date that after `now`)
            sent = [x.ts for x in events if x is not e and not _is_will(x) and (cap is None or x.ts <= cap)]
            at = max([at, *sent])
        out.append((at, e))
    return sorted(out, key=lambda p: (p[0], p[1].seq))


def _apply_events(dev: Device, events: list[tuple[datetime, EventRecord]], change: Change,
                  timeline: Timeline, rolls: list[dict[str, Any]]) -> None:
    last_seq, gaps = dev.last_seq, 0
    for at, e in events:
        if isinstance(e.data, StateData):
            was, session_before = dev.online, dev.session
            what = _apply_state(dev, e.data, e.ts)
            if what == "stale" or dev.online != was:
                detail = {"session": e.data.session, "via": what}
                if not dev.online and what != "stale":
                    detail["cause"] = dev.offline_reason
                    if what == "will":
                        detail["last_seen_at"] = dev.last_seen_at.isoformat() if dev.last_seen_at else None
                timeline.add(dev.branch_id, dev.device_id, at, "presence",
                             _presence_label(what, e.data, dev.online), detail)
            if dev.online and was and what == "birth":
                change.presence_changed = True  # a rebirth: re-read its status
            if what == "birth" and (last_seq is None or e.data.session > session_before):
                last_seq = e.seq  # a new session's birth starts a new sequence; its redelivery does not
            continue  # a goodbye or will is no sign of life; a stale state belongs to an older sequence
        if not dev.online and (dev.last_seen_at is None or e.ts > dev.last_seen_at):
            dev.online, dev.offline_reason = True, None  # any message newer than what we saw: it is talking to us
            timeline.add(dev.branch_id, dev.device_id, at, "presence", "online", {"via": e.type})
        if isinstance(e.data, StatusData):
            entry = _apply_status(dev, e.data, e.ts, change, rolls)
            timeline.add(dev.branch_id, dev.device_id, e.ts, "status", str(e.data.component), entry)
        if e.type == "heartbeat":
            if dev.last_seen_at is None or e.ts > dev.last_seen_at:
                dev.last_seen_at = e.ts
            continue  # QoS 0 and not in the event log: no sequence of its own
        if last_seq is not None and e.seq > last_seq + 1:
            gaps += e.seq - last_seq - 1
        if last_seq is None or e.seq > last_seq:
            last_seq = e.seq
        if dev.last_seen_at is None or e.ts > dev.last_seen_at:
            dev.last_seen_at = e.ts
    if last_seq != dev.last_seq:
        dev.last_seq = last_seq
    if gaps:
        dev.seq_gaps += gaps


def _apply_state(dev: Device, data: StateData, at: datetime) -> str:
    """"birth", "goodbye", "will" or "stale" (a will or birth of an older session, ignored as Sparkplug's bdSeq)."""
    session_no = data.session
    if data.online:
        if session_no < dev.session:
            return "stale"  # an old birth, redelivered late
        dev.session = session_no
        dev.online, dev.offline_reason = True, None
        if dev.registered_at is None:
            dev.registered_at = at
        for field in ("model", "serial", "sw"):
            if getattr(data, field) is not None:
                setattr(dev, field, getattr(data, field))
        if data.components:
            dev.components = [str(c) for c in data.components]
        if dev.last_seen_at is None or at > dev.last_seen_at:
            dev.last_seen_at = at
        return "birth"
    if session_no != dev.session:
        return "stale"
    # the current session's goodbye or will; older sessions' are stale
    dev.online = False
    if data.reason == OfflineReason.SHUTDOWN:
        dev.offline_reason = OfflineCause.SHUTDOWN.value
        if dev.last_seen_at is None or at > dev.last_seen_at:
            dev.last_seen_at = at  # its last word
        return "goodbye"
    dev.offline_reason = OfflineCause.LOST.value
    return "will"


def _apply_status(dev: Device, data: StatusData, at: datetime, change: Change,
                  rolls: list[dict[str, Any]]) -> dict[str, Any]:
    """Keep the component's status (as JSON, with when); returns it less that time, for the timeline."""
    status = dict(dev.status or {})
    reported = data.model_dump(mode="json", exclude_none=True, exclude={"component"})
    entry = {**reported, "at": at.isoformat()}
    component = str(data.component)
    before = status.get(component)
    if card_retained(before, entry):
        change.retained.append(component)
    paper, was = entry.get("paper"), (before or {}).get("paper")
    if paper == "full" and was in ("low", "out", "jammed"):  # refilled: the roll's history is kept
        rolls.append({"branch_id": dev.branch_id, "device_id": dev.device_id, "started_at": dev.paper_refilled_at,
                      "ended_at": at, "printed": dev.receipts_since_refill or 0,
                      "printed_at_low": dev.paper_low_receipts, "printed_at_out": dev.paper_out_receipts})
        dev.receipts_since_refill = 0
        dev.paper_refilled_at = at
        dev.paper_low_receipts = dev.paper_out_receipts = None
    elif paper == "low" and dev.paper_low_receipts is None:
        dev.paper_low_receipts = dev.receipts_since_refill or 0
    elif paper == "out" and dev.paper_out_receipts is None:
        dev.paper_out_receipts = dev.receipts_since_refill or 0
    status[component] = entry
    dev.status = status
    change.status_changed = True
    return reported


def _presence_label(what: str, data: StateData, online: bool) -> str:
    if what == "stale":
        return "stale_birth_ignored" if data.online else "stale_will_ignored"
    return "online" if online else "offline"
