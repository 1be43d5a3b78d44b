"""FastAPI request dependencies every domain reuses: DB session, the signed-in staff member, role and branch
checks, the audit writer.

    @router.get("/api/queue/{branch_id}")
    def board(branch_id: BranchId, staff: Staff_ = Depends(require_roles(Role.TELLER)), db: DbSession):
        branch_scope(staff, branch_id)           # 404 outside the caller's branches
        ...
        audit.record("queue.read", "branch", branch_id, branch_id=branch_id)

Rules: an unauthenticated call is 401; a role that may not use an endpoint is 403 (roles are not secret);
an object outside the caller's branches is 404, exactly like one that does not exist, so ids cannot be
probed. `admin` passes every role check and sees every branch.
"""


import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import ColumnElement, false, true
from sqlalchemy.orm import Session

from server.audit import service as audit_service
from server.staff import service
from server.staff.models import Role, SessionKind, Staff

SESSION_COOKIE = "sz_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Paths a user with a one-time password may still use (to change it, or leave).
PASSWORD_CHANGE_PATHS = frozenset({"/api/me", "/api/me/password", "/account/password", "/logout",
                                   "/api/auth/logout"})


# Declares bearer auth in OpenAPI (Swagger UI's "Authorize" button); the check itself is _authenticate.
bearer_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


class LoginRequired(Exception):
    """A console page was opened without a session: the handler redirects to /login."""


class PasswordChangeRequired(Exception):
    """A console page was opened with a one-time password still in use: redirect to /account/password."""


def db_session(request: Request) -> Iterator[Session]:
    """One session per request, committed when the endpoint returns, rolled back when it raises."""
    with request.app.state.sessions() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


DbSession = Annotated[Session, Depends(db_session, scope="function")]


@dataclass(frozen=True)
class Principal:
    """The signed-in staff member as every endpoint sees them."""

    id: int
    username: str
    display_name: str
    role: Role
    branch_ids: frozenset[str]
    all_branches: bool
    locale: str
    must_change_password: bool
    via: SessionKind
    csrf_token: str
    token: str

    @property
    def actor(self) -> str:
        return audit_service.staff_actor(self.id)

    def can_see(self, branch_id: str | None) -> bool:
        return self.all_branches or (branch_id is not None and branch_id in self.branch_ids)

    def can_see_event(self, branch_id: str | None) -> bool:
        """Console events without a branch go to everyone signed in; others only within scope."""
        return branch_id is None or self.can_see(branch_id)

    def scope(self, column: Any) -> ColumnElement[bool]:
        """A WHERE clause limiting `column` (a branch id column) to this principal's branches."""
        if self.all_branches:
            return true()
        if not self.branch_ids:
            return false()
        return column.in_(sorted(self.branch_ids))

    def visible_branches(self, all_ids: list[str]) -> list[str]:
        return [b for b in all_ids if self.can_see(b)]


def not_found(what: str = "object") -> HTTPException:
    return HTTPException(status_code=404, detail=f"{what} not found")


def branch_scope(principal: Principal, branch_id: str | None, what: str = "object") -> None:
    """Raise 404 unless `branch_id` is one of the caller's branches (same answer as a missing object)."""
    if not principal.can_see(branch_id):
        raise not_found(what)


def known_branch(session: Session, principal: Principal, branch_id: str) -> None:
    """A branch the principal may see and the database knows: otherwise the same 404 as any object outside
    their branches."""
    from server.branches.models import Branch

    branch_scope(principal, branch_id, "branch")
    if session.get(Branch, branch_id) is None:
        raise not_found("branch")


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def user_agent(request: Request) -> str | None:
    ua = request.headers.get("user-agent")
    return ua[:255] if ua else None


async def presented_csrf(request: Request) -> str | None:
    """The CSRF token a state-changing request carries (header for fetch(), hidden field for forms)."""
    if request.method in SAFE_METHODS:
        return None
    if header := request.headers.get(CSRF_HEADER):
        return header
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        try:
            form = await request.form()
        except Exception:
            return None
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def _principal(staff: Staff, via: SessionKind, csrf: str, token: str) -> Principal:
    return Principal(
        id=staff.id, username=staff.username, display_name=staff.display_name, role=Role(staff.role),
        branch_ids=frozenset(staff.branch_ids), all_branches=staff.all_branches, locale=staff.locale,
        must_change_password=staff.must_change_password, via=via, csrf_token=csrf, token=token,
    )


