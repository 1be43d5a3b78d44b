"""The staff console: login, CSRF, cookies, language choice, pages per role, assets, live events."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.server.helpers import PASSWORD, bearer, browser_login

WEB = Path(__file__).resolve().parents[2] / "server" / "web"


def _current(html: str) -> list[str]:
    """The nav entries a page marks as the current one."""
    nav = re.search(r'<nav class="mainnav".*?</nav>', html, re.S).group(0)
    return re.findall(r'<a href="([^"]+)"\s+aria-current="page"', nav)


def test_login_page_language_and_csrf(client, make_user):
    """GIVEN the login page WHEN opened plain, with ?lang=en, or posted without its CSRF token THEN zh-CN,
    English (remembered in a cookie) and a 403 with a retry hint."""
    assert "登录" in client.get("/login").text
    page = client.get("/login?lang=en")
    assert "Sign in" in page.text and client.cookies.get("sz_lang") == "en"
    assert "Sign in" in client.get("/login").text
    make_user("t1", "teller")
    r = client.post("/login", data={"username": "t1", "password": PASSWORD, "csrf_token": "forged"})
    assert r.status_code == 403 and "expired" in r.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"username": "t1", "password": "wrong one", "csrf_token": token})
    assert r.status_code == 401 and "Wrong username or password" in r.text


def test_login_sets_strict_cookies_and_logout_clears_them(app, make_user):
    """GIVEN an https console WHEN a lobby staff member signs in THEN the session cookie is Secure, HttpOnly
    and SameSite=Strict; logging out ends the session."""
    make_user("lobby1", "lobby_staff")
    with TestClient(app, base_url="https://testserver") as c:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        r = c.post("/login", data={"username": "lobby1", "password": PASSWORD, "csrf_token": token},
                   follow_redirects=False)
        cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("sz_session="))
        assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        overview = c.get("/", follow_redirects=True)
        assert overview.url.path == "/branches/b001" and 'id="card-queue"' in overview.text
        assert "/staff" not in re.search(r'<nav class="mainnav".*?</nav>', overview.text, re.S).group(0)
        assert _current(overview.text) == ["/"]
        queue = c.get("/queue", follow_redirects=True)
        assert queue.url.path == "/branches/b001/queue" and _current(queue.text) == ["/queue"]  # not the overview
        csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', overview.text).group(1)
        r = c.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login"
        assert c.get("/", follow_redirects=False).headers["location"].startswith("/login")


def test_cookie_session_needs_csrf_for_changes(client, make_user):
    """GIVEN a console session WHEN the API is called with the cookie THEN reads work, and changes need the
    X-CSRF-Token header (a cross-site form cannot supply it)."""
    make_user("t1", "teller")
    b = browser_login(client, "t1")
    assert client.get("/api/me").status_code == 200
    r = client.patch("/api/me", json={"locale": "en"})
    assert r.status_code == 403 and "CSRF" in r.json()["message"]
    assert client.patch("/api/me", json={"locale": "en"}, headers={"X-CSRF-Token": b.csrf}).status_code == 200
    r = client.post("/preferences/locale", data={"locale": "zh-CN"}, follow_redirects=False)
    assert r.status_code == 403


def test_language_choice_is_remembered_on_the_account(app, make_user):
    """GIVEN a signed-in user WHEN switching to English THEN pages are English, also in a new browser."""
    make_user("t1", "teller")
    with TestClient(app) as c:
        b = browser_login(c, "t1")
        assert "网点总览" in c.get("/branches/b001").text
        r = b.post("/preferences/locale", {"locale": "en", "next": "/branches/b001"})
        assert r.status_code == 303 and r.headers["location"] == "/branches/b001"
        assert "Branch overview" in c.get("/branches/b001").text
    with TestClient(app) as fresh:
        browser_login(fresh, "t1")
        assert "Branch overview" in fresh.get("/branches/b001").text


def test_manager_pages_staff_and_audit(client, make_user):
    """GIVEN a branch manager WHEN using the staff and audit pages THEN it creates an account (one-time
    password shown once), resets one, and sees the audit trail of both."""
    make_user("m1", "branch_manager")
    b = browser_login(client, "m1")
    r = b.post("/staff", {"username": "newteller", "role": "teller", "branch_ids": "b001"})
    assert r.status_code == 200 and "newteller" in r.text
    otp = re.search(r'data-testid="otp">.*?<code>([a-z0-9-]+)</code>', r.text, re.S).group(1)
    assert len(otp) == 14
    r = b.post("/staff", {"username": "newteller", "role": "teller", "branch_ids": "b001"})
    assert r.status_code == 422 and "taken" in r.text
    audit = client.get("/audit?actor=m1").text
    assert "staff.create" in audit and "audit.read" not in audit.split("<tbody>")[0]
    assert client.get("/audit?since=not-a-date").status_code == 200


def test_no_external_assets_and_strict_csp(client):
    """GIVEN the console's templates and static files THEN nothing loads from another origin and the CSP
    allows only our own scripts."""
    for path in list((WEB / "templates").rglob("*.html")) + list((WEB / "static").glob("*")):
        text = path.read_text("utf-8")
        assert not re.search(r"(src|href)=\"(https?:)?//", text), f"{path} loads from elsewhere"
        assert "<script>" not in text and " style=" not in text, f"{path} has inline script/style (CSP)"
    csp = client.get("/login").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("style-src")[0]
    assert client.get("/static/console.js").status_code == 200
    assert client.get("/static/console.css").headers["content-type"].startswith("text/css")


def test_catalogues_cover_every_template_key():
    """GIVEN the zh-CN and English catalogues THEN both have the same keys and every literal key the
    templates use."""
    from server.web import i18n

    assert i18n.missing_keys() == {}
    used = set()
    for path in (WEB / "templates").rglob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_.-]+)["']\s*[,)]""", path.read_text("utf-8")))
    used |= {f"role.{r}" for r in ("lobby_staff", "teller", "customer_manager", "branch_manager", "maintenance",
                                   "admin")}
    used |= {"lang.zh-CN", "lang.en", "error.403", "error.404"}
    for loc in i18n.LOCALES:
        assert not used - set(i18n.catalogue(loc)), f"{loc} lacks {sorted(used - set(i18n.catalogue(loc)))}"
    assert i18n.negotiate("en-GB,en;q=0.9") == "en" and i18n.negotiate("fr") == "zh-CN"


