"""Authorisation cases of the CRM routes (merged into test_authz_matrix), and the objects they touch."""

from __future__ import annotations

OWN, OTHER = "b001", "b002"
_CONSENT = {"kind": "marketing", "granted": True, "text_version": "v1"}


def fixtures(factory) -> dict:
    """A customer and a lead in each branch."""
    from server.customers.demo import demo_rows
    from server.customers.importer import parse_row
    from server.customers.service import upsert_customer
    from server.db import utcnow
    from server.referrals.service import create_leads

    ctx: dict = {}
    now = utcnow()
    with factory() as s, s.begin():
        for n, (where, branch) in enumerate((("own", OWN), ("other", OTHER))):
            row = {**demo_rows()[n], "customer_id": f"AUTHZ-{where}-{id(ctx)}", "card_number": "", "phone": ""}
            c, _ = upsert_customer(s, parse_row(row, ["k" * 8], "k" * 8), branch_id=branch, now=now)
            rows = create_leads(s, [{"branch_id": branch, "customer_id": c.id, "visit_id": f"v-authz-{id(ctx)}",
                                     "reason": "staff_referral", "referrer": "test"}], now)
            ctx[f"{where}_customer"], ctx[f"{where}_lead"] = c.id, rows[0].data.lead_id
    return ctx


FIXTURES = [fixtures]


def _cases() -> dict:
    from tests.server.test_authz_matrix import Case, Req, fixed

    def both(path: str, ok=(200,), **kw) -> Case:
        return Case(fixed(path.replace("{X}", "{own_customer}"), **kw), ok,
                    other=fixed(path.replace("{X}", "{other_customer}"), **kw))

    def lead(action: str, **kw) -> Case:
        return Case(fixed(f"/api/referrals/{{own_lead}}/{action}", **kw), (200, 409),
                    other=fixed(f"/api/referrals/{{other_lead}}/{action}", **kw))

    return {
        ("GET", "/api/customers"): Case(fixed("/api/customers", params={"query": "vip"})),
        ("GET", "/api/customers/{customer_id}"): both("/api/customers/{X}"),
        ("GET", "/api/customers/{customer_id}/timeline"): both("/api/customers/{X}/timeline"),
        ("GET", "/api/customers/{customer_id}/consents"): both("/api/customers/{X}/consents"),
        ("POST", "/api/customers/{customer_id}/consents"): both("/api/customers/{X}/consents", (201,), json=_CONSENT),
        ("POST", "/api/customers/{customer_id}/face-templates"): both(
            "/api/customers/{X}/face-templates", (201,), json={"embeddings": [[0.01] * 128], "text_version": "v1"}),
        ("POST", "/api/customers/{customer_id}/touchpoints"): both(
            "/api/customers/{X}/touchpoints", (201,), json={"channel": "counter", "note": "asked about funds"}),
        ("GET", "/api/branches/{branch_id}/kpis"): Case(fixed(f"/api/branches/{OWN}/kpis"),
                                                        other=fixed(f"/api/branches/{OTHER}/kpis")),
        ("GET", "/api/referrals"): Case(fixed("/api/referrals")),
        ("POST", "/api/referrals"): Case(
            lambda ctx, role: Req("/api/referrals", json={"customer_id": ctx["own_customer"]}), (201, 409),
            other=lambda ctx, role: Req("/api/referrals", json={"customer_id": ctx["other_customer"]})),
        ("POST", "/api/referrals/{lead_id}/accept"): lead("accept"),
        ("POST", "/api/referrals/{lead_id}/meet"): lead("meet"),
        ("POST", "/api/referrals/{lead_id}/convert"): lead("convert", json={"product": "fund", "value": 1000}),
        ("POST", "/api/referrals/{lead_id}/decline"): lead("decline"),
        ("GET", "/customers"): Case(fixed("/customers", params={"query": "vip"})),
        ("GET", "/customers/{customer_id}"): both("/customers/{X}"),
        ("GET", "/referrals"): Case(fixed("/referrals")),
        ("GET", "/branches/{branch_id}/kpis"): Case(fixed(f"/branches/{OWN}/kpis"),
                                                    other=fixed(f"/branches/{OTHER}/kpis")),
    }


CASES = _cases()
