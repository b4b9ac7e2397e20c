"""The HTTP API: the query catalog over FastAPI, async all the way.

The driver is opened and closed in the app's lifespan; each request gets one read session.
Every answer is JSON (temporal values as ISO strings); every error is problem+json.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Body, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from neo4j.exceptions import AuthError, ServiceUnavailable, SessionExpired

from api import problems
from api.deps import DriverDep, SessionDep, SettingsDep
from graph.connection import GraphUnavailable, open_async_driver, resolve_target
from graph.settings import Settings, get_settings, redact_uri
from queries import CATALOG, get_entry, run_async
from queries.catalog import params_from_strings
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
    SearchHit,
    SearchParams,
)
from queries.models import Page
from queries.regions import REGION, REGION_COVERAGE, CoverageParams, Region, RegionCoverage, RegionParams

VERSION = "0.1.0"


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    app.state.driver, app.state.driver_error = None, "the graph driver is not open"
    try:
        target = resolve_target(settings, start_local=False)
        app.state.target_uri = redact_uri(target.uri)
        app.state.driver = await open_async_driver(target, settings, verify=False)
    except GraphUnavailable as exc:
        app.state.driver_error = str(exc)
    try:
        yield
    finally:
        if app.state.driver is not None:
            await app.state.driver.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(
        title="ruralkg",
        version=VERSION,
        summary="Party-building alliances (党建联盟) in China's rural revitalization, as a knowledge graph",
        description=(
            "Read-only questions over the graph: search, entities with provenance, neighbourhoods, "
            "paths and the named query catalog. Every fact carries its source and an evidence quote."
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings or get_settings()
    app.state.target_uri = None
    problems.install(app)
    _routes(app)
    return app


def _routes(app: FastAPI) -> None:
    @app.get("/health", tags=["service"], summary="Service and graph reachability")
    async def health(request: Request, driver: DriverDep) -> JSONResponse:
        try:
            info = await driver.get_server_info()
        except (ServiceUnavailable, SessionExpired, AuthError, OSError) as exc:
            return problems.graph_unreachable(
                f"cannot reach the graph at {request.app.state.target_uri}: {exc}"
            )
        return JSONResponse(
            {
                "status": "ok",
                "version": VERSION,
                "graph": {"reachable": True, "uri": request.app.state.target_uri, "server": info.agent},
            }
        )

    @app.get("/search", tags=["explore"], response_model=Page[SearchHit], summary=SEARCH.summary_en)
    async def search(
        params: Annotated[SearchParams, Query()], session: SessionDep, settings: SettingsDep
    ) -> Any:
        return await run_async(session, settings, SEARCH, params)

    @app.get(
        "/entities/{entity_id}", tags=["explore"], response_model=EntityDetail, summary=ENTITY.summary_en
    )
    async def entity(
        entity_id: str, page: Annotated[RelationshipPage, Query()], session: SessionDep, settings: SettingsDep
    ) -> Any:
        params = EntityParams(id=entity_id, **page.model_dump())
        return await run_async(session, settings, ENTITY, params)

    @app.get(
        "/entities/{entity_id}/neighborhood",
        tags=["explore"],
        response_model=Network,
        summary=NEIGHBORHOOD_ENTRY.summary_en,
    )
    async def neighborhood(
        entity_id: str,
        query: Annotated[NeighborhoodQuery, Query()],
        session: SessionDep,
        settings: SettingsDep,
    ) -> Any:
        params = NeighborhoodParams(id=entity_id, **query.model_dump())
        return await run_async(session, settings, NEIGHBORHOOD_ENTRY, params)

    @app.get("/paths", tags=["explore"], response_model=Paths, summary=PATH.summary_en)
    async def paths(
        params: Annotated[PathParams, Query()], session: SessionDep, settings: SettingsDep
    ) -> Any:
        return await run_async(session, settings, PATH, params)

    @app.get("/regions/{code}", tags=["regions"], response_model=Region, summary=REGION.summary_en)
    async def region(code: str, session: SessionDep, settings: SettingsDep) -> Any:
        return await run_async(session, settings, REGION, RegionParams(code=code))

    @app.get(
        "/regions/{division}/coverage",
        tags=["regions"],
        response_model=RegionCoverage,
        summary=REGION_COVERAGE.summary_en,
    )
    async def region_coverage(division: str, session: SessionDep, settings: SettingsDep) -> Any:
        return await run_async(session, settings, REGION_COVERAGE, CoverageParams(division=division))

    @app.get("/queries", tags=["catalog"], summary="The catalog, with each entry's parameter schema")
    async def catalog() -> list[dict[str, Any]]:
        return [entry.describe() for entry in CATALOG.values()]

    @app.get("/queries/{name}", tags=["catalog"], summary="Run a catalog entry with query-string parameters")
    async def run_get(name: str, request: Request, session: SessionDep, settings: SettingsDep) -> Any:
        entry = get_entry(name)
        given = {key: request.query_params.getlist(key) for key in request.query_params}
        result = await run_async(session, settings, entry, params_from_strings(entry.params, given))
        return result.model_dump(mode="json")

    @app.post(
        "/queries/{name}", tags=["catalog"], summary="Run a catalog entry with a JSON body of parameters"
    )
    async def run_post(
        name: str,
        session: SessionDep,
        settings: SettingsDep,
        body: Annotated[
            dict[str, Any] | None, Body(examples=[{"village": "village:fujian.zhouning.lidun.qinxi"}])
        ] = None,
    ) -> Any:
        entry = get_entry(name)
        result = await run_async(session, settings, entry, entry.params.model_validate(body or {}))
        return result.model_dump(mode="json")
