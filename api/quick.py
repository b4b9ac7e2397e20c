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

from api.deps import ReadAccess, read_access

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


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

    def get_route_handler(self) -> Handler:
        solved = super().get_route_handler()
        if self.dependencies != [ReadAccess]:
            raise TypeError(f"{self.path}: a QueryRoute depends on read access alone")
        model = quick_model(self.endpoint)
        if model is None:
            return solved
        endpoint = self.endpoint

        async def handler(request: Request) -> Response:
            await read_access(request, request.app.state.settings)
            try:
                params = model.model_validate(dict(request.query_params))
            except ValidationError:
                return await solved(request)  # FastAPI names what is wrong, as it always did
            response: Response = await endpoint(params=params, graph=request.app.state.graph)
            return response

        return handler