def _authenticate(request: Request, session: Session, csrf: str | None) -> Principal | None:
    auth = request.headers.get("authorization", "")
    scheme, _, credentials = auth.partition(" ")
    if scheme.lower() == "bearer" and credentials:
        found = service.resolve_session(session, credentials.strip(), SessionKind.BEARER)
        if found is None:
            raise HTTPException(401, "the bearer token is invalid or expired; get a new one from "
                                     "POST /api/auth/token", headers={"WWW-Authenticate": "Bearer"})
        row, staff = found
        return _principal(staff, SessionKind.BEARER, row.csrf_token, credentials.strip())
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    found = service.resolve_session(session, cookie, SessionKind.BROWSER)
    if found is None:
        return None
    row, staff = found
    if request.method not in SAFE_METHODS and not (csrf and hmac.compare_digest(csrf, row.csrf_token)):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")
    return _principal(staff, SessionKind.BROWSER, row.csrf_token, cookie)


def current_staff(
    request: Request, session: DbSession, csrf: Annotated[str | None, Depends(presented_csrf)],
    _bearer: Annotated[str | None, Depends(bearer_scheme)] = None,
) -> Principal:
    """The caller of an API endpoint (bearer token or console cookie); 401 otherwise."""
    principal = _authenticate(request, session, csrf)
    if principal is None:
        raise HTTPException(401, "sign in first: POST /api/auth/token, then send 'Authorization: Bearer …'",
                            headers={"WWW-Authenticate": "Bearer"})
    if principal.must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS:
        raise HTTPException(403, "this account still uses a one-time password: change it first "
                                 "(POST /api/me/password or the console)")
    request.state.principal = principal
    return principal


def page_staff(
    request: Request, session: DbSession, csrf: Annotated[str | None, Depends(presented_csrf)]
) -> Principal:
    """The caller of a console page; redirects to the login page when there is none."""
    principal = _authenticate(request, session, csrf)
    if principal is None:
        raise LoginRequired()
    if principal.must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS:
        raise PasswordChangeRequired()
    request.state.principal = principal
    return principal


CurrentStaff = Annotated[Principal, Depends(current_staff)]
PageStaff = Annotated[Principal, Depends(page_staff)]


def _gate(roles: tuple[Role, ...], base: Callable[..., Principal]) -> Callable[..., Principal]:
    allowed = frozenset(roles) | {Role.ADMIN}

    def check(principal: Annotated[Principal, Depends(base)]) -> Principal:
        if principal.role not in allowed:
            raise HTTPException(403, f"your role ({principal.role.value}) may not do this; allowed: "
                                     f"{', '.join(sorted(r.value for r in allowed))}")
        return principal

    check.sz_roles = allowed  # type: ignore[attr-defined]  # read by the authorisation-matrix test
    return check


def require_roles(*roles: Role) -> Callable[..., Principal]:
    """Dependency for API endpoints: the caller must have one of `roles` (admin always may)."""
    return _gate(roles, current_staff)


def require_page_roles(*roles: Role) -> Callable[..., Principal]:
    """Dependency for console pages: like require_roles, but a missing session redirects to /login."""
    return _gate(roles, page_staff)


class Auditor:
    """Writes audit entries for the current caller and request (in the request's transaction)."""

    def __init__(self, request: Request, session: Session):
        self.request, self.session = request, session

    def record(self, action: str, object_type: str | None = None, object_id: str | int | None = None, *,
               outcome: str = audit_service.Outcome.OK, branch_id: str | None = None,
               detail: dict[str, Any] | None = None, principal: Principal | None = None) -> None:
        principal = principal or getattr(self.request.state, "principal", None)
        audit_service.record(
            self.session, actor=principal.actor if principal else "anonymous",
            actor_name=principal.username if principal else None, action=action, object_type=object_type,
            object_id=object_id, outcome=outcome, branch_id=branch_id, ip=client_ip(self.request),
            user_agent=user_agent(self.request), detail=detail,
        )


    def require_branch(self, principal: Principal, branch_id: str | None, *, action: str, object_type: str,
                       object_id: str | int | None, what: str = "object", members_only: bool = False) -> None:
        """Like branch_scope, but an attempt outside the caller's branches is also audited as `denied`.

        `members_only`: only staff of the branch itself, not those who see every branch (customer notes).
        The entry is committed on its own session (the request's is rolled back by the 404) and carries no
        branch, so only head office sees probing across branches.
        """
        if (branch_id in principal.branch_ids) if members_only else principal.can_see(branch_id):
            return
        with self.request.app.state.sessions() as own, own.begin():
            audit_service.record(
                own, actor=principal.actor, actor_name=principal.username, action=action,
                object_type=object_type, object_id=object_id, outcome=audit_service.Outcome.DENIED,
                ip=client_ip(self.request), user_agent=user_agent(self.request),
                detail={"reason": "not staff of the branch" if members_only else "outside the caller's branches"},
            )
        raise not_found(what)


def auditor(request: Request, session: DbSession) -> Auditor:
    return Auditor(request, session)


Audit = Annotated[Auditor, Depends(auditor)]
