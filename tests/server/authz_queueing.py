"""Authorisation cases of the queueing routes (merged into test_authz_matrix), and the tickets they touch.

Stateful actions may find the ticket already moved on by an earlier role's call: 409 counts as allowed.
"""

from __future__ import annotations

from typing import Any

from server.staff.models import Role
from tests.queueing.helpers import queue_fixtures
from tests.server.test_authz_matrix import Case, Req, fixed

OWN, OTHER = "b001", "b002"
# A teller acts only at the counter they are signed in at (the matrix's teller is signed in nowhere when the lobby
# console's routes run, and at counter 1 afterwards, where the fixtures' tickets are not): 403 with a code.
NOT_THEIRS = {Role.TELLER: (403,)}

# The printed ticket's QR code: the number, place and estimate only, for the customer without an account.
PUBLIC: dict[tuple[str, str], Req] = {("GET", "/t/{token}"): Req("/t/no-such-ticket-token")}

CASES: dict[tuple[str, str], Any] = {
    ("GET", "/api/branches/{branch_id}/queue"): Case(fixed(f"/api/branches/{OWN}/queue"),
                                                     other=fixed(f"/api/branches/{OTHER}/queue")),
    ("GET", "/api/branches/{branch_id}/queue/board"): Case(fixed(f"/api/branches/{OWN}/queue/board"),
                                                           other=fixed(f"/api/branches/{OTHER}/queue/board")),
    ("GET", "/api/branches/{branch_id}/queue/kpis"): Case(fixed(f"/api/branches/{OWN}/queue/kpis"),
                                                          other=fixed(f"/api/branches/{OTHER}/queue/kpis")),
    ("POST", "/api/branches/{branch_id}/tickets"): Case(
        fixed(f"/api/branches/{OWN}/tickets", json={"business": "card"}), (201,), by_role=NOT_THEIRS,
        other=fixed(f"/api/branches/{OTHER}/tickets", json={"business": "card"})),
    ("POST", "/api/branches/{branch_id}/queue/issuing"): Case(
        fixed(f"/api/branches/{OWN}/queue/issuing", json={"issuing": True}), by_role=NOT_THEIRS,
        other=fixed(f"/api/branches/{OTHER}/queue/issuing", json={"issuing": True})),
    **{("POST", f"/api/branches/{{branch_id}}/counters/{{counter}}/{a}"): Case(
        fixed(f"/api/branches/{OWN}/counters/1/{a}"), (200, 409), by_role=NOT_THEIRS,
        other=fixed(f"/api/branches/{OTHER}/counters/1/{a}"))
       for a in ("call-next", "recall", "finish", "open", "close")},
    **{("POST", f"/api/branches/{{branch_id}}/counters/{{counter}}/{a}"): Case(
        fixed(f"/api/branches/{OWN}/counters/1/{a}", json=body), (200, 409),
        by_role={Role.TELLER: (200, 403, 409)},  # 403 once the teller has signed out again (route order)
        other=fixed(f"/api/branches/{OTHER}/counters/1/{a}", json=body))
       for a, body in (("sign-in", None), ("pause", {"reason": "lunch"}), ("resume", None), ("sign-out", None))},
    ("GET", "/api/me/counter"): Case(fixed("/api/me/counter")),
    ("GET", "/api/tickets/{ticket_id}/customer"): Case(
        fixed("/api/tickets/{own_ticket}/customer"), by_role=NOT_THEIRS,
        other=fixed("/api/tickets/{other_ticket}/customer")),
    ("POST", "/api/tickets/{ticket_id}/refer"): Case(
        fixed("/api/tickets/{own_ticket}/refer", json={}), (422,), by_role=NOT_THEIRS,
        notes="the fixtures' ticket has no known customer: customer_unknown",
        other=fixed("/api/tickets/{other_ticket}/refer", json={})),
    ("GET", "/counter"): Case(fixed("/counter")),
    ("GET", "/api/tickets/{ticket_id}"): Case(fixed("/api/tickets/{own_ticket}"),
                                              other=fixed("/api/tickets/{other_ticket}")),
    ("POST", "/api/tickets/{ticket_id}/transfer"): Case(
        fixed("/api/tickets/{own_ticket}/transfer", json={"business": "card"}), (200, 409), by_role=NOT_THEIRS,
        other=fixed("/api/tickets/{other_ticket}/transfer", json={"business": "card"})),
    ("POST", "/api/tickets/{ticket_id}/reprioritise"): Case(
        fixed("/api/tickets/{own_ticket}/reprioritise", json={"priority": "priority", "reason": "pregnant"}),
        (200, 409), by_role=NOT_THEIRS,
        other=fixed("/api/tickets/{other_ticket}/reprioritise", json={"priority": "priority", "reason": "x"})),
    **{("POST", f"/api/tickets/{{ticket_id}}/{a}"): Case(
        fixed(f"/api/tickets/{{own_ticket}}/{a}"), (200, 409), by_role=NOT_THEIRS,
        other=fixed(f"/api/tickets/{{other_ticket}}/{a}"))
       for a in ("park", "resume", "no-show", "finish")},
    ("GET", "/queue"): Case(fixed("/queue"), (303,)),
    ("GET", "/branches/{branch_id}/queue"): Case(fixed(f"/branches/{OWN}/queue"),
                                                 other=fixed(f"/branches/{OTHER}/queue")),
    ("GET", "/branches/{branch_id}/queue/kpis"): Case(fixed(f"/branches/{OWN}/queue/kpis"),
                                                      other=fixed(f"/branches/{OTHER}/queue/kpis")),
}

FIXTURES = [queue_fixtures]
