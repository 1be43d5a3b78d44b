"""Authorisation cases of the webhook delivery log (merged into test_authz_matrix)."""

from __future__ import annotations

OWN, OTHER = "b001", "b002"


def fixtures(factory) -> dict:
    """A dead delivery per role in each branch (each role resends its own)."""
    from server.db import utcnow
    from server.webhooks.models import DeliveryStatus, WebhookDelivery

    now = utcnow()
    ctx: dict = {}
    with factory() as s, s.begin():
        for where, branch in (("own", OWN), ("other", OTHER)):
            rows = [WebhookDelivery(idempotency_key=f"tp:authz-{where}-{i}", branch_id=branch, event_type="touchpoint",
                                    body={}, status=DeliveryStatus.DEAD, attempts=6, next_attempt_at=now,
                                    created_at=now, resends=0) for i in range(8)]
            s.add_all(rows)
            s.flush()
            ctx[f"{where}_deliveries"] = [d.id for d in rows]
    return ctx


def _cases() -> dict:
    from server.staff.models import Role
    from tests.server.test_authz_matrix import Case, Req, fixed

    roles = list(Role)

    def resend(where: str):
        return lambda ctx, role: Req(f"/api/webhooks/deliveries/{ctx[f'{where}_deliveries'][roles.index(role) % 8]}"
                                     "/resend")

    return {
        ("GET", "/api/webhooks/deliveries"): Case(fixed("/api/webhooks/deliveries")),
        ("POST", "/api/webhooks/deliveries/{delivery_id}/resend"): Case(resend("own"), other=resend("other")),
        ("GET", "/webhooks"): Case(fixed("/webhooks")),
    }


CASES = _cases()
FIXTURES = [fixtures]
