"""Reviewing a draft in a real browser (Debian's chromium, Playwright): draft an article, accept,
mend a place, reject, save; the saved case file passes `ruralkg check`, loads, and search finds
what was accepted. The test's screenshot of the page (test-artifacts/screenshots/review.png) is
the one docs/drafting.md shows (docs/review.png)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from neo4j import Driver
from playwright.sync_api import Browser, Page, expect
from pydantic import SecretStr

from api.cli import main
from graph.settings import Settings
from loaders.load import collect_facts, load
from tests.browser import watch
from tests.conftest import serve_api

REPO = Path(__file__).resolve().parent.parent
SHOTS = REPO / "test-artifacts" / "screenshots"  # docs/review.png is a copy of review.png
ARTICLE = REPO / "tests" / "data" / "draft" / "anji-article.txt"
KEY = "review-test-key"
DAXI = "village:zhejiang.anji.tianhuangping.daxi"
GUXI = "village:zhejiang.anji.tianhuangping.guxi"
HONGQI_PICK = "330502104208"
# Counts the page's requests until the script has handled their answers: the answer's JSON is
# parsed, then the page's own handlers run (microtasks) before this timer's task. So
# `window.rvPending === 0` means every answer the page asked for has been rendered.
PENDING_PROBE = """
window.rvPending = 0;
const fetchFirst = window.fetch, jsonFirst = Response.prototype.json;
const done = () => setTimeout(() => { window.rvPending -= 1; }, 0);
window.fetch = function (...args) {
  window.rvPending += 1;
  return fetchFirst.apply(this, args).catch((e) => { done(); throw e; });
};
Response.prototype.json = function () {
  return jsonFirst.call(this).then((v) => { done(); return v; }, (e) => { done(); throw e; });
};
"""


@pytest.fixture(scope="module")
def drafts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("drafts")
    assert main(["draft", str(ARTICLE), "-o", str(folder / "anji.draft.yaml")]) == 0
    return folder


@pytest.fixture(scope="module")
def review_url(graph_settings: Settings, drafts: Path) -> Iterator[str]:
    settings = graph_settings.model_copy(update={"api_keys": [SecretStr(KEY)], "drafts_dir": drafts})
    with serve_api(settings) as url:
        yield url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with watch(browser, height=900) as w:
        yield w.page
    assert w.page_errors == []


def _item(page: Page, key: str) -> Any:
    return page.locator(f'.rv-item[data-key="{key}"]')


def _rel_key(r: dict[str, Any]) -> str:
    """A relation's key on the page (review.js relKey)."""
    return f"{r['type']} {r['from']} -> {r['to']}"


def test_the_review_needs_the_key_when_keys_are_configured(review_url: str) -> None:
    with httpx.Client(base_url=review_url) as c:
        assert c.get("/review-api/drafts").status_code == 401
        denied = c.post("/review-api/drafts/anji/save", json={})
        assert denied.status_code == 401 and denied.headers["content-type"].startswith(
            "application/problem+json"
        )
        listed = c.get("/review-api/drafts", headers={"X-API-Key": KEY}).json()
        assert [d["name"] for d in listed["drafts"]] == ["anji"]
        assert c.get("/review-api/drafts/..%2Fx", headers={"X-API-Key": KEY}).status_code in (400, 404)
        page = c.get("/review/anji")
        assert "script-src 'self'" in page.headers["content-security-policy"]


