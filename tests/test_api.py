"""The HTTP API against a live local graph: routes, problem+json errors, graph down."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from api.app import create_app
from graph.local_server import free_port
from graph.settings import Settings
from tests.conftest import problem_of

QINXI = "village:fujian.zhouning.lidun.qinxi"


def test_health(client: httpx.Client) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["graph"]["reachable"] is True
    assert "Neo4j/5" in body["graph"]["server"]


def test_openapi_documents_the_routes(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    for path in (
        "/health",
        "/search",
        "/entities/{entity_id}",
        "/entities/{entity_id}/neighborhood",
        "/paths",
    ):
        assert path in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_entity_with_provenance(client: httpx.Client) -> None:
    body = client.get(f"/entities/{QINXI}").json()
    assert body["name"] == "芹溪村" and body["label"] == "Village"
    assert body["provenance"][0]["id"] == "source:2022-08-15.zhouning"
    assert body["provenance"][0]["quote"] == "李墩镇的芹溪、际头、楼坪三个村"
    assert body["provenance"][0]["date"] == "2022-08-15", "temporal values are ISO strings"
    dispatched = [r for r in body["relationships"]["items"] if r["type"] == "DISPATCHED_TO"]
    assert dispatched[0]["other"]["name"] == "陈建福" and dispatched[0]["direction"] == "in"
    assert dispatched[0]["evidence"] == [
        {"source": "source:2022-08-15.zhouning", "quote": "福建省派驻芹溪村第一书记陈建福"}
    ]


def test_entity_relationships_page(client: httpx.Client) -> None:
    everything = client.get("/entities/county:fujian.zhouning").json()["relationships"]
    assert everything["total"] == len(everything["items"]) > 3
    second = client.get("/entities/county:fujian.zhouning", params={"limit": 2, "offset": 2}).json()
    assert second["relationships"]["items"] == everything["items"][2:4]
    assert second["relationships"]["total"] == everything["total"]


def test_catalog_lists_every_entry_with_its_schema(client: httpx.Client) -> None:
    entries = {e["name"]: e for e in client.get("/queries").json()}
    expected = {
        "shared-experts", "alliance-tree", "village-profile", "neighborhood", "path", "enterprise-reach",
        "multi-village-people", "industry-clusters", "practices", "overview", "search", "entity",
        "region", "region-coverage", "dispatches", "figures", "coverage-map", "sources",
    }  # fmt: skip
    assert expected == set(entries)
    assert entries["neighborhood"]["parameters"]["properties"]["depth"]["maximum"] == 3
    assert entries["shared-experts"]["summary"]["zh"] and entries["shared-experts"]["summary"]["en"]


def test_get_and_post_run_the_same_query(client: httpx.Client) -> None:
    by_get = client.get("/queries/shared-experts", params={"role": "第一书记"}).json()
    by_post = client.post("/queries/shared-experts", json={"role": "第一书记"}).json()
    assert by_get == by_post and by_get["total"] == 1


def test_list_parameters_repeat_or_use_commas(client: httpx.Client) -> None:
    url = f"/entities/{QINXI}/neighborhood"
    repeated = client.get(url, params=[("types", "BASED_IN"), ("types", "DISPATCHED_TO")]).json()
    commas = client.get(url, params={"types": "BASED_IN,DISPATCHED_TO"}).json()
    assert repeated == commas
    assert {e["type"] for e in commas["edges"]} == {"BASED_IN", "DISPATCHED_TO"}


def test_unknown_id_is_404(client: httpx.Client) -> None:
    body = problem_of(client.get("/entities/village:no.such.place"), 404)
    assert "village:no.such.place" in str(body["detail"])
    problem_of(client.get("/entities/village:no.such.place/neighborhood"), 404)
    problem_of(client.get("/paths", params={"source": QINXI, "target": "person:nobody"}), 404)
    problem_of(client.get("/queries/alliance-tree", params={"id": "alliance:none"}), 404)


def test_unknown_query_is_404(client: httpx.Client) -> None:
    body = problem_of(client.get("/queries/who-knows"), 404)
    assert "who-knows" in str(body["detail"]) and "shared-experts" in body["known"]  # type: ignore[operator]
    problem_of(client.post("/queries/who-knows", json={}), 404)


def test_bad_parameter_type_is_400_naming_the_field(client: httpx.Client) -> None:
    body = problem_of(client.get(f"/entities/{QINXI}/neighborhood", params={"depth": "deep"}), 400)
    assert body["errors"][0]["field"] == "depth"  # type: ignore[index]
    body = problem_of(client.get("/queries/search", params={"q": "芹溪", "limit": "many"}), 400)
    assert body["errors"][0]["field"] == "limit"  # type: ignore[index]
    body = problem_of(client.post("/queries/practices", json={"offset": -1}), 400)
    assert body["errors"][0]["field"] == "offset"  # type: ignore[index]
    body = problem_of(client.get("/search", params={"q": "x", "label": "Hamlet"}), 400)
    assert body["errors"][0]["field"] == "label"  # type: ignore[index]
    body = problem_of(client.get("/queries/overview", params={"bogus": "1"}), 400)
    assert body["errors"][0]["field"] == "bogus"  # type: ignore[index]


def test_depth_out_of_range_is_400(client: httpx.Client) -> None:
    for depth in ("0", "4"):
        body = problem_of(client.get(f"/entities/{QINXI}/neighborhood", params={"depth": depth}), 400)
        assert body["errors"][0]["field"] == "depth"  # type: ignore[index]
    # the same end twice is schema-valid: the path of no step, not a 400 (schemathesis, issue 22)
    same = client.get("/paths", params={"source": QINXI, "target": QINXI}).json()
    assert same["total"] == 1 and same["paths"] == [{"length": 0, "nodes": [same["source"]], "edges": []}]
    problem_of(
        client.get("/paths", params={"source": QINXI, "target": "county:fujian.zhouning", "max_depth": 9}),
        400,
    )


def test_graph_down_is_503_with_retry_after() -> None:
    app = create_app(Settings(NEO4J_URI=f"bolt://127.0.0.1:{free_port()}", NEO4J_PASSWORD="secret-pass-9"))

    async def calls() -> list[httpx.Response]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as c:
                return [
                    await c.get("/health"),
                    await c.get(f"/entities/{QINXI}"),
                    await c.get("/queries/overview"),
                ]

    for resp in asyncio.run(calls()):
        problem_of(resp, 503)
        assert resp.headers["retry-after"] == "5"
        assert "127.0.0.1" not in resp.text, "the graph's address stays in the log"
        assert "secret-pass-9" not in resp.text


def test_local_server_not_running_is_503(tmp_path: object, caplog: pytest.LogCaptureFixture) -> None:
    # NEO4J_URI=None, given: the environment (a Neo4j under test) must not pick the graph here.
    app = create_app(Settings(RURALKG_DATA_DIR=str(tmp_path), NEO4J_URI=None))

    async def call() -> httpx.Response:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as c:
                return await c.get("/search", params={"q": "芹溪"})

    resp = asyncio.run(call())
    problem_of(resp, 503)
    assert str(tmp_path) not in resp.text
    assert "ruralkg server start" in caplog.text, "the log tells the operator what to do"
