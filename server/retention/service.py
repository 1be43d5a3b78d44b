"""Delete touchpoints, visits and audit entries past their retention time, in bounded chunks, each run logged.

Every chunk is its own short transaction (a busy database never waits long on our locks) and a run stops after
`max_rows` (the next run goes on where it stopped). Touchpoints and visits are deleted branch by branch through
their `(branch_id, time)` indexes, so no index is added to the ingest path. The audit log lets go of a row only
when a logged run's cutoff is past it (its trigger checks `retention_runs`); updates stay refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from server.audit import service as audit
from server.audit.models import AuditEntry
from server.branches.models import Branch
from server.db import transaction
from server.retention.models import RetentionRun, Target
from server.touchpoints.models import Touchpoint, Visit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Policy:
    target: Target
    keep_days: int
    chunk_rows: int
    max_rows: int


def cutoff(now: datetime, keep_days: int) -> datetime:
    return now - timedelta(days=keep_days)


def _plan(target: Target) -> tuple[type, InstrumentedAttribute, InstrumentedAttribute, bool]:
    """(model, key column, time column, per branch) of what `target` deletes."""
    if target is Target.TOUCHPOINTS:
        return Touchpoint, Touchpoint.id, Touchpoint.occurred_at, True
    if target is Target.VISITS:
        return Visit, Visit.id, Visit.started_at, True
    return AuditEntry, AuditEntry.id, AuditEntry.at, False


def purge(factory: sessionmaker[Session], policy: Policy, now: datetime) -> RetentionRun:
    """One run: log it, delete what is past the cutoff chunk by chunk (at most `max_rows`), log the outcome."""
    before = cutoff(now, policy.keep_days)
    with transaction(factory) as s:
        run = RetentionRun(target=policy.target, keep_days=policy.keep_days, cutoff=before, started_at=now,
                           deleted=0, chunks=0, complete=False)
        s.add(run)
        s.flush()
        run_id = run.id
        branches = list(s.scalars(select(Branch.id).order_by(Branch.id)))
    model, key, at, per_branch = _plan(policy.target)
    scopes: list[ColumnElement[bool] | None] = (
        [model.branch_id == b for b in branches] if per_branch else [None])  # type: ignore[attr-defined]
    deleted = chunks = 0
    complete = True
    for scope in scopes:
        while True:
            budget = min(policy.chunk_rows, policy.max_rows - deleted)
            if budget <= 0:
                complete = False
                break
            where = [at < before] + ([scope] if scope is not None else [])
            with transaction(factory) as s:
                n = s.execute(delete(model).where(key.in_(select(key).where(*where).limit(budget)))
                              .execution_options(synchronize_session=False)).rowcount or 0
            if n == 0:
                break
            deleted, chunks = deleted + n, chunks + 1
            if n < budget:
                break
        if not complete:
            break
    with transaction(factory) as s:
        run = s.get(RetentionRun, run_id)
        assert run is not None
        run.deleted, run.chunks, run.complete, run.finished_at = deleted, chunks, complete, now
        if deleted:
            audit.record(s, actor=audit.SYSTEM, action="retention.purge", object_type=policy.target.value,
                         object_id=str(run_id), detail={"deleted": deleted, "keep_days": policy.keep_days,
                                                        "cutoff": before.isoformat(), "complete": complete})
        s.flush()
        s.expunge(run)
    if deleted:
        log.info("retention: deleted %d %s older than %s (%d days) in %d chunks%s", deleted, policy.target.value,
                 before.isoformat(timespec="seconds"), policy.keep_days, chunks,
                 "" if complete else "; more is due, the next run goes on")
    return run


def runs(session: Session, *, target: Target | None = None, limit: int = 50) -> list[RetentionRun]:
    stmt = select(RetentionRun)
    if target is not None:
        stmt = stmt.where(RetentionRun.target == target)
    return list(session.scalars(stmt.order_by(RetentionRun.id.desc()).limit(limit)))
