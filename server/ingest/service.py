"""Store a batch of device messages exactly once, in one transaction.

The event id is the idempotency key: `INSERT … ON CONFLICT DO NOTHING RETURNING id` tells
which events are new, and only those reach the domain: the device registry (births, wills,
status, heartbeats) and then every handler in `server.ingest.handlers.HANDLERS`
(looked up per batch). A repeat whose body differs from the event stored under its id is no
repeat: it is dead-lettered as `id_conflict`. A batch
redelivered after a crash therefore changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from server.db import insert_for, utcnow
from server.devices.service import apply_device_messages
from server.events.models import DeadLetter
from server.events.store import insert_new_events, stored_versions
from server.ingest import handlers
from server.ingest.kept import Kept
from server.ingest.records import BatchResult, DeadLetterRecord, EventRecord, id_conflict
from server.outbox.service import OutboxRow, enqueue
from szconfig.roles import Role
from wire.topics import EDGE_ONLY_TYPES


def store_batch(session: Session, events: Sequence[EventRecord],
                dead_letters: Sequence[DeadLetterRecord] = (),
                *, now: datetime | None = None, kept: Kept | None = None, role: Role = Role.ALL) -> BatchResult:
    """Write events and dead letters; the caller commits, then acknowledges the messages. `kept`: the hub's,
    entered with `kept.if_committed()` around the transaction (without one, nothing is kept); `role` selects
    the handlers (`handlers.HANDLERS`) that run here."""
    now = now or utcnow()
    kept = kept or Kept()
    result = BatchResult()
    heartbeats = [e for e in events if e.type == "heartbeat"]
    by_id: dict[str, list[EventRecord]] = {}
    for e in events:
        if e.type != "heartbeat":
            by_id.setdefault(e.id, []).append(e)
    result.heartbeats = len(heartbeats)

    new: list[EventRecord] = []
    conflicts: list[DeadLetterRecord] = []
    if by_id:
        new_ids = insert_new_events(session, [same[0] for same in by_id.values()], now)
        new = [same[0] for i, same in by_id.items() if i in new_ids]
        repeated = [i for i in by_id if i not in new_ids]
        stored = stored_versions(session, repeated) if repeated else {}
        for i, same in by_id.items():
            # what the id stands for: the event stored now (the batch's first) or before
            ref = same[0] if i in new_ids else stored.get(i)
            if ref is not None:
                conflicts += [id_conflict(e, ref) for e in same if e is not ref and not e.same_event(ref)]
    result.stored = len(new)
    result.duplicates = len(events) - len(heartbeats) - len(new) - len(conflicts)
    result.stored_ids = [e.id for e in new]
    result.rejected = {(d.branch, d.device, d.event_id): d.reason for d in conflicts}
    dead_letters = [*dead_letters, *conflicts]

    # the devices' registry; an edge's own queue steps are the branch's, not a device's
    apply_device_messages(session, [e for e in new if e.type not in EDGE_ONLY_TYPES], heartbeats, now=now)
    outbound: list[OutboxRow] = []
    if new:
        for handle in handlers.for_role(handlers.HANDLERS, role):
            outbound.extend(handle(session, new, now, kept))
    enqueue(session, outbound)
    result.outbound = len(outbound)

    if dead_letters:
        stmt = insert_for(session, DeadLetter).on_conflict_do_nothing(index_elements=["digest"])
        session.connection().execute(stmt, [{"digest": d.digest, "topic": d.topic[:512], "reason": d.reason,
                                "detail": d.detail, "size": d.size, "payload": d.payload,
                                "received_at": now} for d in dead_letters])
        result.dead_lettered = len(dead_letters)
    return result


def run_deferred(session: Session, *, now: datetime | None = None, kept: Kept | None = None,
                 role: Role = Role.ALL) -> int:
    """Run the domains' deferred work (`handlers.DEFERRED`) and enqueue what it sends; the caller commits.
    Returns the number of outbound messages."""
    now = now or utcnow()
    kept = kept or Kept()
    outbound: list[OutboxRow] = []
    for work in handlers.for_role(handlers.DEFERRED, role):
        outbound.extend(work(session, now, kept))
    enqueue(session, outbound)
    return len(outbound)
