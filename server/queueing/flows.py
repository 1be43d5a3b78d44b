"""Cross-domain flow: kiosk ticket requests (over the hub) become tickets and replies.

`issue_ticket_requests` is the ingest handler (server.ingest.handlers.HANDLERS): it sees each new
ticket_request event once, inside the batch transaction, and issues the whole batch's tickets at once
(`issuing.issue_many`, with the queues the hub kept). The boards follow on the hub's own clock
(`stale_boards`, one of `server.ingest.handlers.DEFERRED`): one board per burst of changes. Idempotent by
request_id: a retried request (a new event with the same request_id) gets the same ticket in its reply;
a provisional number the kiosk printed while offline is attached to that ticket, never a second one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from server.audit.service import device_actor
from server.errors import DomainError
from server.ingest.kept import Kept
from server.ingest.records import EventRecord
from server.outbox.service import OutboxRow, outbox_row
from server.queueing import board, issuing
from server.queueing.issuing import Issued, TicketRequest
from wire.messages import IssuedTicket, Refusal, RefusalCode, TicketReplyData, TicketRequestData, bilingual


def issued_ticket(issued: Issued) -> IssuedTicket:
    """The ticket as the kiosk shows and prints it: number, place, estimate, status page."""
    t, est = issued.ticket, issued.estimate
    reason = t.reasons[0] if t.reasons else None
    return IssuedTicket(
        number=t.display, ticket_id=t.id, token=t.token, business=t.business, people_ahead=issued.people_ahead,
        wait_p50_min=est.p50_min if est else None, wait_p90_min=est.p90_min if est else None,
        status_url=f"/t/{t.token}", routed_to=t.channel,
        reason=bilingual(reason["zh"], reason["en"]) if reason else None,
        priority=t.priority == "priority", status=t.status, provisional_number=t.provisional_number)


def _request(e: EventRecord, d: TicketRequestData) -> TicketRequest:
    return TicketRequest(
        e.branch, d.business, source="kiosk", request_id=d.request_id, device_id=e.device, elderly=d.elderly,
        customer_ref=d.customer_ref, visit_id=d.visit_id, appointment_code=d.appointment_code,
        phone_last4=d.phone_last4, provisional_number=d.provisional_number,
        issued_at=e.ts if d.provisional_number else None,
        actor=device_actor(e.branch, e.device))

REFUSAL_CODES = frozenset(c.value for c in RefusalCode)


def issue_ticket_requests(session: Session, events: Sequence[EventRecord], now: datetime,
                          kept: Kept) -> list[OutboxRow]:
    """Issue (or find) the ticket for each new ticket request and reply to the device."""
    requests = [(e, e.data) for e in events if isinstance(e.data, TicketRequestData)]
    if not requests:
        return []
    results, _contexts = issuing.issue_many(session, [_request(e, d) for e, d in requests], now, kept.queues)
    out: list[OutboxRow] = []
    for (e, d), res in zip(requests, results, strict=True):
        if isinstance(res, DomainError):
            code = res.code if res.code in REFUSAL_CODES else RefusalCode.REFUSED  # a newer code: still an answer
            reply = TicketReplyData(request_id=d.request_id, refused=Refusal(
                code=code, message=res.message[:200], opens_at=getattr(res, "opens_at", None)))
        else:
            reply = TicketReplyData(request_id=d.request_id, ticket=issued_ticket(res))
        out.append(outbox_row(branch_id=e.branch, device_id=e.device, data=reply, now=now))
    return out


def stale_boards(session: Session, now: datetime, kept: Kept) -> list[OutboxRow]:
    """The DEFERRED entry: boards of the branches whose queue changed, from the queues the hub kept."""
    return board.stale_boards(session, now, kept.queues)
