"""HTTP API: sign-in tokens, the caller's own account, and staff administration."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from sqlalchemy import ColumnElement, and_, exists, not_

from server.errors import Conflict, Forbidden
from server.staff import service
from server.staff.auth import login
from server.staff.models import Role, SessionKind, Staff, StaffBranch
from server.staff.schemas import (
    MeOut,
    MeUpdate,
    OneTimePassword,
    PasswordChange,
    StaffCreate,
    StaffOut,
    StaffUpdate,
    TokenOut,
)
from server.staff.security import verify_password
from server.web.deps import Audit, CurrentStaff, DbSession, Principal, not_found, require_roles
from server.web.validation import USERNAME_PATTERN, IntId

router = APIRouter(tags=["auth and staff"])
Manager = Annotated[Principal, Depends(require_roles(Role.BRANCH_MANAGER))]


@router.post("/api/auth/token", response_model=TokenOut,
             responses={401: {"description": "wrong username or password"},
                        403: {"description": "account disabled or one-time password not yet changed"},
                        429: {"description": "account locked after repeated failures"}})
def issue_token(
    request: Request,
    session: DbSession,
    username: Annotated[str, Form(pattern=USERNAME_PATTERN)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
) -> TokenOut:
    """OAuth2 password grant: exchange a username and password for a bearer token (valid 12 h)."""
    _staff, new = login(request, session, username, password, SessionKind.BEARER)
    return TokenOut(access_token=new.token, expires_at=new.expires_at)


@router.post("/api/auth/logout", status_code=204, response_class=Response)
def logout(principal: CurrentStaff, session: DbSession, audit: Audit) -> Response:
    """End the session or revoke the bearer token used for this call."""
    service.revoke_session(session, principal.token)
    audit.record("auth.logout", "staff", principal.id)
    return Response(status_code=204)


def _me(staff: Staff) -> MeOut:
    return MeOut(id=staff.id, username=staff.username, display_name=staff.display_name, role=Role(staff.role),
                 all_branches=staff.all_branches, branch_ids=staff.branch_ids, locale=staff.locale,
                 must_change_password=staff.must_change_password)


@router.get("/api/me", response_model=MeOut)
def me(principal: CurrentStaff, session: DbSession) -> MeOut:
    """Who the caller is: role, branches, language."""
    staff = session.get(Staff, principal.id)
    assert staff is not None
    return _me(staff)


@router.patch("/api/me", response_model=MeOut)
def update_me(body: MeUpdate, principal: CurrentStaff, session: DbSession, audit: Audit) -> MeOut:
    """Change the caller's own language or display name."""
    staff = session.get(Staff, principal.id)
    assert staff is not None
    changes = body.model_dump(exclude_none=True)
    for key, value in changes.items():
        setattr(staff, key, value)
    audit.record("staff.update_self", "staff", staff.id, detail={"fields": sorted(changes)})
    return _me(staff)


@router.post("/api/me/password", status_code=204, response_class=Response,
             responses={422: {"description": "the new password is not acceptable"},
                        403: {"description": "the current password is wrong"}})
def change_password(body: PasswordChange, principal: CurrentStaff, session: DbSession, audit: Audit) -> Response:
    """Replace the caller's password (ends every other session of the account)."""
    staff = session.get(Staff, principal.id)
    assert staff is not None
    if not verify_password(staff.password_hash, body.current_password):
        raise Forbidden("wrong_password", "the current password is wrong")
    service.set_password(session, staff, body.new_password)
    audit.record("staff.change_password", "staff", staff.id)
    return Response(status_code=204)


# --- staff administration (branch managers for their branches, admin everywhere) ---------------------

def staff_scope(principal: Principal) -> ColumnElement[bool] | None:
    """Staff a principal may see: admins all; others those whose every branch is one of theirs."""
    if principal.all_branches:
        return None
    mine = sorted(principal.branch_ids)
    return and_(
        Staff.all_branches.is_(False),
        exists().where(StaffBranch.staff_id == Staff.id, StaffBranch.branch_id.in_(mine)),
        not_(exists().where(StaffBranch.staff_id == Staff.id, StaffBranch.branch_id.not_in(mine))),
    )


def _visible(principal: Principal, staff: Staff | None) -> bool:
    if staff is None:
        return False
    if principal.all_branches:
        return True
    return not staff.all_branches and bool(staff.branch_ids) and set(staff.branch_ids) <= principal.branch_ids


