"""Network views in headless chromium: request -> first frame drawn with the layout settled.

Builds a synthetic county (townships, villages, alliances joining villages across townships),
writes it as a case file and loads it with the real loader into a temporary local server,
serves the API, then opens /view/entities/{county}?depth=2 with 500 and 2,000 nodes in
Debian's chromium, cold (new browser context, no cache), for each layout:

- force: positions computed on the server (igraph), physics off in the browser;
- physics: tuned barnesHut in the browser, stopped once stabilised.

It reports the end-to-end time (navigation start -> the settled frame: server work, transfer,
parsing and drawing), the server's part (request -> first byte), the page weight (bytes over
the wire, gzip where we serve it) and requests attempted off 127.0.0.1 (refused). It also
times the server-side layout alone. A screenshot of each view goes to test-artifacts/bench/.

    .venv/bin/python -m bench.views [--runs 3] [--sizes 500 2000] [--layouts force physics]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import uvicorn
import yaml
from playwright.sync_api import Browser, sync_playwright

from api.app import create_app
from api.views.network import _force_positions
from graph.connection import open_driver, resolve_target
from graph.local_server import free_port, serving
from graph.schema import apply_schema
from graph.settings import Settings
from loaders.load import collect_facts, load
from tests.browser import CHROMIUM_ARGS, MISSING, chromium_path

COUNTY = "county:bench.synthetic"
TOWNSHIPS = 40
VILLAGES_PER_TOWNSHIP = 60  # 2,400 villages: more than the 2,000-node view keeps
SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "bench"
ALLIANCES = 20  # each joins the villages of two neighbouring townships


def synthetic_case() -> dict[str, Any]:
    """One county, its townships and villages (LOCATED_IN), alliances joining villages across
    two townships (HAS_MEMBER): a two-hop neighbourhood of the county with cycles in it."""
    ev = "合成的基准测试数据"
    entities: list[dict[str, Any]] = [{"id": COUNTY, "label": "County", "name": "基准县", "evidence": ev}]
    relations: list[dict[str, Any]] = []
    for t in range(TOWNSHIPS):
        tid = f"township:bench.synthetic.t{t}"
        entities.append({"id": tid, "label": "Township", "name": f"第{t}镇", "evidence": ev})
        relations.append({"type": "LOCATED_IN", "from": tid, "to": COUNTY, "evidence": ev})
        for v in range(VILLAGES_PER_TOWNSHIP):
            vid = f"village:bench.synthetic.t{t}.v{v}"
            entities.append({"id": vid, "label": "Village", "name": f"{t}镇{v}村", "evidence": ev})
            relations.append({"type": "LOCATED_IN", "from": vid, "to": tid, "evidence": ev})
    for a in range(ALLIANCES):
        aid = f"alliance:bench.synthetic.a{a}"
        entities.append(
            {"id": aid, "label": "Alliance", "name": f"第{a}联盟", "kind": "片区党建联盟", "evidence": ev}
        )
        relations.append({"type": "LOCATED_IN", "from": aid, "to": COUNTY, "evidence": ev})
        for t in (2 * a, 2 * a + 1):
            for v in range(0, VILLAGES_PER_TOWNSHIP, 3):
                vid = f"village:bench.synthetic.t{t}.v{v}"
                relations.append({"type": "HAS_MEMBER", "from": aid, "to": vid, "evidence": ev})
    return {
        "source": {
            "id": "source:2026-01-01.bench",
            "kind": "article",
            "file": "bench.txt",
            "title": "基准测试合成数据",
            "publisher": "ruralkg bench",
            "date": "2026-01-01",
        },
        "entities": entities,
        "relations": relations,
    }


@contextmanager
def api(settings: Settings) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def open_view(browser: Browser, url: str, screenshot: Path | None = None) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    external: list[str] = []

    def route(r: Any) -> None:
        if urlsplit(r.request.url).hostname == "127.0.0.1" or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            external.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.goto(url, wait_until="commit")
    page.wait_for_selector("body[data-settled=true]", state="attached", timeout=600_000)
    timing = page.evaluate(
        """() => {
          const nav = performance.getEntriesByType('navigation')[0];
          const res = performance.getEntriesByType('resource');
          return {settled: window.ruralkg.settledAt, server: nav.responseStart - nav.requestStart,
                  browser: window.ruralkg.settledAt - nav.responseStart,
                  bytes: nav.transferSize + res.reduce((s, r) => s + r.transferSize, 0),
                  nodes: window.ruralkg.nodes.length, edges: window.ruralkg.edges.length};
        }"""
    )
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot))
    context.close()
    return {**timing, "external": len(external)}


def timed_get(url: str) -> float:
    t0 = time.perf_counter()
    httpx.get(url, timeout=120).raise_for_status()
    return time.perf_counter() - t0


def layout_time(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> float:
    t0 = time.perf_counter()
    _force_positions(nodes, edges, COUNTY)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--layouts", nargs="+", default=["force", "physics"], choices=["force", "physics"])
    args = parser.parse_args()
    path = chromium_path()
    if path is None:
        raise SystemExit(MISSING)

    with tempfile.TemporaryDirectory() as tmp:
        cases = Path(tmp) / "cases"
        cases.mkdir()
        (cases / "bench.yaml").write_text(
            yaml.safe_dump(synthetic_case(), allow_unicode=True), encoding="utf-8"
        )
        settings = Settings(RURALKG_DATA_DIR=Path(tmp) / "graph", RURALKG_CASES_DIR=cases)
        with serving(settings):
            driver = open_driver(resolve_target(settings, start_local=False), settings)
            apply_schema(driver, settings)
            t0 = time.perf_counter()
            load(driver, settings, collect_facts(settings))
            print(f"loaded the synthetic county in {time.perf_counter() - t0:.1f} s")
            driver.close()
            with api(settings) as base, sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
                open_view(browser, f"{base}/view/entities/{COUNTY}?depth=1&limit=10")  # warm the server
                rows = []
                for size in args.sizes:
                    url = f"{base}/view/entities/{COUNTY}?depth=2&limit={size}"
                    api_url = f"{base}/entities/{COUNTY}/neighborhood?depth=2&limit={size - 1}"
                    answer = httpx.get(api_url, timeout=120).json()
                    query_s = statistics.median(timed_get(api_url) for _ in range(args.runs))
                    ours = layout_time([answer["center"], *answer["nodes"]], answer["edges"])
                    print(f"{size} nodes: server-side layout alone (igraph): {ours:.2f} s")
                    for layout in args.layouts:
                        shot = SHOTS / f"{size}-{layout}.png"
                        runs = [
                            open_view(browser, f"{url}&layout={layout}", shot if i == 0 else None)
                            for i in range(args.runs)
                        ]
                        row = {
                            "size": size,
                            "layout": layout,
                            "nodes": runs[0]["nodes"],
                            "edges": runs[0]["edges"],
                            "settled_s": statistics.median(r["settled"] for r in runs) / 1000,
                            "server_s": statistics.median(r["server"] for r in runs) / 1000,
                            "browser_s": statistics.median(r["browser"] for r in runs) / 1000,
                            "query_s": query_s,
                            "kb": statistics.median(r["bytes"] for r in runs) / 1024,
                            "external": max(r["external"] for r in runs),
                        }
                        rows.append(row)
                        print(
                            f"{size} nodes, {layout}: settled {row['settled_s']:.2f} s "
                            f"(server {row['server_s']:.2f} s, of which the JSON answer {query_s:.2f} s; "
                            f"browser {row['browser_s']:.2f} s), {row['kb']:.0f} kB, "
                            f"external {row['external']}"
                        )
                browser.close()
    print(
        "\n| view | layout | nodes | edges | request -> settled frame | server (to first byte) "
        "| of which the neighbourhood query (JSON API) | browser (first byte -> settled) "
        "| page weight | external requests |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['size']} nodes | {r['layout']} | {r['nodes']} | {r['edges']} | {r['settled_s']:.2f} s "
            f"| {r['server_s']:.2f} s | {r['query_s']:.2f} s | {r['browser_s']:.2f} s "
            f"| {r['kb']:.0f} kB | {r['external']} |"
        )


if __name__ == "__main__":
    main()
