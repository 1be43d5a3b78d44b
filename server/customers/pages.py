"""Console pages: customer search, customer 360, referral leads (live), branch KPI dashboard."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from server.branches.models import Branch
from server.customers import live, profile, service
from server.customers.api import load_customer
from server.customers.config import configure
from server.customers.face_pages import PRIVACY_ROLES
from server.customers.i18n import MESSAGES
from server.customers.models import Customer
from server.customers.rules import LeadReason, Tier
from server.db import utcnow
from server.errors import Invalid
from server.referrals.models import DECLINE_OUTCOMES, OPEN, Referral
from server.referrals.schemas import LeadOut
from server.referrals.views import KindFilter, LeadQuery, Sort, StatusFilter, WhoFilter, list_leads
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
MANAGER_EDITORS = frozenset({Role.BRANCH_MANAGER, Role.ADMIN})  # who assigns a customer's manager
NOTE_WRITERS = frozenset({Role.CUSTOMER_MANAGER, Role.BRANCH_MANAGER, Role.ADMIN})


def _labels(principal: Principal) -> str:
    """Texts the page's script needs, in the caller's language (JSON, rendered as data, not code)."""
    keys = [k for k in MESSAGES["en"] if k.startswith(("leads.", "kpi.", "crm."))]
    return _json({k: i18n.translate(principal.locale, k) for k in keys})


def _choice(enum: type[StrEnum], value: str | None, name: str) -> str | None:
    """A form's select: empty is "any", anything else must be one of the enum's values."""
    if not value:
        return None
    if value not in {m.value for m in enum}:
        raise Invalid(f"bad_{name}", f"{name} is one of {', '.join(m.value for m in enum)}")
    return value


def _json(data: object) -> str:
    """JSON to embed in a `<script type="application/json">` (a `</` inside a string cannot end the element)."""
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


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
    member = c.branch_id in principal.branch_ids  # notes: only the branch's own staff
    if member:
        audit.record("customer.notes", "customer", c.ref, branch_id=c.branch_id, detail={"via": "console"})
    leads = list(session.scalars(select(Referral).where(Referral.customer_id == c.id, Referral.status.in_(OPEN))))
    return render(request, "crm/customer.html", {
        "c": service.customer_view(c), "usual": service.usual_business(session, c.id),
        "holdings": profile.HOLDINGS.get(c.aum_band or ""), "manager": profile.manager_of(session, c),
        "managers": [m for m in profile.assignable_managers(session, c.branch_id)
                     if m["role"] == Role.CUSTOMER_MANAGER] if principal.role in MANAGER_EDITORS else [],
        "member": member, "notes": profile.notes_of(session, c.id) if member else [],
        "can_note": member and principal.role in NOTE_WRITERS, "can_access_request": principal.role in PRIVACY_ROLES,
        "timeline": service.timeline(session, c.id, limit=50), "visits": service.recent_visits(session, c.id),
        "ledger": service.consents(session, c.id), "leads": leads, "surveys": service.satisfaction(session, c.id)})


@router.get("/referrals")
def referrals_page(principal: LeadPage, session: DbSession, request: Request, audit: Audit,
                   status: Annotated[StatusFilter, Query()] = StatusFilter.OPEN,
                   who: Annotated[WhoFilter, Query()] = WhoFilter.ANYONE,
                   kind: Annotated[KindFilter, Query()] = KindFilter.ANY,
                   reason: Annotated[str | None, Query(max_length=32)] = None,
                   tier: Annotated[str | None, Query(max_length=16)] = None,
                   sort: Annotated[Sort, Query()] = Sort.RANK) -> Response:
    """The worklist (the filter form sends an empty reason or tier for "all")."""
    live.ensure(request.app)
    q = LeadQuery(status, who, kind, _choice(LeadReason, reason, "reason"), _choice(Tier, tier, "tier"), sort, 200)
    items = list_leads(session, principal.scope(Referral.branch_id), q, me=principal.id, now=utcnow())
    audit.record("referral.list", "referral", None, branch_id=next(iter(sorted(principal.branch_ids)), None),
                 detail={"results": len(items), "via": "console"})
    branches = sorted(principal.branch_ids) or sorted({i["branch_id"] for i in items})
    return render(request, "crm/referrals.html", {
        "items": _json([LeadOut.model_validate(i).model_dump(mode="json") for i in items]), "q": q,
        "statuses": [s.value for s in StatusFilter], "whos": [w.value for w in WhoFilter],
        "kinds": [k.value for k in KindFilter], "reasons": [r.value for r in LeadReason],
        "tiers": [t.value for t in Tier], "sorts": [x.value for x in Sort],
        "outcomes": [o.value for o in DECLINE_OUTCOMES],
        "managers": _json({b: profile.assignable_managers(session, b) for b in branches}),
        "branches": branches, "me": principal.id, "labels": _labels(principal)})


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
