"""The %%cypher magic on a real kernel against the curated graph: parameters from variables,
DataFrames checked against the data files, the inline network (drawn offline in chromium),
readable errors, and writes refused unless the cell says --write."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from neo4j import Driver

from graph.settings import Settings
from tests import expected as x
from tests.browser import CHROMIUM_ARGS, MISSING, chromium_path
from tests.graphdump import snapshot
from tests.kernel import Kernel, kernel, outputs_of, stdout

G = x.curated()


@pytest.fixture(scope="module")
def k(curated_graph: Driver, graph_settings: Settings) -> Iterator[Kernel]:
    with kernel(graph_settings) as running:
        loaded = stdout(running.ok("%load_ext ruralkg.notebook"))
        # The kernel is on the test graph, from the settings it was given, not the tester's shell.
        where = str(graph_settings.data_path) if graph_settings.uses_local_server else "ruralkg:"
        assert where in loaded and f"{len(G.ids('Source'))} sources loaded" in loaded, loaded
        yield running


def counts(driver: Driver, settings: Settings) -> tuple[int, int]:
    db = settings.neo4j_database
    nodes = driver.execute_query("MATCH (n) RETURN count(n) AS n", database_=db).records[0]["n"]
    rels = driver.execute_query("MATCH ()-[r]->() RETURN count(r) AS n", database_=db).records[0]["n"]
    return nodes, rels


def error_of(cell: Any) -> Any:
    (error,) = outputs_of(cell, "error")
    return error


def frame_of(k: Kernel, name: str) -> list[dict[str, Any]]:
    return list(k.value(f"{name}.to_dict(orient='records')"))


def network_html(cell: Any) -> str:
    frames = [
        o.data["text/html"]
        for o in outputs_of(cell, "display_data")
        if "ruralkg-network" in o.data.get("text/html", "")
    ]
    assert len(frames) == 1, "one inline network expected"
    return str(frames[0])


# -- parameters and DataFrames ----------------------------------------------------------------


def test_parameters_come_from_notebook_variables(k: Kernel) -> None:
    # A person tied to the village itself (not only through one of its projects).
    shared, village = next(
        (s, v["id"]) for s in x.shared_experts(G)["items"] for v in s["villages"] if v["via"] is None
    )
    k.ok(f"village = {village!r}\nties = ['DISPATCHED_TO', 'SUPPORTS', 'ADVISES']\nunused = object()")
    cell = k.ok(
        "%%cypher --out people\n"
        "MATCH (h:Person)-[t]->(v:Village {id: $village})\n"
        "WHERE type(t) IN $ties\n"
        "RETURN h.id AS id, h.name AS name, type(t) AS tie, t.role AS role\n"
        "ORDER BY id, tie"
    )
    # `unused` cannot be sent to the graph: binding it would have failed the cell.
    assert outputs_of(cell, "execute_result"), "the DataFrame is the cell's value"
    want = sorted(
        (
            {"id": e.start, "name": G.nodes[e.start].name, "tie": e.type, "role": e.role}
            for e in G.into(village, *x.EXPERT_TIES, frm="Person")
        ),
        key=lambda r: (r["id"], r["tie"]),
    )
    assert frame_of(k, "people") == want
    assert shared["person"]["id"] in {r["id"] for r in want}


def test_dataframe_shape_and_values(k: Kernel) -> None:
    k.ok(
        "%%cypher --out by_province --no-network\n"
        "MATCH (v:Village)-[:LOCATED_IN*1..6]->(p:Province)\n"
        "RETURN p.name AS province, count(DISTINCT v) AS villages ORDER BY province"
    )
    per_province: dict[str, int] = {}
    for v in G.ids("Village"):
        if (p := G.province_of(v)) is not None:
            name = G.nodes[p].name
            per_province[name] = per_province.get(name, 0) + 1
    assert k.value("list(by_province.shape)") == [len(per_province), 2]
    assert k.value("list(by_province.columns)") == ["province", "villages"]
    assert k.value("str(by_province['villages'].dtype)") == "int64"
    assert frame_of(k, "by_province") == [
        {"province": p, "villages": n} for p, n in sorted(per_province.items())
    ]

    # The line magic returns the DataFrame too.
    k.ok("n = %cypher MATCH (v:Village) RETURN count(v) AS villages")
    assert k.value("int(n.loc[0, 'villages'])") == len(G.ids("Village"))


def test_row_limit(k: Kernel) -> None:
    cell = k.ok("%cypher --limit 3 -o few MATCH (v:Village) RETURN v.id AS id ORDER BY id")
    assert frame_of(k, "few") == [{"id": i} for i in G.ids("Village")[:3]]
    assert "first 3 rows" in stdout(cell)


def test_nodes_come_back_as_their_properties(k: Kernel) -> None:
    village = G.ids("Village")[0]
    k.ok(f"v_id = {village!r}")
    k.ok("%%cypher -o one --no-network\nMATCH (v:Village {id: $v_id}) RETURN v")
    (row,) = frame_of(k, "one")
    node = G.nodes[village]
    assert row["v"]["id"] == village and row["v"]["label"] == "Village"
    assert row["v"]["name"] == node.name and row["v"]["sources"] == node.sources
    assert not {"search", "search_scope", "key_name", "key_pinyin", "key_initials"} & row["v"].keys()


# -- the inline network -----------------------------------------------------------------------


def test_path_query_draws_an_offline_network(k: Kernel) -> None:
    # Two villages a shared person serves, linked directly or through a project they lead.
    person = next(i for i in x.shared_experts(G)["items"] if i["person"]["label"] == "Person")
    villages = sorted({v["id"] for v in person["villages"]})
    a, b = villages[0], villages[1]
    ties = (*x.EXPERT_TIES, "LEADS", "HAS_PROJECT")
    k.ok(f"a, b = {a!r}, {b!r}")
    cell = k.ok(
        "%%cypher -o paths\n"
        "MATCH (x:Village {id: $a}), (y:Village {id: $b})\n"
        f"MATCH p = allShortestPaths((x)-[:{'|'.join(ties)}*..4]-(y))\n"
        "RETURN p"
    )
    want = x.shortest_paths(G, a, b, max_depth=4, types=ties)
    assert want and k.value("len(paths)") == len(want)
    assert sorted(k.value("[[n['id'] for n in p['nodes']] for p in paths['p']]")) == sorted(
        nodes for nodes, _ in want
    )

    frame = network_html(cell)
    document = html.unescape(re.search(r'srcdoc="([^"]*)"', frame, re.DOTALL)[1])  # type: ignore[index]
    for node_id in {n for nodes, _ in want for n in nodes}:
        assert G.nodes[node_id].name in document
    # Everything is inline: no script, style, image or frame is fetched from anywhere.
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)\s*=", document, re.IGNORECASE)
    # vis-network and our drawing code inlined, and the call that draws this network's data
    assert "new global.vis.Network(" in document
    assert 'ruralkgNetwork.draw(document.getElementById("rk-network")' in document
    _draws_offline(frame, len({n for nodes, _ in want for n in nodes}))


def _draws_offline(frame: str, node_count: int) -> None:
    """The output as a notebook front end shows it, in chromium with the network switched off."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        pytest.fail(MISSING)
    requested: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(offline=True)
            context.route("**/*", lambda route: (requested.append(route.request.url), route.abort()))
            page = context.new_page()
            page.set_content(f"<!doctype html><html><body>{frame}</body></html>")
            network = page.frame_locator("iframe.ruralkg-network").locator("#rk-network")
            network.and_(
                page.frame_locator("iframe.ruralkg-network").locator("[data-settled=true]")
            ).wait_for(timeout=30_000)
            assert network.locator("canvas").count() == 1
            drawn = page.frames[1].evaluate("document.getElementById('rk-data').textContent")
        finally:
            browser.close()
    assert requested == []
    assert drawn.count('"shape"') >= node_count


