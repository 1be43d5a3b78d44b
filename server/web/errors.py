"""One JSON error shape for every 4xx/5xx: {"error": code, "message": what went wrong, "detail": …}."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from server.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, TryLater, Unauthenticated
from server.web.deps import LoginRequired, PasswordChangeRequired

log = logging.getLogger(__name__)

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "body_too_large", 415: "unsupported_media_type", 422: "invalid_request",
         429: "too_many_requests", 503: "unavailable"}


# The one place a domain's refusal becomes an HTTP status (server/errors.py).
DOMAIN_STATUS: dict[type[DomainError], int] = {NotFound: 404, Conflict: 409, Invalid: 422, Forbidden: 403,
                                               Unauthenticated: 401, TryLater: 429}


def domain_status(err: DomainError) -> int:
    return next((status for kind, status in DOMAIN_STATUS.items() if isinstance(err, kind)), 400)


def error_response(status: int, message: str, code: str | None = None, detail: Any = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": code or CODES.get(status, HTTPStatus(status).phrase.lower().replace(" ", "_")),
                            "message": message}
    if detail is not None:
        body["detail"] = detail
    return JSONResponse(body, status_code=status, headers=headers)


def _clean(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in errors]


def _is_page(request: Request) -> bool:
    path = request.url.path
    return not path.startswith(("/api/", "/static/")) and "text/html" in request.headers.get("accept", "")


def install(app: FastAPI) -> None:
    """Register the handlers that turn exceptions into the shared error shape (and pages into redirects)."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if _is_page(request) and exc.status_code in (403, 404):
            from server.web.pages import error_page

            return error_page(request, exc.status_code, str(exc.detail))
        return error_response(exc.status_code, str(exc.detail), getattr(exc, "code", None),
                              headers=getattr(exc, "headers", None))

    @app.exception_handler(DomainError)
    async def refused(request: Request, exc: DomainError):
        status = domain_status(exc)
        if _is_page(request) and status in (403, 404):
            from server.web.pages import error_page

            return error_page(request, status, exc.message)
        headers = {"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s else None
        return error_response(status, exc.message, exc.code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        errors = _clean(list(exc.errors()))
        summary = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:5])
        return error_response(422, f"invalid request: {summary}", "invalid_request", errors)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    @app.exception_handler(PasswordChangeRequired)
    async def password_change(request: Request, exc: PasswordChangeRequired):
        return RedirectResponse("/account/password", status_code=303)

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal error; the server log has the details", "internal_error")
