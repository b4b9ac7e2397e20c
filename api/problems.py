"""Errors as application/problem+json (RFC 9457): a status, a title, and the reason."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from neo4j.exceptions import ClientError, Neo4jError, ServiceUnavailable, SessionExpired
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from graph.connection import GraphUnavailable
from queries.catalog import CATALOG, NotFound, UnknownQuery

log = logging.getLogger("ruralkg.api")
PROBLEM = "application/problem+json"
RETRY_AFTER_SECONDS = 5


def problem(
    status: int, title: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {
        "type": f"/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    return JSONResponse({**body, **extra}, status_code=status, media_type=PROBLEM, headers=headers)


def _field_errors(errors: list[Any]) -> list[dict[str, str]]:
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body")]
        message = str(err.get("msg", "")).removeprefix("Value error, ")
        out.append({"field": ".".join(loc) or "(request)", "message": message})
    return out


def bad_parameters(errors: list[Any]) -> JSONResponse:
    fields = _field_errors(errors)
    detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    return problem(400, "Bad parameters", detail, errors=fields)


def graph_unreachable(reason: str) -> JSONResponse:
    return problem(503, "Graph unavailable", reason, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return bad_parameters(list(exc.errors()))

    @app.exception_handler(ValidationError)
    async def _params_invalid(request: Request, exc: ValidationError) -> JSONResponse:
        return bad_parameters(exc.errors())

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return problem(404, "Not found", str(exc))

    @app.exception_handler(UnknownQuery)
    async def _unknown_query(request: Request, exc: UnknownQuery) -> JSONResponse:
        return problem(404, "Unknown query", f"no query named {exc.args[0]!r}", known=sorted(CATALOG))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        return problem(exc.status_code, title, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(GraphUnavailable)
    async def _graph_unavailable(request: Request, exc: GraphUnavailable) -> JSONResponse:
        return graph_unreachable(str(exc))

    @app.exception_handler(ServiceUnavailable)
    async def _service_unavailable(request: Request, exc: ServiceUnavailable) -> JSONResponse:
        return graph_unreachable(f"the graph cannot be reached: {exc}")

    @app.exception_handler(SessionExpired)
    async def _session_expired(request: Request, exc: SessionExpired) -> JSONResponse:
        return graph_unreachable(f"the graph connection was lost: {exc}")

    @app.exception_handler(Neo4jError)
    async def _neo4j(request: Request, exc: Neo4jError) -> JSONResponse:
        if isinstance(exc, ClientError) and "Timeout" in (exc.code or "") + (exc.message or ""):
            return problem(504, "Query timed out", "the query ran longer than RURALKG_QUERY_TIMEOUT allows")
        log.exception("graph error on %s", request.url.path)
        return problem(
            500, "Graph error", f"the graph answered with an error: {exc.code or type(exc).__name__}"
        )
