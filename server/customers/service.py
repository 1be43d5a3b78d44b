"""Customer services: import, identity resolution, consents, face enrolment and matching, tags and tiers.

Keyword-only functions taking a session; the caller owns the transaction. Nothing here returns or logs
a clear name or number: customers are kept masked from the start.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from server.audit import service as audit
from server.bulk import Bulk
from server.customers.config import CrmConfig, crm
from server.customers.importer import CustomerRow
from server.customers.models import (
    Consent,
    ConsentKind,
    Customer,
    FaceTemplate,
    Identity,
    TemplateGeneration,
    template_aad,
)
from server.customers.recognition import INDEXES, Decision, decide
from server.customers.rules import Activity, CrmRules, Profile, evaluate
from server.db import insert_for
from server.errors import Conflict, Invalid
from server.touchpoints.models import Touchpoint, Visit

log = logging.getLogger(__name__)


# --- import -----------------------------------------------------------------------------------

def upsert_customer(session: Session, row: CustomerRow, *, branch_id: str, now: datetime) -> tuple[Customer, bool]:
    """Create or update the customer with this pseudonymous ref; (customer, created)."""
    c = session.scalar(select(Customer).where(Customer.ref == row.ref))
    created = c is None
    if c is None:
        c = Customer(ref=row.ref, branch_id=branch_id, created_at=now, tags=[])
        session.add(c)
    c.masked_name, c.phone_masked, c.phone_last4, c.id_masked = (row.masked_name, row.phone_masked,
                                                                 row.phone_last4, row.id_masked)
    c.declared_tier, c.aum_band, c.language, c.birth_date = row.tier, row.aum_band, row.language, row.birth_date
    c.updated_at = now
    session.flush()
    for ident in row.identities:
        for h in ident.hashes:
            owner = session.scalar(select(Identity).where(Identity.hash == h))
            if owner is None:
                session.add(Identity(customer_id=c.id, kind=ident.kind, hash=h, masked=ident.masked))
            elif owner.customer_id != c.id:
                raise Conflict("identity_taken", f"{ident.kind} already belongs to another customer")
    session.flush()
    evaluate_customers(session, [c.id], now)
    return c, created


# --- identities ------------------------------------------------------------------------------

def resolve_hashes(session: Session, hashes: Iterable[str]) -> dict[str, int]:
    """Keyed hash → customer id, for the hashes that belong to a known customer (one query).

    Runs for every ingest batch, so it goes straight to the driver (`server.bulk`)."""
    wanted = sorted({h for h in hashes if h})
    if not wanted:
        return {}
    db = Bulk(session)
    return dict(db.run((("hash", "text"),), "SELECT i.hash, i.customer_id FROM customer_identities AS i "
                       "JOIN {v} ON i.hash = v.hash", [(h,) for h in wanted]))


# --- consents --------------------------------------------------------------------------------

def record_consent(session: Session, customer: Customer, *, kind: ConsentKind, granted: bool, source: str,
                   text_version: str, now: datetime, device_id: str | None = None) -> Consent:
    """Append to the ledger and update the current flag; withdrawing face consent deletes templates at once."""
    entry = Consent(customer_id=customer.id, kind=kind, granted=granted, at=now, source=source[:80],
                    text_version=text_version[:40], device_id=device_id)
    session.add(entry)
    if kind is ConsentKind.FACE:
        customer.consent_face = granted
        if not granted:
            delete_templates(session, customer, actor=source, reason="consent_withdrawn")
    elif kind is ConsentKind.MARKETING:
        customer.consent_marketing = granted
    customer.updated_at = now
    session.flush()
    audit.record(session, actor=source, action="consent.grant" if granted else "consent.withdraw",
                 object_type="customer", object_id=customer.ref, branch_id=customer.branch_id,
                 detail={"kind": str(kind), "text_version": text_version})
    return entry


def consents(session: Session, customer_id: int) -> list[Consent]:
    return list(session.scalars(select(Consent).where(Consent.customer_id == customer_id)
                                .order_by(Consent.at.desc(), Consent.id.desc())))


# --- face templates --------------------------------------------------------------------------

def _bump(session: Session, branch_id: str) -> None:
    stmt = insert_for(session, TemplateGeneration)
    stmt = stmt.on_conflict_do_update(index_elements=["branch_id"],
                                      set_={"generation": TemplateGeneration.__table__.c.generation + 1})
    session.connection().execute(stmt, [{"branch_id": branch_id, "generation": 1}])


def enrol_face(session: Session, customer: Customer, embeddings: Sequence[Sequence[float]], *, source: str,
               text_version: str, now: datetime, device_id: str | None = None, branch_id: str | None = None,
               cfg: CrmConfig | None = None) -> list[int]:
    """Record the face consent (text version, time, device) and store the encrypted templates; Invalid when an
    embedding is not 128 finite numbers."""
    cfg = cfg or crm()
    branch = branch_id or customer.branch_id
    consent = record_consent(session, customer, kind=ConsentKind.FACE, granted=True, source=source,
                             text_version=text_version, now=now, device_id=device_id)
    ids = []
    for e in embeddings:
        try:
            key_id, nonce, ct = cfg.keyring.encrypt(np.asarray(e, dtype=np.float32),
                                                    template_aad(customer.id, branch))
        except ValueError as err:
            raise Invalid("invalid_embedding", str(err)) from err
        t = FaceTemplate(customer_id=customer.id, branch_id=branch, key_id=key_id, nonce=nonce, ciphertext=ct,
                         consent_id=consent.id, created_at=now, last_used_at=now)
        session.add(t)
        session.flush()
        ids.append(t.id)
    _bump(session, branch)
    audit.record(session, actor=source, action="face.enrol", object_type="customer", object_id=customer.ref,
                 branch_id=branch, detail={"templates": len(ids), "device": device_id})
    log.info("face templates enrolled: customer %s, %d templates", customer.ref, len(ids))
    return ids


def delete_templates(session: Session, customer: Customer, *, actor: str, reason: str) -> int:
    branches = set(session.scalars(select(FaceTemplate.branch_id).where(FaceTemplate.customer_id == customer.id)))
    n = session.execute(delete(FaceTemplate).where(FaceTemplate.customer_id == customer.id)).rowcount or 0
    for b in branches:
        _bump(session, b)
    if n:
        audit.record(session, actor=actor, action="face.delete", object_type="customer", object_id=customer.ref,
                     branch_id=customer.branch_id, detail={"templates": n, "reason": reason})
        log.info("face templates deleted: customer %s, %d templates (%s)", customer.ref, n, reason)
    return n


def purge_templates(session: Session, *, now: datetime, retention_days: int) -> int:
    """Delete templates unused for the retention period; returns how many."""
    cutoff = now - timedelta(days=retention_days)
    rows = session.execute(select(FaceTemplate.id, FaceTemplate.branch_id, FaceTemplate.customer_id)
                           .where(FaceTemplate.last_used_at < cutoff)).all()
    if not rows:
        return 0
    session.execute(delete(FaceTemplate).where(FaceTemplate.id.in_([r.id for r in rows])))
    for b in {r.branch_id for r in rows}:
        _bump(session, b)
        audit.record(session, actor=audit.SYSTEM, action="face.purge", object_type="branch", object_id=b,
                     branch_id=b, detail={"templates": sum(1 for r in rows if r.branch_id == b),
                                          "retention_days": retention_days})
    return len(rows)


def rotate_template_key(session: Session, *, cfg: CrmConfig | None = None) -> int:
    """Re-encrypt every template not under the current key (after a new key was put first)."""
    cfg = cfg or crm()
    n = 0
    for t in session.scalars(select(FaceTemplate).where(FaceTemplate.key_id != cfg.keyring.current)):
        aad = template_aad(t.customer_id, t.branch_id)
        t.key_id, t.nonce, t.ciphertext = cfg.keyring.encrypt(cfg.keyring.decrypt(t.key_id, t.nonce, t.ciphertext,
                                                                                 aad), aad)
        n += 1
    session.flush()
    return n


def match_probe(session: Session, branch_id: str, embeddings: Sequence[Sequence[float]], *, now: datetime,
                cfg: CrmConfig | None = None) -> Decision:
    """Search every frame in the branch's index and decide by agreement; touch the used templates."""
    cfg = cfg or crm()
    index = INDEXES.get(session, branch_id, cfg.keyring)
    frames = [index.search(e, cfg.settings.face_threshold, cfg.settings.face_margin) for e in embeddings]
    decision = decide(frames)
    if decision.customer_id is not None:
        session.execute(update(FaceTemplate).where(FaceTemplate.customer_id == decision.customer_id,
                                                   FaceTemplate.branch_id == branch_id)
                        .values(last_used_at=now))
    return decision


