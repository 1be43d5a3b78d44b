"""API behaviour on SQLite and PostgreSQL: sign-in, lock-out, scoping, staff administration, audit log."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.server.helpers import PASSWORD, bearer


def test_health_ready_metrics_openapi(client):
    """GIVEN a migrated database WHEN probes are called THEN alive, ready, metrics and OpenAPI answer."""
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["migrations"] == "current"
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert 'sz_http_requests_total{method="GET",route="/readyz",status="200"} 1.0' in metrics.text
    assert "sz_http_request_duration_seconds_bucket" in metrics.text
    spec = client.get("/openapi.json").json()
    assert "/api/auth/token" in spec["paths"] and "/api/audit" in spec["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/static/swagger/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower()
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200


def test_every_json_answer_has_a_named_schema() -> None:
    """GIVEN the OpenAPI document WHEN each operation's success answer is looked at THEN every JSON answer
    has a response model (a named schema, not a bare object), so clients and the docs see what they get."""
    from server.app import create_app

    untyped = []
    for path, operations in create_app().openapi()["paths"].items():
        for method, op in operations.items():
            success = next(v for k, v in op["responses"].items() if k.startswith("2"))
            schema = success.get("content", {}).get("application/json", {}).get("schema")
            if schema is not None and "$ref" not in schema.get("items", schema):
                untyped.append(f"{method.upper()} {path}")
    assert untyped == []


def test_readyz_reports_unmigrated_database(tmp_path):
    """GIVEN an empty database WHEN /readyz is asked THEN 503 says migrations are behind."""
    from fastapi.testclient import TestClient

    from server.app import create_app
    from server.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with TestClient(create_app(engine=engine)) as c:
        r = c.get("/readyz")
    assert r.status_code == 503 and r.json()["migrations"] == "behind"
    assert "smartzone db upgrade" in r.json()["detail"]


def test_token_and_me(client, make_user):
    """GIVEN a teller in b001 WHEN it signs in THEN /api/me shows its role and branch."""
    make_user("teller1", "teller")
    r = client.post("/api/auth/token", data={"username": "teller1", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and len(body["access_token"]) > 30
    me = client.get("/api/me", headers={"Authorization": f"Bearer {body['access_token']}"}).json()
    assert me["username"] == "teller1" and me["role"] == "teller" and me["branch_ids"] == ["b001"]


def test_bad_credentials_and_lockout(client, make_user, factory):
    """GIVEN an account WHEN 5 wrong passwords are tried THEN it is locked (429, clear message), even for
    the right password, until a manager resets it."""
    make_user("victim", "teller")
    for _ in range(4):
        r = client.post("/api/auth/token", data={"username": "victim", "password": "wrong password"})
        assert r.status_code == 401 and r.json()["error"] == "invalid_credentials"
    r = client.post("/api/auth/token", data={"username": "victim", "password": "wrong password"})
    assert r.status_code == 429
    assert "locked" in r.json()["message"] and int(r.headers["retry-after"]) > 0
    r = client.post("/api/auth/token", data={"username": "victim", "password": PASSWORD})
    assert r.status_code == 429

    make_user("boss", "branch_manager")
    h = bearer(client, "boss")
    staff = {s["username"]: s for s in client.get("/api/staff", headers=h).json()}
    assert staff["victim"]["locked_until"] is not None
    otp = client.post(f"/api/staff/{staff['victim']['id']}/reset-password", headers=h).json()["one_time_password"]
    r = client.post("/api/auth/token", data={"username": "victim", "password": otp})
    assert r.status_code == 403 and r.json()["error"] == "password_change_required"

    audit = client.get("/api/audit", params={"actor": "victim", "object_type": "staff"}, headers=h).json()
    outcomes = [e["outcome"] for e in audit["entries"] if e["action"] == "auth.login"]
    assert outcomes.count("denied") >= 6


def test_unknown_user_is_indistinguishable(client):
    """GIVEN no such user WHEN signing in THEN the same 401 as for a wrong password."""
    r = client.post("/api/auth/token", data={"username": "nobody", "password": "whatever"})
    assert r.status_code == 401 and r.json()["message"] == "wrong username or password"


def test_one_time_password_must_be_changed(client, make_user):
    """GIVEN an account with a one-time password WHEN signed in via the console THEN only the password
    change works, after which tokens are issued."""
    make_user("fresh", "teller", password=None)
    make_user("mgr", "branch_manager")
    h = bearer(client, "mgr")
    fresh = next(s for s in client.get("/api/staff", headers=h).json() if s["username"] == "fresh")
    assert fresh["must_change_password"] is True
    otp = client.post(f"/api/staff/{fresh['id']}/reset-password", headers=h).json()["one_time_password"]
    client.cookies.clear()
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"username": "fresh", "password": otp, "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/account/password"
    assert client.get("/", follow_redirects=False).headers["location"] == "/account/password"
    form = client.get("/account/password").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    r = client.post("/account/password", data={"csrf_token": csrf, "current_password": otp,
                                               "new_password": "my own secret 1", "repeat_password":
                                               "my own secret 1"}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/", follow_redirects=True).status_code == 200
    assert bearer(client, "fresh", "my own secret 1")


def test_branches_are_scoped(client, make_user):
    """GIVEN a b001 teller and an admin WHEN listing and reading branches THEN the teller sees b001 only
    and b002 is 404 (not 403), while the admin sees both."""
    make_user("t1", "teller")
    make_user("root", "admin", (), all_branches=True)
    h = bearer(client, "t1")
    assert [b["id"] for b in client.get("/api/branches", headers=h).json()] == ["b001"]
    assert client.get("/api/branches/b001", headers=h).json()["counters"]
    r = client.get("/api/branches/b002", headers=h)
    assert r.status_code == 404 and r.json() == {"error": "not_found", "message": "branch not found"}
    assert client.get("/api/branches/zzz", headers=h).json() == r.json()
    ha = bearer(client, "root")
    assert [b["id"] for b in client.get("/api/branches", headers=ha).json()] == ["b001", "b002"]
    denied = client.get("/api/audit", headers=ha, params={"actor": "t1", "object_type": "branch"}).json()
    assert [(e["object_id"], e["outcome"]) for e in denied["entries"]] == [("zzz", "denied"), ("b002", "denied")]


def test_staff_admin_scope_and_grants(client, make_user):
    """GIVEN a b001 branch manager WHEN managing staff THEN it works in b001 only, cannot grant admin,
    and cannot see staff of b002 or multi-branch staff beyond its branches."""
    make_user("m1", "branch_manager")
    other = make_user("t2", "teller", ("b002",))
    both = make_user("tb", "teller", ("b001", "b002"))
    h = bearer(client, "m1")
    r = client.post("/api/staff", headers=h, json={"username": "newbie", "role": "lobby_staff",
                                                    "branch_ids": ["b001"]})
    assert r.status_code == 201 and len(r.json()["one_time_password"]) == 14
    names = {s["username"] for s in client.get("/api/staff", headers=h).json()}
    assert names == {"m1", "newbie"}
    assert client.get(f"/api/staff/{other}", headers=h).status_code == 404
    assert client.get(f"/api/staff/{both}", headers=h).status_code == 404
    assert client.patch(f"/api/staff/{other}", headers=h, json={"active": False}).status_code == 404
    r = client.post("/api/staff", headers=h, json={"username": "x2", "role": "teller", "branch_ids": ["b002"]})
    assert r.status_code == 404
    r = client.post("/api/staff", headers=h, json={"username": "x3", "role": "admin", "all_branches": True})
    assert r.status_code == 403
    r = client.post("/api/staff", headers=h, json={"username": "newbie", "role": "teller", "branch_ids": ["b001"]})
    assert r.status_code == 409 and "taken" in r.json()["message"]
    me = client.get("/api/me", headers=h).json()
    r = client.patch(f"/api/staff/{me['id']}", headers=h, json={"role": "teller"})
    assert r.status_code == 409


def test_disabling_staff_ends_their_sessions(client, make_user):
    """GIVEN a signed-in teller WHEN the manager disables the account THEN its token stops working."""
    make_user("m1", "branch_manager")
    tid = make_user("t1", "teller")
    ht, hm = bearer(client, "t1"), bearer(client, "m1")
    assert client.get("/api/me", headers=ht).status_code == 200
    r = client.patch(f"/api/staff/{tid}", headers=hm, json={"active": False, "display_name": "Wang"})
    assert r.status_code == 200 and r.json()["active"] is False and r.json()["display_name"] == "Wang"
    assert client.get("/api/me", headers=ht).status_code == 401
    r = client.post("/api/auth/token", data={"username": "t1", "password": PASSWORD})
    assert r.status_code == 403 and r.json()["error"] == "account_disabled"


def test_logout_revokes_token(client, make_user):
    """GIVEN a bearer token WHEN logging out THEN the token is refused afterwards."""
    make_user("t1", "teller")
    h = bearer(client, "t1")
    assert client.post("/api/auth/logout", headers=h).status_code == 204
    r = client.get("/api/me", headers=h)
    assert r.status_code == 401 and "invalid or expired" in r.json()["message"]


def test_audit_log_records_and_filters(client, make_user):
    """GIVEN staff activity in two branches WHEN the b001 manager reads the audit log THEN it sees b001
    entries only, filterable by actor, object and time; the admin sees everything."""
    make_user("m1", "branch_manager")
    make_user("m2", "branch_manager", ("b002",))
    make_user("root", "admin", (), all_branches=True)
    h1, h2 = bearer(client, "m1"), bearer(client, "m2")
    created = client.post("/api/staff", headers=h2, json={"username": "t9", "role": "teller",
                                                           "branch_ids": ["b002"]}).json()
    before = datetime.now(UTC) - timedelta(seconds=5)
    page = client.get("/api/audit", headers=h1).json()
    assert page["entries"] and all(e["branch_id"] == "b001" for e in page["entries"])
    assert not any(e["actor_name"] == "m2" for e in page["entries"])
    ha = bearer(client, "root")
    entries = client.get("/api/audit", headers=ha, params={"object_type": "staff", "actor": "m2"}).json()["entries"]
    create = [e for e in entries if e["action"] == "staff.create"]
    assert len(create) == 1 and create[0]["branch_id"] == "b002" and create[0]["ip"] == "testclient"
    assert create[0]["detail"]["username"] == "t9"
    by_id = client.get("/api/audit", headers=ha, params={"object_type": "staff", "object_id": create[0]["object_id"]})
    assert {e["id"] for e in by_id.json()["entries"]} >= {create[0]["id"]}
    assert created["username"] == "t9"
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert client.get("/api/audit", headers=ha, params={"since": future}).json()["entries"] == []
    assert client.get("/api/audit", headers=ha, params={"since": before.isoformat()}).json()["entries"]
    naive = client.get("/api/audit", headers=ha, params={"since": "2000-01-01T00:00:00"})
    assert naive.status_code == 200
    reads = client.get("/api/audit", headers=ha, params={"action": "audit.read", "actor": "m1"}).json()
    assert reads["entries"], "reading the audit log is itself audited"


def test_audit_pagination(client, make_user):
    """GIVEN more entries than a page WHEN paging with before_id THEN pages do not overlap."""
    make_user("root", "admin", (), all_branches=True)
    h = bearer(client, "root")
    for _ in range(3):
        client.get("/api/audit", headers=h)
    first = client.get("/api/audit", headers=h, params={"limit": 2}).json()
    assert len(first["entries"]) == 2 and first["next_before_id"]
    second = client.get("/api/audit", headers=h, params={"limit": 2, "before_id": first["next_before_id"]}).json()
    assert {e["id"] for e in first["entries"]}.isdisjoint({e["id"] for e in second["entries"]})


def test_audit_log_is_append_only_in_the_database(migrated, make_user):
    """GIVEN an audit entry WHEN anyone UPDATEs or DELETEs it with plain SQL THEN the database refuses."""
    from server.audit.service import record

    engine, factory = migrated
    with factory() as s, s.begin():
        record(s, actor="system", action="test.write")
    for stmt in ("UPDATE audit_log SET outcome = 'forged'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(stmt))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT outcome FROM audit_log")).scalar_one() == "ok"


def test_me_update_and_password_change(client, make_user):
    """GIVEN a signed-in teller WHEN it changes language and password THEN both stick and old tokens end."""
    make_user("t1", "teller")
    h = bearer(client, "t1")
    assert client.patch("/api/me", headers=h, json={"locale": "en"}).json()["locale"] == "en"
    assert client.patch("/api/me", headers=h, json={"locale": "fr"}).status_code == 422
    r = client.post("/api/me/password", headers=h, json={"current_password": "nope", "new_password": "x" * 12})
    assert r.status_code == 403
    r = client.post("/api/me/password", headers=h, json={"current_password": PASSWORD, "new_password": "short"})
    assert r.status_code == 422 and r.json()["error"] == "bad_password" and "at least 10" in r.json()["message"]
    r = client.post("/api/me/password", headers=h, json={"current_password": PASSWORD,
                                                         "new_password": "another long one"})
    assert r.status_code == 204
    assert client.get("/api/me", headers=h).status_code == 401
    assert bearer(client, "t1", "another long one")