def test_pages_outside_scope_are_404(client, make_user):
    """GIVEN a b001 teller WHEN it opens the b002 overview or the manager pages THEN 404 and 403 pages."""
    make_user("t1", "teller")
    browser_login(client, "t1")
    r = client.get("/branches/b002", headers={"accept": "text/html"})
    assert r.status_code == 404 and "柳河" not in r.text
    assert client.get("/staff", headers={"accept": "text/html"}).status_code == 403


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_live_events_reach_only_their_branch(migrated, make_user):
    """GIVEN a running server and a b001 teller's event stream WHEN events for b001, b002 and everyone are
    published THEN the stream carries b001's and everyone's, never b002's; stop() ends the stream."""
    from server.app import create_app
    from server.runner import ServerThread
    from tests.conftest import wait_until

    engine, _factory = migrated
    make_user("t1", "teller")
    app = create_app(engine=engine)
    srv = ServerThread(app, "127.0.0.1", 0).start()
    received: list[dict] = []
    done = threading.Event()
    try:
        with httpx.Client(base_url=srv.url, timeout=10) as http:
            h = bearer(http, "t1")

            def listen() -> None:
                with http.stream("GET", "/api/events/stream", headers=h) as resp:
                    assert resp.status_code == 200
                    assert resp.headers["content-type"].startswith("text/event-stream")
                    for line in resp.iter_lines():
                        if line.startswith("data: "):
                            received.append(json.loads(line[6:]))
                done.set()

            thread = threading.Thread(target=listen, daemon=True)
            thread.start()
            wait_until(lambda: app.state.events.subscriber_count == 1, 10, message="the stream to subscribe")
            app.state.events.publish("queue.board", {"waiting": 3}, branch_id="b002")
            app.state.events.publish("queue.board", {"waiting": 7}, branch_id="b001")
            app.state.events.publish("notice", {"text": "hello"}, branch_id=None)
            wait_until(lambda: len(received) >= 2, 10, message="two events")
            metrics = http.get("/metrics").text
            assert "sz_sse_clients 1.0" in metrics
            srv.stop()
            assert done.wait(10), "the event stream did not end when the server stopped"
    finally:
        srv.stop()
    assert [(e["type"], e["branch_id"], e["data"]) for e in received] == [
        ("queue.board", "b001", {"waiting": 7}), ("notice", None, {"text": "hello"})]
    assert not srv.thread.is_alive()
