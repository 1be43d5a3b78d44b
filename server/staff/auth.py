"""The sign-in flow shared by the token endpoint and the console login form."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from server.audit.service import Outcome
from server.audit.service import record as audit
from server.errors import DomainError, Forbidden
from server.staff import service
from server.staff.models import SessionKind, Staff
from server.web.deps import client_ip, user_agent


def login(request: Request, session: Session, username: str, password: str,
          kind: SessionKind) -> tuple[Staff, service.NewSession]:
    """Check the password, record the attempt in the audit log, open a session; commits in every case.

    Raises what `service.authenticate` raises, or Forbidden when a bearer token is asked for with a one-time
    password."""
    ip, ua = client_ip(request), user_agent(request)
    try:
        staff = service.authenticate(session, username, password)
    except DomainError as err:
        known = service.get_by_username(session, username)
        audit(session, actor=f"staff:{known.id}" if known else "anonymous", actor_name=username[:100],
              action="auth.login", object_type="staff", object_id=known.id if known else None,
              branch_id=(known.branch_ids or [None])[0] if known else None,
              outcome=Outcome.DENIED, ip=ip, user_agent=ua, detail={"reason": err.code, "via": kind.value})
        session.commit()
        raise
    if kind is SessionKind.BEARER and staff.must_change_password:
        session.commit()
        raise Forbidden("password_change_required",
                        "this account still has a one-time password: sign in to the console once "
                        "and choose a new password, then ask for a token")
    new = service.open_session(session, staff, kind, ip=ip, user_agent=ua)
    audit(session, actor=f"staff:{staff.id}", actor_name=staff.username, action="auth.login",
          object_type="staff", object_id=staff.id, branch_id=(staff.branch_ids or [None])[0],
          outcome=Outcome.OK, ip=ip, user_agent=ua, detail={"via": kind.value})
    session.commit()
    return staff, new
