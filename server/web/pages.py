"""Console rendering: one Jinja2 environment, the navigation and the overview cards later domains extend.

A domain adds a page by writing a template that `{% extends "base.html" %}`, a route that calls
`render(request, "mydomain/page.html", {...}, principal)`, and (optionally) a nav entry with
`register_nav(NavItem(...))`. It fills an overview card with `register_card(Card(...))`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from server.staff.models import Role
from server.web import i18n
from server.web.deps import Principal

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

_loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(TEMPLATES))])
env = jinja2.Environment(loader=_loader, autoescape=jinja2.select_autoescape(["html"]), trim_blocks=True,
                         lstrip_blocks=True)


def add_template_dir(path: Path) -> None:
    """Let a domain keep its templates next to its code (server/<domain>/templates)."""
    _loader.loaders.append(jinja2.FileSystemLoader(str(path)))


@dataclass(frozen=True)
class NavItem:
    key: str                     # i18n key of the label
    href: str
    roles: frozenset[Role] | None = None  # None: every signed-in role
    order: int = 100


@dataclass(frozen=True)
class Card:
    id: str                      # DOM id and SSE target: `card-<id>`
    title_key: str
    template: str                # rendered with the page context plus `branch`
    roles: frozenset[Role] | None = None
    order: int = 100


NAV: dict[str, NavItem] = {}
CARDS: dict[str, Card] = {}


def register_nav(item: NavItem) -> None:
    NAV[item.href] = item


def register_card(card: Card) -> None:
    """Add or replace (same id) a card on the branch overview."""
    CARDS[card.id] = card


def _allowed(roles: frozenset[Role] | None, principal: Principal) -> bool:
    return roles is None or principal.role is Role.ADMIN or principal.role in roles


MANAGERS = frozenset({Role.BRANCH_MANAGER})
register_nav(NavItem("nav.overview", "/", None, 10))
register_nav(NavItem("nav.staff", "/staff", MANAGERS, 80))
register_nav(NavItem("nav.audit", "/audit", MANAGERS, 90))
for _order, (_id, _roles) in enumerate({
    "queue": None,
    "devices": frozenset({Role.MAINTENANCE, Role.BRANCH_MANAGER, Role.LOBBY_STAFF}),
    "leads": frozenset({Role.CUSTOMER_MANAGER, Role.BRANCH_MANAGER, Role.LOBBY_STAFF}),
    "kpis": MANAGERS,
}.items()):
    register_card(Card(_id, f"card.{_id}", "cards/placeholder.html", _roles, 10 * (_order + 1)))


def request_locale(request: Request, principal: Principal | None) -> str:
    if principal is not None:
        return principal.locale
    return (i18n.normalise(request.cookies.get(i18n.LANG_COOKIE))
            or i18n.negotiate(request.headers.get("accept-language")))


def nav_section(path: str) -> str:
    """The nav entry a page belongs to: branch pages (/branches/B/queue) belong to their section (/queue), a branch's
    own page to the overview (/)."""
    parts = path.strip("/").split("/")
    if parts[0] == "branches":
        return "/" + parts[2] if len(parts) > 2 else "/"
    return "/" + parts[0]


def render(request: Request, template: str, context: dict[str, Any] | None = None,
           principal: Principal | None = None, status: int = 200,
           headers: dict[str, str] | None = None, locale: str | None = None) -> HTMLResponse:
    """Render a console page with the shared context: t(), locale, principal, csrf_token, nav, cards."""
    principal = principal or getattr(request.state, "principal", None)
    locale = locale or request_locale(request, principal)

    def t(key: str, **params: Any) -> str:
        return i18n.translate(locale, key, **params)

    ctx: dict[str, Any] = {
        "request": request, "t": t, "locale": locale, "locales": i18n.LOCALES, "principal": principal,
        "csrf_token": principal.csrf_token if principal else None, "path": request.url.path,
        "section": nav_section(request.url.path),
        "nav": sorted((n for n in NAV.values() if principal and _allowed(n.roles, principal)),
                      key=lambda n: n.order),
    }
    if principal is not None:
        ctx["cards"] = sorted((c for c in CARDS.values() if _allowed(c.roles, principal)), key=lambda c: c.order)
    ctx.update(context or {})
    html = env.get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status, headers=headers)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", {"status": status, "message": message}, status=status)
