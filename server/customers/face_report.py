"""The recognition duties as records: a branch's report (assessment, enrolments, matches and declines, withdrawals,
the identification log without images, purge results) and a customer's access request (what is held about them).

Read-only queries; masked and pseudonymous only. A declined suggestion never shows the suggested customer.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.audit.models import AuditEntry
from server.customers.models import Consent, ConsentKind, Customer, FaceIdentification, FaceTemplate, Identity
from server.customers.optin import branch_face
from server.touchpoints.models import Touchpoint, Visit

LOG_ROWS = 100


def branch_report(session: Session, branch_id: str, since: datetime, until: datetime) -> dict[str, Any]:
    b = branch_face(session, branch_id)
    pia = b.settings.pia
    enrolled = session.execute(select(func.count(func.distinct(FaceTemplate.customer_id)), func.count())
                               .where(FaceTemplate.branch_id == branch_id)).one()
    audits = Counter(session.scalars(select(AuditEntry.action).where(
        AuditEntry.branch_id == branch_id, AuditEntry.at >= since, AuditEntry.at < until,
        AuditEntry.action.in_(["face.enrol", "face.enrol_refused", "consent.withdraw", "face.purge"]))))
    withdrawals = session.scalar(select(func.count()).select_from(Consent).where(
        Consent.kind == ConsentKind.FACE, Consent.granted.is_(False), Consent.at >= since, Consent.at < until,
        Consent.customer_id.in_(select(Customer.id).where(Customer.branch_id == branch_id)))) or 0
    refusals = Counter(d.get("reason") for d in session.scalars(select(AuditEntry.detail).where(
        AuditEntry.branch_id == branch_id, AuditEntry.action == "face.enrol_refused", AuditEntry.at >= since,
        AuditEntry.at < until)) if d)
    ident = list(session.execute(select(FaceIdentification.result, FaceIdentification.answer, func.count())
                                 .where(FaceIdentification.branch_id == branch_id, FaceIdentification.at >= since,
                                        FaceIdentification.at < until)
                                 .group_by(FaceIdentification.result, FaceIdentification.answer)))
    by = Counter()
    for result, answer, n in ident:
        by[result] += n
        by[f"{result}:{answer or 'unanswered'}"] += n
    rows = session.execute(select(FaceIdentification, Customer.masked_name, Customer.ref)
                           .outerjoin(Customer, Customer.id == FaceIdentification.customer_id)
                           .where(FaceIdentification.branch_id == branch_id, FaceIdentification.at >= since,
                                  FaceIdentification.at < until)
                           .order_by(FaceIdentification.at.desc(), FaceIdentification.id.desc()).limit(LOG_ROWS))
    purges = session.execute(select(AuditEntry.at, AuditEntry.detail).where(
        AuditEntry.branch_id == branch_id, AuditEntry.action == "face.purge")
        .order_by(AuditEntry.at.desc()).limit(20)).all()
    return {
        "branch_id": branch_id, "from": since, "to": until,
        "enabled": b.settings.enabled, "consent_versions": list(b.settings.consent_versions),
        "pia": None if pia is None else {"reference": pia.reference, "approved_by": pia.approved_by,
                                         "approved_on": pia.approved_on, "review_by": pia.review_by},
        "enrolled_customers": enrolled[0] or 0, "templates": enrolled[1] or 0,
        "enrolments": audits["face.enrol"], "refused_enrolments": dict(refusals), "withdrawals": withdrawals,
        "probes": sum(n for _r, _a, n in ident), "suggested": by["matched"], "unknown": by["unknown"],
        "off": by["off"], "confirmed": by["matched:confirmed"], "declined": by["matched:declined"],
        "unanswered": by["matched:unanswered"],
        "log": [_log_row(r, name, ref) for r, name, ref in rows],
        "purges": [{"at": at, "templates": (d or {}).get("templates", 0),
                    "retention_days": (d or {}).get("retention_days")} for at, d in purges],
    }


def _log_row(r: FaceIdentification, masked_name: str | None, ref: str | None) -> dict[str, Any]:
    """Only a confirmed suggestion names the customer; a declined or unanswered one is shown as such."""
    shown = r.result == "matched" and r.answer == "confirmed"
    outcome = {"confirmed": "confirmed", "declined": "declined"}.get(r.answer or "", "suggested") \
        if r.result == "matched" else r.result
    return {"at": r.at, "device_id": r.device_id, "outcome": outcome, "frames": r.frames, "agreeing": r.agreeing,
            "customer_ref": ref if shown else None, "masked_name": masked_name if shown else None}


def held_about(session: Session, c: Customer) -> dict[str, Any]:
    """A customer's access request (PIPL art. 45): every kind of record held about them, masked; no template or
    embedding values, only that they exist and since when."""
    templates = session.execute(select(FaceTemplate.branch_id, FaceTemplate.created_at, FaceTemplate.last_used_at)
                                .where(FaceTemplate.customer_id == c.id).order_by(FaceTemplate.id)).all()
    idents = session.execute(select(Identity.kind, Identity.masked).where(Identity.customer_id == c.id)).all()
    ledger = session.scalars(select(Consent).where(Consent.customer_id == c.id).order_by(Consent.at, Consent.id))
    log = session.scalars(select(FaceIdentification).where(FaceIdentification.customer_id == c.id)
                          .order_by(FaceIdentification.at.desc()).limit(LOG_ROWS))
    return {
        "customer_ref": c.ref, "masked_name": c.masked_name, "branch_id": c.branch_id,
        "phone": c.phone_masked, "id_number": c.id_masked, "tier": c.tier, "language": c.language,
        "identities": [{"kind": k, "masked": m} for k, m in idents],
        "consents": {"face": c.consent_face, "marketing": c.consent_marketing},
        "ledger": [{"kind": e.kind, "granted": e.granted, "at": e.at, "text_version": e.text_version,
                    "source": e.source, "device_id": e.device_id} for e in ledger],
        "face_templates": {"count": len(templates), "branches": sorted({t.branch_id for t in templates}),
                           "enrolled_at": min((t.created_at for t in templates), default=None),
                           "last_used_at": max((t.last_used_at for t in templates), default=None)},
        "identifications": [{"at": r.at, "branch_id": r.branch_id, "device_id": r.device_id, "result": r.result,
                             "answer": r.answer} for r in log],
        "touchpoints": session.scalar(select(func.count()).select_from(Touchpoint)
                                      .where(Touchpoint.customer_id == c.id)) or 0,
        "visits": session.scalar(select(func.count()).select_from(Visit).where(Visit.customer_id == c.id)) or 0,
    }
