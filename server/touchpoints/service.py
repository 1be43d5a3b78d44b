"""Turn customer-facing device events into touchpoints, grouped into visits, linked to known customers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from server.bulk import Bulk
from server.customers.service import resolve_hashes
from server.ingest.records import EventRecord
from server.touchpoints.models import Touchpoint
from wire.messages import CardReadData, SurveyData, TicketRequestData, VisitData

# Event type → what the touchpoint says about the contact.
TOUCHPOINT_TYPES = {"card_read", "ticket_request", "survey", "face_probe"}


def _detail(e: EventRecord) -> dict[str, Any]:
    d = e.data
    if isinstance(d, CardReadData):
        return {"card_kind": d.card_kind, "masked": d.masked}
    if isinstance(d, TicketRequestData):
        detail: dict[str, Any] = {"business": d.business, "elderly": d.elderly}
        if d.appointment_code is not None:
            detail["appointment_code"] = d.appointment_code
        return detail
    if isinstance(d, SurveyData):
        survey = {"score": d.score, "tags": d.tags, "nps": d.nps, "ticket_id": d.ticket_id, "counter": d.counter}
        return {k: v for k, v in survey.items() if v is not None}
    return {}  # face probes: never the embedding


def record_touchpoints(session: Session, events: Sequence[EventRecord]) -> int:
    """Touchpoints and visits for new events; keyed hashes of known customers resolve to customer ids.

    Both are multi-row statements straight to the driver (`server.bulk`): this runs for every batch."""
    known = resolve_hashes(session, (e.customer_ref for e in events))
    db = Bulk(session)
    rows = [(e.id, e.branch, e.device, e.visit_id, (ref := e.customer_ref), "self_service",
             e.type, db.ts(e.ts), "ok", db.json(_detail(e)), known.get(ref) if ref else None, None)
            for e in events if e.type in TOUCHPOINT_TYPES]
    if rows:
        db.insert("touchpoints", _TOUCHPOINT_COLUMNS, rows, "ON CONFLICT DO NOTHING")
    _upsert_visits(db, events, known)
    return len(rows)


_TOUCHPOINT_COLUMNS = (
    ("event_id", "text"), ("branch_id", "text"), ("device_id", "text"), ("visit_id", "text"), ("customer_ref", "text"),
    ("channel", "text"), ("type", "text"), ("occurred_at", "timestamp"), ("outcome", "text"), ("detail", "jsonb"),
    ("customer_id", "integer"), ("staff_id", "integer"))
_VISIT_COLUMNS = (("id", "text"), ("branch_id", "text"), ("device_id", "text"), ("customer_ref", "text"),
                  ("started_at", "timestamp"), ("last_event_at", "timestamp"), ("ended_at", "timestamp"),
                  ("touchpoints", "integer"), ("customer_id", "integer"))


def record_staff_touchpoint(session: Session, *, event_id: str, branch_id: str, customer_id: int, staff_id: int,
                            channel: str, type: str, occurred_at: Any, outcome: str = "ok",
                            visit_id: str | None = None, detail: dict[str, Any] | None = None) -> None:
    """A contact made by staff (a conversation, a lead met or converted)."""
    session.add(Touchpoint(event_id=event_id, branch_id=branch_id, device_id="staff", visit_id=visit_id,
                           customer_ref=None, channel=channel, type=type, occurred_at=occurred_at, outcome=outcome,
                           detail=detail or {}, customer_id=customer_id, staff_id=staff_id))
    session.flush()


def _upsert_visits(db: Bulk, events: Sequence[EventRecord], known: dict[str, int]) -> None:
    """One row per visit the batch touched: created, or widened to the batch's first and last event."""
    visits: dict[str, dict[str, Any]] = {}
    for e in events:
        vid = e.visit_id
        if not vid:
            continue
        v = visits.get(vid)
        if v is None:
            v = visits[vid] = {"branch_id": e.branch, "device_id": e.device, "customer_ref": None,
                               "started_at": e.ts, "last_event_at": e.ts, "ended_at": None, "touchpoints": 0}
        v["started_at"] = min(v["started_at"], e.ts)
        v["last_event_at"] = max(v["last_event_at"], e.ts)
        v["customer_ref"] = v["customer_ref"] or e.customer_ref
        if isinstance(e.data, VisitData) and e.data.phase == "end":
            v["ended_at"] = e.ts
        if e.type in TOUCHPOINT_TYPES:
            v["touchpoints"] += 1
    if not visits:
        return
    rows = [(vid, v["branch_id"], v["device_id"], v["customer_ref"], db.ts(v["started_at"]),
             db.ts(v["last_event_at"]), db.ts(v["ended_at"]), v["touchpoints"],
             known.get(v["customer_ref"]) if v["customer_ref"] else None) for vid, v in visits.items()]
    db.insert("visits", _VISIT_COLUMNS, rows, "ON CONFLICT (id) DO UPDATE SET "
              f"started_at = {db.least('visits.started_at', 'excluded.started_at')}, "
              f"last_event_at = {db.greatest('visits.last_event_at', 'excluded.last_event_at')}, "
              "ended_at = COALESCE(excluded.ended_at, visits.ended_at), "
              "customer_ref = COALESCE(visits.customer_ref, excluded.customer_ref), "
              "touchpoints = visits.touchpoints + excluded.touchpoints, "
              "customer_id = COALESCE(visits.customer_id, excluded.customer_id)")
