"""Webhook delivery log API and console page: see what was sent to the external CRM, resend dead letters.

This module is the domain's entry in `server.app.ROUTERS`. Branch managers see their branches' deliveries;
the page shows keys, states and errors, never a body (bodies name customers, masked as they are).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import Response

from server.customers.config import crm
from server.db import utcnow
from server.staff.models import Role
from server.web import i18n
from server.web.deps import Audit, DbSession, Principal, not_found, require_page_roles, require_roles
from server.web.pages import NavItem, add_template_dir, register_nav, render
from server.web.validation import IntId
from server.webhooks import service
from server.webhooks.i18n import MESSAGES
from server.webhooks.models import DeliveryStatus, WebhookDelivery
from server.webhooks.schemas import WebhookDeliveriesOut, WebhookDeliveryOut

router = APIRouter(tags=["webhooks"])
ROLES = (Role.BRANCH_MANAGER,)
Reader = Annotated[Principal, Depends(require_roles(*ROLES))]
PageReader = Annotated[Principal, Depends(require_page_roles(*ROLES))]
StatusQuery = Annotated[DeliveryStatus | None, Query(description="pending, delivered or dead (the dead letters)")]


def _log(session: Any, staff: Principal, status: DeliveryStatus | None, limit: int) -> dict[str, Any]:
    scope = staff.scope(WebhookDelivery.branch_id)
    return {"endpoint_configured": bool(crm().settings.webhook_url), "counts": service.counts(session, scope),
            "items": service.deliveries(session, scope, status=status, limit=limit)}


@router.get("/api/webhooks/deliveries", response_model=WebhookDeliveriesOut)
def deliveries(staff: Reader, session: DbSession, status: StatusQuery = None,
               limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict[str, Any]:
    """The delivery log of the caller's branches, newest first, with counts by status."""
    return _log(session, staff, status, limit)


@router.post("/api/webhooks/deliveries/{delivery_id}/resend", response_model=WebhookDeliveryOut)
def resend(delivery_id: IntId, staff: Reader, session: DbSession, audit: Audit) -> WebhookDelivery:
    """Queue a dead (or delivered) delivery again, with a fresh set of attempts and the same idempotency key."""
    d = session.get(WebhookDelivery, delivery_id)
    if d is None:
        raise not_found("webhook delivery")
    audit.require_branch(staff, d.branch_id, action="webhook.resend", object_type="webhook_delivery",
                         object_id=d.id, what="webhook delivery")
    before = d.status
    service.resend(session, d, utcnow())
    audit.record("webhook.resend", "webhook_delivery", d.id, branch_id=d.branch_id,
                 detail={"was": before.value, "key": d.idempotency_key})
    return d


@router.get("/webhooks", include_in_schema=False)
def page(staff: PageReader, session: DbSession, request: Request, status: StatusQuery = None) -> Response:
    labels = {f"wh.st.{s.value}": i18n.translate(staff.locale, f"wh.st.{s.value}") for s in DeliveryStatus}
    return render(request, "webhooks/deliveries.html", {
        **_log(session, staff, status, 200), "status": status.value if status else "",
        "statuses": [s.value for s in DeliveryStatus], "labels": labels})


def setup(app: FastAPI) -> None:
    add_template_dir(Path(__file__).parent / "templates")
    i18n.register_messages(MESSAGES)
    register_nav(NavItem("nav.webhooks", "/webhooks", frozenset(ROLES), order=85))
