"""Retention on SQLite and PostgreSQL: touchpoints, visits and the audit log go after their configured time, in
bounded chunks, each run logged; the audit log is kept longest and still refuses any other change."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DatabaseError

from server.audit.models import AuditEntry
from server.customers.config import configure, crm
from server.retention.models import RetentionRun, Target
from server.retention.scheduled import purge_audit, purge_touchpoints, purge_visits
from server.touchpoints.models import Touchpoint, Visit

NOW = datetime.now(UTC)  # the jobs audit themselves at the real time: keep the clocks together
DAY = timedelta(days=1)


@pytest.fixture
def short_retention():
    """Touchpoints 60 days, visits 90, audit 400; 3 rows per chunk, at most 7 per run."""
    saved = crm()
    configure(saved.settings.model_copy(update={
        "touchpoint_retention_days": 60, "visit_retention_days": 90, "audit_retention_days": 400,
        "retention_chunk_rows": 3, "retention_max_rows": 7}), saved.rules)
    yield
    configure(saved.settings, saved.rules)


def _count(factory, model) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_retention_jobs_delete_in_chunks_and_log_each_run(migrated, short_retention):
    """GIVEN touchpoints, visits and audit entries of many ages in two branches
    WHEN the retention jobs run (3 rows a chunk, 7 a run) THEN what is older than its retention goes, chunk by
    chunk over as many runs as it takes, each run logged (deleted, chunks, complete) and audited; the audit log
    keeps entries older than the customer data's retention, and still refuses updates and early deletes."""
    _engine, factory = migrated
    tp_ages = [1, 10, 59, 61, 70, 80, 100, 200, 300, 400, 500]   # 8 older than 60 days
    visit_ages = [5, 89, 91, 120]                                   # 2 older than 90 days
    audit_ages = [1, 100, 399, 401, 800]                            # 2 older than 400 days
    with factory() as s, s.begin():
        for i, age in enumerate(tp_ages):
            s.add(Touchpoint(event_id=str(uuid.uuid4()), branch_id=("b001", "b002")[i % 2], device_id="k1",
                             channel="self_service", type="ticket_request", occurred_at=NOW - age * DAY, detail={}))
        for i, age in enumerate(visit_ages):
            at = NOW - age * DAY
            s.add(Visit(id=f"v-{i}", branch_id=("b001", "b002")[i % 2], device_id="k1", started_at=at,
                        last_event_at=at, ended_at=at, touchpoints=1))
        for age in audit_ages:
            s.add(AuditEntry(at=NOW - age * DAY, actor="staff:1", action="customer.read", object_type="customer",
                             object_id="c-x", branch_id="b001", outcome="ok", detail={}))

    first = purge_touchpoints(factory, NOW)
    assert (first.deleted, first.complete) == (7, False), "a run stops at its bound"
    assert first.chunks == 3  # branch by branch, at most 3 a chunk: b001 3 + 1, b002 3, then the bound
    second = purge_touchpoints(factory, NOW + timedelta(hours=1))
    assert (second.deleted, second.complete) == (1, True)
    with factory() as s:
        left = sorted(round((NOW - t).total_seconds() / 86400) for t in s.scalars(select(Touchpoint.occurred_at)))
    assert left == [1, 10, 59]

    visits = purge_visits(factory, NOW)
    assert (visits.deleted, visits.complete, _count(factory, Visit)) == (2, True, 2)

    with factory() as s, s.begin(), pytest.raises(DatabaseError), s.begin_nested():
        s.execute(delete(AuditEntry).where(AuditEntry.at < NOW - 500 * DAY))  # no logged run permits it yet
    kept_audit = purge_audit(factory, NOW)
    assert (kept_audit.deleted, kept_audit.complete) == (2, True)
    with factory() as s:
        ages = sorted(round((NOW - a).total_seconds() / 86400) for a in s.scalars(
            select(AuditEntry.at).where(AuditEntry.action == "customer.read")))
        assert ages == [1, 100, 399], "kept longer than the 60/90 days of the customer data"
        runs = list(s.scalars(select(RetentionRun).order_by(RetentionRun.id)))
        assert [(r.target, r.deleted) for r in runs] == [(Target.TOUCHPOINTS, 7), (Target.TOUCHPOINTS, 1),
                                                         (Target.VISITS, 2), (Target.AUDIT, 2)]
        assert all(r.finished_at is not None for r in runs)
        purges = s.scalars(select(AuditEntry.detail).where(AuditEntry.action == "retention.purge")).all()
        assert sorted(p["deleted"] for p in purges) == [1, 2, 2, 7]
    with factory() as s, s.begin():  # still append-only for everything the logged cutoff does not cover
        for stmt in (delete(AuditEntry).where(AuditEntry.at > NOW - 2 * DAY),
                     update(AuditEntry).values(actor="staff:2")):
            with pytest.raises(DatabaseError), s.begin_nested():
                s.execute(stmt)
    assert purge_audit(factory, NOW + DAY).deleted == 0


def test_audit_must_be_kept_longest() -> None:
    """GIVEN retention settings WHEN audit would go before the customer data it speaks of THEN refused."""
    from pydantic import ValidationError

    from szconfig import ServerSettings

    with pytest.raises(ValidationError, match="audit_retention_days"):
        ServerSettings(touchpoint_retention_days=800, audit_retention_days=700)
