"""The explorer in a real browser: Debian's chromium driven by Playwright, against the test graph.

Screenshots go to test-artifacts/screenshots/ (gitignored), kept after the run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
from neo4j import Driver
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from api.views.network import render_network
from graph.settings import Settings
from loaders.load import collect_facts, load
from tests.browser import CHROMIUM_ARGS, MISSING, chromium_path

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


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    path = chromium_path()
    if path is None:
        pytest.fail(MISSING)
    browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


class Watched:
    """A page whose requests off 127.0.0.1 are recorded and refused, with its errors kept."""

    def __init__(self, page: Page) -> None:
        self.page, self.external, self.errors = page, [], []


@pytest.fixture
def watched(browser: Browser, explorer_graph: Driver, api_url: str) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1400, "height": 860}, accept_downloads=True)
    page = context.new_page()
    w = Watched(page)

    def route(r: Any) -> None:
        host = urlsplit(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            r.continue_()
        else:
            w.external.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page.on("pageerror", lambda exc: w.errors.append(f"pageerror: {exc}"))
    page.on("console", lambda m: w.errors.append(f"console: {m.text}") if m.type == "error" else None)
    yield w
    context.close()
    assert w.external == [], f"requests off the machine: {w.external}"


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
    page.goto(f"{api_url}/view/entities/{QINXI}")
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
    labels = dict(re.findall(r"([a-z_]+)=([^&]*)", page.url)).get("labels", "")
    assert "Person" not in labels and "Village" in labels
    page.locator("#rk-filter-types input[value=LOCATED_IN]").uncheck()
    assert (
        "types=" in page.url and "LOCATED_IN" not in dict(re.findall(r"([a-z_]+)=([^&]*)", page.url))["types"]
    )
    # The URL is the state: opening it again shows the same filtered view.
    page.goto(page.url)
    settled(page)
    assert page.evaluate("window.ruralkg.nodes.get({filter: n => n.kind === 'Person'}).length") == 0


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
