"""Queue test helpers: tickets in both demo branches for the authorisation matrix and API tests."""

from __future__ import annotations

from server.db import utcnow
from server.queueing import issuing


def queue_fixtures(factory) -> dict[str, int]:
    """One waiting ticket in b001 and one in b002: {"own_ticket": id, "other_ticket": id}."""
    with factory() as s, s.begin():
        own = issuing.issue(s, branch_id="b001", business="card", now=utcnow()).ticket.id
        other = issuing.issue(s, branch_id="b002", business="card", now=utcnow()).ticket.id
    return {"own_ticket": own, "other_ticket": other}
