"""Staff accounts: create, authenticate (with lock-out), sessions, password resets, demo users."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.orm import Session

from server.branches.models import Branch
from server.db import utcnow
from server.errors import Conflict, Forbidden, Invalid, TryLater, Unauthenticated
from server.staff import security
from server.staff.models import Role, SessionKind, Staff, StaffBranch, StaffSession

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_DURATION = timedelta(minutes=15)
BROWSER_SESSION_TTL = timedelta(hours=12)
BEARER_TOKEN_TTL = timedelta(hours=12)


class StaffError(Invalid):
    """A request about staff that cannot be done as asked; the message says why."""

    def __init__(self, message: str, code: str = "invalid_request"):
        super().__init__(code, message)


def _locked(until: datetime, now: datetime) -> TryLater:
    wait = max(1, int((until - now).total_seconds()))
    return TryLater("account_locked", f"too many failed sign-ins: this account is locked until {until:%H:%M} UTC "
                    f"({(wait + 59) // 60} min); try again later or ask a branch manager to reset the password",
                    retry_after_s=wait)


WRONG_LOGIN = "wrong username or password"


@dataclass(frozen=True)
class NewSession:
    token: str
    csrf_token: str
    expires_at: datetime


def get_by_username(session: Session, username: str) -> Staff | None:
    return session.scalar(select(Staff).where(Staff.username == username))


def _check_branches(session: Session, branch_ids: Iterable[str]) -> list[str]:
    wanted = sorted(set(branch_ids))
    known = set(session.scalars(select(Branch.id).where(Branch.id.in_(wanted)))) if wanted else set()
    missing = [b for b in wanted if b not in known]
    if missing:
        raise StaffError(f"unknown branch(es): {', '.join(missing)}")
    return wanted


def create_staff(
    session: Session,
    *,
    username: str,
    role: Role | str,
    branch_ids: Iterable[str] = (),
    all_branches: bool = False,
    password: str | None = None,
    display_name: str = "",
    locale: str = "zh-CN",
) -> tuple[Staff, str | None]:
    """Create an account; without `password` a one-time password is made and returned (else None)."""
    role = Role(role)
    branches = _check_branches(session, branch_ids)
    if role is Role.ADMIN and not all_branches and not branches:
        all_branches = True
    if all_branches and role is not Role.ADMIN:
        raise StaffError("only the admin role may have all branches")
    if not all_branches and not branches:
        raise StaffError("a staff account needs at least one branch (or --all-branches for admin)")
    if get_by_username(session, username) is not None:
        raise Conflict("conflict", f"username {username!r} is taken")
    otp = None
    if password is None:
        otp = password = security.one_time_password()
    elif problem := security.password_problem(password):
        raise StaffError(problem, "bad_password")
    staff = Staff(
        username=username, display_name=display_name or username, role=role.value, all_branches=all_branches,
        password_hash=security.hash_password(password), must_change_password=otp is not None,
        active=True, locale=locale, failed_logins=0,
        branches=[StaffBranch(branch_id=b) for b in ([] if all_branches else branches)],
    )
    session.add(staff)
    session.flush()
    return staff, otp


def set_password(session: Session, staff: Staff, password: str | None = None) -> str | None:
    """Set a chosen password, or make a one-time one (returned); clears any lock and ends sessions."""
    otp = None
    if password is None:
        otp = password = security.one_time_password()
    elif problem := security.password_problem(password):
        raise StaffError(problem, "bad_password")
    staff.password_hash = security.hash_password(password)
    staff.must_change_password = otp is not None
    staff.failed_logins, staff.failed_since, staff.locked_until = 0, None, None
    revoke_all_sessions(session, staff.id)
    session.flush()
    return otp


def authenticate(session: Session, username: str, password: str, *, now: datetime | None = None) -> Staff:
    """Check a password; count failures and lock the account after MAX_FAILURES in FAILURE_WINDOW.

    Raises Unauthenticated (wrong username or password), TryLater (locked) or Forbidden (disabled)."""
    now = now or utcnow()
    staff = get_by_username(session, username)
    if staff is None:
        security.burn_verify(password)
        raise Unauthenticated("invalid_credentials", WRONG_LOGIN)
    if staff.locked_until is not None and staff.locked_until > now:
        raise _locked(staff.locked_until, now)
    if not security.verify_password(staff.password_hash, password):
        if staff.failed_since is None or now - staff.failed_since > FAILURE_WINDOW:
            staff.failed_since, staff.failed_logins = now, 0
        staff.failed_logins += 1
        if staff.failed_logins >= MAX_FAILURES:
            staff.locked_until = now + LOCK_DURATION
            staff.failed_logins, staff.failed_since = 0, None
            session.flush()
            raise _locked(staff.locked_until, now)
        session.flush()
        raise Unauthenticated("invalid_credentials", WRONG_LOGIN)
    if not staff.active:
        raise Forbidden("account_disabled", "this account is disabled; ask a branch manager")
    staff.failed_logins, staff.failed_since, staff.locked_until = 0, None, None
    session.flush()
    return staff


def open_session(
    session: Session, staff: Staff, kind: SessionKind, *, ip: str | None = None, user_agent: str | None = None,
) -> NewSession:
    """A new sign-in for `staff`; also forgets the account's sessions that ended over a day ago."""
    now = utcnow()
    session.execute(delete(StaffSession).where(
        StaffSession.staff_id == staff.id,
        or_(StaffSession.expires_at < now - timedelta(days=1), StaffSession.revoked_at < now - timedelta(days=1))))
    ttl = BROWSER_SESSION_TTL if kind is SessionKind.BROWSER else BEARER_TOKEN_TTL
    token, csrf = security.new_token(), security.new_token()
    session.add(StaffSession(
        token_hash=security.token_hash(token), staff_id=staff.id, kind=kind.value, csrf_token=csrf,
        created_at=now, expires_at=now + ttl, ip=(ip or "")[:64] or None,
        user_agent=(user_agent or "")[:255] or None,
    ))
    session.flush()
    return NewSession(token=token, csrf_token=csrf, expires_at=now + ttl)


