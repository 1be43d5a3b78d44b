"""The domain handlers that see every newly stored batch of device events, in order.

A handler is `handle(session, events, now) -> outbox rows`: it gets only events that were
stored for the first time (never a redelivery), runs inside the batch's transaction, and
returns messages for devices (see `server.outbox.service.outbox_row`). To add a domain, append
one entry to HANDLERS. Keep handlers set-based: one statement per batch, not per event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.devices import handlers as fleet
from server.ingest.records import EventRecord
from server.outbox.service import outbox_row
from server.touchpoints.service import record_touchpoints

Handler = Callable[[Session, Sequence[EventRecord], datetime], Sequence[dict[str, Any]]]


def touchpoints(session: Session, events: Sequence[EventRecord], now: datetime) -> list[dict[str, Any]]:
    record_touchpoints(session, events)
    return []


def acknowledge_ticket_requests(_session: Session, events: Sequence[EventRecord],
                                now: datetime) -> list[dict[str, Any]]:
    """Until queueing answers ticket requests itself, the hub confirms it has them."""
    return [outbox_row(branch_id=e.branch, device_id=e.device, kind="reply", now=now,
                       data={"request_id": e.data["request_id"], "status": "ok", "data": {"accepted": True}})
            for e in events if e.type == "ticket_request"]


HANDLERS: list[Handler] = [
    touchpoints,
    acknowledge_ticket_requests,
    fleet.handle,  # fleet: usage sessions, command results, error rates, queued commands for returning devices
]
