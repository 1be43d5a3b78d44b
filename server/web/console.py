"""Console pages: login, branch overview, staff administration, audit log, password change, SSE stream."""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from pydantic import ValidationError
from sqlalchemy import select

from server.audit import service as audit_service
from server.audit.models import AuditEntry
from server.branches.models import Branch
from server.errors import Conflict, DomainError, Invalid
from server.staff import service
from server.staff.api import load_visible_staff, staff_scope
from server.staff.auth import login
from server.staff.models import Role, SessionKind, Staff
from server.staff.security import verify_password
from server.web import i18n
from server.web.deps import (
    SESSION_COOKIE,
    Audit,
    CurrentStaff,
    DbSession,
    PageStaff,
    Principal,
    branch_scope,
    not_found,
    require_page_roles,
)
from server.web.errors import domain_status
from server.web.pages import render
from server.web.validation import BranchId, IntId

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "sz_login_csrf"
ManagerPage = Annotated[Principal, Depends(require_page_roles(Role.BRANCH_MANAGER))]


def _secure(request: Request) -> bool:
    forced = request.app.state.settings_cookie_secure
    return forced if forced is not None else request.url.scheme == "https"


def _safe_next(value: str | None) -> str:
    """Only same-site paths, so the login form cannot be turned into an open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _login_page(request: Request, *, error: str | None = None, status: int = 200, next_: str = "/",
                lang: str | None = None) -> Response:
    token = secrets.token_urlsafe(24)
    headers = {"Cache-Control": "no-store"}
    resp = render(request, "login.html", {"login_csrf": token, "error": error, "next": next_}, status=status,
                  headers=headers, locale=lang)
    resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request),
                    max_age=3600)
    if lang:
        resp.set_cookie(i18n.LANG_COOKIE, lang, samesite="lax", secure=_secure(request), max_age=365 * 86400)
    return resp


@router.get("/login")
def login_form(request: Request, next: Annotated[str | None, Query(max_length=300)] = None,
               lang: Annotated[str | None, Query(max_length=10)] = None) -> Response:
    return _login_page(request, next_=_safe_next(next), lang=i18n.normalise(lang))


@router.post("/login")
def login_submit(
    request: Request, session: DbSession,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=300)] = "/",
) -> Response:
    locale = i18n.normalise(request.cookies.get(i18n.LANG_COOKIE)) or i18n.DEFAULT_LOCALE
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        return _login_page(request, error=i18n.translate(locale, "login.expired"), status=403, next_=_safe_next(next))
    if "\x00" in username:
        return _login_page(request, error=i18n.translate(locale, "login.invalid"), status=401)
    try:
        staff, new = login(request, session, username, password, SessionKind.BROWSER)
    except DomainError as err:
        key = {"account_locked": "login.locked", "account_disabled": "login.disabled"}.get(err.code, "login.invalid")
        message = i18n.translate(locale, key, minutes=(err.retry_after_s or 0) // 60 + 1)
        return _login_page(request, error=message, status=domain_status(err), next_=_safe_next(next))
    target = "/account/password" if staff.must_change_password else _safe_next(next)
    resp = RedirectResponse(target, status_code=303)
    resp.set_cookie(SESSION_COOKIE, new.token, httponly=True, samesite="strict", secure=_secure(request),
                    max_age=int(service.BROWSER_SESSION_TTL.total_seconds()), path="/")
    resp.set_cookie(i18n.LANG_COOKIE, staff.locale, samesite="lax", secure=_secure(request),
                    max_age=365 * 86400)
    resp.delete_cookie(LOGIN_CSRF_COOKIE)
    return resp


@router.post("/logout")
def logout(principal: PageStaff, session: DbSession, audit: Audit) -> Response:
    service.revoke_session(session, principal.token)
    audit.record("auth.logout", "staff", principal.id)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.post("/preferences/locale")
def set_locale(principal: PageStaff, session: DbSession, request: Request, audit: Audit,
               locale: Annotated[str, Form(max_length=10)], next: Annotated[str, Form(max_length=300)] = "/",
               ) -> Response:
    """Remember the chosen language on the account (and in a cookie for the login page)."""
    chosen = i18n.normalise(locale) or i18n.DEFAULT_LOCALE
    staff = session.get(Staff, principal.id)
    assert staff is not None
    if staff.locale != chosen:
        staff.locale = chosen
        audit.record("staff.update_self", "staff", staff.id, detail={"fields": ["locale"]})
    resp = RedirectResponse(_safe_next(next), status_code=303)
    resp.set_cookie(i18n.LANG_COOKIE, chosen, samesite="lax", secure=_secure(request), max_age=365 * 86400)
    return resp


def _branches(session: DbSession, principal: Principal) -> list[Branch]:
    return list(session.scalars(select(Branch).where(principal.scope(Branch.id)).order_by(Branch.id)))


@router.get("/")
def home(principal: PageStaff, session: DbSession, request: Request) -> Response:
    branches = _branches(session, principal)
    if not branches:
        return render(request, "overview.html", {"branch": None, "branches": []})
    return RedirectResponse(f"/branches/{branches[0].id}", status_code=303)


@router.get("/branches/{branch_id}")
def overview(branch_id: BranchId, principal: PageStaff, session: DbSession, request: Request) -> Response:
    branch_scope(principal, branch_id, "branch")
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise not_found("branch")
    return render(request, "overview.html", {"branch": branch, "branches": _branches(session, principal)})


@router.get("/account/password")
def password_form(principal: PageStaff, request: Request) -> Response:
    return render(request, "password.html", {})


@router.post("/account/password")
def password_submit(
    principal: PageStaff, session: DbSession, request: Request, audit: Audit,
    current_password: Annotated[str, Form(max_length=256)],
    new_password: Annotated[str, Form(max_length=256)],
    repeat_password: Annotated[str, Form(max_length=256)],
) -> Response:
    staff = session.get(Staff, principal.id)
    assert staff is not None
    t = principal.locale
    if not verify_password(staff.password_hash, current_password):
        return render(request, "password.html", {"error": i18n.translate(t, "password.wrong")}, status=403)
    if new_password != repeat_password:
        return render(request, "password.html", {"error": i18n.translate(t, "password.mismatch")}, status=422)
    try:
        service.set_password(session, staff, new_password)
    except Invalid as err:
        return render(request, "password.html", {"error": err.message}, status=422)
    audit.record("staff.change_password", "staff", staff.id)
    new = service.open_session(session, staff, SessionKind.BROWSER, ip=request.client.host if request.client
                               else None, user_agent=request.headers.get("user-agent"))
    resp = RedirectResponse("/", status_code=303)
    resp.set_cookie(SESSION_COOKIE, new.token, httponly=True, samesite="strict", secure=_secure(request),
                    max_age=int(service.BROWSER_SESSION_TTL.total_seconds()), path="/")
    return resp


@router.get("/staff")
def staff_page(principal: ManagerPage, session: DbSession, request: Request) -> Response:
    people = service.list_staff(session, staff_scope(principal))
    roles = [r for r in Role if principal.role is Role.ADMIN or r is not Role.ADMIN]
    return render(request, "staff.html", {"people": people, "roles": roles,
                                          "branches": _branches(session, principal)})


@router.post("/staff")
def staff_create(
    principal: ManagerPage, session: DbSession, request: Request, audit: Audit,
    username: Annotated[str, Form(max_length=64)],
    role: Annotated[Role, Form()],
    branch_ids: Annotated[list[str], Form()],
    display_name: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    from server.staff.api import create_staff
    from server.staff.schemas import StaffCreate

    try:
        body = StaffCreate(username=username, role=role, branch_ids=branch_ids, display_name=display_name,
                           all_branches=role is Role.ADMIN)
        out = create_staff(body, principal, session, audit)
    except (ValidationError, Conflict, Invalid) as err:  # a mistake in the form: show it on the page
        session.rollback()
        people = service.list_staff(session, staff_scope(principal))
        message = err.message if isinstance(err, DomainError) else "; ".join(
            f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in err.errors())
        return render(request, "staff.html", {
            "people": people, "roles": [r for r in Role if principal.role is Role.ADMIN or r is not Role.ADMIN],
            "branches": _branches(session, principal), "error": message}, status=422)
    people = service.list_staff(session, staff_scope(principal))
    return render(request, "staff.html", {
        "people": people, "roles": [r for r in Role if principal.role is Role.ADMIN or r is not Role.ADMIN],
        "branches": _branches(session, principal), "otp": out.one_time_password, "otp_user": out.username})


@router.post("/staff/{staff_id}/reset-password")
def staff_reset(staff_id: IntId, principal: ManagerPage, session: DbSession, request: Request,
                audit: Audit) -> Response:
    staff = load_visible_staff(session, principal, staff_id)
    otp = service.set_password(session, staff)
    audit.record("staff.reset_password", "staff", staff.id, branch_id=(staff.branch_ids or [None])[0])
    people = service.list_staff(session, staff_scope(principal))
    return render(request, "staff.html", {
        "people": people, "roles": [r for r in Role if principal.role is Role.ADMIN or r is not Role.ADMIN],
        "branches": _branches(session, principal), "otp": otp, "otp_user": staff.username})


@router.post("/staff/{staff_id}/active")
def staff_active(staff_id: IntId, principal: ManagerPage, session: DbSession, audit: Audit,
                 active: Annotated[bool, Form()]) -> Response:
    staff = load_visible_staff(session, principal, staff_id)
    if staff.id != principal.id:
        staff.active = active
        if not active:
            service.revoke_all_sessions(session, staff.id)
        audit.record("staff.update", "staff", staff.id, branch_id=(staff.branch_ids or [None])[0],
                     detail={"active": active})
    return RedirectResponse("/staff", status_code=303)


@router.get("/audit")
def audit_page(
    principal: ManagerPage, session: DbSession, request: Request, audit: Audit,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    object_type: Annotated[str | None, Query(max_length=100)] = None,
    object_id: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    since_dt = None
    if since:
        try:
            since_dt = datetime.fromisoformat(since)
            since_dt = since_dt.replace(tzinfo=UTC) if since_dt.tzinfo is None else since_dt.astimezone(UTC)
        except (ValueError, OverflowError):
            since_dt = None
    clean = {k: (v if v and "\x00" not in v else None) for k, v in
             {"actor": actor, "object_type": object_type, "object_id": object_id}.items()}
    scope = None if principal.all_branches else principal.scope(AuditEntry.branch_id)
    entries = audit_service.query(session, scope=scope, since=since_dt, limit=200, **clean)
    audit.record("audit.read", "audit_log", None, detail={k: v for k, v in clean.items() if v})
    return render(request, "audit.html", {"entries": entries, "filters": {**clean, "since": since or ""}})


@router.get("/api/events/stream", include_in_schema=True, tags=["console"],
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}})
async def event_stream(request: Request, principal: CurrentStaff) -> StreamingResponse:
    """Live console updates (Server-Sent Events), only for the caller's branches."""
    broadcaster = request.app.state.events
    metrics = request.app.state.metrics

    async def stream():
        metrics.sse_clients.inc()
        try:
            async for chunk in broadcaster.subscribe(principal.can_see_event, request.is_disconnected,
                                                     staff_id=principal.id):
                yield chunk
        finally:
            metrics.sse_clients.dec()

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
