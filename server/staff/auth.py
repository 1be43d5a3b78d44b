"""The sign-in flow shared by the token endpoint and the console login form."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from server.audit.service import Outcome
from server.audit.service import record as audit
from server.staff import service
from server.staff.models import SessionKind, Staff
from server.web.deps import client_ip, user_agent


class LoginRefused(Exception):
    """Why a sign-in failed, with the status and a message that says what to do."""

    def __init__(self, status: int, code: str, message: str, retry_after_s: int | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after_s = status, code, message, retry_after_s


def login(request: Request, session: Session, username: str, password: str,
          kind: SessionKind) -> tuple[Staff, service.NewSession]:
    """Check the password, record the attempt in the audit log, open a session; commits in every case."""
    ip, ua = client_ip(request), user_agent(request)
    try:
        staff = service.authenticate(session, username, password)
    except service.LoginError as err:
        known = service.get_by_username(session, username)
        audit(session, actor=f"staff:{known.id}" if known else "anonymous", actor_name=username[:100],
              action="auth.login", object_type="staff", object_id=known.id if known else None,
              branch_id=(known.branch_ids or [None])[0] if known else None,
              outcome=Outcome.DENIED, ip=ip, user_agent=ua, detail={"reason": err.reason, "via": kind.value})
        session.commit()
        if err.reason == "locked":
            assert err.locked_until is not None
            wait = max(1, int((err.locked_until - service.utcnow()).total_seconds()))
            raise LoginRefused(429, "account_locked",
                               f"too many failed sign-ins: this account is locked until "
                               f"{err.locked_until:%H:%M} UTC ({(wait + 59) // 60} min); "
                               "try again later or ask a branch manager to reset the password",
                               retry_after_s=wait) from err
        if err.reason == "inactive":
            raise LoginRefused(403, "account_disabled",
                               "this account is disabled; ask a branch manager") from err
        raise LoginRefused(401, "invalid_credentials", "wrong username or password") from err
    if kind is SessionKind.BEARER and staff.must_change_password:
        session.commit()
        raise LoginRefused(403, "password_change_required",
                           "this account still has a one-time password: sign in to the console once "
                           "and choose a new password, then ask for a token")
    new = service.open_session(session, staff, kind, ip=ip, user_agent=ua)
    audit(session, actor=f"staff:{staff.id}", actor_name=staff.username, action="auth.login",
          object_type="staff", object_id=staff.id, branch_id=(staff.branch_ids or [None])[0],
          outcome=Outcome.OK, ip=ip, user_agent=ua, detail={"via": kind.value})
    session.commit()
    return staff, new