def load_visible_staff(session: DbSession, principal: Principal, staff_id: int) -> Staff:
    staff = session.get(Staff, staff_id)
    if not _visible(principal, staff):
        raise not_found("staff member")
    assert staff is not None
    return staff


def _check_grant(principal: Principal, role: Role | None, all_branches: bool, branch_ids: list[str] | None) -> None:
    """Non-admins may only hand out non-admin roles in their own branches."""
    if principal.role is Role.ADMIN:
        return
    if role is Role.ADMIN or all_branches:
        raise Forbidden("forbidden", "only an admin may create or grant the admin role")
    if branch_ids is not None:
        outside = sorted(set(branch_ids) - principal.branch_ids)
        if outside:
            raise not_found("branch")


def _first_branch(staff: Staff) -> str | None:
    return staff.branch_ids[0] if staff.branch_ids else None


@router.get("/api/staff", response_model=list[StaffOut])
def list_staff(principal: Manager, session: DbSession) -> list[Staff]:
    """Staff accounts in the caller's branches."""
    return list(service.list_staff(session, staff_scope(principal)))


@router.post("/api/staff", response_model=OneTimePassword, status_code=201,
             responses={409: {"description": "username taken"}, 404: {"description": "unknown branch"}})
def create_staff(body: StaffCreate, principal: Manager, session: DbSession, audit: Audit) -> OneTimePassword:
    """Create an account; the answer carries its one-time password (shown once)."""
    _check_grant(principal, body.role, body.all_branches, body.branch_ids)
    staff, otp = service.create_staff(
        session, username=body.username, role=body.role, branch_ids=body.branch_ids,
        all_branches=body.all_branches, display_name=body.display_name, locale=body.locale)
    audit.record("staff.create", "staff", staff.id, branch_id=_first_branch(staff),
                 detail={"username": staff.username, "role": staff.role, "branches": staff.branch_ids})
    return OneTimePassword(username=staff.username, one_time_password=otp or "")


@router.get("/api/staff/{staff_id}", response_model=StaffOut)
def get_staff(staff_id: IntId, principal: Manager, session: DbSession) -> Staff:
    """One staff account (404 outside the caller's branches)."""
    return load_visible_staff(session, principal, staff_id)


@router.patch("/api/staff/{staff_id}", response_model=StaffOut, responses={409: {"description": "not on yourself"}})
def update_staff(staff_id: IntId, body: StaffUpdate, principal: Manager, session: DbSession,
                 audit: Audit) -> Staff:
    """Change a staff member's name, role, branches or active flag."""
    staff = load_visible_staff(session, principal, staff_id)
    changes = body.model_dump(exclude_none=True)
    if staff.id == principal.id and ({"role", "active", "branch_ids"} & set(changes)):
        raise Conflict("conflict", "you cannot change your own role, branches or active flag")
    _check_grant(principal, body.role, False, body.branch_ids)
    if body.role is not None and staff.all_branches and body.role is not Role.ADMIN:
        raise Conflict("conflict", "an all-branches account must keep the admin role")
    if body.branch_ids is not None:
        if staff.all_branches:
            raise Conflict("conflict", "an all-branches account has no branch list")
        service.set_branches(session, staff, body.branch_ids)
    if body.display_name is not None:
        staff.display_name = body.display_name
    if body.role is not None:
        staff.role = body.role.value
    if body.active is not None:
        staff.active = body.active
        if not body.active:
            service.revoke_all_sessions(session, staff.id)
    session.flush()
    audit.record("staff.update", "staff", staff.id, branch_id=_first_branch(staff),
                 detail={k: (v.value if isinstance(v, Role) else v) for k, v in changes.items()})
    return staff


@router.post("/api/staff/{staff_id}/reset-password", response_model=OneTimePassword)
def reset_password(staff_id: IntId, principal: Manager, session: DbSession, audit: Audit) -> OneTimePassword:
    """Give the account a new one-time password (unlocks it and ends its sessions)."""
    staff = load_visible_staff(session, principal, staff_id)
    otp = service.set_password(session, staff)
    audit.record("staff.reset_password", "staff", staff.id, branch_id=_first_branch(staff))
    return OneTimePassword(username=staff.username, one_time_password=otp or "")
