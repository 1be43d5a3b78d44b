"""The server's composition root: `create_app()` builds the FastAPI app (API, console, static files).

Adding a domain: append ("server.<domain>.api:router", roles) to ROUTERS, with the roles it serves in
(`szconfig.roles`; the app of a process includes only its role's routers). If that module
also defines `setup(app)`, it is called once after the routers are included (register metrics,
console cards, nav entries, template folders there).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.db import make_engine, session_factory
from server.jobs.metrics import JobMetrics
from server.scheduler import Job, LeasedScheduler, jobs_for
from server.web import errors
from server.web.events import Broadcaster
from server.web.metrics import BodyLimitMiddleware, Metrics, MetricsMiddleware
from server.web.pages import STATIC
from szconfig import ServerSettings
from szconfig.roles import BRANCH, CENTRE, EDGE_LINK, EVERYWHERE, Role, Roles

log = logging.getLogger(__name__)

# Every router of the app, in one place: ("module:attribute", roles). Domains add one line each.
ROUTERS: list[tuple[str, Roles]] = [
    ("server.web.health:router", EVERYWHERE),
    ("server.staff.api:router", EVERYWHERE),
    ("server.branches.api:router", EVERYWHERE),
    ("server.audit.api:router", EVERYWHERE),
    ("server.web.console:router", EVERYWHERE),
    ("server.link.api:router", EDGE_LINK),  # the edge: is the centre reachable, what waits, what it pushed down
    ("server.devices.api:router", CENTRE),  # fleet: devices, alarms, work orders, commands, utilisation, pages
    ("server.queueing.api:router", BRANCH),  # the branch's queue: tickets, calling, teller and lobby consoles
    ("server.queueing.counter_api:router", BRANCH),  # the teller workstation: counter sign-in, pause, served customer
    ("server.appointments.api:router", EVERYWHERE),  # appointments: booked at the centre or the branch
    ("server.customers.routes:router", CENTRE),  # crm: customers, KPIs, referral leads, console pages
    ("server.notifications.api:router", CENTRE),  # notifications: the bell, delivery log, on-call rota
    ("server.webhooks.api:router", CENTRE),  # crm: the webhook delivery log and its dead letters, resend
]

MAX_BODY_BYTES = 1024 * 1024
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; frame-ancestors 'none'")


class SecurityHeaders:
    """CSP (own assets only), no sniffing, no framing, no referrer leaks to other sites."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"] in ("/docs", "/docs/oauth2-redirect") else CSP

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(b"content-security-policy", csp.encode()), (b"x-content-type-options", b"nosniff"),
                            (b"x-frame-options", b"DENY"), (b"referrer-policy", b"same-origin")]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def _load(spec: str) -> tuple[object, object]:
    module_name, _, attr = spec.partition(":")
    module = importlib.import_module(module_name)
    return module, getattr(module, attr or "router")


def create_app(settings: ServerSettings | None = None, *, engine: Engine | None = None,
               jobs: list[Job] | None = None) -> FastAPI:
    """Build the app; pass `engine` to share one (tests), else one is made from settings.db.

    The lifespan runs the scheduled jobs (`jobs`, default those of the settings' role) when `settings.jobs`
    is on; without settings (tests, tools embedding the app) it runs none. Only the role's routers are
    included.
    """
    settings = settings or ServerSettings(jobs=False)
    role = Role(getattr(settings, "role", Role.ALL))
    own_engine = engine is None
    engine = engine or make_engine(settings.db)
    broadcaster = Broadcaster()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scheduler = None
        if getattr(settings, "jobs", False):
            scheduler = LeasedScheduler(app.state.sessions, jobs if jobs is not None else jobs_for(role),
                                        ttl_s=settings.jobs_lease_s)
            await asyncio.to_thread(scheduler.start)
        app.state.scheduler = scheduler
        try:
            yield
        finally:
            if scheduler is not None:
                await asyncio.to_thread(scheduler.stop)
            broadcaster.close()
            if own_engine:
                engine.dispose()

    app = FastAPI(
        title="smartzone server", version="0.1.0", docs_url=None, redoc_url=None, lifespan=lifespan,
        description="HTTP API of a bank branch's smart service zone. Sign in with POST /api/auth/token, "
                    "then send `Authorization: Bearer <token>`. Every answer is limited to the caller's "
                    "branches; objects elsewhere are 404.",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.events = broadcaster
    app.state.scheduler = None
    app.state.metrics = Metrics()
    app.state.metrics.registry.register(JobMetrics(app))
    app.state.settings_cookie_secure = getattr(settings, "cookie_secure", None)

    errors.install(app)
    setups = []
    for spec, roles in ROUTERS:
        if role not in roles:
            continue
        module, router = _load(spec)
        app.include_router(router)  # type: ignore[arg-type]
        if callable(getattr(module, "setup", None)) and module not in setups:
            setups.append(module)
    for module in setups:
        module.setup(app)  # type: ignore[attr-defined]

    _mount_docs(app)  # before /static, which would otherwise shadow /static/swagger
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(BodyLimitMiddleware, limit=getattr(settings, "max_body_bytes", MAX_BODY_BYTES))
    app.add_middleware(SecurityHeaders)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    return app


def _mount_docs(app: FastAPI) -> None:
    """Swagger UI from the bundled files (branches run on intranets: no CDN)."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:  # pragma: no cover - the dependency is declared; keep the API usable anyway
        log.warning("swagger-ui-bundle is not installed: /docs is unavailable")
        return
    app.mount("/static/swagger", StaticFiles(directory=swagger_ui_path), name="swagger")

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title="smartzone API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )
