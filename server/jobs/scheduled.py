"""The scheduler's own housekeeping: forget job runs older than RUN_RETENTION."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from server.db import transaction
from server.jobs import lease

RUN_RETENTION = timedelta(days=2)


def prune_runs(factory: sessionmaker[Session], now: datetime) -> int:
    with transaction(factory) as s:
        return lease.prune_runs(s, before=now - RUN_RETENTION)
