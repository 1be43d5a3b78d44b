"""Client mistakes are 4xx with a JSON body that says what was wrong: never a 500, never another branch's data."""

from __future__ import annotations

import pytest

from tests.server.helpers import bearer


@pytest.fixture
def manager(client, make_user):
    make_user("m1", "branch_manager")
    return bearer(client, "m1")


def _error(r, status: int) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert isinstance(body["error"], str) and isinstance(body["message"], str)
    return body


def test_unknown_fields_and_wrong_types(client, manager):
    """GIVEN a staff body with an unknown field or a wrong type WHEN posted THEN 422 naming the field."""
    body = _error(client.post("/api/staff", headers=manager, json={"username": "ab", "role": "teller",
                                                                    "branch_ids": ["b001"], "salary": 1}), 422)
    assert "salary" in body["message"] and body["detail"][0]["loc"] == ["body", "salary"]
    body = _error(client.post("/api/staff", headers=manager, json={"username": "ab", "role": 7}), 422)
    assert "role" in body["message"]
    body = _error(client.post("/api/staff", headers=manager, json={"username": "ab", "role": "pope"}), 422)
    assert "role" in body["message"]
    _error(client.patch("/api/me", headers=manager, json={"locale": "en", "role": "admin"}), 422)
    _error(client.post("/api/staff", headers=manager, content=b"{not json", ), 422)
    _error(client.post("/api/staff", headers={**manager, "content-type": "application/json"}, content=b"[1,2]"), 422)
    _error(client.patch("/api/me", headers=manager, json={"display_name": "a\x00b"}), 422)
    _error(client.patch("/api/me", headers=manager, json={"display_name": "x" * 101}), 422)


def test_bad_ids(client, manager):
    """GIVEN malformed or out-of-range ids WHEN used in paths THEN 422 (shape) or 404 (no such object)."""
    _error(client.get("/api/staff/abc", headers=manager), 422)
    _error(client.get("/api/staff/0", headers=manager), 422)
    _error(client.get("/api/staff/99999999999999999999", headers=manager), 422)
    _error(client.get("/api/staff/2147483647", headers=manager), 404)
    _error(client.get("/api/branches/B%20X", headers=manager), 422)
    _error(client.get("/api/branches/" + "a" * 40, headers=manager), 422)
    _error(client.get("/api/branches/b999", headers=manager), 404)
    _error(client.get("/api/nothing-here", headers=manager), 404)
    _error(client.delete("/api/me", headers=manager), 405)


def test_bad_query_parameters(client, manager):
    """GIVEN nonsense filters WHEN reading the audit log THEN 422, including impossible times."""
    _error(client.get("/api/audit", headers=manager, params={"since": "yesterday"}), 422)
    _error(client.get("/api/audit", headers=manager, params={"limit": 100000}), 422)
    _error(client.get("/api/audit", headers=manager, params={"before_id": -1}), 422)
    _error(client.get("/api/audit", headers=manager, params={"actor": "a\x00"}), 422)
    _error(client.get("/api/audit", headers=manager, params={"since": "0001-01-01T00:00:00+14:00"}), 422)
    assert client.get("/api/audit", headers=manager, params={"since": "9999-12-31T23:59:59Z"}).status_code == 200


def test_oversized_bodies(client, manager):
    """GIVEN a body over 1 MiB WHEN posted, with or without Content-Length THEN 413 before it is parsed."""
    big = b'{"display_name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    body = _error(client.patch("/api/me", headers={**manager, "content-type": "application/json"}, content=big), 413)
    assert "larger than" in body["message"]

    def chunks():
        for _ in range(40):
            yield b"x" * 65536

    _error(client.patch("/api/me", headers={**manager, "content-type": "application/json"}, content=chunks()), 413)


def test_token_endpoint_input(client):
    """GIVEN a malformed sign-in WHEN posted THEN 422 for missing fields or JSON instead of a form."""
    _error(client.post("/api/auth/token", data={"username": "x"}), 422)
    _error(client.post("/api/auth/token", json={"username": "abc", "password": "x"}), 422)
    _error(client.post("/api/auth/token", data={"username": "a\x00b", "password": "x"}), 422)
    _error(client.post("/api/auth/token", data={"username": "abc", "password": "x", "grant_type": "magic"}), 422)


def test_bad_bearer_tokens(client):
    """GIVEN a forged or malformed Authorization header WHEN calling the API THEN 401, not 500."""
    for value in ("Bearer nope", "Bearer " + "x" * 5000, "Basic Zm9vOmJhcg==", "Bearer \u00e9t\u00e9"):
        try:
            r = client.get("/api/me", headers={"Authorization": value})
        except UnicodeEncodeError:
            continue  # the HTTP client itself refuses non-Latin-1 headers
        _error(r, 401)
