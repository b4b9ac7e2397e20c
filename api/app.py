"""The HTTP API: the query catalog over FastAPI, async all the way.

The graph driver is opened and closed in the app's lifespan (and found again when the local
server moves); each query runs in one read session under a deadline. Every answer is JSON
(temporal values as ISO strings, property maps with sorted keys); every error is problem+json.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from neo4j.exceptions import DriverError

from api import docs, problems
from api.deps import GraphDep, KeyRequired, ReadAccess, SettingsDep
from api.divisions_load import BackgroundDivisions, divisions_status
from api.graph import GraphHandle, answer_json
from api.middleware import Guard, cors_kwargs
from api.problems import BadRequest
from api.quick import QueryRoute, QuickLane
from api.views import review
from api.views import routes as views
from graph.connection import GraphUnavailable
from graph.divisions import DIVISION_CODE
from graph.settings import Settings, get_settings
from queries import CATALOG
from queries.analyst import CypherRequest, CypherResult, run_cypher_async
from queries.catalog import Entry, QueryTimedOut, UnknownQuery
from queries.explore import (
    ENTITY,
    NEIGHBORHOOD_ENTRY,
    PATH,
    SEARCH,
    EntityDetail,
    EntityParams,
    NeighborhoodParams,
    NeighborhoodQuery,
    Network,
    PathParams,
    Paths,
    RelationshipPage,
    SearchPage,
    SearchParams,
)
from queries.regions import REGION, REGION_COVERAGE, CoverageParams, Region, RegionCoverage, RegionParams

VERSION = "0.1.0"
log = logging.getLogger("ruralkg.api")
EntityId = Annotated[
    str,
    Path(
        min_length=3,
        max_length=200,
        description="e.g. village:fujian.zhouning.lidun.qinxi",
        examples=["village:fujian.zhouning.lidun.qinxi"],
    ),
]
QueryName = Annotated[str, Path(max_length=100, description="a catalog entry's name (GET /queries)")]
DivisionCode = Annotated[
    str,
    Path(
        min_length=2, max_length=12, pattern=DIVISION_CODE, description="a division code", examples=["350925"]
    ),
]
DivisionRef = Annotated[
    str,
    Path(
        min_length=2,
        max_length=200,
        description="a division's id or code",
        examples=["county:fujian.zhouning", "350925"],
    ),
]
JSON_TYPES = ("application/json",)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    graph: GraphHandle = app.state.graph
    await graph.open()
    divisions: BackgroundDivisions | None = app.state.divisions
    if divisions is not None:
        divisions.start()
    try:
        yield
    finally:
        if divisions is not None:
            await asyncio.to_thread(divisions.stop)
        await graph.close()


def require_json(request: Request) -> None:
    """A body must say it is JSON; anything else is named, not guessed at. No body, no type needed."""
    has_body = request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
    if not has_body:
        return
    given = request.headers.get("content-type", "")
    media = given.split(";")[0].strip().lower()
    if media not in JSON_TYPES and not media.endswith("+json"):
        raise BadRequest(
            415, "Unsupported media type", f"the body must be application/json, not {given or 'untyped'!r}"
        )


JsonBody = Depends(require_json)


def create_app(settings: Settings | None = None, *, background_divisions: bool = False) -> FastAPI:
    """The app; with `background_divisions` (`ruralkg serve`), it loads the official divisions in
    a child process while it serves, if the graph lacks them (api/divisions_load.py)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="ruralkg",
        version=VERSION,
        summary="Party-building alliances (党建联盟) in China's rural revitalization, as a knowledge graph",
        description=(
            "Read-only questions over the graph: search, entities with provenance, neighbourhoods, "
            "paths, the named query catalog, and analyst Cypher behind API keys. Every fact carries "
            "its source and an evidence quote. Errors are application/problem+json."
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # A redirect would build its Location from the Host header, and turn an id holding an
        # encoded '/' into another id: a path is served as given or not at all.
        redirect_slashes=False,
        # No OpenTelemetry here: left on, FastAPI asks the global providers whether any is
        # configured on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.graph = GraphHandle(settings)
    app.state.divisions = BackgroundDivisions(settings) if background_divisions else None
    app.state.cypher_slots = asyncio.Semaphore(settings.cypher_concurrency)
    app.state.openapi_components = {}  # schemas the routes refer to that FastAPI does not collect
    problems.install(app)
    docs.install(app)
    _routes(app)
    views.install(app)
    review.install(app)
    app.router.middleware_stack = QuickLane(app.router.middleware_stack, app.router.routes)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, **cors_kwargs(settings.cors_origins))
    deadline = max(settings.query_timeout, settings.cypher_timeout) + settings.connect_timeout
    app.add_middleware(Guard, max_body=settings.max_body_bytes, deadline=deadline)
    return app


