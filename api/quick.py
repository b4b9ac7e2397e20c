"""GET routes over the catalog's entries that skip FastAPI's dependency solving when they can.

FastAPI solves a route's dependencies anew for every request: the read-access check, the
graph, the query string read into the parameter model field by field, with its
introspection of each dependency and field repeated each time. On /search that was about
half of what the app itself spent per request (Guard to response, measured in process,
issue 21). A QueryRoute is declared and documented like any route (the OpenAPI document is
FastAPI's), and its endpoint is `(params: Annotated[Model, Query()], graph: GraphDep)` with
the read-access dependency. A request whose query string validates into the model runs the
same checks in the same order (read access, then the parameters) and the endpoint with the
same model: the same answer. Whatever does not validate goes FastAPI's way, so every 400 is
the one FastAPI makes.

In front of the router, QuickLane sends a GET at a quick route's path its quick way at once:
Starlette's matching of the path against every route before it and FastAPI's wrapping of
each request (its Request, two exit stacks, its own exception wrapper) were a quarter of what
the app spent per /search with its cache missing (issue 21). It sits where the router runs,
inside the middleware and the exception handlers, so whatever the quick way raises is
answered by the same handlers; what it does not take (another method, a query string that
does not validate) goes to the router as before.

Only for models whose fields all take one value (text, numbers, booleans, literals): there
FastAPI's reading of a query string is the last value of each key, which is what the quick
way reads. A list field (`types=A,B` or `types=A&types=B`) is read otherwise, so a model
with one keeps FastAPI's way entirely.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Coroutine
from typing import Any, Literal

from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import ReadAccess, read_access

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
# A quick way: the answer, or None when the query string does not validate (FastAPI's way then
# answers, naming what is wrong).
QuickWay = Callable[[Request], Coroutine[Any, Any, Response | None]]


def _one_value(annotation: Any) -> bool:
    """True for a type a query parameter gives one value of (None allowed beside it)."""
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return True
    if origin in (typing.Union, types.UnionType):
        return all(_one_value(a) for a in typing.get_args(annotation) if a is not type(None))
    return annotation in (str, int, float, bool)


def quick_model(endpoint: Callable[..., Any]) -> type[BaseModel] | None:
    """The parameter model of an endpoint `(params, graph)`, if every field of it takes one value."""
    hints = typing.get_type_hints(endpoint, include_extras=True)
    if set(hints) - {"return"} != {"params", "graph"}:
        raise TypeError(f"a QueryRoute's endpoint takes (params, graph), not {sorted(hints)}")
    model: type[BaseModel] = typing.get_args(hints["params"])[0]
    return model if all(_one_value(f.annotation) for f in model.model_fields.values()) else None


class QueryRoute(APIRoute):
    """A GET route over a catalog entry: FastAPI's handler, with a quick way in front of it."""

    quick: QuickWay | None = None

    def get_route_handler(self) -> Handler:
        solved = super().get_route_handler()
        if self.dependencies != [ReadAccess]:
            raise TypeError(f"{self.path}: a QueryRoute depends on read access alone")
        model = quick_model(self.endpoint)
        if model is None:
            return solved
        endpoint = self.endpoint

        async def quick(request: Request) -> Response | None:
            await read_access(request, request.app.state.settings)
            try:
                params = model.model_validate(dict(request.query_params))
            except ValidationError:
                return None
            response: Response = await endpoint(params=params, graph=request.app.state.graph)
            return response

        async def handler(request: Request) -> Response:
            response = await quick(request)
            # Not valid: FastAPI names what is wrong, as it always did.
            return response if response is not None else await solved(request)

        self.quick = quick
        return handler


class QuickLane:
    """The router's first step: a GET at the path of a quick route goes its quick way; anything
    else, and a query string that does not validate, goes to the router."""

    def __init__(self, app: ASGIApp, routes: list[BaseRoute]) -> None:
        self.app = app
        self.ways: dict[str, QuickWay] = {}
        for route in routes:
            if isinstance(route, QueryRoute) and route.quick is not None and "GET" in (route.methods or ()):
                # Only where the router would pick this route: the first to match the path fully.
                scope = {"type": "http", "method": "GET", "path": route.path, "root_path": ""}
                first = next(r for r in routes if r.matches(scope)[0] == Match.FULL)
                if first is route:
                    self.ways[route.path] = route.quick

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        way = None
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path"):
            way = self.ways.get(scope["path"])
        if way is not None:
            response = await way(Request(scope, receive, send))
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