def test_scalar_results_draw_no_network(k: Kernel) -> None:
    cell = k.ok("%cypher MATCH (v:Village) RETURN v.name AS name LIMIT 2")
    assert not [
        o for o in outputs_of(cell, "display_data") if "ruralkg-network" in o.data.get("text/html", "")
    ]


# -- errors -----------------------------------------------------------------------------------


def test_bad_cypher_is_one_readable_block(k: Kernel) -> None:
    cell = k.run("%%cypher\nMATCH (v:Village RETURN v")
    error = error_of(cell)
    text = "\n".join(error.traceback)
    assert error.ename == "CypherError"
    assert "syntax" in text.lower() and "RETURN" in text
    # The server's message, not a Python traceback.
    assert "Traceback" not in text and ".py" not in text and len(error.traceback) <= 6


def test_missing_variable_is_named(k: Kernel) -> None:
    error = error_of(k.run("%cypher RETURN $no_such_variable AS x"))
    assert error.ename == "MissingVariable"
    assert "$no_such_variable" in "\n".join(error.traceback)


def test_bad_option_is_a_usage_error(k: Kernel) -> None:
    cell = k.run("%cypher --limit 0 RETURN 1 AS one")
    stderr = "".join(o.text for o in outputs_of(cell, "stream") if o.name == "stderr")
    assert stderr.startswith("UsageError") and "--limit" in stderr and "usage: %%cypher" in stderr
    assert not outputs_of(cell, "execute_result")


# -- writes -----------------------------------------------------------------------------------


def test_write_refused_without_the_flag(k: Kernel, curated_graph: Driver, graph_settings: Settings) -> None:
    before, before_counts = snapshot(curated_graph, graph_settings), counts(curated_graph, graph_settings)
    village = G.ids("Village")[0]
    k.ok(f"village = {village!r}")
    for query in (
        "MATCH (v:Village {id: $village}) SET v.note = 'changed' RETURN v.id AS id",
        "CREATE (n:Entity:Village {id: 'village:test.magic', name: '测试村'})",
        "MATCH (v:Village {id: $village}) DETACH DELETE v",
    ):
        error = error_of(k.run("%%cypher\n" + query))
        assert error.ename == "WriteNotAllowed"
        assert "--write" in "\n".join(error.traceback)
    assert counts(curated_graph, graph_settings) == before_counts
    assert snapshot(curated_graph, graph_settings) == before


def test_write_accepted_with_the_flag(k: Kernel, curated_graph: Driver, graph_settings: Settings) -> None:
    before = snapshot(curated_graph, graph_settings)
    village = G.ids("Village")[0]
    k.ok(f"village, note = {village!r}, '写入测试'")
    k.ok(
        "%%cypher --write -o written\n"
        "MATCH (v:Village {id: $village}) SET v.magic_note = $note RETURN v.magic_note AS note"
    )
    assert frame_of(k, "written") == [{"note": "写入测试"}]
    stored = curated_graph.execute_query(
        "MATCH (v:Village {id: $id}) RETURN v.magic_note AS note",
        id=village,
        database_=graph_settings.neo4j_database,
    ).records
    assert [r["note"] for r in stored] == ["写入测试"]

    k.ok("%%cypher --write\nMATCH (v:Village {id: $village}) REMOVE v.magic_note")
    assert snapshot(curated_graph, graph_settings) == before