def resolve_session(session: Session, token: str, kind: SessionKind) -> tuple[StaffSession, Staff] | None:
    """The live session and its active staff member for a presented token, or None."""
    row = session.get(StaffSession, security.token_hash(token))
    if row is None or row.kind != kind.value or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    staff = session.get(Staff, row.staff_id)
    if staff is None or not staff.active:
        return None
    return row, staff


def revoke_session(session: Session, token: str) -> None:
    session.execute(update(StaffSession).where(StaffSession.token_hash == security.token_hash(token))
                    .values(revoked_at=utcnow()))


def revoke_all_sessions(session: Session, staff_id: int) -> None:
    session.execute(update(StaffSession).where(StaffSession.staff_id == staff_id,
                                               StaffSession.revoked_at.is_(None)).values(revoked_at=utcnow()))


def list_staff(session: Session, scope: ColumnElement[bool] | None) -> Sequence[Staff]:
    stmt = select(Staff).order_by(Staff.username)
    if scope is not None:
        stmt = stmt.where(scope)
    return session.scalars(stmt).all()


def set_branches(session: Session, staff: Staff, branch_ids: Iterable[str]) -> None:
    wanted = _check_branches(session, branch_ids)
    if not wanted and not staff.all_branches:
        raise StaffError("a staff account needs at least one branch")
    staff.branches = [StaffBranch(branch_id=b) for b in wanted]
    session.flush()


DEMO_ROLES = [Role.LOBBY_STAFF, Role.TELLER, Role.CUSTOMER_MANAGER, Role.BRANCH_MANAGER, Role.MAINTENANCE,
              Role.ADMIN]


def create_demo_users(session: Session, branch_ids: Sequence[str]) -> list[tuple[str, str, str]]:
    """One user per role (`demo-<role>`, scoped to `branch_ids`; admin: all branches).

    Idempotent: existing demo users get a fresh one-time password. Returns (username, role, password).
    """
    out = []
    for role in DEMO_ROLES:
        username = f"demo-{role.value.replace('_', '-')}"
        staff = get_by_username(session, username)
        if staff is None:
            _staff, otp = create_staff(
                session, username=username, role=role, branch_ids=[] if role is Role.ADMIN else branch_ids,
                all_branches=role is Role.ADMIN, display_name=f"Demo {role.value.replace('_', ' ')}",
            )
        else:
            staff.active = True
            otp = set_password(session, staff)
        out.append((username, role.value, otp or ""))
    return out
