"""OpenAPI that tells the truth, and its pages (Swagger UI, ReDoc) with assets served by us.

FastAPI documents 422 for every route with parameters, which this API never sends (bad
input is a 400 problem), and nothing of the 400/404/405/413/415/503/504 problems it does
send. `truthful_openapi` rewrites every operation, so routes added later are covered too.
The Swagger UI and ReDoc bundles come from the `fastapi-offline` package: no CDN.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api.problems import PROBLEM, Problem

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs-assets"

_WHY = {
    "400": "Bad parameters, malformed JSON, a refused query (problem+json naming the field), "
    "or an answer larger than RURALKG_MAX_ANSWER_BYTES",
    "401": "No valid X-API-Key",
    "403": "Closed: no API key is configured",
    "404": "Unknown id, query or route",
    "405": "Method not allowed (the Allow header lists the ones served)",
    "413": "Request body too large",
    "415": "Request body is not application/json",
    "503": "The graph cannot be reached, or every connection is busy (see Retry-After)",
    "504": "The query ran past its timeout",
}


def _problem_response(code: str) -> dict[str, Any]:
    return {
        "description": _WHY[code],
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def truthful_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, sub in getattr(app.state, "openapi_components", {}).items():
        components.setdefault(name, sub)
    components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in components["Problem"].pop("$defs", {}).items():
        components[name] = sub
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    for operations in schema.get("paths", {}).values():
        for op in operations.values():
            responses = op.setdefault("responses", {})
            responses.pop("422", None)
            codes = ["404", "405", "503", "504"]
            if op.get("parameters") or op.get("requestBody"):
                codes.append("400")
            if op.get("requestBody"):
                codes += ["413", "415"]
            if op.get("security"):
                codes += ["401", "403"]
            for code in codes:
                responses.setdefault(code, _problem_response(code))
    app.openapi_schema = schema
    return schema


def install(app: FastAPI) -> None:
    app.openapi = lambda: truthful_openapi(app)  # type: ignore[method-assign]
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
