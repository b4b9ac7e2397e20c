"""Errors as application/problem+json (RFC 9457): a status, a title, and the reason.

Bodies say what the caller can act on; internals (the graph's address, driver messages)
go to the log, under the request id the response carries.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from neo4j.exceptions import (
    ConnectionAcquisitionTimeoutError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match

from api.logs import request_id
from graph.connection import GraphUnavailable
from queries.analyst import CypherFailed
from queries.catalog import CATALOG, AnswerTooLarge, NotFound, QueryTimedOut, UnknownQuery, is_timeout
from queries.readonly import WriteRefused

log = logging.getLogger("ruralkg.api")
PROBLEM = "application/problem+json"
RETRY_AFTER_SECONDS = 5
# A body of 200,000 unknown keys once made a 20 MB error list: the first ones say enough.
MAX_FIELD_ERRORS = 20


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details; `errors` lists the bad fields of a 400."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None
    known: list[str] | None = Field(None, description="the catalog's names, for an unknown query")
    request_id: str | None = None


class BadRequest(Exception):
    """A request the API refuses before any query: its status, title and reason."""

    def __init__(
        self, status: int, title: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra
        self.headers = headers


def problem(
    status: int, title: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {
        "type": f"/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
        "request_id": request_id.get(),
    }
    if status == 503:  # every 503 says when to come back
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS), **(headers or {})}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def field_errors(errors: list[Any]) -> list[dict[str, str]]:
    out = []
    for err in errors[:MAX_FIELD_ERRORS]:
        if err.get("type") == "json_invalid":
            ctx = err.get("ctx", {})
            out.append({"field": "(body)", "message": f"malformed JSON: {ctx.get('error', err.get('msg'))}"})
            continue
        loc = [str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body")]
        message = str(err.get("msg", "")).removeprefix("Value error, ")
        out.append({"field": ".".join(loc) or "(request)", "message": message})
    if len(errors) > MAX_FIELD_ERRORS:
        out.append(
            {"field": "(more)", "message": f"{len(errors) - MAX_FIELD_ERRORS} more problems not listed"}
        )
    return out


def bad_parameters(errors: list[Any]) -> JSONResponse:
    fields = field_errors(errors)
    detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    return problem(400, "Bad parameters", detail, errors=fields)


def graph_unreachable(reason: str, exc: BaseException | None = None, **extra: Any) -> JSONResponse:
    log.warning("graph unavailable: %s", reason if exc is None else f"{reason} ({exc})")
    detail = "the graph cannot be reached just now; try again shortly"
    return problem(503, "Graph unavailable", detail, **extra)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (FastAPI keeps one route per method)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        route_methods = getattr(route, "methods", None)
        if match != Match.NONE and route_methods:
            methods |= set(route_methods)
    return sorted(methods)


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return bad_parameters(list(exc.errors()))

    @app.exception_handler(ValidationError)
    async def _params_invalid(request: Request, exc: ValidationError) -> JSONResponse:
        return bad_parameters(exc.errors())

    @app.exception_handler(BadRequest)
    async def _bad_request(request: Request, exc: BadRequest) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, headers=exc.headers, **exc.extra)

    @app.exception_handler(WriteRefused)
    async def _write_refused(request: Request, exc: WriteRefused) -> JSONResponse:
        return problem(400, "Query refused", f"only read queries are run: {exc}")

    @app.exception_handler(CypherFailed)
    async def _cypher_failed(request: Request, exc: CypherFailed) -> JSONResponse:
        return problem(400, "Query failed", str(exc))

    @app.exception_handler(AnswerTooLarge)
    async def _too_large(request: Request, exc: AnswerTooLarge) -> JSONResponse:
        return problem(400, "Answer too large", str(exc))

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return problem(404, "Not found", str(exc))

    @app.exception_handler(UnknownQuery)
    async def _unknown_query(request: Request, exc: UnknownQuery) -> JSONResponse:
        return problem(404, "Unknown query", f"no query named {exc.args[0]!r}", known=sorted(CATALOG))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        headers = dict(getattr(exc, "headers", None) or {})
        detail = str(exc.detail)
        if exc.status_code == 405:
            methods = allowed_methods(request)
            headers["Allow"] = ", ".join(methods)
            detail = f"{request.method} is not served here; allowed: {', '.join(methods)}"
        elif exc.status_code == 404:
            detail = f"nothing is served at {request.url.path!r}"
        return problem(exc.status_code, title, detail, headers=headers)

    @app.exception_handler(QueryTimedOut)
    async def _timed_out(request: Request, exc: QueryTimedOut) -> JSONResponse:
        return problem(504, "Query timed out", str(exc))

    @app.exception_handler(GraphUnavailable)
    async def _graph_unavailable(request: Request, exc: GraphUnavailable) -> JSONResponse:
        return graph_unreachable(str(exc))

    @app.exception_handler(ConnectionAcquisitionTimeoutError)
    async def _pool_exhausted(request: Request, exc: ConnectionAcquisitionTimeoutError) -> JSONResponse:
        log.warning("no graph connection free in time: %s", exc)
        return problem(503, "Busy", "every graph connection is in use; try again shortly")

    @app.exception_handler(ServiceUnavailable)
    async def _service_unavailable(request: Request, exc: ServiceUnavailable) -> JSONResponse:
        return graph_unreachable("the graph cannot be reached", exc)

    @app.exception_handler(SessionExpired)
    async def _session_expired(request: Request, exc: SessionExpired) -> JSONResponse:
        return graph_unreachable("the graph connection was lost", exc)

    @app.exception_handler(DriverError)
    async def _driver(request: Request, exc: DriverError) -> JSONResponse:
        return graph_unreachable("the graph driver failed", exc)

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> JSONResponse:
        # The client left, or the body cap ended the read (the 413 is already sent).
        return problem(400, "Client disconnected", "the request body ended early")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error on %s", request.url.path, exc_info=exc)
        return problem(500, "Internal error", "the service failed; the log has the details")

    @app.exception_handler(Neo4jError)
    async def _neo4j(request: Request, exc: Neo4jError) -> JSONResponse:
        if is_timeout(exc):
            return problem(504, "Query timed out", "the query ran longer than RURALKG_QUERY_TIMEOUT allows")
        if "MemoryPoolOutOfMemoryError" in (exc.code or ""):  # Neo4j's db.memory.transaction.max
            return problem(
                400, "Query too large", "the query needed more memory than the graph allows one transaction"
            )
        log.error("graph error on %s: %s", request.url.path, exc)
        return problem(
            500, "Graph error", f"the graph answered with an error: {exc.code or type(exc).__name__}"
        )
