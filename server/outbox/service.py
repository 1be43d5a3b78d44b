"""Write outbound messages inside domain transactions; hand unsent ones to the relay.

A row carries a wire data model (`wire.messages.HubData`), never a dict: the model names the message
type, so its topic and whether the broker retains it, and it was validated when it was built. `enqueue`
takes only `OutboxRow`s, which refuse anything else, so nothing untyped reaches a device.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.bulk import Bulk
from server.db import utcnow
from server.outbox.models import OutboxMessage
from wire.messages import HUB_TYPE_OF, HubData
from wire.topics import HUB_TOPICS, RETAINED, hub_topic


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One message for a device (device_id) or a whole branch (device_id None), not yet written.

    Raises TypeError for data that is no hub message model of `wire.messages`, and TopicError for an address
    the message could not be sent to: both refused where they are written, not by the relay later."""

    branch_id: str
    device_id: str | None
    data: HubData
    created_at: datetime
    message_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def __post_init__(self) -> None:
        kind = HUB_TYPE_OF.get(type(self.data))
        if kind is None:
            raise TypeError(f"an outbox row carries a hub message model of wire.messages, not "
                            f"{type(self.data).__name__}")
        hub_topic(kind, self.branch_id, self.device_id)

    @property
    def kind(self) -> str:
        """The message type (`ticket_reply`, `queue_board`, …), named by the data model."""
        return HUB_TYPE_OF[type(self.data)]

    @property
    def retain(self) -> bool:
        return HUB_TOPICS[self.kind] in RETAINED


def outbox_row(*, branch_id: str, data: HubData, device_id: str | None = None,
               now: datetime | None = None) -> OutboxRow:
    """A message for the relay, made now unless `now` is given (see `OutboxRow` for what is refused)."""
    return OutboxRow(branch_id=branch_id, device_id=device_id, data=data, created_at=now or utcnow())


_COLUMNS = (("message_id", "text"), ("branch_id", "text"), ("device_id", "text"), ("kind", "text"),
            ("data", "jsonb"), ("retain", "boolean"), ("created_at", "timestamp"), ("sent_at", "timestamp"),
            ("attempts", "integer"))


def enqueue(session: Session, rows: Sequence[OutboxRow]) -> None:
    """Add `OutboxRow`s (straight to the driver: the hub enqueues a reply per ticket and its boards)."""
    if not rows:
        return
    untyped = [type(r).__name__ for r in rows if not isinstance(r, OutboxRow)]
    if untyped:
        raise TypeError(f"enqueue takes OutboxRows (outbox_row(...)), got {', '.join(sorted(set(untyped)))}")
    db = Bulk(session)
    db.insert("outbox", _COLUMNS, [(r.message_id, r.branch_id, r.device_id, r.kind, r.data.model_dump_json(
        exclude_none=True), r.retain, db.ts(r.created_at), None, 0) for r in rows])


def pending(session: Session, *, limit: int = 100) -> list[Any]:
    """Unsent rows, oldest first (plain rows: the relay polls often and only reads them)."""
    t = OutboxMessage.__table__
    return list(session.execute(select(t).where(t.c.sent_at.is_(None)).order_by(t.c.id).limit(limit)))


def mark_sent(session: Session, ids: Sequence[int], *, at: datetime | None = None) -> None:
    if ids:
        session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                        .values(sent_at=at or utcnow(), attempts=OutboxMessage.attempts + 1))
