"""Liveness, readiness and Prometheus metrics endpoints (no sign-in: for probes and scrapers)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from server.migrate import current_revisions, head_revisions

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    migrations: str
    detail: str | None = None


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is alive and serving HTTP."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
def readyz(request: Request) -> JSONResponse:
    """The database answers and is migrated to every head; 503 with the reason otherwise."""
    engine = request.app.state.engine
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current = current_revisions(engine)
    except SQLAlchemyError as err:
        body = Readiness(status="unavailable", database="unreachable", migrations="unknown",
                         detail=str(err).splitlines()[0][:300])
        return JSONResponse(body.model_dump(), status_code=503)
    heads = head_revisions()
    if current != heads:
        body = Readiness(status="unavailable", database="ok", migrations="behind",
                         detail=f"at {sorted(current) or 'nothing'}, heads are {sorted(heads)}: "
                                "run `smartzone db upgrade`")
        return JSONResponse(body.model_dump(), status_code=503)
    return JSONResponse(Readiness(status="ready", database="ok", migrations="current").model_dump())


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}})
def metrics(request: Request) -> Response:
    """Prometheus text exposition: request counts and latencies, plus what domains register."""
    body, ctype = request.app.state.metrics.render()
    return Response(body, media_type=ctype)
