"""Face recognition opt-in at the kiosk: enrolment, consent grant and withdrawal, the customer's confirmation.

The hub handler for `face_enrol`, `face_consent` and `face_confirm` (centre role, next to the CRM handler).
Every request is checked before anything is stored: the branch has recognition switched on (which its config
allows only with a privacy impact assessment), the device is one of the branch's kiosks, the consent text
version is one the branch shows, the customer confirmed being 14 or older, the card belongs to a customer,
and the frames are enough and of one person. A refusal stores nothing but an audit line with its reason.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from server.audit import service as audit
from server.branches.models import Branch
from server.customers import service
from server.customers.config import crm
from server.customers.models import ConsentKind, Customer, FaceIdentification, FaceTemplate
from server.customers.rules import LeadFacts, lead_reason
from server.events.models import Event
from server.ingest.kept import Kept
from server.ingest.records import FACE_TYPES, EventRecord
from server.outbox.service import OutboxRow, outbox_row
from server.referrals.service import create_leads
from server.touchpoints.models import Touchpoint, Visit
from szconfig.branch import RecognitionSettings
from wire.messages import (
    FaceConfirmData,
    FaceConsentData,
    FaceConsentReplyData,
    FaceEnrolData,
    FaceEnrolReplyData,
    FaceRefusal,
    FaceRefusalCode,
    bilingual,
)

log = logging.getLogger(__name__)

REASONS: dict[FaceRefusalCode, tuple[str, str]] = {
    FaceRefusalCode.NO_CUSTOMER: ("未找到与此卡对应的客户，请到柜台办理",
                                  "no customer holds this card: please ask at a counter"),
    FaceRefusalCode.TOO_FEW_EMBEDDINGS: ("清晰的画面不足，请再试一次", "not enough clear frames: please try again"),
    FaceRefusalCode.MISMATCHED_EMBEDDINGS: ("画面中不是同一个人，请再试一次",
                                            "the frames are not of one person: please try again"),
    FaceRefusalCode.UNKNOWN_CONSENT_VERSION: ("授权书版本无效，请到柜台办理",
                                              "this consent text is not in use here: please ask at a counter"),
    FaceRefusalCode.WRONG_BRANCH: ("本机不属于本网点", "this device is not a kiosk of this branch"),
    FaceRefusalCode.AGE_NOT_CONFIRMED: ("未满14周岁需监护人到柜台同意",
                                        "under 14: a parent or guardian consents at a counter"),
    FaceRefusalCode.RECOGNITION_OFF: ("本网点未开通刷脸识别", "face recognition is not offered at this branch"),
    FaceRefusalCode.NOT_ENROLLED: ("您尚未开通刷脸识别", "you are not enrolled for face recognition"),
}


def refusal(code: FaceRefusalCode) -> FaceRefusal:
    zh, en = REASONS[code]
    return FaceRefusal(code=code, message=bilingual(zh, en))


@dataclass(frozen=True, slots=True)
class BranchFace:
    """What the checks need of a branch: its recognition settings and its kiosks."""

    settings: RecognitionSettings
    kiosks: frozenset[str]


def branch_face(session: Session, branch_id: str) -> BranchFace:
    b = session.get(Branch, branch_id)
    cfg = (b.config if b is not None else None) or {}
    return BranchFace(RecognitionSettings.model_validate(cfg.get("recognition") or {}),
                      frozenset(d["id"] for d in cfg.get("devices", []) if d.get("kind") == "kiosk"))


def recognition_on(session: Session, branch_id: str) -> bool:
    return branch_face(session, branch_id).settings.enabled


# Two frames of one enrolment may be at most this far apart. dlib's own same-person distance; measured on ORL
# through the camera simulator (benchmarks/face.py): one person's 5 frames ≤ 0.56 apart, a capture where someone
# else stepped in (3 + 2 frames) ≥ 0.64.
ENROL_MAX_PAIR = 0.6


def frames_agree(embeddings: Sequence[Sequence[float]], max_pair: float = ENROL_MAX_PAIR) -> bool:
    """Every two frames are within `max_pair`: one person, not a swap mid-capture."""
    m = np.asarray(embeddings, dtype=np.float64)
    if not np.all(np.isfinite(m)):
        return False
    return bool(np.linalg.norm(m[:, None, :] - m[None, :, :], axis=2).max() <= max_pair)


def check_enrol(b: BranchFace, device: str, e: FaceEnrolData) -> FaceRefusalCode | None:
    """Why this enrolment must be refused (checks that need no customer), or None. Pure."""
    if not b.settings.enabled:
        return FaceRefusalCode.RECOGNITION_OFF
    if device not in b.kiosks:
        return FaceRefusalCode.WRONG_BRANCH
    if e.consent_version not in b.settings.consent_versions:
        return FaceRefusalCode.UNKNOWN_CONSENT_VERSION
    if not e.age_confirmed:
        return FaceRefusalCode.AGE_NOT_CONFIRMED
    if len(e.embeddings) < b.settings.min_frames:
        return FaceRefusalCode.TOO_FEW_EMBEDDINGS
    if not frames_agree(e.embeddings):
        return FaceRefusalCode.MISMATCHED_EMBEDDINGS
    return None


def handle(session: Session, events: Sequence[EventRecord], now: datetime, _kept: Kept) -> list[OutboxRow]:
    """Ingest handler (centre): answer every enrolment and consent change; record confirmations and declines."""
    out: list[OutboxRow] = []
    for e in events:
        if isinstance(e.data, FaceEnrolData):
            out.append(_enrol(session, e, e.data, now))
        elif isinstance(e.data, FaceConsentData):
            out.append(_consent(session, e, e.data, now))
        elif isinstance(e.data, FaceConfirmData):
            out += _confirm(session, e, e.data, now)
    return out


def forget_embeddings(session: Session, events: Sequence[EventRecord], _now: datetime,
                      _kept: Kept) -> list[OutboxRow]:
    """Ingest handler (centre, after every handler that reads them): the event log keeps face events without their
    embeddings. A template exists only where consent was given; a probe's or a refused enrolment's frames are kept
    nowhere. (A branch's edge keeps them until the centre confirms it has them, then forgets them too.)"""
    face = [e.forgotten() for e in events if e.type in FACE_TYPES]
    for e in face:
        session.execute(update(Event).where(Event.id == e.id).values(data=e.data.model_dump(mode="json",
                                                                                             exclude_none=True)))
    return []


def edge_withdrawals(session: Session, events: Sequence[EventRecord], now: datetime,
                     _kept: Kept) -> list[OutboxRow]:
    """Ingest handler (edge): a withdrawal at one of the branch's kiosks deletes the customer's cached templates
    here in the batch's transaction, so recognition stops at once, link or no link. The customer is identified as
    at the centre (card, or a match this kiosk's customer confirmed: the edge keeps those answers for this); the
    centre deletes its own when the event gets there and answers the kiosk, and its next push-down agrees."""
    for e in events:
        if isinstance(e.data, FaceConfirmData):
            _answer(session, e, e.data, now)
        elif isinstance(e.data, FaceConsentData) and e.data.action == "withdraw":
            if e.device not in branch_face(session, e.branch).kiosks:
                continue
            customer = _customer_of(session, e, e.data)
            if customer is None:
                continue
            service.delete_templates(session, customer, actor=audit.device_actor(e.branch, e.device),
                                     reason="withdrawn")
            customer.consent_face = False
    return []


def _refused(session: Session, e: EventRecord, action: str, code: FaceRefusalCode, request_id: str) -> None:
    audit.record(session, actor=audit.device_actor(e.branch, e.device), action=action, branch_id=e.branch,
                 outcome="refused", detail={"reason": str(code), "request_id": request_id})
    log.info("%s %s at %s/%s refused: %s", action, request_id, e.branch, e.device, code)


def _enrol(session: Session, e: EventRecord, data: FaceEnrolData, now: datetime) -> OutboxRow:
    cfg = crm()
    code = check_enrol(branch_face(session, e.branch), e.device, data)
    customer = None
    if code is None:
        owner = service.resolve_hashes(session, [data.card_hash]).get(data.card_hash)
        customer = session.get(Customer, owner) if owner is not None else None
        code = FaceRefusalCode.NO_CUSTOMER if customer is None else None
    if code is not None or customer is None:
        _refused(session, e, "face.enrol_refused", code or FaceRefusalCode.NO_CUSTOMER, data.request_id)
        return outbox_row(branch_id=e.branch, device_id=e.device, now=now, data=FaceEnrolReplyData(
            request_id=data.request_id, result="refused", refused=refusal(code or FaceRefusalCode.NO_CUSTOMER)))
    actor = audit.device_actor(e.branch, e.device)
    service.delete_templates(session, customer, actor=actor, reason="re_enrolled")  # one enrolment at a time
    ids = service.enrol_face(session, customer, data.embeddings, source=actor, text_version=data.consent_version,
                             now=now, device_id=e.device, branch_id=e.branch, cfg=cfg)
    if data.visit_id:
        session.execute(update(Visit).where(Visit.id == data.visit_id, Visit.customer_id.is_(None))
                        .values(customer_id=customer.id))
    return outbox_row(branch_id=e.branch, device_id=e.device, now=now, data=FaceEnrolReplyData(
        request_id=data.request_id, result="enrolled", templates=len(ids), masked_name=customer.masked_name))


def _customer_of(session: Session, e: EventRecord, data: FaceConsentData) -> Customer | None:
    """The customer the kiosk identified: by card, or by a match this device's customer confirmed."""
    if data.card_hash is not None:
        owner = service.resolve_hashes(session, [data.card_hash]).get(data.card_hash)
        return session.get(Customer, owner) if owner is not None else None
    confirmed = session.scalar(select(FaceIdentification.customer_id).join(
        Customer, Customer.id == FaceIdentification.customer_id).where(
        FaceIdentification.branch_id == e.branch, FaceIdentification.device_id == e.device,
        FaceIdentification.answer == "confirmed", Customer.ref == data.customer_ref,
        *([FaceIdentification.visit_id == data.visit_id] if data.visit_id else []))
        .order_by(FaceIdentification.id.desc()).limit(1))
    return session.get(Customer, confirmed) if confirmed is not None else None


def _consent(session: Session, e: EventRecord, data: FaceConsentData, now: datetime) -> OutboxRow:
    """A withdrawal deletes the templates at once, whatever the branch's settings (withdrawing is always
    possible); a grant without templates is refused: consent at the kiosk comes with an enrolment."""
    b = branch_face(session, e.branch)
    customer = _customer_of(session, e, data)
    code: FaceRefusalCode | None = None
    if e.device not in b.kiosks:
        code = FaceRefusalCode.WRONG_BRANCH
    elif customer is None:
        code = FaceRefusalCode.NO_CUSTOMER
    elif data.action == "grant":
        has = session.scalar(select(FaceTemplate.id).where(FaceTemplate.customer_id == customer.id).limit(1))
        if not b.settings.enabled:
            code = FaceRefusalCode.RECOGNITION_OFF
        elif data.consent_version not in b.settings.consent_versions:
            code = FaceRefusalCode.UNKNOWN_CONSENT_VERSION
        elif has is None:
            code = FaceRefusalCode.NOT_ENROLLED
    if code is not None or customer is None:
        code = code or FaceRefusalCode.NO_CUSTOMER
        _refused(session, e, f"consent.{data.action}_refused", code, data.request_id)
        return outbox_row(branch_id=e.branch, device_id=e.device, now=now, data=FaceConsentReplyData(
            request_id=data.request_id, action=data.action, result="refused", refused=refusal(code)))
    n_before = session.scalar(select(func.count()).select_from(FaceTemplate)
                              .where(FaceTemplate.customer_id == customer.id)) or 0
    service.record_consent(session, customer, kind=ConsentKind.FACE, granted=data.action == "grant",
                           source=audit.device_actor(e.branch, e.device), text_version=data.consent_version,
                           now=now, device_id=e.device)
    return outbox_row(branch_id=e.branch, device_id=e.device, now=now, data=FaceConsentReplyData(
        request_id=data.request_id, action=data.action,
        result="granted" if data.action == "grant" else "withdrawn",
        deleted_templates=n_before if data.action == "withdraw" else 0))


def _answer(session: Session, e: EventRecord, data: FaceConfirmData, now: datetime) -> FaceIdentification | None:
    """Record the customer's answer on the suggestion it answers; None when nothing was suggested or it was
    answered already (the first answer stands)."""
    row = session.scalar(select(FaceIdentification).where(
        FaceIdentification.branch_id == e.branch, FaceIdentification.device_id == e.device,
        FaceIdentification.request_id == data.request_id))
    if row is None or row.result != "matched" or row.answer is not None or row.customer_id is None:
        return None
    row.answer, row.answered_at = ("confirmed" if data.confirmed else "declined"), now
    return row


def _confirm(session: Session, e: EventRecord, data: FaceConfirmData, now: datetime) -> list[OutboxRow]:
    """The customer's answer to the suggestion. Confirmed: the visit is theirs (and a lead may follow).
    Declined: the probe's touchpoint is unlinked, so staff never see it as a match."""
    row = _answer(session, e, data, now)
    if row is None:
        return []
    c = session.get(Customer, row.customer_id)
    actor = audit.device_actor(e.branch, e.device)
    audit.record(session, actor=actor, action="face.confirm" if data.confirmed else "face.decline",
                 object_type="customer", object_id=c.ref if c else None, branch_id=e.branch,
                 detail={"request_id": data.request_id})
    if not data.confirmed or c is None:
        session.execute(update(Touchpoint).where(Touchpoint.branch_id == e.branch, Touchpoint.device_id == e.device,
                                                 Touchpoint.type == "face_probe",
                                                 Touchpoint.customer_id == row.customer_id,
                                                 Touchpoint.visit_id == row.visit_id)
                        .values(customer_id=None, outcome="declined", detail={"result": "declined"}))
        return []
    visit = data.visit_id or row.visit_id
    if visit:
        session.execute(update(Visit).where(Visit.id == visit, Visit.customer_id.is_(None)).values(customer_id=c.id))
    c.last_seen_at = now
    reason = lead_reason(LeadFacts("face_match", None, c.tier, c.tags), crm().rules)
    if reason is None:
        return []
    return list(create_leads(session, [{"branch_id": e.branch, "customer_id": c.id, "visit_id": visit,
                                         "event_id": e.id, "device_id": e.device, "reason": reason.value,
                                         "business": None, "referrer": f"rule:{reason.value}"}], now))
