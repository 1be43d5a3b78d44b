"""Retention jobs (hourly): touchpoints, visits and the audit log, each as configured (audit kept longest)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from server.customers.config import crm
from server.retention.models import RetentionRun, Target
from server.retention.service import Policy, purge


def _policy(target: Target) -> Policy:
    s = crm().settings
    keep = {Target.TOUCHPOINTS: s.touchpoint_retention_days, Target.VISITS: s.visit_retention_days,
            Target.AUDIT: s.audit_retention_days}[target]
    return Policy(target, keep, s.retention_chunk_rows, s.retention_max_rows)


def purge_touchpoints(factory: sessionmaker[Session], now: datetime) -> RetentionRun:
    return purge(factory, _policy(Target.TOUCHPOINTS), now)


def purge_visits(factory: sessionmaker[Session], now: datetime) -> RetentionRun:
    return purge(factory, _policy(Target.VISITS), now)


def purge_audit(factory: sessionmaker[Session], now: datetime) -> RetentionRun:
    return purge(factory, _policy(Target.AUDIT), now)
