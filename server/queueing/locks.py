"""The branch lock every queue change starts with, and the branch configurations it reads.

`lock_branch` is `UPDATE queue_state SET version = version + 1`: it serialises a branch's queue changes across
hub workers and server processes (a row lock on PostgreSQL, the write lock on SQLite) and tells consoles in
other processes that something changed. Configurations are parsed once per change of their timestamp.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.branches.models import Branch
from server.db import insert_for
from server.errors import NotFound
from server.queueing.models import CounterState, QueueState
from szconfig.branch import BranchConfig

_CONFIGS: dict[str, tuple[Any, BranchConfig]] = {}  # branch → (its updated_at, its parsed config)


def branch_config(session: Session, branch_id: str) -> BranchConfig:
    cfg = branch_configs(session, [branch_id]).get(branch_id)
    if cfg is None:
        raise NotFound("not_found", "branch not found")
    return cfg


def branch_configs(session: Session, branch_ids: Sequence[str]) -> dict[str, BranchConfig]:
    """The branches' configurations as mirrored in the database; a config's JSON is read and parsed only
    when its timestamp moved (on the hub's path only the timestamps are read)."""
    stamps = dict(session.execute(select(Branch.id, Branch.updated_at).where(Branch.id.in_(branch_ids))).all())
    stale = [b for b, at in stamps.items() if b not in _CONFIGS or _CONFIGS[b][0] != at]
    if stale:
        for b, config in session.execute(select(Branch.id, Branch.config).where(Branch.id.in_(stale))):
            _CONFIGS[b] = (stamps[b], BranchConfig.model_validate(config))
    return {b: _CONFIGS[b][1] for b in stamps}


def lock_branch(session: Session, branch_id: str, now: datetime) -> QueueState:
    """Take the branch's queue lock (bump its version); creates the state and counter rows on first use."""
    bumped = session.execute(update(QueueState).where(QueueState.branch_id == branch_id)
                             .values(version=QueueState.version + 1, updated_at=now)
                             .returning(QueueState.issuing, QueueState.version)).first()
    if bumped is None:
        _create_states(session, {branch_id: branch_config(session, branch_id)}, now)
        return lock_branch(session, branch_id, now)
    state = session.get(QueueState, branch_id)
    assert state is not None
    return state


def lock_branches(session: Session, branch_ids: Sequence[str], now: datetime) -> dict[str, tuple[bool, int]]:
    """`lock_branch` for many branches in one statement: {branch: (issuing, version)}.

    On PostgreSQL the rows are locked in branch order first, so two workers never deadlock."""
    ids = sorted(set(branch_ids))
    t = QueueState.__table__.c
    session.flush()  # Core statements below: pending ORM changes first
    if session.get_bind().dialect.name != "sqlite":
        session.execute(select(t.branch_id).where(t.branch_id.in_(ids)).order_by(t.branch_id).with_for_update())
    rows = session.execute(update(QueueState.__table__).where(t.branch_id.in_(ids))
                           .values(version=t.version + 1, updated_at=now)
                           .returning(t.branch_id, t.issuing, t.version))
    locked = {b: (bool(issuing), version) for b, issuing, version in rows}
    missing = [b for b in ids if b not in locked]
    if missing and _create_states(session, branch_configs(session, missing), now):
        locked.update(lock_branches(session, missing, now))
    return locked


def _create_states(session: Session, cfgs: dict[str, BranchConfig], now: datetime) -> bool:
    """A branch's queue state and counter rows, on its first use (another worker may do the same)."""
    if not cfgs:
        return False
    stmt = insert_for(session, QueueState).on_conflict_do_nothing(index_elements=["branch_id"])
    session.connection().execute(stmt, [{"branch_id": b, "issuing": True, "version": 0, "updated_at": now}
                                        for b in sorted(cfgs)])
    counters = [{"branch_id": b, "number": c.number, "open": True, "regular_streak": 0, "updated_at": now}
                for b in sorted(cfgs) for c in cfgs[b].counters]
    if counters:
        stmt = insert_for(session, CounterState).on_conflict_do_nothing(index_elements=["branch_id", "number"])
        session.connection().execute(stmt, counters)
    return True


def queue_state(session: Session, branch_id: str, now: datetime) -> QueueState:
    state = session.get(QueueState, branch_id)
    if state is None:
        state = lock_branch(session, branch_id, now)
    return state


def set_issuing(session: Session, *, branch_id: str, issuing: bool, now: datetime) -> QueueState:
    state = lock_branch(session, branch_id, now)
    state.issuing = issuing
    return state

