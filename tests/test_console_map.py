"""The Cypher console (/console) and the coverage map (/map) in a real chromium.

The console needs an API key configured (it is closed with /cypher otherwise): these tests
serve the API with one, over the curated graph.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from neo4j import Driver
from playwright.sync_api import Browser, Page
from pydantic import SecretStr

from api.views.coverage_map import seats
from graph.settings import Settings
from tests.browser import watch
from tests.conftest import problem_of, serve_api
from tests.test_views import explorer_graph, settled, shot  # noqa: F401

KEY = "console-test-key"
ZHOUNING_CODE = "350925000000"


@pytest.fixture(scope="module")
def keyed_url(graph_settings: Settings, explorer_graph: Driver) -> Iterator[str]:  # noqa: F811
    settings = graph_settings.model_copy(update={"api_keys": [SecretStr(KEY)], "cypher_row_cap": 1000})
    with serve_api(settings) as url:
        yield url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with watch(browser) as w:
        yield w.page
    assert w.page_errors == []


def run(page: Page, query: str, params: str = "{}") -> None:
    page.fill("#rk-cypher", query)
    page.fill("#rk-params", params)
    page.click("#rk-run")
    page.wait_for_selector("body[data-state=done], body[data-state=error]", state="attached")


def test_the_console_is_closed_with_cypher(explorer_graph: Driver, api_url: str) -> None:  # noqa: F811
    problem_of(httpx.get(api_url + "/console"), 403)  # the session's API has no key


def test_the_console_runs_a_query_as_table_and_network(page: Page, keyed_url: str) -> None:
    page.goto(keyed_url + "/console")
    page.wait_for_selector("body[data-state=ready]", state="attached")
    assert page.locator("#rk-highlight .rk-cy-keyword").count() > 0  # the example is highlighted
    page.fill("#rk-key", KEY)
    query = (
        "MATCH (a:Alliance)-[r:HAS_MEMBER]->(m) WHERE a.id STARTS WITH $prefix RETURN a, r, m ORDER BY m.id"
    )
    run(page, query, '{"prefix": "alliance:fujian"}')
    want = httpx.post(
        keyed_url + "/cypher",
        json={"query": query, "params": {"prefix": "alliance:fujian"}},
        headers={"X-API-Key": KEY},
    ).json()
    assert page.get_attribute("#rk-result-status", "data-rows") == str(want["row_count"]) != "0"
    cells = page.locator("#rk-table tbody tr").first.locator("td").all_text_contents()
    assert cells[2].startswith("(") and want["rows"][0]["m"]["properties"]["name"] in cells[2]
    assert page.locator("#rk-highlight .rk-cy-param").text_content() == "$prefix"
    assert page.locator("#rk-highlight .rk-cy-label").first.text_content() == ":Alliance"
    page.click("#rk-tab-network")
    page.wait_for_selector("#rk-result-network[data-settled=true]", state="attached")
    drawn = page.evaluate("window.ruralkgConsole.network.nodes.getIds()")
    expected = {r[c]["properties"]["id"] for r in want["rows"] for c in ("a", "m")}
    assert set(drawn) == expected
    edges = set(page.evaluate("window.ruralkgConsole.network.edges.getIds()"))
    assert edges == {f"{r['r']['start']}|HAS_MEMBER|{r['r']['end']}" for r in want["rows"]}
    with page.expect_download() as info:
        page.click("#rk-download-csv")
    with Path(info.value.path()).open(encoding="utf-8", newline="") as f:
        assert len(list(csv.DictReader(f))) == want["row_count"]
    # the query is in the history, kept in this browser
    page.reload()
    page.wait_for_selector("body[data-state=ready]", state="attached")
    assert query[:60] in (page.locator(".rk-history-item").first.text_content() or "")
    shot(page, "20-console")


def test_the_console_refuses_a_write_and_says_when_the_cap_is_hit(page: Page, keyed_url: str) -> None:
    page.goto(keyed_url + "/console")
    page.wait_for_selector("body[data-state=ready]", state="attached")
    page.fill("#rk-key", KEY)
    run(page, "CREATE (n:Village {id: 'village:x.y'}) RETURN n")
    assert page.evaluate("document.body.dataset.state") == "error"
    assert "400" in (page.text_content("#rk-result-status") or "")
    assert "read" in (page.text_content("#rk-result-status") or "")
    run(page, "UNWIND range(1, 1500) AS i RETURN i")
    assert page.get_attribute("#rk-result-status", "data-truncated") == "true"
    assert "1000" in (page.text_content("#rk-result-status") or "")
    page.fill("#rk-key", "wrong")
    run(page, "RETURN 1 AS one")
    assert "401" in (page.text_content("#rk-result-status") or "")


def test_the_map_draws_its_points_and_a_click_opens_coverage(page: Page, api_url: str) -> None:
    page.goto(api_url + "/map")
    page.wait_for_selector("body[data-drawn=true]", state="attached")
    counties = [s for s in seats() if s.level == "County"]
    assert page.get_attribute("#rk-map", "data-points") == str(len(counties))
    covered = set(page.eval_on_selector_all("circle.rk-covered", "cs => cs.map(c => c.dataset.code)"))
    answer = httpx.get(api_url + "/queries/coverage-map").json()
    assert ZHOUNING_CODE in covered and len(covered) == len(answer["items"])
    page.click(f"circle[data-code='{ZHOUNING_CODE}']")
    page.wait_for_selector(".rk-coverage")
    want = httpx.get(api_url + "/regions/county:fujian.zhouning/coverage").json()["division"]
    assert page.get_attribute(".rk-coverage", "data-villages") == str(want["villages"])
    shot(page, "21-map")
    page.click("text=在探索器中打开 Open in the explorer")
    page.wait_for_url("**/view/entities/county*")
    settled(page)
    page.go_back()
    page.wait_for_selector("body[data-drawn=true]", state="attached")
    page.check("input[value=Province]")
    provinces = [s for s in seats() if s.level == "Province"]
    assert page.get_attribute("#rk-map", "data-points") == str(len(provinces))
