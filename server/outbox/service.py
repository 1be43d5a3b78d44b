"""Write outbound messages inside domain transactions; hand unsent ones to the relay."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.bulk import Bulk
from server.db import utcnow
from server.outbox.models import OutboxMessage

KINDS = {"reply", "command", "queue_board", "queue_call", "staff_lead", "push"}


def outbox_row(*, branch_id: str, kind: str, data: dict[str, Any], device_id: str | None = None,
               retain: bool = False, now: datetime | None = None) -> dict[str, Any]:
    if kind not in KINDS:
        raise ValueError(f"unknown outbox kind {kind!r}; one of {sorted(KINDS)}")
    return {"message_id": str(uuid.uuid4()), "branch_id": branch_id, "device_id": device_id,
            "kind": kind, "data": data, "retain": retain, "created_at": now or utcnow(),
            "sent_at": None, "attempts": 0}


_COLUMNS = (("message_id", "text"), ("branch_id", "text"), ("device_id", "text"), ("kind", "text"),
            ("data", "jsonb"), ("retain", "boolean"), ("created_at", "timestamp"), ("sent_at", "timestamp"),
            ("attempts", "integer"))


def enqueue(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Add `outbox_row`s (straight to the driver: the hub enqueues a reply per ticket and its boards)."""
    if rows:
        db = Bulk(session)
        db.insert("outbox", _COLUMNS, [db.values(_COLUMNS, r) for r in rows])


def pending(session: Session, *, limit: int = 100) -> list[Any]:
    """Unsent rows, oldest first (plain rows: the relay polls often and only reads them)."""
    t = OutboxMessage.__table__
    return list(session.execute(select(t).where(t.c.sent_at.is_(None)).order_by(t.c.id).limit(limit)))


def mark_sent(session: Session, ids: Sequence[int], *, at: datetime | None = None) -> None:
    if ids:
        session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                        .values(sent_at=at or utcnow(), attempts=OutboxMessage.attempts + 1))
