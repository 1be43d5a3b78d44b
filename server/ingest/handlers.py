"""The domain handlers that see every newly stored batch of device events, in order.

A handler is `handle(session, events, now, kept) -> outbox rows`: it gets only events that were
stored for the first time (never a redelivery), runs inside the batch's transaction, and
returns messages for devices (see `server.outbox.service.outbox_row`); `kept` is what the hub
keeps between batches (`server.ingest.kept`). To add a domain, append one entry to HANDLERS.
Keep handlers set-based: one statement per batch, not per event. Work that may lag a moment
and gains from coalescing goes to DEFERRED instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.customers import flows as crm_flows
from server.devices import handlers as fleet
from server.ingest.kept import Kept
from server.ingest.records import EventRecord
from server.queueing import flows as queue_flows
from server.touchpoints.service import record_touchpoints

Handler = Callable[[Session, Sequence[EventRecord], datetime, Kept], Sequence[dict[str, Any]]]


def touchpoints(session: Session, events: Sequence[EventRecord], now: datetime, _kept: Kept) -> list[dict[str, Any]]:
    record_touchpoints(session, events)
    return []


Deferred = Callable[[Session, datetime, Kept], Sequence[dict[str, Any]]]

HANDLERS: list[Handler] = [
    touchpoints,
    crm_flows.handle,  # CRM: face probe replies, customer linking, tags, referral leads (after touchpoints)
    queue_flows.issue_ticket_requests,  # queueing: tickets, replies with number and estimate
    fleet.handle,  # fleet: usage sessions, command results, error rates, queued commands for returning devices
]

# Domain work the hub runs on its own clock (`IngestOptions.deferred_every_ms`), in its own transaction:
# outputs that may lag a moment and gain from coalescing many changes into one.
DEFERRED: list[Deferred] = [
    queue_flows.stale_boards,  # queueing: the boards of branches whose queue changed
]
