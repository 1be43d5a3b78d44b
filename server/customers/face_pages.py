"""Recognition records for staff: the branch's recognition page and report, and a customer's access request
(what is held about me; delete my template). Every read of customer data here is audited."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, Field

from server.branches.models import Branch
from server.customers import service
from server.customers.api import load_customer
from server.customers.face_report import branch_report, held_about
from server.customers.models import ConsentKind
from server.db import utcnow
from server.errors import Invalid
from server.staff.models import Role
from server.web import i18n
from server.web.deps import Audit, DbSession, Principal, branch_scope, not_found, require_page_roles, require_roles
from server.web.pages import Card, add_template_dir, register_card, render
from server.web.validation import BranchId, IntId

router = APIRouter(tags=["customers"])
pages = APIRouter(include_in_schema=False)
PRIVACY_ROLES = (Role.BRANCH_MANAGER, Role.CUSTOMER_MANAGER)
Staff = Annotated[Principal, Depends(require_roles(*PRIVACY_ROLES))]
StaffPage = Annotated[Principal, Depends(require_page_roles(*PRIVACY_ROLES))]
ACCESS_VERSION = "access-request"  # the ledger's text version for a deletion asked for at the counter

MESSAGES = {
    "en": {
        "face.title": "Face recognition", "face.card": "Recognition: consents, matches, withdrawals",
        "face.pia": "Privacy impact assessment", "face.pia_none": "none on record: recognition is off",
        "face.enabled": "Recognition", "face.on": "on", "face.off": "off", "face.versions": "Consent text versions",
        "face.enrolled": "Enrolled customers", "face.templates": "Templates", "face.enrolments": "Enrolments",
        "face.refused": "Refused enrolments", "face.withdrawals": "Withdrawals", "face.probes": "Probes",
        "face.suggested": "Suggested", "face.confirmed": "Confirmed by customer", "face.declined": "Declined",
        "face.unknown": "Unknown", "face.unanswered": "Not answered", "face.log": "Identification log (no images)",
        "face.when": "When", "face.device": "Device", "face.outcome": "Outcome", "face.frames": "Frames",
        "face.customer": "Customer", "face.purges": "Retention purges", "face.none": "—",
        "face.hint": "A match is a hint the customer confirms on the kiosk, never an authentication. Declined "
                     "suggestions are not shown as matches.",
        "face.period": "Last {days} days", "face.reviewed_by": "review by",
        "held.title": "Access request: what we hold", "held.link": "Access request: what we hold",
        "held.hint": "Everything held about this customer, masked, to show or print for them. Template values are "
                     "never shown: only that one exists.",
        "held.identities": "Identities", "held.templates": "Face templates", "held.enrolled_at": "enrolled",
        "held.last_used": "last used", "held.delete": "Delete the face template (withdraws face consent)",
        "held.deleted": "{n} template(s) deleted; face consent withdrawn.", "held.records": "Records",
        "held.touchpoints": "Touchpoints", "held.visits": "Visits", "held.back": "Back to the customer",
    },
    "zh-CN": {
        "face.title": "刷脸识别", "face.card": "刷脸识别：授权、识别、撤回",
        "face.pia": "个人信息保护影响评估", "face.pia_none": "无评估记录：未开通识别",
        "face.enabled": "识别", "face.on": "已开通", "face.off": "未开通", "face.versions": "授权书版本",
        "face.enrolled": "已登记客户", "face.templates": "特征模板", "face.enrolments": "登记",
        "face.refused": "被拒绝的登记", "face.withdrawals": "撤回", "face.probes": "识别请求",
        "face.suggested": "提示", "face.confirmed": "客户确认", "face.declined": "客户否认",
        "face.unknown": "未识别", "face.unanswered": "未答复", "face.log": "识别记录（不含图像）",
        "face.when": "时间", "face.device": "设备", "face.outcome": "结果", "face.frames": "帧数",
        "face.customer": "客户", "face.purges": "到期清除", "face.none": "—",
        "face.hint": "识别结果只是提示，需客户在自助机上确认，绝不用于身份验证；客户否认的提示不作为识别结果显示。",
        "face.period": "最近 {days} 天", "face.reviewed_by": "复评日期",
        "held.title": "查询请求：我行持有的信息", "held.link": "查询请求：我行持有的信息",
        "held.hint": "本行持有的该客户全部信息（已脱敏），可向客户展示或打印。特征模板的数值从不显示，只显示是否存在。",
        "held.identities": "身份凭证", "held.templates": "人脸特征模板", "held.enrolled_at": "登记于",
        "held.last_used": "最近使用", "held.delete": "删除人脸特征模板（撤回人脸授权）",
        "held.deleted": "已删除 {n} 个模板，人脸授权已撤回。", "held.records": "记录",
        "held.touchpoints": "接触记录", "held.visits": "到访", "held.back": "返回客户视图",
    },
}


class PiaOut(BaseModel):
    reference: str
    approved_by: str
    approved_on: date
    review_by: date


class IdentificationOut(BaseModel):
    at: datetime
    device_id: str
    outcome: str = Field(description="suggested, confirmed, declined (by the customer), unknown, off")
    frames: int
    agreeing: int
    customer_ref: str | None = Field(description="only for a suggestion the customer confirmed")
    masked_name: str | None


class PurgeOut(BaseModel):
    at: datetime
    templates: int
    retention_days: int | None


class RecognitionReportOut(BaseModel):
    branch_id: str
    from_: datetime = Field(alias="from")
    to: datetime
    enabled: bool
    consent_versions: list[str]
    pia: PiaOut | None
    enrolled_customers: int
    templates: int
    enrolments: int
    refused_enrolments: dict[str, int]
    withdrawals: int
    probes: int
    suggested: int
    unknown: int
    off: int
    confirmed: int
    declined: int
    unanswered: int
    log: list[IdentificationOut]
    purges: list[PurgeOut]


class LedgerEntryOut(BaseModel):
    kind: str
    granted: bool
    at: datetime
    text_version: str
    source: str
    device_id: str | None


class TemplatesHeldOut(BaseModel):
    count: int
    branches: list[str]
    enrolled_at: datetime | None
    last_used_at: datetime | None


class HeldIdentificationOut(BaseModel):
    at: datetime
    branch_id: str
    device_id: str
    result: str
    answer: str | None


class IdentityHeldOut(BaseModel):
    kind: str
    masked: str


class HeldOut(BaseModel):
    """What is held about a customer: masked values, counts, the consent ledger; never a template's values."""

    customer_ref: str
    masked_name: str
    branch_id: str
    phone: str | None
    id_number: str | None
    tier: str
    language: str
    identities: list[IdentityHeldOut]
    consents: dict[str, bool]
    ledger: list[LedgerEntryOut]
    face_templates: TemplatesHeldOut
    identifications: list[HeldIdentificationOut]
    touchpoints: int
    visits: int