# --- tags and tiers --------------------------------------------------------------------------

def evaluate_customers(session: Session, ids: Sequence[int], now: datetime, rules: CrmRules | None = None) -> int:
    """Re-evaluate tier, tags and the elderly flag of these customers from their touchpoints (set-based)."""
    rules = rules or crm().rules
    if not ids:
        return 0
    since = now - timedelta(days=90)
    visits: dict[int, list[datetime]] = defaultdict(list)
    asks: dict[int, list[datetime]] = defaultdict(list)
    for cid, started in session.execute(select(Visit.customer_id, Visit.started_at)
                                        .where(Visit.customer_id.in_(ids), Visit.started_at >= since)):
        visits[cid].append(started)
    wealth = set(rules.wealth_businesses)
    for cid, at, detail in session.execute(select(Touchpoint.customer_id, Touchpoint.occurred_at, Touchpoint.detail)
                                           .where(Touchpoint.customer_id.in_(ids), Touchpoint.type == "ticket_request",
                                                  Touchpoint.occurred_at >= since)):
        if (detail or {}).get("business") in wealth:
            asks[cid].append(at)
    n = 0
    for c in session.scalars(select(Customer).where(Customer.id.in_(ids))):
        tier, tags, elderly = evaluate(Profile(c.aum_band, c.birth_date, Activity(visits[c.id], asks[c.id]),
                                               c.declared_tier), now, rules)
        if (c.tier, list(c.tags or []), c.elderly) != (tier.value, tags, elderly):
            c.tier, c.tags, c.elderly, c.updated_at = tier.value, tags, elderly, now
            n += 1
        c.evaluated_at = now
    session.flush()
    return n


