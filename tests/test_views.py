"""The explorer in a real browser: Debian's chromium driven by Playwright, against the test graph.

Screenshots go to test-artifacts/screenshots/ (gitignored), kept after the run.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

import httpx
import networkx as nx
import pytest
from neo4j import Driver
from playwright.sync_api import Browser, Page

from api.views.network import LABEL_STYLES, RELATIONSHIP_NAMES, build_network, render_network
from graph.model import LABELS, RELATIONSHIP_TYPES
from graph.settings import Settings
from loaders.load import collect_facts, load
from loaders.regions import PROGRESS_ID, SET_PROGRESS
from queries.models import DOMAIN_TYPES, SHARED_TYPES
from tests import expected as x
from tests.browser import Watched, watch

REPO = Path(__file__).resolve().parent.parent
SHOTS = REPO / "test-artifacts" / "screenshots"
QINXI = "village:fujian.zhouning.lidun.qinxi"
ALLIANCE = "alliance:fujian.zhouning.lidun.qinxi-jitou-louping"
HOSTILE_VILLAGE = "village:test.hostile"
HOSTILE_NAME = '<script>window.__xss="name"</script>村'
HOSTILE_ALIAS = '"><img src=x onerror="window.__xss=\'alias\'">'
HOSTILE_PERSON = "\"><img src=x onerror=window.__xss='person'>"
HOSTILE_QUOTE = "<img src=x onerror=\"window.__xss='quote'\">派驻"
HOSTILE_CASE = f"""
source:
  id: source:2026-01-01.hostile
  kind: article
  file: hostile.txt
  title: "<script>window.__xss='title'</script>"
  publisher: "<b onmouseover=alert(1)>报</b>"
  date: 2026-01-01
entities:
  - id: {HOSTILE_VILLAGE}
    label: Village
    name: {json.dumps(HOSTILE_NAME)}
    aliases: [{json.dumps(HOSTILE_ALIAS)}, hostile]
    evidence: {json.dumps(HOSTILE_QUOTE)}
  - id: person:test.hostile
    label: Person
    name: {json.dumps(HOSTILE_PERSON)}
    evidence: {json.dumps(HOSTILE_QUOTE)}
relations:
  - type: DISPATCHED_TO
    from: person:test.hostile
    to: {HOSTILE_VILLAGE}
    role: 第一书记
    level: county
    evidence: {json.dumps(HOSTILE_QUOTE)}