class TemplatesDeletedOut(BaseModel):
    customer_ref: str
    deleted_templates: int
    consent_face: bool


def _period(since: AwareDatetime | None, until: AwareDatetime | None, days: int) -> tuple[Any, Any]:
    end = until or utcnow()
    start = since or end - timedelta(days=days)
    if start >= end or end - start > timedelta(days=400):
        raise Invalid("bad_period", "`from` must be before `to`, at most 400 days apart")
    return start, end


@router.get("/api/branches/{branch_id}/recognition", response_model=RecognitionReportOut, response_model_by_alias=True)
def recognition_report(branch_id: BranchId, staff: Staff, session: DbSession, audit: Audit,
                       from_: Annotated[AwareDatetime | None, Query(alias="from")] = None,
                       to: Annotated[AwareDatetime | None, Query()] = None) -> dict[str, Any]:
    """Assessment, enrolments, matches and declines, withdrawals, the identification log, purge results."""
    branch_scope(staff, branch_id, "branch")
    since, until = _period(from_, to, 30)
    report = branch_report(session, branch_id, since, until)
    audit.record("face.report", "branch", branch_id, branch_id=branch_id, detail={"rows": len(report["log"])})
    return report


@router.get("/api/customers/{customer_id}/held", response_model=HeldOut)
def access_request(customer_id: IntId, staff: Staff, session: DbSession, audit: Audit) -> dict[str, Any]:
    """A customer's access request, handled by staff: everything held about them (masked), audited."""
    c = load_customer(session, customer_id, staff, audit, "customer.access_request")
    audit.record("customer.access_request", "customer", c.ref, branch_id=c.branch_id)
    return held_about(session, c)


@router.delete("/api/customers/{customer_id}/face-templates", response_model=TemplatesDeletedOut)
def delete_template(customer_id: IntId, staff: Staff, session: DbSession, audit: Audit) -> dict[str, Any]:
    """"Delete my template": the face consent is withdrawn in the ledger and every template deleted at once."""
    c = load_customer(session, customer_id, staff, audit, "customer.access_delete")
    held = held_about(session, c)["face_templates"]["count"]
    service.record_consent(session, c, kind=ConsentKind.FACE, granted=False, source=staff.actor,
                           text_version=ACCESS_VERSION, now=utcnow())
    audit.record("customer.access_delete", "customer", c.ref, branch_id=c.branch_id, detail={"templates": held})
    return {"customer_ref": c.ref, "deleted_templates": held, "consent_face": c.consent_face}


@pages.get("/customers/{customer_id}/held")
def access_request_page(customer_id: IntId, principal: StaffPage, session: DbSession, request: Request,
                        audit: Audit) -> Response:
    """The access request on screen, to show or print for the customer at the counter; audited like the API."""
    c = load_customer(session, customer_id, principal, audit, "customer.access_request")
    audit.record("customer.access_request", "customer", c.ref, branch_id=c.branch_id, detail={"via": "console"})
    return render(request, "crm/held.html", {"customer_id": c.id, "h": held_about(session, c)})


@pages.get("/branches/{branch_id}/recognition")
def recognition_page(branch_id: BranchId, principal: StaffPage, session: DbSession, request: Request,
                     audit: Audit, days: Annotated[int, Query(ge=1, le=400)] = 30) -> Response:
    branch_scope(principal, branch_id, "branch")
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise not_found("branch")
    since, until = _period(None, None, days)
    report = branch_report(session, branch_id, since, until)
    audit.record("face.report", "branch", branch_id, branch_id=branch_id,
                 detail={"rows": len(report["log"]), "via": "console"})
    return render(request, "crm/recognition.html", {"branch": branch, "r": report, "days": days})


def setup() -> None:
    add_template_dir(Path(__file__).parent / "templates")
    i18n.register_messages(MESSAGES)
    register_card(Card("recognition", "face.title", "crm/card_recognition.html",
                       frozenset({Role.BRANCH_MANAGER}), 45))
