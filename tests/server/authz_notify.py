"""Authorisation cases of the notification routes (merged into test_authz_matrix): the bell, the log, the rota."""

from __future__ import annotations

from datetime import timedelta

from server.db import utcnow

OWN, OTHER = "b001", "b002"


def fixtures(factory) -> dict:
    """An on-call shift in each branch (one for every role's delete in b001)."""
    from server.notifications.models import OnCallShift
    from server.staff.service import create_staff

    now = utcnow()
    ctx = {}
    with factory() as s, s.begin():
        for where, branch in (("own", OWN), ("other", OTHER)):
            staff, _ = create_staff(s, username=f"oncall-{where}", role="maintenance", branch_ids=(branch,),
                                    password="Correct-horse-9")
            shifts = [OnCallShift(branch_id=branch, team="field", staff_id=staff.id, level=1, starts_at=now,
                                  ends_at=now + timedelta(hours=8), created_by="fx", created_at=now)
                      for _ in range(8)]
            s.add_all(shifts)
            s.flush()
            ctx[f"{where}_oncall_staff"] = staff.id
            ctx[f"{where}_shifts"] = [sh.id for sh in shifts]
    ctx["shift_from"] = now.isoformat()
    ctx["shift_to"] = (now + timedelta(hours=4)).isoformat()
    return ctx


def _cases() -> dict:
    from server.staff.models import Role
    from tests.server.test_authz_matrix import Case, Req, fixed

    roles = list(Role)

    def shift(ctx, role, where: str) -> Req:
        return Req(f"/api/oncall/{ctx[f'{where}_shifts'][roles.index(role) % 8]}")

    def add(branch: str, staff: str):
        return lambda ctx, role: Req(f"/api/branches/{branch}/oncall", json={
            "team": "field", "staff_id": ctx[staff], "level": 1, "starts_at": ctx["shift_from"],
            "ends_at": ctx["shift_to"]})

    return {
        ("GET", "/api/me/notifications"): Case(fixed("/api/me/notifications")),
        ("GET", "/api/me/notifications/count"): Case(fixed("/api/me/notifications/count")),
        ("POST", "/api/me/notifications/read"): Case(fixed("/api/me/notifications/read", json={})),
        ("GET", "/api/branches/{branch_id}/notifications"): Case(fixed(f"/api/branches/{OWN}/notifications"),
                                                                 other=fixed(f"/api/branches/{OTHER}/notifications")),
        ("GET", "/api/branches/{branch_id}/oncall"): Case(fixed(f"/api/branches/{OWN}/oncall"),
                                                          other=fixed(f"/api/branches/{OTHER}/oncall")),
        ("POST", "/api/branches/{branch_id}/oncall"): Case(add(OWN, "own_oncall_staff"), (201,),
                                                           other=add(OTHER, "other_oncall_staff")),
        ("DELETE", "/api/oncall/{shift_id}"): Case(lambda ctx, role: shift(ctx, role, "own"), (204,),
                                                   other=lambda ctx, role: shift(ctx, role, "other")),
        ("GET", "/notifications"): Case(fixed("/notifications")),
        ("GET", "/branches/{branch_id}/notifications"): Case(fixed(f"/branches/{OWN}/notifications"),
                                                             other=fixed(f"/branches/{OTHER}/notifications")),
    }


CASES = _cases()
FIXTURES = [fixtures]
