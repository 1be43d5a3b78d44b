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

from server.customers import flows as crm_flows
from server.devices import handlers as fleet
from server.ingest.records import EventRecord
from server.queueing import flows as queue_flows
from server.touchpoints.service import record_touchpoints

Handler = Callable[[Session, Sequence[EventRecord], datetime], Sequence[dict[str, Any]]]


def touchpoints(session: Session, events: Sequence[EventRecord], now: datetime) -> list[dict[str, Any]]:
    record_touchpoints(session, events)
    return []


HANDLERS: list[Handler] = [
    touchpoints,
    crm_flows.handle,  # CRM: face probe replies, customer linking, tags, referral leads (after touchpoints)
    queue_flows.issue_ticket_requests,  # queueing: tickets, replies with number and estimate, the board
    fleet.handle,  # fleet: usage sessions, command results, error rates, queued commands for returning devices
]
