"""The edge's uplink queue, link state and push-down cache: plain functions taking a session.

Only the edge (role `edge`) uses these: `enqueue` is its ingest handler (every newly stored event waits
in `uplink` until the centre confirms it), the hub's uplink publisher reads `pending` and calls
`confirmed`, and the hub records the bridge's state and what the centre pushed down.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from server.bulk import Bulk
from server.db import insert_for
from server.events.models import Event
from server.ingest.records import FACE_TYPES, EventRecord
from server.link.models import CachedItem, LinkState, UplinkItem
from server.outbox.service import OutboxRow

_COLUMNS = (("event_id", "text"), ("branch_id", "text"), ("device_id", "text"), ("queued_at", "timestamp"))


def enqueue(session: Session, events: Sequence[EventRecord], now: datetime,
            _kept: object = None) -> list[OutboxRow]:
    """Ingest handler (edge): every newly stored event waits for the centre's confirmation, in order."""
    if events:
        db = Bulk(session)
        at = db.ts(now)
        db.insert("uplink", _COLUMNS, [(e.id, e.branch, e.device, at) for e in events],
                  "ON CONFLICT (event_id) DO NOTHING")
    return []


def pending(session: Session, *, after: int, limit: int) -> list[tuple[int, EventRecord]]:
    """Unconfirmed events after `after` (an uplink id), oldest first: (uplink id, the event as stored)."""
    rows = session.execute(
        select(UplinkItem.id, Event.id, Event.branch_id, Event.device_id, Event.seq, Event.type, Event.ts, Event.data)
        .join(Event, Event.id == UplinkItem.event_id).where(UplinkItem.id > after)
        .order_by(UplinkItem.id).limit(limit))
    return [(key, EventRecord.of(id=i, branch=b, device=d, seq=q, type=t, ts=ts, data=data))
            for key, i, b, d, q, t, ts, data in rows]


def confirmed(session: Session, event_ids: Iterable[str], now: datetime, branch: str) -> int:
    """The centre stored these: they leave the queue, and the edge's log forgets their face embeddings (the centre
    has what it needs; a probe's frames are kept nowhere once handled). Returns how many left the queue."""
    ids = list(event_ids)
    n = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        n += session.execute(delete(UplinkItem).where(UplinkItem.event_id.in_(chunk))).rowcount
        _forget_faces(session, chunk)
    state = session.get(LinkState, branch)
    if state is None:
        session.add(LinkState(branch_id=branch, up=True, changed_at=now, confirmed_at=now))
    else:
        state.confirmed_at = now
    return n


def _forget_faces(session: Session, ids: Sequence[str]) -> None:
    rows = session.execute(select(Event.id, Event.branch_id, Event.device_id, Event.seq, Event.type, Event.ts,
                                  Event.data).where(Event.id.in_(ids), Event.type.in_(FACE_TYPES)))
    for i, b, d, q, t, ts, data in rows:
        kept = EventRecord.of(id=i, branch=b, device=d, seq=q, type=t, ts=ts, data=data).forgotten()
        session.execute(update(Event).where(Event.id == i).values(data=kept.data.model_dump(mode="json",
                                                                                            exclude_none=True)))


def backlog(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(UplinkItem)) or 0


def set_link(session: Session, branch: str, *, up: bool, now: datetime) -> bool:
    """Record the bridge's state; True when it changed."""
    state = session.get(LinkState, branch)
    if state is None:
        session.add(LinkState(branch_id=branch, up=up, changed_at=now))
        return True
    if state.up == up:
        return False
    state.up, state.changed_at = up, now
    return True


def status(session: Session, branch: str) -> dict[str, Any]:
    """What the consoles show: is the centre reachable, since when, how much waits to go up, cache age."""
    state = session.get(LinkState, branch)
    cached = session.execute(select(CachedItem.kind, func.count(), func.max(CachedItem.updated_at))
                             .where(CachedItem.branch_id == branch).group_by(CachedItem.kind)).all()
    return {"branch": branch, "up": bool(state and state.up), "known": state is not None,
            "changed_at": state.changed_at if state else None, "confirmed_at": state.confirmed_at if state else None,
            "backlog": backlog(session), "cache": {k: {"items": n, "updated_at": at} for k, n, at in cached}}


def data_as_of(session: Session, branch: str) -> datetime | None:
    """The last moment the edge heard from the centre: its last confirmation or its newest push-down."""
    state = session.get(LinkState, branch)
    pushed = session.scalar(select(func.max(CachedItem.updated_at)).where(
        CachedItem.branch_id == branch, CachedItem.kind.not_in(("watermark", "pushed"))))
    times = [t for t in (state.confirmed_at if state else None, pushed) if t is not None]
    return max(times) if times else None


def outages(session: Session) -> list[dict[str, Any]]:
    """The branches (an edge has its own) whose link is down: since when, and how old the centre's data is."""
    from server.branches.models import Branch

    rows = session.execute(select(LinkState, Branch.timezone).join(Branch, Branch.id == LinkState.branch_id)
                           .where(LinkState.up.is_(False)).order_by(LinkState.branch_id)).all()
    return [{"branch": st.branch_id, "since": st.changed_at, "data_of": data_as_of(session, st.branch_id),
             "timezone": tz, "backlog": backlog(session)} for st, tz in rows]


def store_cached(session: Session, *, kind: str, key: str, branch: str, data: dict[str, Any], version: int,
                 now: datetime) -> bool:
    """Keep a push-down unless a newer version of it is already here (pushes may arrive out of order)."""
    current = session.get(CachedItem, (kind, key))
    if current is not None and current.version >= version:
        return False
    stmt = insert_for(session, CachedItem).values(kind=kind, key=key, branch_id=branch, data=data, version=version,
                                                  updated_at=now)
    session.execute(stmt.on_conflict_do_update(index_elements=["kind", "key"], set_={
        "data": stmt.excluded.data, "version": stmt.excluded.version, "updated_at": stmt.excluded.updated_at}))
    return True


def cached(session: Session, branch: str, kind: str) -> list[dict[str, Any]]:
    rows = session.scalars(select(CachedItem).where(CachedItem.branch_id == branch, CachedItem.kind == kind)
                           .order_by(CachedItem.updated_at.desc()))
    return [{"key": r.key, "version": r.version, "updated_at": r.updated_at, **r.data} for r in rows]