async def _validated(model: Any, data: Any) -> Any:
    # Off the event loop: a large body of bad keys must not stall every other request.
    return await asyncio.to_thread(model.model_validate, data)


def _integer_fields(schema: dict[str, Any], kind: str = "integer") -> frozenset[str]:
    """The parameters a JSON schema types as `kind` (alone or in an anyOf)."""
    return frozenset(
        key
        for key, spec in schema.get("properties", {}).items()
        if kind in {spec.get("type")} | {s.get("type") for s in spec.get("anyOf", [])}
    )


def _json_integers(
    integers: frozenset[str], data: dict[str, Any], booleans: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """A JSON body's integers and booleans as its schema means them: 5 and 5.0 are integers,
    "5" and false are not; true is a boolean, 0 and "true" are not (pydantic's lax mode, right
    for query strings, would take them all)."""
    out = dict(data)
    for key, value in data.items():
        if key in booleans and value is not None and not isinstance(value, bool):
            raise BadRequest(
                400,
                "Bad parameters",
                f"{key}: must be true or false",
                errors=[{"field": key, "message": "must be true or false"}],
            )
        if key not in integers or value is None:
            continue
        if isinstance(value, bool | str):
            raise BadRequest(
                400,
                "Bad parameters",
                f"{key}: must be an integer",
                errors=[{"field": key, "message": "must be an integer"}],
            )
        if isinstance(value, float) and value.is_integer():
            out[key] = int(value)
    return out


def _entry_routes(app: FastAPI, entry: Entry[Any, Any]) -> None:
    """GET and POST /queries/<name> for one catalog entry, documented with its own parameter
    and result schemas (so the OpenAPI document states exactly what each entry accepts)."""
    body_schema = entry.params.model_json_schema(ref_template="#/components/schemas/{model}")
    app.state.openapi_components.update(body_schema.pop("$defs", {}))
    body_required = bool(body_schema.get("required"))
    # Computed once per entry, not per request.
    integers = _integer_fields(body_schema)
    booleans = _integer_fields(body_schema, "boolean")

    async def run_get(params: Any, graph: GraphDep) -> Any:
        return await answer_json(graph, entry, params)

    async def run_post(request: Request, graph: GraphDep, _json: Annotated[None, JsonBody]) -> Any:
        body = await request.body()
        try:
            data = json.loads(body) if body else {}
        except ValueError as exc:
            raise BadRequest(
                400,
                "Bad parameters",
                f"(body): malformed JSON: {exc}",
                errors=[{"field": "(body)", "message": f"malformed JSON: {exc}"}],
            ) from None
        if not isinstance(data, dict):
            raise BadRequest(
                400,
                "Bad parameters",
                "(body): must be a JSON object of parameters",
                errors=[{"field": "(body)", "message": "must be a JSON object of parameters"}],
            )
        typed = _json_integers(integers, data, booleans)
        return await answer_json(graph, entry, await _validated(entry.params, typed))

    # The parameter model is only known here, so the annotation is set, not written.
    run_get.__annotations__["params"] = Annotated[entry.params, Query()]
    common: dict[str, Any] = {
        "tags": ["catalog"],
        "response_model": entry.result,
        "dependencies": [ReadAccess],
        "summary": entry.summary_en,
        "description": entry.summary_zh,
    }
    app.router.add_api_route(
        f"/queries/{entry.name}",
        run_get,
        methods=["GET"],
        operation_id=f"query_{entry.name}_get",
        route_class_override=QueryRoute,
        **common,
    )
    app.post(
        f"/queries/{entry.name}",
        operation_id=f"query_{entry.name}_post",
        openapi_extra={
            "requestBody": {
                "required": body_required,
                "content": {"application/json": {"schema": body_schema}},
            }
        },
        **common,
    )(run_post)


def _routes(app: FastAPI) -> None:
    @app.get("/health", tags=["service"], summary="Service and graph reachability")
    async def health(request: Request, graph: GraphDep, settings: SettingsDep) -> JSONResponse:
        local = {"local_server": graph.status()} if graph.keeper is not None else {}
        try:
            driver = await graph.current()
            info = await graph.within(settings.connect_timeout, "the health check", driver.get_server_info)
            divisions = await graph.within(
                settings.connect_timeout,
                "reading the divisions' load",
                lambda: divisions_status(driver, settings),
            )
        except (GraphUnavailable, QueryTimedOut, DriverError) as exc:
            return problems.graph_unreachable(str(exc), graph={"reachable": False, **local})
        if (background := request.app.state.divisions) is not None:
            divisions["background"] = background.state()
        return JSONResponse(
            {
                "status": "ok",
                "version": VERSION,
                "graph": {"reachable": True, "server": info.agent, **local},
                "divisions": divisions,
            }
        )

    async def search(params: Annotated[SearchParams, Query()], graph: GraphDep) -> Any:
        return await answer_json(graph, SEARCH, params)

    app.router.add_api_route(
        "/search",
        search,
        methods=["GET"],
        tags=["explore"],
        response_model=SearchPage,
        summary=SEARCH.summary_en,
        dependencies=[ReadAccess],
        route_class_override=QueryRoute,
    )

    @app.get(
        "/entities/{entity_id}",
        tags=["explore"],
        response_model=EntityDetail,
        summary=ENTITY.summary_en,
        dependencies=[ReadAccess],
    )
    async def entity(entity_id: EntityId, page: Annotated[RelationshipPage, Query()], graph: GraphDep) -> Any:
        params = await _validated(EntityParams, {"id": entity_id, **page.model_dump()})
        return await answer_json(graph, ENTITY, params)

    @app.get(
        "/entities/{entity_id}/neighborhood",
        tags=["explore"],
        response_model=Network,
        summary=NEIGHBORHOOD_ENTRY.summary_en,
        dependencies=[ReadAccess],
    )
    async def neighborhood(
        entity_id: EntityId, query: Annotated[NeighborhoodQuery, Query()], graph: GraphDep
    ) -> Any:
        params = await _validated(NeighborhoodParams, {"id": entity_id, **query.model_dump()})
        return await answer_json(graph, NEIGHBORHOOD_ENTRY, params)

    @app.get(
        "/paths", tags=["explore"], response_model=Paths, summary=PATH.summary_en, dependencies=[ReadAccess]
    )
    async def paths(params: Annotated[PathParams, Query()], graph: GraphDep) -> Any:
        return await answer_json(graph, PATH, params)

    @app.get(
        "/regions/{code}",
        tags=["regions"],
        response_model=Region,
        summary=REGION.summary_en,
        dependencies=[ReadAccess],
    )
    async def region(code: DivisionCode, graph: GraphDep) -> Any:
        return await answer_json(graph, REGION, await _validated(RegionParams, {"code": code}))

    @app.get(
        "/regions/{division}/coverage",
        tags=["regions"],
        response_model=RegionCoverage,
        summary=REGION_COVERAGE.summary_en,
        dependencies=[ReadAccess],
    )
    async def region_coverage(division: DivisionRef, graph: GraphDep) -> Any:
        params = await _validated(CoverageParams, {"division": division})
        return await answer_json(graph, REGION_COVERAGE, params)

    @app.get(
        "/queries",
        tags=["catalog"],
        summary="The catalog, with each entry's parameter schema",
        dependencies=[ReadAccess],
    )
    async def catalog() -> list[dict[str, Any]]:
        return [entry.describe() for entry in CATALOG.values()]

    for entry in CATALOG.values():
        _entry_routes(app, entry)

    # Names the catalog does not hold: a 404 that lists the ones it does.
    @app.get("/queries/{name}", include_in_schema=False, dependencies=[ReadAccess])
    @app.post("/queries/{name}", include_in_schema=False, dependencies=[ReadAccess])
    async def unknown_query(name: QueryName) -> Any:
        raise UnknownQuery(name)

    @app.post(
        "/cypher",
        tags=["analyst"],
        response_model=CypherResult,
        summary="Run one read-only Cypher query (X-API-Key required)",
        description=(
            "The query is checked before it is sent (reading clauses only; procedures from an "
            "allow-list), runs in a READ transaction that is rolled back, within "
            "RURALKG_CYPHER_TIMEOUT (default 5 s, a 504 when passed) and returns at most "
            "RURALKG_CYPHER_ROW_CAP rows and RURALKG_MAX_ANSWER_BYTES bytes of rows (`truncated` and "
            "`cut` say when and why the answer was cut)."
        ),
        dependencies=[KeyRequired],
    )
    async def cypher(
        request: Request, req: CypherRequest, _json: Annotated[None, JsonBody], graph: GraphDep
    ) -> Any:
        settings = graph.settings
        slots: asyncio.Semaphore = request.app.state.cypher_slots
        if slots.locked():
            raise BadRequest(
                503,
                "Busy",
                f"{settings.cypher_concurrency} analyst queries are running; try again shortly",
            )
        log.info(
            "cypher query",
            extra={"query": req.query[:2000], "param_names": sorted(req.params)},
        )
        log.debug("cypher parameters", extra={"params": req.params})
        driver = await graph.current()
        async with slots:
            answer = await graph.within(
                settings.cypher_timeout,
                "the query",
                lambda: run_cypher_async(
                    driver, settings, req, timeout=settings.cypher_timeout, cap=settings.cypher_row_cap
                ),
            )
        return answer.result(settings.cypher_timeout)
