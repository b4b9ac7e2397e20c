"""ruralkg.catalog (the catalog as DataFrames) and the magic's pure parts (binding, options),
in this process against the curated graph."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from neo4j import Driver

from graph.connection import open_driver, resolve_target
from graph.local_server import serving
from graph.settings import Settings
from queries import CATALOG
from ruralkg import catalog
from ruralkg.cypher import referenced_parameters, run_cypher
from ruralkg.errors import BadParameters, MissingVariable, QueryTimedOut, ReadableError, WriteNotAllowed
from ruralkg.network import notebook_frame
from ruralkg.notebook import bind, split_line
from tests import expected as x

G = x.curated()


@pytest.fixture(scope="module")
def api(curated_graph: Driver, api_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_url, timeout=30) as c:
        yield c


def ref_cell(ref: dict[str, Any]) -> str:
    return f"{ref['name']} ({ref['id']})"


# -- listing ----------------------------------------------------------------------------------


def test_entries_list_every_entry_with_its_parameters() -> None:
    listed = catalog.entries()
    assert list(listed["name"]) == sorted(CATALOG)
    row = listed.set_index("name").loc["path"]
    assert row["parameters"].split(", ")[:2] == ["source*", "target*"]
    assert row["summary"] == CATALOG["path"].summary_zh


def test_describe_gives_types_defaults_and_bounds() -> None:
    described = catalog.describe("neighborhood")
    params = described.parameters.set_index("parameter")
    assert set(params.index) == set(CATALOG["neighborhood"].params.model_fields)
    assert params.loc["depth", "bounds"] == ">= 1, <= 3" and params.loc["depth", "default"] == "1"
    assert bool(params.loc["id", "required"]) and not bool(params.loc["depth", "required"])
    assert '"Village"' in params.loc["labels", "type"]
    assert "neighborhood" in described._repr_html_() and "depth" in str(described)


def test_unknown_entry_lists_the_catalog() -> None:
    with pytest.raises(catalog.UnknownEntry, match="shared-experts"):
        catalog.describe("no-such-entry")


# -- running ----------------------------------------------------------------------------------


def test_run_matches_the_data_files(curated_graph: Driver, graph_settings: Settings) -> None:
    want = x.shared_experts(G)
    village = want["items"][0]["villages"][0]["id"]
    want = x.shared_experts(G, village=village)
    got = catalog.run("shared-experts", settings=graph_settings, driver=curated_graph, village=village)
    assert list(got.columns) == ["person", "dispatches", "villages"]
    assert len(got) == len(want["items"]) > 0
    assert list(got["person"]) == [ref_cell(i["person"]) for i in want["items"]]
    assert list(got["villages"]) == ["; ".join(v["name"] for v in i["villages"]) for i in want["items"]]


def test_numbers_stay_numbers(curated_graph: Driver, graph_settings: Settings) -> None:
    got = catalog.run("industry-clusters", settings=graph_settings, driver=curated_graph)
    want = x.industry_clusters(G)["items"]
    assert list(got["provinces"]) == [c["provinces"] for c in want]
    assert pd.api.types.is_integer_dtype(got["provinces"])


def test_empty_answer_keeps_its_columns(curated_graph: Driver, graph_settings: Settings) -> None:
    got = catalog.run(
        "shared-experts", settings=graph_settings, driver=curated_graph, village="village:none.x"
    )
    assert got.empty and list(got.columns) == ["person", "dispatches", "villages"]


def test_single_answers_and_missing_entities(curated_graph: Driver, graph_settings: Settings) -> None:
    village = G.ids("Village")[0]
    profile = catalog.result("village-profile", settings=graph_settings, driver=curated_graph, id=village)
    assert profile.model_dump(mode="json") == x.village_profile(G, village)
    one = catalog.run("village-profile", settings=graph_settings, driver=curated_graph, id=village)
    assert len(one) == 1 and one.loc[0, "name"] == G.nodes[village].name
    with pytest.raises(catalog.EntityNotFound, match=r"village:none\.x"):
        catalog.run("village-profile", settings=graph_settings, driver=curated_graph, id="village:none.x")


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("shared-experts", {"limit": 0, "role": "校长"}),
        ("neighborhood", {"id": "village:a.b", "depth": 9, "labels": ["Village", "Planet"]}),
        ("path", {"source": "village:a.b", "target": "village:a.c", "max_depth": 9}),
        ("search", {"q": "   "}),
        ("alliance-tree", {"id": "alliance:a.b", "extra": 1}),
        ("village-profile", {}),
    ],
)
def test_parameters_are_validated_as_the_api_does(
    api: httpx.Client, name: str, params: dict[str, Any]
) -> None:
    resp = api.post(f"/queries/{name}", json=params)
    assert resp.status_code == 400, resp.text
    with pytest.raises(BadParameters) as caught:
        catalog.validate(name, **params)
    assert caught.value.errors == resp.json()["errors"]
    for error in caught.value.errors:
        assert error["field"] in str(caught.value)


# -- the magic's parts ------------------------------------------------------------------------


def test_only_referenced_parameters_are_bound() -> None:
    cypher = """
    MATCH (v:Village {id: $village}) // $commented
    WHERE v.name <> '$quoted' AND v.x IN $`odd name` AND v.id <> "$dq" /* $block */
    RETURN v, $village AS again, `$backquoted` AS y
    """
    assert referenced_parameters(cypher) == ["village", "odd name"]
    namespace = {"village": "village:a.b", "odd name": (1, 2), "commented": object(), "unrelated": object()}
    assert bind(cypher, namespace) == {"village": "village:a.b", "odd name": [1, 2]}


def test_notebook_values_become_driver_values() -> None:
    namespace = {
        "n": np.int64(3),
        "ids": pd.Series(["a", "b"]),
        "xs": np.array([1.5, 2.5]),
        "when": pd.Timestamp("2022-08-15 10:00"),
        "day": dt.date(2022, 8, 15),
        "nested": {"k": [np.float64(1.0)]},
    }
    bound = bind("RETURN $n, $ids, $xs, $when, $day, $nested", namespace)
    assert bound == {
        "n": 3,
        "ids": ["a", "b"],
        "xs": [1.5, 2.5],
        "when": dt.datetime(2022, 8, 15, 10, 0),
        "day": dt.date(2022, 8, 15),
        "nested": {"k": [1.0]},
    }
    assert type(bound["n"]) is int
    with pytest.raises(BadParameters, match=r"\$f"):
        bind("RETURN $f", {"f": lambda: 1})
    with pytest.raises(MissingVariable, match=r"\$gone"):
        bind("RETURN $gone", {})


def test_line_magic_keeps_the_query_intact() -> None:
    assert split_line("--limit 5 -o out MATCH (v {name: 'a b'}) RETURN v") == (
        ["--limit", "5", "-o", "out"],
        "MATCH (v {name: 'a b'}) RETURN v",
    )
    assert split_line("  RETURN '-x' AS y") == ([], "RETURN '-x' AS y")
    assert split_line("--write --no-network MATCH (n) RETURN n") == (
        ["--write", "--no-network"],
        "MATCH (n) RETURN n",
    )


def test_run_cypher_refuses_writes_before_sending(curated_graph: Driver, graph_settings: Settings) -> None:
    with pytest.raises(WriteNotAllowed, match="CREATE"):
        run_cypher(
            "CREATE (:Entity:Village {id: 'village:x.y'})", settings=graph_settings, driver=curated_graph
        )
    with pytest.raises(ValueError, match="limit"):
        run_cypher("RETURN 1", limit=0, settings=graph_settings, driver=curated_graph)


def test_network_output_is_capped_and_self_contained() -> None:
    nodes = [{"id": f"village:t.v{i}", "label": "Village", "name": f"村{i}"} for i in range(12)]
    edges = [{"type": "LOCATED_IN", "start": n["id"], "end": "village:t.v0"} for n in nodes[1:]]
    out = notebook_frame(nodes, edges, cap=10)
    assert "the first 10 of 12 nodes" in out
    document = html.unescape(re.search(r'srcdoc="([^"]*)"', out)[1])  # type: ignore[index]
    assert "村9" in document and "村11" not in document
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)\s*=", document, re.IGNORECASE)


# 10^9 rows: slow on any server (the real Neo4j 5.26 finished 16 million such rows in 0.64 s,
# under the 1 s timeout, so this needs the billion, some 40 s there).
SLOW = (
    "UNWIND range(1, 1000) AS a UNWIND range(1, 1000) AS b UNWIND range(1, 1000) AS c "
    "WITH a, b, c WHERE a * b * c % 7919 = 1 RETURN count(*) AS n"
)


def test_query_timeout_is_readable(
    graph_settings: Settings, tmp_path_factory: pytest.TempPathFactory, driver: Driver
) -> None:
    """RURALKG_QUERY_TIMEOUT stops a query: on Neo4j through the driver, on the local server
    through its own flag (set when it starts, so a server of its own with a 1 s limit)."""
    if not graph_settings.uses_local_server:
        settings = graph_settings.model_copy(update={"query_timeout": 1.0})
        with pytest.raises(QueryTimedOut, match="RURALKG_QUERY_TIMEOUT"):
            run_cypher(SLOW, settings=settings, driver=driver)
        return
    settings = Settings(RURALKG_DATA_DIR=tmp_path_factory.mktemp("slow"), RURALKG_QUERY_TIMEOUT=1)
    with serving(settings):
        local = open_driver(resolve_target(settings, start_local=False), settings)
        try:
            with pytest.raises(QueryTimedOut, match=r"RURALKG_QUERY_TIMEOUT \(1 s\)") as caught:
                run_cypher(SLOW, settings=settings, driver=local)
        finally:
            local.close()
    # The server's own words come first, then what to change.
    assert caught.value.code and "timeout" in str(caught.value).splitlines()[0].lower()


def test_network_answers_are_drawn(curated_graph: Driver, graph_settings: Settings) -> None:
    village = x.shared_experts(G)["items"][0]["villages"][0]["id"]
    want = x.neighborhood(G, village, depth=1)
    drawing = catalog.draw("neighborhood", settings=graph_settings, driver=curated_graph, id=village)
    document = html.unescape(re.search(r'srcdoc="([^"]*)"', drawing._repr_html_())[1])  # type: ignore[index]
    for node in [want["center"], *want["nodes"]]:
        assert json.dumps(node["id"]) in document
    assert document.count('"from":') == len(want["edges"])
    with pytest.raises(ReadableError, match="neighborhood or path"):
        catalog.draw("overview", settings=graph_settings, driver=curated_graph)
