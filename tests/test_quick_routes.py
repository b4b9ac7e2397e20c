"""The quick way into /search and GET /queries/<name> (api/quick.py) takes what FastAPI's
dependency solving takes, and refuses what it refuses, byte for byte.

No graph: the endpoints' answer is stubbed to echo the parameters they were given, and each
request is sent to the app as served and to one where every route goes FastAPI's way."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from starlette.responses import Response

import api.app
import api.quick
from api.app import create_app
from graph.settings import Settings

KEY = "quick-test-key-" + "k" * 20

CASES = [
    "/search?q=芹溪",
    "/search?q=hs&limit=5&offset=3",
    "/search?q=hs&label=Village",
    "/search?q=a&q=b",  # a key twice: the last value, both ways
    "/search?q=hs&limit=abc",
    "/search?q=hs&limit=0",
    "/search?q=hs&limit=5.0",
    "/search?q=hs&offset=99999999999",
    "/search?q=",
    "/search?q=%20%20",
    "/search",
    "/search?q=hs&extra=1",
    "/search?q=hs&label=Nope",
    "/search?q=hs&label=",
    "/search?q=" + "x" * 101,
    "/search?q=%ED%A0%80",  # a lone surrogate, percent-encoded: not UTF-8
    "/queries/overview",
    "/queries/overview?x=1",
    "/queries/shared-experts?village=qinxi&role=第一书记&limit=3",
    "/queries/shared-experts?role=nobody",
    "/queries/practices?concepts=true",
    "/queries/practices?concepts=yes",
    "/queries/practices?concepts=maybe",
    "/queries/figures?year_from=2020&year_to=2019",
    "/queries/village-profile",
    "/queries/search?q=hs&limit=2",
    "/queries/path?source=a&target=b&types=LEADS,ADVISES",  # a list field: FastAPI's way always
]


async def _echo(graph: Any, entry: Any, params: Any) -> Response:
    return Response(f"{entry.name} {params.model_dump_json()}".encode(), media_type="application/json")


def _answers(settings: Settings, headers: dict[str, str]) -> list[tuple[int, bytes, str]]:
    app = create_app(settings)

    async def calls() -> list[tuple[int, bytes, str]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as c:
            out = []
            for case in CASES:
                resp = await c.get(case, headers={"x-request-id": "same-id", **headers})
                out.append((resp.status_code, resp.content, resp.headers.get("content-type", "")))
            return out

    return asyncio.run(calls())


@pytest.mark.parametrize(
    "read_requires_key, headers",
    [(False, {}), (True, {}), (True, {"x-api-key": KEY}), (True, {"x-api-key": "wrong"})],
)
def test_quick_routes_answer_as_fastapi_does(
    monkeypatch: pytest.MonkeyPatch, read_requires_key: bool, headers: dict[str, str]
) -> None:
    monkeypatch.setattr(api.app, "answer_json", _echo)
    settings = Settings(
        NEO4J_URI="bolt://127.0.0.1:1",
        RURALKG_API_KEYS=KEY,
        RURALKG_READ_REQUIRES_KEY=read_requires_key,
    )
    quick = _answers(settings, headers)
    monkeypatch.setattr(api.quick, "quick_model", lambda endpoint: None)
    solved = _answers(settings, headers)
    for case, got, expected in zip(CASES, quick, solved, strict=True):
        assert got == expected, case
    statuses = {status for status, _, _ in quick}
    if read_requires_key and headers.get("x-api-key") != KEY:
        assert 401 in statuses and 200 not in statuses
    else:
        assert statuses == {200, 400}


def test_only_one_value_models_take_the_quick_way() -> None:
    app = create_app(Settings(NEO4J_URI="bolt://127.0.0.1:1"))
    quick = {
        route.path
        for route in app.routes
        if isinstance(route, api.quick.QueryRoute) and api.quick.quick_model(route.endpoint) is not None
    }
    assert {"/search", "/queries/overview", "/queries/shared-experts"} <= quick
    assert "/queries/path" not in quick and "/queries/neighborhood" not in quick
    # The lane in front of the router takes exactly these (so the comparison above is its).
    lane = app.router.middleware_stack
    assert isinstance(lane, api.quick.QuickLane) and set(lane.ways) == quick
