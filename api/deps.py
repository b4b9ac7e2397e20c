"""Typed dependencies: the settings, the graph, the caller's key.

All of them are `async def` although none awaits: FastAPI runs a plain `def` dependency in
its thread pool, three thread hops per request for what is an attribute read (measured: a
tenth of the API's CPU per /search under load, issue 10)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from api.graph import GraphHandle
from api.problems import BadRequest
from graph.settings import Settings


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_graph(request: Request) -> GraphHandle:
    graph: GraphHandle = request.app.state.graph
    return graph


GraphDep = Annotated[GraphHandle, Depends(get_graph)]

api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="one of the keys in RURALKG_API_KEYS"
)


def key_is_valid(given: str | None, settings: Settings) -> bool:
    """Constant time: every configured key is compared, whatever matched first."""
    if not given:
        return False
    ok = False
    candidate = given.encode("utf-8", "surrogateescape")
    for key in settings.api_keys:
        ok |= hmac.compare_digest(candidate, key.get_secret_value().encode())
    return ok


async def require_key(settings: SettingsDep, given: Annotated[str | None, Security(api_key_header)]) -> None:
    if not settings.api_keys:
        raise BadRequest(
            403, "Closed", "this endpoint is closed: no API key is configured (RURALKG_API_KEYS)"
        )
    if not key_is_valid(given, settings):
        # RFC 9110: a 401 names the scheme; ours is a key in a header of its own.
        raise BadRequest(
            401,
            "Unauthorized",
            "a valid X-API-Key header is required",
            headers={"WWW-Authenticate": 'ApiKey header="X-API-Key"'},
        )


async def read_access(request: Request, settings: SettingsDep) -> None:
    """Read routes are open unless RURALKG_READ_REQUIRES_KEY closes them."""
    if settings.read_requires_key:
        await require_key(settings, request.headers.get("x-api-key"))


KeyRequired = Depends(require_key)
ReadAccess = Depends(read_access)