def test_draft_review_save_check_load_search(
    page: Page, review_url: str, drafts: Path, clean_graph: Driver, graph_settings: Settings
) -> None:
    page.goto(f"{review_url}/review")
    page.fill("#rv-key", KEY)
    page.dispatch_event("#rv-key", "change")
    page.wait_for_selector("body[data-ready=true]")
    page.click("text=anji")
    page.wait_for_url(f"{review_url}/review/anji")  # the list page is ready too: act on the draft's
    page.fill("#rv-key", KEY)
    page.dispatch_event("#rv-key", "change")
    page.wait_for_selector("body[data-ready=true]")
    draft = yaml.safe_load((drafts / "anji.draft.yaml").read_text(encoding="utf-8"))

    # accept a proposal the draft was unsure of (it starts rejected)
    hongqi = next(e for e in draft["entities"] if e["name"] == "红旗村")
    low = next(
        r
        for r in draft["relations"]
        if r["confidence"] < 0.5 and {r["from"], r["to"]}.isdisjoint({hongqi["id"], GUXI})
    )
    low_key = _rel_key(low)
    _item(page, low_key).locator("[data-action=accept]").click()
    assert _item(page, low_key).locator("[data-action=accept]").get_attribute("aria-pressed") == "true"
    # mend a place: 红旗村 had two candidates (so it is drafted below 0.5 and starts rejected);
    # the reviewer accepts it and picks one
    assert hongqi["confidence"] < 0.5 and len(hongqi["candidates"]) == 2
    _item(page, hongqi["id"]).locator("[data-action=accept]").click()
    _item(page, hongqi["id"]).locator("select.rv-candidates").select_option(HONGQI_PICK)
    # and keep what the article says of it (the list's township is not named, so the village
    # hangs from nothing the file declares: this relation ties it)
    tie = next(r for r in draft["relations"] if hongqi["id"] in (r["from"], r["to"]))
    _item(page, _rel_key(tie)).locator("[data-action=accept]").click()
    # reject a proposal: the village the official list lacks
    _item(page, GUXI).locator("[data-action=reject]").click()
    # the proposal's sentence is highlighted in the article
    _item(page, DAXI).click()
    assert "大溪村" in (page.text_content(".rv-focus") or "")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "review.png"))
    page.click("#rv-save")
    page.wait_for_selector("body[data-saved], .rv-status.rv-bad", state="attached")
    assert page.get_attribute("body", "data-saved"), (
        page.text_content("#rv-status"),
        page.text_content("#rv-errors"),
    )
    saved = Path(page.get_attribute("body", "data-saved") or "")
    assert saved == drafts / "anji.yaml"

    case = yaml.safe_load(saved.read_text(encoding="utf-8"))
    ids = {e["id"] for e in case["entities"]}
    assert GUXI not in ids and DAXI in ids and hongqi["id"] not in ids
    mended = next(e for e in case["entities"] if e["name"] == "红旗村")
    assert mended["id"].startswith("village:zhejiang.wuxing.") and "code" not in mended
    assert {(r["type"], r["from"], r["to"]) for r in case["relations"]} >= {
        (low["type"], low["from"], low["to"])
    }
    assert main(["check", str(saved)]) == 0

    load(clean_graph, graph_settings, collect_facts(graph_settings, [saved]))
    with httpx.Client(base_url=review_url) as c:
        hits = c.get("/search", params={"q": "大溪", "limit": 20}).json()["items"]
        assert DAXI in [h["id"] for h in hits]
        found = c.get("/search", params={"q": "红旗", "limit": 20}).json()["items"]
        assert mended["id"] in [h["id"] for h in found]


def test_entering_the_key_again_keeps_the_decisions(page: Page, review_url: str, drafts: Path) -> None:
    """A reviewer who types the key again (after a refused save, say) while or after deciding
    keeps every decision: the draft on the page is not fetched and drawn again over them. (The
    flaky failure of the test above: the page had loaded the draft with the key kept from the
    list page, the test typed it again, a second load was drawn over the first accept.)"""
    page.add_init_script(PENDING_PROBE)
    page.goto(f"{review_url}/review/anji")
    page.fill("#rv-key", KEY)
    page.dispatch_event("#rv-key", "change")
    page.wait_for_selector("body[data-ready=true]")
    draft = yaml.safe_load((drafts / "anji.draft.yaml").read_text(encoding="utf-8"))
    hongqi = next(e for e in draft["entities"] if e["name"] == "红旗村")
    low = next(r for r in draft["relations"] if r["confidence"] < 0.5)
    tie = next(r for r in draft["relations"] if hongqi["id"] in (r["from"], r["to"]))  # hongqi hangs on it
    low_accept = _item(page, _rel_key(low)).locator("[data-action=accept]")
    low_accept.click()
    # the key again, and straight after it a place mended: both before the page has answered
    page.fill("#rv-key", KEY)
    page.dispatch_event("#rv-key", "change")
    place = _item(page, hongqi["id"])
    place.locator("select.rv-candidates").select_option(HONGQI_PICK)
    page.wait_for_function("window.rvPending === 0")
    expect(low_accept).to_have_attribute("aria-pressed", "true")
    expect(place.locator("[data-action=accept]")).to_have_attribute("aria-pressed", "true")
    expect(place.locator("select.rv-candidates")).to_have_value(HONGQI_PICK)
    _item(page, _rel_key(tie)).locator("[data-action=accept]").click()
    page.click("#rv-save")
    page.wait_for_selector("body[data-saved], .rv-status.rv-bad", state="attached")
    saved = page.get_attribute("body", "data-saved")
    assert saved == str(drafts / "anji.yaml"), page.text_content("#rv-status")
    case = yaml.safe_load(Path(saved).read_text(encoding="utf-8"))
    assert _rel_key(low) in {_rel_key(r) for r in case["relations"]}
    mended = next(e for e in case["entities"] if e["name"] == "红旗村")
    assert mended["id"].startswith("village:zhejiang.wuxing.")


def test_a_save_that_would_fail_the_check_writes_nothing(review_url: str, drafts: Path) -> None:
    with httpx.Client(base_url=review_url, headers={"X-API-Key": KEY}) as c:
        bad = c.post("/review-api/drafts/anji/save", json={"edits": {DAXI: {"label": "Nope"}}})
        assert bad.status_code == 400 and "unknown label" in bad.json()["detail"]
        unknown = c.post("/review-api/drafts/anji/save", json={"rejected": ["village:nowhere.x"]})
        assert unknown.status_code == 400
        assert c.get("/review-api/drafts/missing", headers={"X-API-Key": KEY}).status_code == 404
