"""Turn customer-facing device events into touchpoints, grouped into visits, linked to known customers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import Session

from server.customers.service import resolve_hashes
from server.db import greatest, insert_for, least
from server.ingest.records import EventRecord
from server.touchpoints.models import Touchpoint, Visit

# Event type → what the touchpoint says about the contact.
TOUCHPOINT_TYPES = {"card_read", "ticket_request", "survey", "face_probe"}
_CUSTOMER_REF_FIELDS = ("customer_ref", "card_hash")


def _customer_ref(data: dict[str, Any]) -> str | None:
    return next((data[f] for f in _CUSTOMER_REF_FIELDS if data.get(f)), None)


def _detail(e: EventRecord) -> dict[str, Any]:
    d = e.data
    if e.type == "card_read":
        return {"card_kind": d["card_kind"], "masked": d["masked"]}
    if e.type == "ticket_request":
        return {k: d[k] for k in ("business", "elderly", "appointment_code") if d.get(k) is not None}
    if e.type == "survey":
        return {"score": d["score"], "tags": d.get("tags", [])}
    return {}  # face probes: never the embedding


def record_touchpoints(session: Session, events: Sequence[EventRecord]) -> int:
    """Touchpoints and visits for new events; keyed hashes of known customers resolve to customer ids."""
    known = resolve_hashes(session, (_customer_ref(e.data) for e in events))
    rows = [{
        "event_id": e.id, "branch_id": e.branch, "device_id": e.device,
        "visit_id": e.data.get("visit_id"), "customer_ref": (ref := _customer_ref(e.data)),
        "channel": "self_service", "type": e.type, "occurred_at": e.ts, "outcome": "ok",
        "detail": _detail(e), "customer_id": known.get(ref) if ref else None, "staff_id": None,
    } for e in events if e.type in TOUCHPOINT_TYPES]
    if rows:
        session.connection().execute(insert_for(session, Touchpoint).on_conflict_do_nothing(), rows)
    _upsert_visits(session, events, known)
    return len(rows)


def record_staff_touchpoint(session: Session, *, event_id: str, branch_id: str, customer_id: int, staff_id: int,
                            channel: str, type: str, occurred_at: Any, outcome: str = "ok",
                            visit_id: str | None = None, detail: dict[str, Any] | None = None) -> None:
    """A contact made by staff (a conversation, a lead met or converted)."""
    session.add(Touchpoint(event_id=event_id, branch_id=branch_id, device_id="staff", visit_id=visit_id,
                           customer_ref=None, channel=channel, type=type, occurred_at=occurred_at, outcome=outcome,
                           detail=detail or {}, customer_id=customer_id, staff_id=staff_id))
    session.flush()


def _upsert_visits(session: Session, events: Sequence[EventRecord], known: dict[str, int] | None = None) -> None:
    visits: dict[str, dict[str, Any]] = {}
    for e in events:
        vid = e.data.get("visit_id")
        if not vid:
            continue
        v = visits.get(vid)
        if v is None:
            v = visits[vid] = {"id": vid, "branch_id": e.branch, "device_id": e.device,
                               "customer_ref": None, "started_at": e.ts, "last_event_at": e.ts,
                               "ended_at": None, "touchpoints": 0, "customer_id": None}
        v["started_at"] = min(v["started_at"], e.ts)
        v["last_event_at"] = max(v["last_event_at"], e.ts)
        v["customer_ref"] = v["customer_ref"] or _customer_ref(e.data)
        if known and v["customer_ref"]:
            v["customer_id"] = v["customer_id"] or known.get(v["customer_ref"])
        if e.type == "visit" and e.data.get("phase") == "end":
            v["ended_at"] = e.ts
        if e.type in TOUCHPOINT_TYPES:
            v["touchpoints"] += 1
    if not visits:
        return
    dialect = session.get_bind().dialect.name
    stmt = insert_for(session, Visit)
    ex, t = stmt.excluded, Visit.__table__.c
    stmt = stmt.on_conflict_do_update(index_elements=["id"], set_={
        "started_at": least(dialect, t.started_at, ex.started_at),
        "last_event_at": greatest(dialect, t.last_event_at, ex.last_event_at),
        "ended_at": func.coalesce(ex.ended_at, t.ended_at),
        "customer_ref": func.coalesce(t.customer_ref, ex.customer_ref),
        "touchpoints": t.touchpoints + ex.touchpoints,
        "customer_id": func.coalesce(t.customer_id, ex.customer_id),
    })
    session.connection().execute(stmt, list(visits.values()))
