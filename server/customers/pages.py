"""Console pages: customer search, customer 360, referral leads (live), branch KPI dashboard."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from server.branches.models import Branch
from server.customers import live, service
from server.customers.api import load_customer
from server.customers.config import configure
from server.customers.i18n import MESSAGES
from server.customers.models import Customer
from server.referrals.api import list_leads
from server.referrals.models import LeadStatus
from server.staff.models import Role
from server.web import i18n
from server.web.deps import Audit, DbSession, Principal, branch_scope, not_found, require_page_roles
from server.web.pages import Card, NavItem, add_template_dir, register_card, register_nav, render
from server.web.validation import BranchId, IntId

router = APIRouter(include_in_schema=False)
READERS = frozenset({Role.CUSTOMER_MANAGER, Role.BRANCH_MANAGER, Role.LOBBY_STAFF, Role.TELLER})
LEADS = frozenset({Role.CUSTOMER_MANAGER, Role.BRANCH_MANAGER})
ReaderPage = Annotated[Principal, Depends(require_page_roles(*READERS))]
LeadPage = Annotated[Principal, Depends(require_page_roles(*LEADS))]


def _labels(principal: Principal) -> str:
    """Texts the page's script needs, in the caller's language (JSON, rendered as data, not code)."""
    keys = [k for k in MESSAGES["en"] if k.startswith(("leads.", "kpi."))]
    return json.dumps({k: i18n.translate(principal.locale, k) for k in keys}, ensure_ascii=False)


@router.get("/customers")
def customers_page(principal: ReaderPage, session: DbSession, request: Request, audit: Audit,
                   query: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    live.ensure(request.app)
    found = service.search(session, scope=principal.scope(Customer.branch_id), query=query) if query else []
    if query:
        audit.record("customer.search", "customer", None, detail={"results": len(found)},
                     branch_id=next(iter(sorted(principal.branch_ids)), None))
    return render(request, "crm/customers.html", {"query": query or "",
                                                   "items": [service.customer_view(c) for c in found]})


@router.get("/customers/{customer_id}")
def customer_page(customer_id: IntId, principal: ReaderPage, session: DbSession, request: Request,
                  audit: Audit) -> Response:
    c = load_customer(session, customer_id, principal, audit, "customer.read")
    audit.record("customer.read", "customer", c.ref, branch_id=c.branch_id, detail={"via": "console"})
    from server.referrals.models import OPEN, Referral

    leads = list(session.scalars(select(Referral).where(Referral.customer_id == c.id,
                                                        Referral.status.in_([s.value for s in OPEN]))))
    return render(request, "crm/customer.html", {
        "c": service.customer_view(c), "usual": service.usual_business(session, c.id),
        "timeline": service.timeline(session, c.id, limit=50), "visits": service.recent_visits(session, c.id),
        "ledger": service.consents(session, c.id), "leads": leads, "surveys": service.satisfaction(session, c.id)})


@router.get("/referrals")
def referrals_page(principal: LeadPage, session: DbSession, request: Request, audit: Audit,
                   status: Annotated[LeadStatus | None, Query()] = None) -> Response:
    live.ensure(request.app)
    items = list_leads(session, principal, status.value if status else None)
    audit.record("referral.list", "referral", None, branch_id=next(iter(sorted(principal.branch_ids)), None),
                 detail={"results": len(items), "via": "console"})
    return render(request, "crm/referrals.html", {"items": items, "status": status.value if status else "",
                                                  "statuses": [s.value for s in LeadStatus],
                                                  "labels": _labels(principal)})


@router.get("/branches/{branch_id}/kpis")
def kpi_page(branch_id: BranchId, principal: LeadPage, session: DbSession, request: Request) -> Response:
    branch_scope(principal, branch_id, "branch")
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise not_found("branch")
    live.ensure(request.app)
    return render(request, "crm/kpis.html", {"branch": branch, "labels": _labels(principal)})


def setup(app: FastAPI) -> None:
    configure(app.state.settings if hasattr(app.state.settings, "identity_key") else None)
    add_template_dir(Path(__file__).parent / "templates")
    i18n.register_messages(MESSAGES)
    register_nav(NavItem("nav.customers", "/customers", READERS, order=30))
    register_nav(NavItem("nav.referrals", "/referrals", LEADS, order=35))
    register_card(Card("leads", "card.leads", "crm/card_leads.html", LEADS, 30))
    register_card(Card("kpis", "card.kpis", "crm/card_kpis.html", frozenset({Role.BRANCH_MANAGER}), 40))
