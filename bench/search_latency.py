"""Search latency over the graph as it is: the catalog's `search` entry and the options it replaced.

    RURALKG_DATA_DIR=/tmp/natl .venv/bin/python -m bench.search_latency [--repeats 30]

Each option runs every query `repeats` times (after one warm-up run) in a read transaction, the
way the API runs the entry: the page's rows and the `total`. Reported per option: p50 and p95
over all runs of the typical queries (names, pinyin, initials, codes), and the worst queries
(one Latin letter) separately.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from neo4j import Driver

from graph.connection import connect, session
from graph.settings import Settings, get_settings
from graph.text import fold
from queries import run
from queries.explore import SEARCH, SearchParams

TYPICAL = [
    "寒山", "和平", "芹溪", "太平镇", "龙溪乡", "周宁", "寒巖", "株木岗",
    "hanshan", "heping", "zhouning", "qinxi", "hs", "qxc",
    "350925", "331023203", "520621102205",
]  # fmt: skip
WORST = ["h", "z", "1"]

OLD_ROWS = """
MATCH (n:Entity) WHERE n.search CONTAINS $q
WITH n, CASE WHEN n.search STARTS WITH $exact THEN 0 WHEN n.search CONTAINS $exact THEN 1 ELSE 2 END AS rank
RETURN n.id AS id ORDER BY rank, size(n.name), n.id LIMIT 20
"""
OLD_TOTAL = "MATCH (n:Entity) WHERE n.search CONTAINS $q RETURN count(n) AS total"
NAME_PREFIX = "MATCH (n:Entity) WHERE n.key_name STARTS WITH $q RETURN n.id AS id ORDER BY n.id LIMIT 20"
NAME_EXACT = "MATCH (n:Entity) WHERE n.key_name = $q RETURN n.id AS id ORDER BY n.id LIMIT 20"


def _raw(driver: Driver, settings: Settings, *statements: str) -> Callable[[str], None]:
    def once(q: str) -> None:
        folded = fold(q)
        with session(driver, settings) as s:
            s.execute_read(
                lambda tx: [list(tx.run(text, q=folded, exact=f"|{folded}|")) for text in statements]
            )

    return once


def _entry(driver: Driver, settings: Settings) -> Callable[[str], None]:
    def once(q: str) -> None:
        with session(driver, settings) as s:
            run(s, settings, SEARCH, SearchParams(q=q, limit=20))

    return once


def timings(once: Callable[[str], None], queries: list[str], repeats: int) -> list[float]:
    out = []
    for q in queries:
        once(q)  # warm-up: plan cache, pages
        for _ in range(repeats):
            start = time.perf_counter()
            once(q)
            out.append((time.perf_counter() - start) * 1000)
    return out


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--skip-old", action="store_true", help="leave out the CONTAINS scan (slow)")
    args = parser.parse_args(argv)
    settings = get_settings()
    driver = connect(settings)
    nodes = driver.execute_query("MATCH (n:Entity) RETURN count(n) AS n").records[0]["n"]
    print(f"graph: {nodes} nodes; {args.repeats} runs per query after a warm-up\n")
    options: list[tuple[str, Callable[[str], None], int]] = [
        (
            "search entry (index prefixes + curated CONTAINS), rows + total",
            _entry(driver, settings),
            args.repeats,
        ),
        ("key_name STARTS WITH, LIMIT 20", _raw(driver, settings, NAME_PREFIX), args.repeats),
        ("key_name = exact, LIMIT 20", _raw(driver, settings, NAME_EXACT), args.repeats),
    ]
    if not args.skip_old:
        options.append(
            (
                "old: search CONTAINS over every node, rows + total",
                _raw(driver, settings, OLD_ROWS, OLD_TOTAL),
                5,
            )
        )
    print("| option | typical p50 / p95 ms | worst (h, z, 1) p50 / p95 ms |")
    print("|---|---|---|")
    for name, once, repeats in options:
        typical = timings(once, TYPICAL, repeats)
        worst = timings(once, WORST, max(3, repeats // 5))
        print(
            f"| {name} | {statistics.median(typical):.1f} / {pct(typical, 95):.1f} "
            f"| {statistics.median(worst):.1f} / {pct(worst, 95):.1f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
