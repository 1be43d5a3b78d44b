"""The fleet's ingest handler: usage sessions, command results, error rates, queued commands on return."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, bindparam, func, select, tuple_, update
from sqlalchemy.orm import Session

from server.alarms.models import AlarmType
from server.alarms.rules import ERROR_RATE_LIMIT, ERROR_RATE_WINDOW
from server.db import insert_for
from server.devices import commands
from server.devices.flows import Change, evaluate
from server.devices.models import Device, UsageSession
from server.devices.timeline import Timeline
from server.events.models import Event
from server.ingest.kept import Kept
from server.ingest.records import EventRecord
from server.outbox.service import OutboxRow
from wire.enums import Outcome
from wire.messages import CommandResultData, StateData, UsageSessionData


def handle(session: Session, events: Sequence[EventRecord], now: datetime, _kept: Kept) -> list[OutboxRow]:
    """HANDLERS entry: runs in the batch transaction with only newly stored events."""
    usage = [(e, e.data) for e in events if isinstance(e.data, UsageSessionData)]
    results = [(e, e.data) for e in events if isinstance(e.data, CommandResultData)]
    errors = [e for e in events if e.type == "error"]
    births = [(e.branch, e.device) for e in events if isinstance(e.data, StateData) and e.data.online]
    if usage:
        _store_usage(session, usage)
    timeline = Timeline()
    changes: dict[tuple[str, str], Change] = {}
    if results or errors:
        keys = sorted({(e.branch, e.device) for e in (*(e for e, _ in results), *errors)})
        devices = {(d.branch_id, d.device_id): d for d in session.scalars(
            select(Device).where(tuple_(Device.branch_id, Device.device_id).in_(keys)))}
        for e, r in results:
            cmd = commands.apply_result(session, timeline, branch_id=e.branch, device_id=e.device,
                                        command_id=r.command_id, status=r.status, detail=r.detail, at=e.ts, now=now)
            dev = devices.get((e.branch, e.device))
            if cmd is not None and dev is not None and r.status == "ok" \
                    and cmd.name in (commands.CommandName.OUT_OF_SERVICE, commands.CommandName.IN_SERVICE):
                dev.in_service = cmd.name == commands.CommandName.IN_SERVICE
                changes.setdefault((e.branch, e.device), Change(dev))
        for key, n in _error_counts(session, errors, now).items():
            dev = devices.get(key)
            if dev is not None and n >= ERROR_RATE_LIMIT:
                changes.setdefault(key, Change(dev)).extra.append(
                    (AlarmType.HIGH_ERROR_RATE, f"{n} errors in {int(ERROR_RATE_WINDOW.total_seconds() // 60)} min"))
    evaluate(session, changes.values(), timeline, now)
    outbound = commands.release_queued(session, births, now)
    timeline.write(session)
    return outbound


def _store_usage(session: Session, usage: list[tuple[EventRecord, UsageSessionData]]) -> None:
    rows = [{"session_id": u.session_id, "branch_id": e.branch, "device_id": e.device, "function": u.function,
             "started_at": u.started_at, "ended_at": u.ended_at, "outcome": u.outcome.value} for e, u in usage]
    session.connection().execute(insert_for(session, UsageSession).on_conflict_do_nothing(), rows)
    printed = Counter((e.branch, e.device) for e, u in usage if u.outcome == Outcome.OK)
    if printed:  # one Core statement for all devices (rows in key order, as the registry locks them)
        session.connection().execute(_COUNT_RECEIPTS, [{"b_branch": b, "b_device": d, "n": n}
                                                       for (b, d), n in sorted(printed.items())])


def _count_receipts() -> Any:
    t = Device.__table__
    return (update(t).where(t.c.branch_id == bindparam("b_branch"), t.c.device_id == bindparam("b_device"))
            .values(receipts_since_refill=t.c.receipts_since_refill + bindparam("n", type_=Integer())))


_COUNT_RECEIPTS = _count_receipts()


def _error_counts(session: Session, errors: list[EventRecord], now: datetime) -> dict[tuple[str, str], int]:
    if not errors:
        return {}
    keys = sorted({(e.branch, e.device) for e in errors})
    since = now - ERROR_RATE_WINDOW
    rows = session.execute(select(Event.branch_id, Event.device_id, func.count()).where(
        tuple_(Event.branch_id, Event.device_id).in_(keys), Event.type == "error", Event.ts >= since)
        .group_by(Event.branch_id, Event.device_id))
    return {(b, d): int(n) for b, d, n in rows}