# --- views -----------------------------------------------------------------------------------

def usual_business(session: Session, customer_id: int) -> str | None:
    rows = session.scalars(select(Touchpoint.detail).where(Touchpoint.customer_id == customer_id,
                                                           Touchpoint.type == "ticket_request")
                           .order_by(Touchpoint.occurred_at.desc()).limit(50)).all()
    counts = Counter(d.get("business") for d in rows if d and d.get("business"))
    return counts.most_common(1)[0][0] if counts else None


def search(session: Session, *, scope: Any, query: str | None, limit: int = 50) -> list[Customer]:
    stmt = select(Customer).where(scope)
    q = (query or "").strip()
    if q.isdigit() and len(q) == 4:
        stmt = stmt.where(Customer.phone_last4 == q)
    elif q.lower() in {"standard", "gold", "vip", "private"}:
        stmt = stmt.where(Customer.tier == q.lower())
    elif q.startswith("c-"):
        stmt = stmt.where(Customer.ref == q)
    elif q:
        stmt = stmt.where(or_(Customer.masked_name == q, Customer.masked_name.startswith(q[:1])))
    return list(session.scalars(stmt.order_by(Customer.id).limit(limit)))


def customer_view(c: Customer) -> dict[str, Any]:
    """Everything staff may see of a customer: masked, pseudonymous."""
    return {"id": c.id, "ref": c.ref, "branch_id": c.branch_id, "masked_name": c.masked_name,
            "phone": c.phone_masked, "id_number": c.id_masked, "tier": c.tier, "aum_band": c.aum_band,
            "tags": list(c.tags or []), "language": c.language, "elderly": c.elderly,
            "consents": {"face": c.consent_face, "marketing": c.consent_marketing},
            "last_seen_at": c.last_seen_at}


def timeline(session: Session, customer_id: int, *, limit: int = 100) -> list[dict[str, Any]]:
    rows = session.scalars(select(Touchpoint).where(Touchpoint.customer_id == customer_id)
                           .order_by(Touchpoint.occurred_at.desc(), Touchpoint.id.desc()).limit(limit))
    return [{"id": t.id, "at": t.occurred_at, "branch_id": t.branch_id, "device_id": t.device_id,
             "channel": t.channel, "type": t.type, "outcome": t.outcome, "visit_id": t.visit_id,
             "staff_id": t.staff_id, "detail": _safe_detail(t.detail)} for t in rows]


def _safe_detail(detail: dict[str, Any] | None) -> dict[str, Any]:
    allowed = ("business", "elderly", "score", "tags", "masked", "card_kind", "result", "note", "product",
               "value", "lead_id", "reason")
    return {k: v for k, v in (detail or {}).items() if k in allowed}


def recent_visits(session: Session, customer_id: int, *, limit: int = 10) -> list[dict[str, Any]]:
    rows = session.scalars(select(Visit).where(Visit.customer_id == customer_id)
                           .order_by(Visit.started_at.desc()).limit(limit))
    return [{"id": v.id, "branch_id": v.branch_id, "device_id": v.device_id, "started_at": v.started_at,
             "ended_at": v.ended_at, "touchpoints": v.touchpoints} for v in rows]


def satisfaction(session: Session, customer_id: int, *, limit: int = 20) -> list[dict[str, Any]]:
    rows = session.execute(select(Touchpoint.occurred_at, Touchpoint.detail, Touchpoint.device_id)
                           .where(Touchpoint.customer_id == customer_id, Touchpoint.type == "survey")
                           .order_by(Touchpoint.occurred_at.desc()).limit(limit))
    return [{"at": at, "score": (d or {}).get("score"), "device_id": dev} for at, d, dev in rows]


def count_customers(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Customer)) or 0
