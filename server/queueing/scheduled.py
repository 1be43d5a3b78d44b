"""Queueing jobs: close self-service tickets whose customer has long left the device."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.branches.models import Branch
from server.outbox.service import enqueue
from server.queueing.board import board_row
from server.queueing.locks import branch_config
from server.queueing.tickets import close_stale_self_service as close_stale


def close_stale_self_service(factory: sessionmaker[Session], now: datetime) -> int:
    """For every branch: self-service tickets open longer than `queue.self_service_min` become done."""
    closed = 0
    with factory() as session:
        branch_ids = list(session.scalars(select(Branch.id)))
    for branch_id in branch_ids:
        with factory() as session, session.begin():
            n = close_stale(session, branch_id=branch_id, now=now)
            if n:
                enqueue(session, [board_row(session, branch_config(session, branch_id), now)])
            closed += n
    return closed
