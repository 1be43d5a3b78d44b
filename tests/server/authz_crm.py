"""Authorisation cases of the CRM routes (merged into test_authz_matrix), and the objects they touch."""

from __future__ import annotations

OWN, OTHER = "b001", "b002"
_CONSENT = {"kind": "marketing", "granted": True, "text_version": "v1"}


def fixtures(factory) -> dict:
    """A customer, an unassigned lead with a follow-up task, and a customer manager in each branch."""
    from datetime import timedelta

    from server.customers.demo import demo_rows
    from server.customers.importer import parse_row
    from server.customers.service import upsert_customer
    from server.db import utcnow
    from server.referrals.models import LeadTask, Referral
    from server.referrals.service import create_leads
    from server.staff.service import create_staff

    ctx: dict = {}
    now = utcnow()
    with factory() as s, s.begin():
        for n, (where, branch) in enumerate((("own", OWN), ("other", OTHER))):
            row = {**demo_rows()[n], "customer_id": f"AUTHZ-{where}-{id(ctx)}", "card_number": "", "phone": ""}
            c, _ = upsert_customer(s, parse_row(row, ["k" * 8], "k" * 8), branch_id=branch, now=now)
            rows = create_leads(s, [{"branch_id": branch, "customer_id": c.id, "visit_id": f"v-authz-{id(ctx)}",
                                     "reason": "staff_referral", "interest": "wealth", "referrer": "test"}], now)
            lead = s.get(Referral, rows[0].data.lead_id)
            work = create_leads(s, [{"branch_id": branch, "customer_id": c.id, "reason": "staff_referral",
                                     "interest": "insurance", "referrer": "test"}], now)  # stays open: reassigned
            lead.assigned_to = s.get(Referral, work[0].data.lead_id).assigned_to = None  # anyone may take it
            cm, _ = create_staff(s, username=f"lead-cm-{where}", role="customer_manager", branch_ids=(branch,),
                                 password="Correct-horse-9")
            tasks = [LeadTask(lead_id=lead.id, branch_id=branch, due_at=now + timedelta(days=1), note="call back",
                              created_by=cm.id, created_at=now) for _ in range(8)]
            s.add_all(tasks)
            s.flush()
            ctx.update({f"{where}_customer": c.id, f"{where}_lead": lead.id, f"{where}_cm": cm.id,
                        f"{where}_open_lead": work[0].data.lead_id,
                        f"{where}_tasks": [t.id for t in tasks]})
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

    from server.staff.models import Role

    roles = list(Role)

    def task(where: str):  # a task of its own for each role (done once)
        return lambda ctx, role: Req(f"/api/referrals/{ctx[f'{where}_lead']}/tasks/"
                                     f"{ctx[f'{where}_tasks'][roles.index(role) % 8]}/done")

    def give(where: str):
        return lambda ctx, role: Req(f"/api/referrals/{ctx[f'{where}_open_lead']}/assign",
                                     json={"staff_id": ctx[f"{where}_cm"]})

    members_only = (404,)  # notes: only the branch's own staff, so not an admin who sees every branch
    return {
        ("GET", "/api/customers"): Case(fixed("/api/customers", params={"query": "vip"})),
        ("GET", "/api/customers/{customer_id}/notes"): Case(
            fixed("/api/customers/{own_customer}/notes"), other=fixed("/api/customers/{other_customer}/notes"),
            admin=members_only),
        ("POST", "/api/customers/{customer_id}/notes"): Case(
            fixed("/api/customers/{own_customer}/notes", json={"body": "prefers mornings"}), (201,),
            other=fixed("/api/customers/{other_customer}/notes", json={"body": "prefers mornings"}),
            admin=members_only),
        ("PUT", "/api/customers/{customer_id}/manager"): Case(
            lambda ctx, role: Req(f"/api/customers/{ctx['own_customer']}/manager", json={"staff_id": ctx["own_cm"]}),
            other=lambda ctx, role: Req(f"/api/customers/{ctx['other_customer']}/manager",
                                        json={"staff_id": ctx["other_cm"]})),
        ("GET", "/api/referrals/{lead_id}"): Case(fixed("/api/referrals/{own_lead}"),
                                                  other=fixed("/api/referrals/{other_lead}")),
        ("POST", "/api/referrals/{lead_id}/assign"): Case(give("own"), other=give("other")),
        ("POST", "/api/referrals/{lead_id}/tasks"): Case(
            fixed("/api/referrals/{own_open_lead}/tasks", json={"due_at": "2030-01-01T09:00:00+08:00", "note": "call"}),
            (201,), other=fixed("/api/referrals/{other_open_lead}/tasks",
                                json={"due_at": "2030-01-01T09:00:00+08:00", "note": "call"})),
        ("POST", "/api/referrals/{lead_id}/tasks/{task_id}/done"): Case(task("own"), other=task("other")),
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
        ("GET", "/api/branches/{branch_id}/recognition"): Case(fixed(f"/api/branches/{OWN}/recognition"),
                                                               other=fixed(f"/api/branches/{OTHER}/recognition")),
        ("GET", "/branches/{branch_id}/recognition"): Case(fixed(f"/branches/{OWN}/recognition"),
                                                           other=fixed(f"/branches/{OTHER}/recognition")),
        ("GET", "/api/customers/{customer_id}/held"): both("/api/customers/{X}/held"),
        ("GET", "/customers/{customer_id}/held"): both("/customers/{X}/held"),
        ("DELETE", "/api/customers/{customer_id}/face-templates"): both("/api/customers/{X}/face-templates"),
    }


CASES = _cases()
