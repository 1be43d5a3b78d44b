"""Helpers for server tests: bearer tokens and a browser-like signed-in client."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"


def bearer(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    r = client.post("/api/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@dataclass
class Browser:
    """A TestClient signed in through the login form; `csrf` is the page's CSRF token."""

    client: TestClient
    csrf: str

    def post(self, url: str, data: dict | None = None, **kw):
        return self.client.post(url, data={**(data or {}), "csrf_token": self.csrf}, follow_redirects=False, **kw)


def browser_login(client: TestClient, username: str, password: str = PASSWORD) -> Browser:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    home = client.get(r.headers["location"])
    m = re.search(r'<meta name="csrf-token" content="([^"]+)"', home.text)
    assert m, home.text[:500]
    return Browser(client, m.group(1))
