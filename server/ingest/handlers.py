"""The domain handlers that see every newly stored batch of device events, in order, and where each runs.

A handler is `handle(session, events, now, kept) -> outbox rows`: it gets only events that were
stored for the first time (never a redelivery), runs inside the batch's transaction, and
returns messages for devices (`server.outbox.service.outbox_row`s); `kept` is what the hub
keeps between batches (`server.ingest.kept`). To add a domain, append one `Step` to HANDLERS, saying
in which roles it runs (`szconfig.roles`: a branch's `edge`, the `central` site, or `all` in one).
Keep handlers set-based: one statement per batch, not per event. Work that may lag a moment and gains
from coalescing goes to DEFERRED instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.appointments import sync as appointment_sync
from server.customers import face_probe
from server.customers import flows as crm_flows
from server.customers import optin as face_optin
from server.devices import handlers as fleet
from server.ingest.kept import Kept
from server.ingest.records import EventRecord
from server.link import service as link
from server.link import steps as link_steps
from server.outbox.service import OutboxRow
from server.queueing import flows as queue_flows
from server.queueing import mirror as queue_mirror
from server.touchpoints.service import record_touchpoints
from szconfig.roles import BRANCH, CENTRE, CENTRE_LINK, EDGE_LINK, Role, Roles

Handler = Callable[[Session, Sequence[EventRecord], datetime, Kept], Sequence[OutboxRow]]
Deferred = Callable[[Session, datetime, Kept], Sequence[OutboxRow]]


@dataclass(frozen=True)
class Step:
    """A handler (or deferred work) and the roles it runs in."""

    fn: Any
    roles: Roles


def touchpoints(session: Session, events: Sequence[EventRecord], now: datetime, _kept: Kept) -> list[OutboxRow]:
    record_touchpoints(session, events)
    return []


HANDLERS: list[Step] = [
    Step(link.enqueue, EDGE_LINK),  # the edge: every new event waits for the centre's confirmation
    Step(touchpoints, CENTRE),
    Step(face_probe.answer, BRANCH),  # CRM: face probes matched where the kiosk's replies come from, answered
    Step(face_probe.record_only, CENTRE_LINK),  # CRM: probes the edges answered, matched and recorded, no reply
    Step(face_optin.edge_withdrawals, EDGE_LINK),  # the edge: a withdrawal stops recognition there at once
    Step(crm_flows.handle, CENTRE),  # CRM: customer linking, tags, referral leads
    Step(face_optin.handle, CENTRE),  # CRM: face enrolment, consent grant/withdrawal, the customer's confirmation
    Step(queue_flows.issue_ticket_requests, BRANCH),  # queueing: tickets, replies with number and estimate
    Step(fleet.handle, CENTRE),  # fleet: usage, command results, error rates, queued commands for returning devices
    Step(queue_mirror.record_steps, CENTRE_LINK),  # the branches' queues as their edges sent them up
    Step(appointment_sync.record_changes, CENTRE_LINK),  # appointments booked, checked in, missed at the edges
    Step(face_optin.forget_embeddings, CENTRE),  # last: the event log keeps no face embeddings once handled
]

# Domain work the hub runs on its own clock (`IngestOptions.deferred_every_ms`), in its own transaction:
# outputs that may lag a moment and gain from coalescing many changes into one.
DEFERRED: list[Step] = [
    Step(queue_flows.stale_boards, BRANCH),  # queueing: the boards of branches whose queue changed
    Step(link_steps.send_steps_up, EDGE_LINK),  # the edge: its ticket steps become events that go up
    Step(appointment_sync.send_up, EDGE_LINK),  # the edge: its appointments' changes go up (after the steps)
]


def for_role(steps: Sequence[Step], role: Role | str) -> list[Any]:
    """The functions of `steps` that run in `role`, in order."""
    return [s.fn for s in steps if Role(role) in s.roles]