"""


@pytest.fixture(scope="module")
def explorer_graph(
    curated_graph: Driver, graph_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Driver:
    """The curated graph plus one source whose names, aliases, title and quotes are markup,
    loaded through the real loader as a data file would be."""
    cases = tmp_path_factory.mktemp("hostile-cases")
    (cases / "hostile.yaml").write_text(HOSTILE_CASE, encoding="utf-8")
    settings = graph_settings.model_copy(update={"cases_dir": cases})
    load(curated_graph, settings, collect_facts(settings))
    return curated_graph


@pytest.fixture
def watched(browser: Browser, explorer_graph: Driver, api_url: str) -> Iterator[Watched]:
    with watch(browser) as w:
        yield w


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def settled(page: Page) -> None:
    page.wait_for_selector("body[data-settled=true]", state="attached", timeout=20_000)


def node_count(page: Page) -> int:
    return int(page.get_attribute("#rk-count", "data-nodes") or 0)


def click_node(page: Page, node_id: str, *, double: bool = False) -> None:
    """Click a node where vis-network drew it on the canvas."""
    point = page.evaluate(
        """id => { const n = window.ruralkg.network; return n.canvasToDOM(n.getPositions([id])[id]); }""",
        node_id,
    )
    box = page.locator("#rk-network canvas").bounding_box()
    assert box is not None
    x, y = box["x"] + point["x"], box["y"] + point["y"]
    if double:
        page.mouse.dblclick(x, y)
    else:
        page.mouse.click(x, y)


def node_ids(page: Page, label: str) -> list[str]:
    ids: list[str] = page.evaluate(
        "label => window.ruralkg.nodes.get({filter: n => n.kind === label}).map(n => n.id)", label
    )
    return ids


def test_search_suggestions_lead_to_the_village_view(watched: Watched, api_url: str) -> None:
    page = watched.page
    page.goto(api_url + "/")
    page.locator("#rk-q").press_sequentially("芹溪", delay=50)
    suggestion = page.locator(".rk-suggestion", has_text="芹溪村").first
    suggestion.wait_for()
    shot(page, "01-suggestions")
    suggestion.click()
    page.wait_for_url(re.compile(r"/view/entities/village(%3A|:)fujian\.zhouning\.lidun\.qinxi"))
    settled(page)
    assert page.locator("#rk-title").text_content() == "芹溪村"
    assert node_count(page) > 1
    shot(page, "02-qinxi")
    assert watched.errors == []


def test_search_results_are_grouped_by_label(watched: Watched, api_url: str) -> None:
    page = watched.page
    page.goto(api_url + "/?q=" + quote("芹溪"))
    page.locator(".rk-group").first.wait_for()
    labels = page.eval_on_selector_all(".rk-group", "els => els.map(e => e.dataset.label)")
    assert "Village" in labels and len(labels) == len(set(labels))
    assert page.locator(".rk-legend li").count() >= 14
    shot(page, "03-results")


def test_click_grows_the_network_and_the_panel_shows_evidence(watched: Watched, api_url: str) -> None:
    page = watched.page
    page.goto(
        f"{api_url}/view/entities/{QINXI}?depth=1"
    )  # at 2 (a village's default) the township's neighbours are all drawn
    settled(page)
    before = node_count(page)
    township = node_ids(page, "Township")[0]
    click_node(page, township)
    page.wait_for_function("n => Number(document.querySelector('#rk-count').dataset.nodes) > n", arg=before)
    assert node_count(page) > before
    panel = page.locator(".rk-node-panel")
    panel.wait_for()
    assert panel.get_attribute("data-id") == township
    quote_text = page.locator(".rk-node-panel .rk-quote").first.text_content() or ""
    assert len(quote_text) >= 2
    source_line = page.locator(".rk-node-panel .rk-source").first.text_content() or ""
    assert "《" in source_line and re.search(r"\d{4}-\d{2}-\d{2}", source_line)
    shot(page, "04-grown-with-panel")
    assert watched.errors == []


def test_edge_panel_shows_the_edge_evidence(watched: Watched, api_url: str) -> None:
    page = watched.page
    page.goto(f"{api_url}/view/entities/{QINXI}")
    settled(page)
    # Click the middle of the DISPATCHED_TO edge, where its label is drawn.
    point = page.evaluate(
        """() => {
          const r = window.ruralkg, n = r.network;
          const e = r.edges.get({filter: e => e.kind === 'DISPATCHED_TO'})[0];
          const p = n.getPositions([e.from, e.to]);
          return n.canvasToDOM({x: (p[e.from].x + p[e.to].x) / 2, y: (p[e.from].y + p[e.to].y) / 2});
        }"""
    )
    box = page.locator("#rk-network canvas").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.locator(".rk-edge-panel .rk-quote").first.wait_for()
    assert "陈建福" in (page.locator(".rk-edge-panel .rk-quote").first.text_content() or "")
    assert "《" in (page.locator(".rk-edge-panel .rk-source").first.text_content() or "")


def test_filters_work_in_place_and_the_url_keeps_them(watched: Watched, api_url: str) -> None:
    page = watched.page
    page.goto(f"{api_url}/view/entities/{QINXI}?depth=2")
    settled(page)
    before = node_count(page)
    page.locator("#rk-filter-labels input[value=Person]").uncheck()
    assert node_count(page) < before
    page.locator("#rk-filter-types input[value=LOCATED_IN]").uncheck()
    shown = drawn(page)
    assert not any(t == "LOCATED_IN" for _, t, _ in shown[1])
    # The URL is the state (the filters ride in the scene): opening it again shows the same view.
    url = page.evaluate("window.ruralkg.sceneReady()")
    assert "#s=" in url
    page.goto("about:blank")
    page.goto(url)
    page.wait_for_selector("body[data-scene=restored]", state="attached")
    assert drawn(page) == shown
    assert not page.locator("#rk-filter-labels input[value=Person]").is_checked()


def test_the_cap_says_what_it_left_out_and_can_be_raised(watched: Watched, api_url: str) -> None:
    page = watched.page
    page.goto(f"{api_url}/view/entities/{QINXI}?depth=2&limit=3")
    settled(page)
    assert page.locator("#rk-cap").is_visible()
    cut = int(page.locator("#rk-cut").text_content() or 0)
    assert cut > 0 and node_count(page) == 3
    page.fill("#rk-limit", "6")
    page.locator("#rk-raise button").click()
    page.wait_for_url(re.compile(r"limit=6"))
    settled(page)
    assert node_count(page) == 6


def test_double_click_recentres(watched: Watched, api_url: str) -> None:
    page = watched.page
    page.goto(f"{api_url}/view/entities/{QINXI}?depth=1")
    settled(page)
    person = node_ids(page, "Person")[0]
    click_node(page, person, double=True)
    page.wait_for_url(re.compile(r"/view/entities/person"))
    settled(page)
    assert "depth=1" in page.url
    assert page.evaluate("window.ruralkg.page.center") == person


def test_export_json_and_png(watched: Watched, api_url: str) -> None:
    page = watched.page
    page.goto(f"{api_url}/view/entities/{QINXI}")
    settled(page)
    with page.expect_download() as info:
        page.click("#rk-export-json")
    exported = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    assert exported["center"] == QINXI
    assert len(exported["nodes"]) == node_count(page)
    assert {e["type"] for e in exported["edges"]} and all(e["evidence"] for e in exported["edges"])
    with page.expect_download() as info:
        page.click("#rk-export-png")
    assert Path(info.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_alliance_tree_is_laid_out_as_a_hierarchy(watched: Watched, api_url: str) -> None:
    page = watched.page
    page.goto(f"{api_url}/view/alliances/{ALLIANCE}")
    settled(page)
    y = page.evaluate("window.ruralkg.network.getPositions()")
    branches = node_ids(page, "Branch")
    villages = node_ids(page, "Village")
    assert branches and villages
    assert all(y[ALLIANCE]["y"] < y[b]["y"] < y[v]["y"] for b in branches for v in villages)
    shot(page, "05-alliance-tree")
    assert watched.errors == []


@pytest.mark.parametrize("name", ["shared-experts", "enterprise-reach"])
def test_network_query_views(watched: Watched, api_url: str, name: str) -> None:
    page = watched.page
    page.goto(f"{api_url}/view/queries/{name}")
    settled(page)
    assert node_count(page) >= 3
    if name == "shared-experts":
        assert node_ids(page, "Person") and node_ids(page, "Village")
    shot(page, f"06-{name}")
    assert watched.errors == []


def test_network_query_views_take_the_entry_parameters(explorer_graph: Driver, api_url: str) -> None:
    page = httpx.get(f"{api_url}/view/queries/shared-experts", params={"role": "第一书记", "limit": 50})
    assert page.status_code == 200
    assert '"role": "第一书记"' in page.text and '"limit": 50' in page.text
    answer = httpx.get(f"{api_url}/queries/shared-experts", params={"role": "第一书记"}).json()
    for item in answer["items"]:
        assert item["person"]["id"] in page.text
    spec = httpx.get(f"{api_url}/openapi.json").json()["paths"]
    params = {p["name"] for p in spec["/view/queries/shared-experts"]["get"]["parameters"]}
    assert {"role", "province", "village", "limit", "labels", "types"} <= params


def test_paths_view(watched: Watched, api_url: str) -> None:
    page = watched.page
    page.goto(f"{api_url}/view/paths?source={QINXI}&target={ALLIANCE}")
    settled(page)
    assert node_count(page) >= 2
    assert "最短联系" in (page.locator(".rk-subtitle").text_content() or "")


def test_no_page_reaches_off_the_machine(watched: Watched, api_url: str) -> None:
    page = watched.page
    for path in (
        "/",
        f"/view/entities/{QINXI}?depth=2",
        f"/view/alliances/{ALLIANCE}",
        "/view/queries/shared-experts",
        "/view/queries/enterprise-reach",
        f"/view/paths?source={QINXI}&target={ALLIANCE}",
    ):
        page.goto(api_url + path)
        if path != "/":
            settled(page)
        refs = page.eval_on_selector_all(
            "[src], [href]", "els => els.map(e => e.getAttribute('src') || e.getAttribute('href'))"
        )
        off = [r for r in refs if re.match(r"^(https?:)?//", r) and not r.startswith(api_url)]
        assert off == [], f"{path} points off the machine: {off}"
    # the fixture asserts that no request left 127.0.0.1


def test_hostile_names_render_as_text(watched: Watched, api_url: str) -> None:
    page = watched.page
    page.goto(api_url + "/")
    page.locator("#rk-q").press_sequentially("hostile", delay=30)
    # Suggestions for the first letters come first: wait for the word's own.
    suggestion = page.locator(".rk-suggestion", has_text=HOSTILE_NAME).first
    suggestion.wait_for()
    assert HOSTILE_NAME in (suggestion.text_content() or "")
    page.goto(f"{api_url}/?q=hostile")
    page.locator(".rk-group a", has_text="<script>").first.wait_for()
    page.goto(f"{api_url}/view/entities/{HOSTILE_VILLAGE}")
    settled(page)
    assert page.locator("#rk-title").text_content() == HOSTILE_NAME
    assert page.title().startswith(HOSTILE_NAME)
    # The two nodes' labels overlap on the canvas: select the village as a click on it would.
    page.evaluate(
        "id => window.ruralkg.network.body.emitter.emit('click', {nodes: [id], edges: []})", HOSTILE_VILLAGE
    )
    page.locator(".rk-node-panel .rk-source").first.wait_for()
    assert page.locator(".rk-panel-name").text_content() == HOSTILE_NAME
    panel = page.locator(".rk-node-panel").text_content() or ""
    assert HOSTILE_ALIAS in panel and HOSTILE_QUOTE in panel and HOSTILE_PERSON in panel
    assert "<script>window.__xss='title'</script>" in panel
    shot(page, "07-hostile")
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("img[src=x], #rk-panel script, #rk-panel b").count() == 0
    assert watched.errors == []


def test_pages_carry_a_content_security_policy(explorer_graph: Driver, api_url: str) -> None:
    for path in ("/", f"/view/entities/{QINXI}", f"/view/alliances/{ALLIANCE}"):
        r = httpx.get(api_url + path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert "<script>" not in r.text  # no inline script: data ride as application/json
    r = httpx.get(f"{api_url}/view/entities/{HOSTILE_VILLAGE}")
    assert "<script>window.__xss" not in r.text and "<img src=x" not in r.text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/view/entities/village:nowhere.none", 404),
        (f"/view/entities/{QINXI}?limit=2001", 400),
        (f"/view/entities/{QINXI}?depth=4", 400),
        (f"/view/alliances/{QINXI}", 404),
        ("/view/queries/overview", 404),
        ("/view/queries/no-such-query", 404),
        ("/view/queries/shared-experts?unknown=1", 400),
        ("/view/queries/shared-experts?role=nobody", 400),
        ("/view/queries/enterprise-reach?offset=-1", 400),
        (f"/view/paths?source={QINXI}&target={ALLIANCE}&max_depth=9", 400),
        ("/view/paths?source=village:nowhere.none&target=village:nowhere.else", 404),
    ],
)
def test_view_errors_are_problems(explorer_graph: Driver, api_url: str, path: str, status: int) -> None:
    r = httpx.get(api_url + path)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == status


def test_static_files_are_ours(api_url: str) -> None:
    r = httpx.get(api_url + "/static/vis/vis-network.min.js", headers={"accept-encoding": "gzip"})
    assert r.status_code == 200 and "vis-network" in r.text[:200]
    assert r.headers.get("content-encoding") == "gzip"
    assert httpx.get(api_url + "/static/ruralkg/explorer.js").status_code == 200


def test_inline_network_html_draws_offline(browser: Browser, tmp_path: Path) -> None:
    """The notebook path: one document with vis-network inside, opened from a file."""
    nodes = [
        {"id": "a", "label": "Village", "name": HOSTILE_NAME},
        {"id": "b", "label": "Person", "name": "B"},
    ]
    edges = [{"type": "DISPATCHED_TO", "start": "b", "end": "a", "properties": {}, "evidence": []}]
    doc = tmp_path / "network.html"
    doc.write_text(render_network(nodes, edges, center="a"), encoding="utf-8")
    context = browser.new_context()
    requested: list[str] = []
    context.route("**/*", lambda r: (requested.append(r.request.url), r.continue_()))
    page = context.new_page()
    page.goto(doc.as_uri())
    page.wait_for_selector("#rk-network[data-settled=true]", state="attached")
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert [u for u in requested if not u.startswith("file:")] == []
    context.close()


def test_home_page_shows_the_divisions_load_while_it_runs(
    watched: Watched, explorer_graph: Driver, graph_settings: Settings, api_url: str
) -> None:
    """The line a background load of the divisions writes, as the home page shows it; gone
    when the load is done."""
    db = graph_settings.neo4j_database
    progress = {"id": PROGRESS_ID, "within": [], "total": 665_271, "mode": "create"}
    explorer_graph.execute_query(
        SET_PROGRESS, {**progress, "done": 312_000, "state": "loading"}, database_=db
    )
    try:
        page = watched.page
        page.goto(api_url + "/")
        line = page.locator("#rk-divisions")
        line.wait_for(state="visible")
        assert line.text_content() == "正在载入行政区划 official divisions: 312,000 of 665,271"
        explorer_graph.execute_query(
            SET_PROGRESS, {**progress, "done": 665_271, "state": "done"}, database_=db
        )
        line.wait_for(state="hidden", timeout=10_000)
        assert watched.errors == []
    finally:
        explorer_graph.execute_query("MATCH (p:LoadProgress) DETACH DELETE p", database_=db)


# -- the workbench (issue 20): which nodes and edges are drawn, not how many --------------------

G = x.curated()
HANYAN = "village:zhejiang.tiantai.longxi.hanyan"
SHOUZHANG = "village:fujian.zhouning.makeng.shouzhang"
BRANCH = "branch:fujian.zhouning.lidun.qinxi.party-branch"
TOURISM = "industry:rural-tourism"
ORGANISATIONAL = [t for t in DOMAIN_TYPES if t != "LOCATED_IN"]


def drawn(page: Page) -> tuple[set[str], set[tuple[str, str, str]]]:
    """The ids of the nodes shown and the (start, type, end) of the edges shown."""
    got = page.evaluate(
        """() => { const r = window.ruralkg;
          return {nodes: r.nodes.get({filter: n => !n.hidden}).map(n => n.id),
                  edges: r.edges.get({filter: e => !e.hidden}).map(e => [e.from, e.kind, e.to])}; }"""
    )
    return set(got["nodes"]), {tuple(e) for e in got["edges"]}


def expected_view(center: str, **params: Any) -> tuple[set[str], set[tuple[str, str, str]]]:
    answer = x.neighborhood(G, center, limit=299, **params)
    return {center, *(n["id"] for n in answer["nodes"])}, {
        (e["start"], e["type"], e["end"]) for e in answer["edges"]
    }


def idle(page: Page) -> None:
    page.wait_for_function("() => document.body.dataset.busy === '0'")


def overlaps_and_offscreen(page: Page) -> dict[str, list[Any]]:
    result: dict[str, list[Any]] = page.evaluate(
        """() => { const r = window.ruralkg, pos = r.network.getPositions();
          const ns = r.nodes.get({filter: n => !n.hidden}), box = document.getElementById('rk-network');
          const close = [], off = [];
          for (let i = 0; i < ns.length; i++) {
            const p = r.network.canvasToDOM(pos[ns[i].id]);
            if (p.x < 0 || p.y < 0 || p.x > box.clientWidth || p.y > box.clientHeight) off.push(ns[i].id);
            for (let j = i + 1; j < ns.length; j++) {
              const a = pos[ns[i].id], b = pos[ns[j].id];
              const need = (ns[i].size || 10) + (ns[j].size || 10);
              if (Math.hypot(a.x - b.x, a.y - b.y) < need) close.push([ns[i].id, ns[j].id]);
            }
          }
          return {close, off}; }"""
    )
    return result


def test_every_label_and_relationship_type_has_a_style_and_a_chinese_name() -> None:
    assert set(LABELS) <= set(LABEL_STYLES)
    assert set(RELATIONSHIP_TYPES) <= set(RELATIONSHIP_NAMES)
    assert RELATIONSHIP_NAMES["INTRODUCED"] == "引进" and RELATIONSHIP_NAMES["LEARNED_FROM"] == "取经"


def test_a_village_opened_alone_shows_its_alliance(watched: Watched, api_url: str) -> None:
    page = watched.page
    page.goto(f"{api_url}/view/entities/{QINXI}")
    settled(page)
    assert drawn(page) == expected_view(QINXI, depth=2)
    assert ALLIANCE in drawn(page)[0]
    assert page.locator("#rk-depth").input_value() == "2"
    click_node(page, "person:fujian.zhouning.chen-jianfu")
    page.locator(".rk-node-panel .rk-quote").first.wait_for()
    idle(page)
    shot(page, "10-village-with-alliance")  # docs/explorer.png
    assert watched.errors == []


def test_expansion_places_new_nodes_apart_and_in_view(watched: Watched, api_url: str) -> None:
    page = watched.page
    page.goto(f"{api_url}/view/entities/{QINXI}?depth=1")
    settled(page)
    assert drawn(page) == expected_view(QINXI, depth=1)
    before = page.evaluate("window.ruralkg.network.getPositions()")
    for node in (BRANCH, ALLIANCE):
        click_node(page, node)
        idle(page)
    want_nodes, want_edges = expected_view(QINXI, depth=1)
    for node in (BRANCH, ALLIANCE):
        more_nodes, more_edges = expected_view(node, depth=1)
        want_nodes |= more_nodes
        want_edges |= more_edges
    nodes, edges = drawn(page)
    assert nodes == want_nodes
    # every relationship among the drawn nodes that an expansion brought is drawn
    assert want_edges <= edges
    bad = overlaps_and_offscreen(page)
    assert bad == {"close": [], "off": []}
    after = page.evaluate("window.ruralkg.network.getPositions()")
    assert all(after[k] == v for k, v in before.items()), "expansion moved nodes already drawn"
    shot(page, "11-expanded-twice")
    assert watched.errors == []


def test_the_controls_change_the_view(watched: Watched, api_url: str) -> None:
    page = watched.page
    page.goto(f"{api_url}/view/entities/{QINXI}")
    settled(page)
    page.select_option("#rk-depth", "1")
    page.wait_for_url(re.compile(r"depth=1"))
    settled(page)
    assert drawn(page) == expected_view(QINXI, depth=1)
    page.check("#rk-organisational")
    page.wait_for_url(re.compile(r"organisational=true"))
    settled(page)
    assert drawn(page) == expected_view(QINXI, depth=1, types=ORGANISATIONAL)
    assert not any(t == "LOCATED_IN" for _, t, _ in drawn(page)[1])
    page.select_option("#rk-depth", "3")
    page.wait_for_url(re.compile(r"depth=3"))
    settled(page)
    assert drawn(page)[0] == expected_view(QINXI, depth=3, types=ORGANISATIONAL)[0]
    page.check("#rk-through-shared")
    page.wait_for_url(re.compile(r"through_shared=true"))
    settled(page)
    nodes, _ = drawn(page)
    want, _ = expected_view(QINXI, depth=3, types=ORGANISATIONAL, through_shared=True)
    # a crowd of practices or industries is one cluster node until opened
    clusters = {n for n in nodes if n.startswith("cluster:")}
    members: set[str] = set(
        page.evaluate(
            "ids => ids.flatMap(id => window.ruralkg.nodes.get(id).data.cluster.members.map(m => m.id))",
            sorted(clusters),
        )
    )
    assert (nodes - clusters) | members == want
    assert watched.errors == []


def test_a_path_search_that_finds_nothing_offers_the_next(watched: Watched, api_url: str) -> None:
    page = watched.page
    page.goto(f"{api_url}/view/paths?source={QINXI}&target={HANYAN}")
    settled(page)
    assert "没有找到联系" in (page.locator(".rk-subtitle").text_content() or "")
    searched = page.locator("#rk-searched").text_content() or ""
    assert "最长 4 步" in searched and "HAS_MEMBER" in searched and "IN_INDUSTRY" not in searched
    offered = page.locator("#rk-next a").all_text_contents()
    assert any("更深" in o for o in offered) and any("共享" in o for o in offered)
    shot(page, "12-path-none-offers-next")
    page.locator("#rk-next a", has_text="更深并经共享词表").click()
    page.wait_for_url(re.compile(r"max_depth=8"))
    settled(page)
    assert "最短联系" in (page.locator(".rk-subtitle").text_content() or "")
    want = x.paths(G, QINXI, HANYAN, max_depth=8)
    nodes, edges = drawn(page)
    assert nodes == {n["id"] for p in want for n in p["nodes"]}
    assert edges == {(e["start"], e["type"], e["end"]) for p in want for e in p["edges"]}
    shot(page, "13-path-found")
    assert watched.errors == []


def test_organisational_paths_leave_the_hierarchy_out(watched: Watched, api_url: str) -> None:
    page = watched.page
    page.goto(f"{api_url}/view/paths?source={QINXI}&target={SHOUZHANG}")
    settled(page)
    assert {t for _, t, _ in drawn(page)[1]} == {"LOCATED_IN"}  # up and down the hierarchy
    page.check("#rk-organisational")
    page.wait_for_url(re.compile(r"organisational=true"))
    settled(page)
    assert "没有找到联系" in (page.locator(".rk-subtitle").text_content() or "")
    assert "LOCATED_IN" not in (page.locator("#rk-searched-types").text_content() or "")
    page.locator("#rk-next a", has_text="更深并经共享词表").click()
    settled(page)
    want = x.paths(G, QINXI, SHOUZHANG, max_depth=8, types=ORGANISATIONAL)
    assert want
    nodes, edges = drawn(page)
    assert nodes == {n["id"] for p in want for n in p["nodes"]}
    assert "LOCATED_IN" not in {t for _, t, _ in edges}
    assert watched.errors == []


def right_click(page: Page, node_id: str) -> None:
    point = page.evaluate(
        """id => { const n = window.ruralkg.network; return n.canvasToDOM(n.getPositions([id])[id]); }""",
        node_id,
    )
    box = page.locator("#rk-network canvas").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"], button="right")
    page.locator("#rk-menu").wait_for()


def test_context_menu_pin_hide_undo_and_paths_between_selected(watched: Watched, api_url: str) -> None:
    page = watched.page
    page.goto(f"{api_url}/view/entities/{QINXI}?depth=1")
    settled(page)
    start_nodes, _ = drawn(page)
    # expand the township by one relationship type only
    township = "township:fujian.zhouning.lidun"
    right_click(page, township)
    page.click("#rk-menu [data-action=by-type]")
    page.locator("#rk-menu [data-type=LOCATED_IN]").click()
    idle(page)
    located = x.neighborhood(G, township, types=["LOCATED_IN"])["nodes"]
    assert drawn(page)[0] == start_nodes | {n["id"] for n in located}
    # pin, then hide, then undo both with the button, then redo one
    person = "person:fujian.zhouning.chen-jianfu"
    right_click(page, person)
    page.click("#rk-menu [data-action=pin]")
    assert page.evaluate("id => window.ruralkg.nodes.get(id).fixed", person) is True
    right_click(page, person)
    page.click("#rk-menu [data-action=hide]")
    assert person not in drawn(page)[0]
    page.click("#rk-undo")
    assert person in drawn(page)[0]
    page.click("#rk-undo")
    assert not page.evaluate("id => window.ruralkg.nodes.get(id).fixed", person)
    page.click("#rk-redo")
    assert page.evaluate("id => window.ruralkg.nodes.get(id).fixed", person) is True
    # select two with ctrl+click, ask for the shortest path between them
    village = "village:fujian.zhouning.lidun.jitou"
    page.evaluate("() => window.ruralkg.network.unselectAll()")
    for node in (BRANCH, village):
        page.keyboard.down("Control")
        click_node(page, node)
        page.keyboard.up("Control")
    assert sorted(page.evaluate("window.ruralkg.network.getSelectedNodes()")) == sorted([BRANCH, village])
    right_click(page, village)
    page.click("#rk-menu [data-action=path]")
    idle(page)
    unshared = [t for t in DOMAIN_TYPES if t not in SHARED_TYPES]
    want = x.paths(G, BRANCH, village, max_depth=6, types=unshared)
    assert want and {n["id"] for p in want for n in p["nodes"]} <= drawn(page)[0]
    on_path = {(e["start"], e["type"], e["end"]) for p in want for e in p["edges"]}
    assert on_path <= drawn(page)[1]
    assert overlaps_and_offscreen(page) == {"close": [], "off": []}
    assert watched.errors == []


def test_undo_goes_back_at_least_twenty_steps(watched: Watched, api_url: str) -> None:
    page = watched.page
    page.goto(f"{api_url}/view/entities/{QINXI}?depth=1")
    settled(page)
    ids = sorted(drawn(page)[0] - {QINXI})
    for i in range(22):
        page.evaluate("([id, on]) => window.ruralkg.pin([id], on)", [ids[i % len(ids)], i % 2 == 0])
    assert page.get_attribute("#rk-undo", "data-steps") == "22"
    for _ in range(22):
        page.click("#rk-undo")
    assert page.evaluate("window.ruralkg.nodes.get({filter: n => n.fixed}).length") == 0
    assert page.is_disabled("#rk-undo")


def test_a_scene_url_restores_the_same_picture(watched: Watched, api_url: str, browser: Browser) -> None:
    page = watched.page
    page.goto(f"{api_url}/view/entities/{QINXI}?depth=1")
    settled(page)
    click_node(page, BRANCH)
    idle(page)
    page.evaluate("id => window.ruralkg.expand(id)", ALLIANCE)
    idle(page)
    page.evaluate("id => window.ruralkg.hide([id])", "person:fujian.zhouning.chen-jianfu")
    page.evaluate("id => window.ruralkg.pin([id], true)", ALLIANCE)
    page.locator("#rk-filter-types input[value=LOCATED_IN]").uncheck()
    url = page.evaluate("window.ruralkg.sceneReady()")
    assert "#s=" in url and len(url) < 8000
    state = """() => { const r = window.ruralkg; return {pos: r.network.getPositions(),
      hidden: r.nodes.get({filter: n => n.hidden}).map(n => n.id).sort(),
      fixed: r.nodes.get({filter: n => n.fixed}).map(n => n.id),
      edges: r.edges.get({filter: e => !e.hidden}).map(e => e.id).sort()}; }"""
    want = page.evaluate(state)
    other = browser.new_context(viewport={"width": 1400, "height": 860}).new_page()
    other.goto(url)
    other.wait_for_selector("body[data-scene=restored]", state="attached", timeout=20_000)
    got = other.evaluate(state)
    assert set(got["pos"]) == set(want["pos"])
    assert all(
        abs(got["pos"][k]["x"] - v["x"]) <= 1 and abs(got["pos"][k]["y"] - v["y"]) <= 1
        for k, v in want["pos"].items()
    )
    assert got["hidden"] == want["hidden"] and got["fixed"] == want["fixed"] == [ALLIANCE]
    assert got["edges"] == want["edges"]
    shot(other, "14-scene-restored")
    other.context.close()


def test_each_export_opens(watched: Watched, api_url: str) -> None:
    page = watched.page
    page.goto(f"{api_url}/view/entities/{QINXI}")
    settled(page)
    nodes, edges = drawn(page)

    def download(button: str) -> Path:
        with page.expect_download() as info:
            page.click(button)
        return Path(info.value.path())

    graphml = nx.read_graphml(download("#rk-export-graphml"))
    assert set(graphml.nodes) == nodes
    assert {(a, d["type"], b) for a, b, d in graphml.edges(data=True)} == edges
    assert graphml.nodes[QINXI]["name"] == "芹溪村" and graphml.nodes[QINXI]["label"] == "Village"
    gexf = nx.read_gexf(download("#rk-export-gexf"))
    assert set(gexf.nodes) == nodes and {(a, b) for a, b in gexf.edges()} == {(a, b) for a, _, b in edges}
    assert gexf.nodes[QINXI]["label"] == "芹溪村"
    svg = ElementTree.parse(download("#rk-export-svg")).getroot()
    assert {g.get("data-id") for g in svg.iter("{http://www.w3.org/2000/svg}g") if g.get("data-id")} == nodes
    with download("#rk-export-nodes").open(encoding="utf-8", newline="") as f:
        assert {row["id"] for row in csv.DictReader(f)} == nodes
    with download("#rk-export-edges").open(encoding="utf-8", newline="") as f:
        assert {(r["start"], r["type"], r["end"]) for r in csv.DictReader(f)} == edges
    exported = json.loads(download("#rk-export-json").read_text(encoding="utf-8"))
    assert {n["id"] for n in exported["nodes"]} == nodes
    assert download("#rk-export-png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert watched.errors == []


def test_a_large_view_is_readable(watched: Watched, api_url: str) -> None:
    """乡村旅游 three hops out through the shared vocabulary: 247 nodes, 104 of them practices,
    which become one cluster node; nodes sized by degree, none on another."""
    page = watched.page
    page.goto(f"{api_url}/view/entities/{TOURISM}?depth=3&through_shared=true")
    settled(page)
    nodes, _ = drawn(page)
    want, _ = expected_view(TOURISM, depth=3, through_shared=True)
    assert len(want) > 200
    assert "cluster:Practice" in nodes
    assert overlaps_and_offscreen(page) == {"close": [], "off": []}
    sizes = page.evaluate("window.ruralkg.nodes.get().map(n => n.size)")
    assert max(sizes) > 2 * min(sizes)
    shot(page, "15-large-view")
    members = page.evaluate(
        "window.ruralkg.nodes.get('cluster:Practice').data.cluster.members.map(m => m.id)"
    )
    click_node(page, "cluster:Practice")
    idle(page)
    opened, _ = drawn(page)
    assert "cluster:Practice" not in opened and set(members) <= opened
    assert overlaps_and_offscreen(page)["close"] == []
    assert watched.errors == []


def test_search_results_show_region_paths_and_filter_by_label(watched: Watched, api_url: str) -> None:
    page = watched.page
    page.goto(f"{api_url}/")
    assert page.locator("#rk-results-wrap").is_hidden()  # no empty box before a search
    page.goto(f"{api_url}/?q=" + quote("周宁"))
    page.locator(".rk-group").first.wait_for()
    village = page.locator(".rk-group[data-label=Village] li", has_text="芹溪村")
    assert "福建省 / 宁德市 / 周宁县 / 李墩镇" in (village.text_content() or "")
    page.select_option("#rk-label-filter", "Alliance")
    page.wait_for_url(re.compile(r"label=Alliance"))
    page.wait_for_function("() => document.querySelectorAll('.rk-group').length === 1")
    links = page.locator(".rk-group[data-label=Alliance] li > a:first-child").all_text_contents()
    assert set(links) == {"欣农富民党建大联盟", "芹溪—际头—楼坪联村党组织"}
    shot(page, "16-search-places")
    assert watched.errors == []


def test_the_layout_of_2000_nodes_has_no_two_overlapping() -> None:
    """A hub with 300 leaves and a tree of 1,700 more: FR packs them; `separated` parts them."""
    nodes = [{"id": f"n{i}", "label": "Village", "name": str(i)} for i in range(2000)]
    edges = [{"start": f"n{i}", "end": f"n{i // 3}", "type": "LOCATED_IN"} for i in range(1, 2000)]
    edges += [{"start": "n0", "end": f"n{i}", "type": "HAS_MEMBER"} for i in range(1, 300)]
    net = build_network(nodes, edges, center="n0")
    placed = {n["id"]: (n["x"], n["y"], n["size"]) for n in net.nodes}
    assert len(placed) == 2000
    cell: dict[tuple[int, int], list[str]] = {}
    for k, (px, py, _) in placed.items():
        cell.setdefault((int(px // 100), int(py // 100)), []).append(k)
    for (cx, cy), members in cell.items():
        near = [o for dx in (-1, 0, 1) for dy in (-1, 0, 1) for o in cell.get((cx + dx, cy + dy), [])]
        for a in members:
            for b in near:
                if a < b:
                    (ax, ay, ar), (bx, by, br) = placed[a], placed[b]
                    assert math.hypot(ax - bx, ay - by) >= ar + br, (a, b)


def test_a_crowd_of_practices_becomes_one_cluster_node() -> None:
    practices = [{"id": f"practice:p{i}", "label": "Practice", "name": f"做法{i}"} for i in range(20)]
    nodes = [{"id": "alliance:a", "label": "Alliance", "name": "联盟"}, *practices]
    edges = [
        {"type": "USES_PRACTICE", "start": "alliance:a", "end": p["id"], "properties": {}, "evidence": []}
        for p in practices
    ]
    net = build_network(nodes, edges, center="alliance:a", cluster=True)
    assert [n["id"] for n in net.nodes] == ["alliance:a", "cluster:Practice"]
    cluster = net.nodes[1]["data"]["cluster"]
    assert [m["id"] for m in cluster["members"]] == [p["id"] for p in practices]
    assert len(cluster["edges"]) == 20
    assert [(e["from"], e["kind"], e["to"]) for e in net.edges] == [
        ("alliance:a", "USES_PRACTICE", "cluster:Practice")
    ]
