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
from typing import Any

from sqlalchemy.orm import Session

from server.audit.service import device_actor
from server.errors import DomainError
from server.ingest.kept import Kept
from server.ingest.records import EventRecord
from server.outbox.service import outbox_row
from server.queueing import board, issuing
from server.queueing.issuing import Issued, TicketRequest


def reply_data(issued: Issued) -> dict[str, Any]:
    """The reply's `data` for a ticket (kept compatible with kiosks that only read `accepted`)."""
    t, est = issued.ticket, issued.estimate
    reason = t.reasons[0] if t.reasons else {}
    data: dict[str, Any] = {
        "accepted": True, "ticket": t.display, "number": t.display, "ticket_id": t.id, "token": t.token,
        "business": t.business, "people_ahead": issued.people_ahead,
        "wait_p50_min": est.p50_min if est else None, "wait_p90_min": est.p90_min if est else None,
        "wait_min": round(est.p50_min) if est else None, "status_url": f"/t/{t.token}",
        "routed_to": t.channel, "reason": reason.get("en"), "reason_zh": reason.get("zh"),
        "priority": t.priority == "priority", "status": t.status,
    }
    if t.provisional_number:
        data["provisional_number"] = t.provisional_number
    return data


def _request(e: EventRecord) -> TicketRequest:
    d = e.data
    return TicketRequest(
        e.branch, d["business"], source="kiosk", request_id=d["request_id"], device_id=e.device,
        elderly=bool(d.get("elderly")), customer_ref=d.get("customer_ref"), visit_id=d.get("visit_id"),
        appointment_code=d.get("appointment_code"), provisional_number=d.get("provisional_number"),
        issued_at=e.ts if d.get("provisional_number") else None, actor=device_actor(e.branch, e.device))


def issue_ticket_requests(session: Session, events: Sequence[EventRecord], now: datetime,
                          kept: Kept) -> list[dict[str, Any]]:
    """Issue (or find) the ticket for each new ticket request and reply to the device."""
    requests = [e for e in events if e.type == "ticket_request"]
    if not requests:
        return []
    results, _contexts = issuing.issue_many(session, [_request(e) for e in requests], now, kept.queues)
    out: list[dict[str, Any]] = []
    for e, res in zip(requests, results, strict=True):
        request_id = e.data["request_id"]
        if isinstance(res, DomainError):
            out.append(outbox_row(branch_id=e.branch, device_id=e.device, kind="reply", now=now, data={
                "request_id": request_id, "status": "error", "error": res.message,
                "data": {"accepted": False, "reason": res.code}}))
            continue
        out.append(outbox_row(branch_id=e.branch, device_id=e.device, kind="reply", now=now,
                              data={"request_id": request_id, "status": "ok", "data": reply_data(res)}))
    return out


def stale_boards(session: Session, now: datetime, kept: Kept) -> list[dict[str, Any]]:
    """The DEFERRED entry: boards of the branches whose queue changed, from the queues the hub kept."""
    return board.stale_boards(session, now, kept.queues)
