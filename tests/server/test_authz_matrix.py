"""Authorisation matrix: every route × every role × own branch / other branch, generated from the app's
route table, so a new endpoint without a case here fails the test instead of escaping it.

Expected outcomes come from the route itself: the roles of its `require_roles`/`require_page_roles`
gate (admin always allowed), or any signed-in role for `current_staff`/`page_staff`. A role that may
not use a route gets 403; an allowed role gets the case's success status for its own branch and 404
for the other branch; no answer to a b001 account ever mentions branch b002.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Mount

from server.staff.models import Role, SessionKind
from server.web.deps import current_staff, page_staff
from tests.server.helpers import PASSWORD

OWN, OTHER = "b001", "b002"
# the other branch, as a word: "b002" inside a random hex token or hash is not a mention
OTHER_BRANCH = re.compile(r"(?<![\w-])b002(?![\w-])|柳河村|Liuhe")
Ctx = dict[str, Any]


@dataclass(frozen=True)
class Req:
    path: str
    json: Any = None
    data: dict[str, Any] | None = None
    params: dict[str, Any] | None = None


@dataclass(frozen=True)
class Case:
    own: Callable[[Ctx, Role], Req]
    ok: tuple[int, ...] = (200,)
    other: Callable[[Ctx, Role], Req] | None = None
    notes: str = field(default="")
    admin: tuple[int, ...] | None = None  # admin's answer where it differs (data only the branch's own staff see)
    by_role: dict[Role, tuple[int, ...]] = field(default_factory=dict)  # a role's own-branch answer where it differs


def fixed(path: str, **kw: Any) -> Callable[[Ctx, Role], Req]:
    return lambda ctx, role: Req(path.format(**ctx), **kw)


# Public routes: no sign-in, same answer for everyone.
PUBLIC: dict[tuple[str, str], Req] = {
    ("GET", "/healthz"): Req("/healthz"),
    ("GET", "/readyz"): Req("/readyz"),
    ("GET", "/metrics"): Req("/metrics"),
    ("GET", "/openapi.json"): Req("/openapi.json"),
    ("GET", "/docs"): Req("/docs"),
    ("GET", "/login"): Req("/login"),
    ("POST", "/login"): Req("/login", data={"username": "nobody", "password": "x", "csrf_token": "x"}),
    ("POST", "/api/auth/token"): Req("/api/auth/token", data={"username": "nobody", "password": "x"}),
}

CASES: dict[tuple[str, str], Case] = {
    # API
    ("POST", "/api/auth/logout"): Case(fixed("/api/auth/logout"), (204,)),
    ("GET", "/api/me"): Case(fixed("/api/me")),
    ("PATCH", "/api/me"): Case(fixed("/api/me", json={"locale": "en"})),
    ("POST", "/api/me/password"): Case(
        fixed("/api/me/password", json={"current_password": PASSWORD, "new_password": PASSWORD}), (204,)),
    ("GET", "/api/branches"): Case(fixed("/api/branches")),
    ("GET", "/api/branches/{branch_id}"): Case(fixed(f"/api/branches/{OWN}"), other=fixed(f"/api/branches/{OTHER}")),
    ("GET", "/api/audit"): Case(fixed("/api/audit")),
    ("GET", "/api/events/stream"): Case(fixed("/api/events/stream")),
    ("GET", "/api/staff"): Case(fixed("/api/staff")),
    ("POST", "/api/staff"): Case(
        lambda ctx, role: Req("/api/staff", json={"username": f"api-{role.value}", "role": "teller",
                                                  "branch_ids": [OWN]}), (201,),
        other=lambda ctx, role: Req("/api/staff", json={"username": f"apix-{role.value}", "role": "teller",
                                                        "branch_ids": [OTHER]})),
    ("GET", "/api/staff/{staff_id}"): Case(fixed("/api/staff/{own_staff}"), other=fixed("/api/staff/{other_staff}")),
    ("PATCH", "/api/staff/{staff_id}"): Case(
        fixed("/api/staff/{own_staff}", json={"display_name": "Li"}),
        other=fixed("/api/staff/{other_staff}", json={"display_name": "Li"})),
    ("POST", "/api/staff/{staff_id}/reset-password"): Case(
        fixed("/api/staff/{own_staff}/reset-password"), other=fixed("/api/staff/{other_staff}/reset-password")),
    # console pages
    ("GET", "/"): Case(fixed("/"), (303,)),
    ("GET", "/branches/{branch_id}"): Case(fixed(f"/branches/{OWN}"), other=fixed(f"/branches/{OTHER}")),
    ("POST", "/logout"): Case(fixed("/logout", data={}), (303,)),
    ("POST", "/preferences/locale"): Case(fixed("/preferences/locale", data={"locale": "en"}), (303,)),
    ("GET", "/account/password"): Case(fixed("/account/password")),
    ("POST", "/account/password"): Case(
        fixed("/account/password", data={"current_password": PASSWORD, "new_password": PASSWORD,
                                          "repeat_password": PASSWORD}), (303,)),
    ("GET", "/staff"): Case(fixed("/staff")),
    ("POST", "/staff"): Case(
        lambda ctx, role: Req("/staff", data={"username": f"pg-{role.value}", "role": "teller",
                                              "branch_ids": OWN}),
        other=lambda ctx, role: Req("/staff", data={"username": f"pgx-{role.value}", "role": "teller",
                                                    "branch_ids": OTHER})),
    ("POST", "/staff/{staff_id}/reset-password"): Case(
        fixed("/staff/{own_staff}/reset-password", data={}), other=fixed("/staff/{other_staff}/reset-password",
                                                                          data={})),
    ("POST", "/staff/{staff_id}/active"): Case(
        fixed("/staff/{own_staff}/active", data={"active": "true"}), (303,),
        other=fixed("/staff/{other_staff}/active", data={"active": "true"})),
    ("GET", "/audit"): Case(fixed("/audit")),
}


# Callables `(session_factory) -> dict` from domain case files: they create the objects their cases touch
# (one in b001, one in b002) and return ids for `ctx`.
FIXTURES: list[Callable[[Any], Ctx]] = []


def _domain_cases() -> None:
    """Merge CASES/PUBLIC from tests/server/authz_<domain>.py, so each domain keeps its cases in its own file."""
    import importlib
    import pkgutil

    import tests.server as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("authz_"):
            module = importlib.import_module(f"tests.server.{info.name}")
            cases, public = getattr(module, "CASES", {}), getattr(module, "PUBLIC", {})
            clash = (set(cases) & set(CASES)) | (set(public) & set(PUBLIC))
            assert not clash, f"{info.name} redefines cases: {clash}"
            CASES.update(cases)
            PUBLIC.update(public)
            FIXTURES.extend(getattr(module, "FIXTURES", []))  # fn(factory) -> ctx entries


_domain_cases()


def route_table(app) -> list[tuple[str, str, Any]]:
    """(method, path, route) for every endpoint, including those of included routers."""
    try:
        from fastapi.routing import iter_route_contexts

        routes: list[Any] = list(iter_route_contexts(app.routes))
    except ImportError:  # FastAPI before lazy router inclusion
        routes = list(app.routes)
    out = []
    for route in routes:
        if isinstance(getattr(route, "original_route", route), Mount):
            continue
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                out.append((method, route.path, route))
    return out


def gate(route: Any) -> tuple[bool, bool, frozenset[Role] | None]:
    """(signed-in required, console page, allowed roles or None for any) from the dependency tree."""
    if not isinstance(getattr(route, "original_route", route), APIRoute):
        return False, False, None
    found: dict[str, Any] = {"auth": False, "page": False, "roles": None}

    def walk(dependant: Any) -> None:
        for dep in dependant.dependencies:
            if dep.call is current_staff:
                found["auth"] = True
            if dep.call is page_staff:
                found["auth"] = found["page"] = True
            if getattr(dep.call, "sz_roles", None):
                found["roles"] = dep.call.sz_roles
            walk(dep)

    walk(route.dependant)
    return found["auth"], found["page"], found["roles"]


@pytest.fixture
def matrix(app, make_user, factory):
    ctx: Ctx = {"own_staff": make_user("target-own", "teller", (OWN,)),
                "other_staff": make_user("target-other", "teller", (OTHER,))}
    users = {role: make_user(f"mx-{role.value.replace('_', '-')}", role.value,
                             () if role is Role.ADMIN else (OWN,), all_branches=role is Role.ADMIN)
             for role in Role}
    for make in FIXTURES:
        ctx.update(make(factory))
    app.state.events.closed = True  # event streams answer, then end at once
    return ctx, users


def _session(factory, staff_id: int, kind: SessionKind):
    from server.staff.models import Staff
    from server.staff.service import open_session

    with factory() as s, s.begin():
        return open_session(s, s.get(Staff, staff_id), kind)


def _send(client, method: str, req: Req, *, page: bool, auth: Any = None):
    headers, data, cookies = {}, req.data, {}
    if auth is not None and not page:
        headers["Authorization"] = f"Bearer {auth.token}"
    if auth is not None and page:
        cookies = {"sz_session": auth.token}
        if method != "GET":
            data = {**(data or {}), "csrf_token": auth.csrf_token}
    client.cookies.clear()
    for k, v in cookies.items():
        client.cookies.set(k, v)
    return client.request(method, req.path, json=req.json, data=data, params=req.params, headers=headers,
                          follow_redirects=False)


def test_every_route_has_a_case(app):
    """GIVEN the app's route table WHEN compared with the matrix THEN every route is covered (add new ones!)."""
    missing = [f"{m} {p}" for m, p, _ in route_table(app) if (m, p) not in CASES and (m, p) not in PUBLIC]
    assert not missing, f"routes without an authorisation case in {__file__}: {missing}"
    stale = [k for k in CASES if k not in {(m, p) for m, p, _ in route_table(app)}]
    assert not stale, f"cases for routes that no longer exist: {stale}"
    for (method, path), _case in CASES.items():
        route = next(r for m, p, r in route_table(app) if (m, p) == (method, path))
        assert gate(route)[0], f"{method} {path} has a case but no sign-in dependency"
    for (method, path) in PUBLIC:
        route = next(r for m, p, r in route_table(app) if (m, p) == (method, path))
        assert not gate(route)[0], f"{method} {path} is listed as public but requires sign-in"


def test_anonymous_callers_are_refused(app, client, matrix):
    """GIVEN no credentials WHEN any non-public route is called THEN 401 (API) or a redirect to /login (pages)."""
    ctx, _users = matrix
    for method, path, route in route_table(app):
        if (method, path) in PUBLIC:
            r = _send(client, method, PUBLIC[(method, path)], page=False)
            assert r.status_code < 500, f"{method} {path}: {r.status_code}"
            continue
        if (method, path) not in CASES:
            continue  # reported by test_every_route_has_a_case
        _auth, page, _roles = gate(route)
        r = _send(client, method, CASES[(method, path)].own(ctx, Role.TELLER), page=page)
        if page:
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), f"{method} {path}"
        else:
            assert r.status_code == 401, f"{method} {path}: {r.status_code} {r.text[:200]}"
            assert r.json()["error"] == "unauthorized"


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_role_matrix(app, client, matrix, factory, role):
    """GIVEN an account of `role` in b001 WHEN it calls every route for b001 and for b002 THEN allowed routes
    succeed for b001 and are 404 for b002, others are 403, and nothing about b002 leaks."""
    ctx, users = matrix
    failures = []
    for method, path, route in route_table(app):
        if (method, path) in PUBLIC or (method, path) not in CASES:
            continue  # public, or reported by test_every_route_has_a_case
        case = CASES[(method, path)]
        _auth, page, roles = gate(route)
        allowed = roles is None or role in roles
        kind = SessionKind.BROWSER if page else SessionKind.BEARER
        for where, make in (("own", case.own), ("other", case.other)):
            if make is None:
                continue
            auth = _session(factory, users[role], kind)
            r = _send(client, method, make(ctx, role), page=page, auth=auth)
            if not allowed:
                expected: tuple[int, ...] = (403,)
            elif role is Role.ADMIN and case.admin is not None:
                expected = case.admin
            elif where == "own" and role in case.by_role:
                expected = case.by_role[role]
            elif where == "own" or role is Role.ADMIN:
                expected = case.ok
            else:
                expected = (404,)
            if r.status_code not in expected:
                failures.append(f"{role.value} {method} {path} [{where}]: {r.status_code}, expected {expected}: "
                                f"{r.text[:160]}")
            if role is not Role.ADMIN and OTHER_BRANCH.search(r.text):
                failures.append(f"{role.value} {method} {path} [{where}]: answer mentions the other branch")
            if not page and r.status_code >= 400:
                body = r.json()
                if not (isinstance(body.get("error"), str) and isinstance(body.get("message"), str)):
                    failures.append(f"{method} {path}: error body without error/message: {body}")
    assert not failures, "\n".join(failures)
