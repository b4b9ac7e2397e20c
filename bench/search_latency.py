"""Search latency over the graph as it is: the catalog's `search` entry and the options it replaced.

    RURALKG_DATA_DIR=/tmp/natl .venv/bin/python -m bench.search_latency [--repeats 30]

Each option runs every query `repeats` times (after one warm-up run) in a read transaction, the
way the API runs the entry: the page's rows and the `total`. Reported: the entry per query
(with its total and whether a key was broad), then per option p50/p95/p99 over every run, over
the typical queries (names, pinyin, initials, codes) and over the one-character ones (h, z, 1).
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
    "hanshan", "heping", "zhouning", "qinxi", "hs", "qxc", "和", "zh", "35",
    "350925", "331023203", "520621102205",
]  # fmt: skip
WORST = ["h", "z", "1"]  # one character: the broadest

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
    entry = _entry(driver, settings)
    print("| query | total | broad | p50 / p95 ms |")
    print("|---|---|---|---|")
    per_query: dict[str, list[float]] = {}
    for q in TYPICAL + WORST:
        per_query[q] = timings(entry, [q], args.repeats)
        with session(driver, settings) as s:
            page = run(s, settings, SEARCH, SearchParams(q=q, limit=20))
        total = f"{page.total:,}" + ("" if page.total_exact else "+")
        print(f"| {q} | {total} | {'yes' if page.broad else 'no'} | {_p(per_query[q])} |", flush=True)
    every = [t for ts in per_query.values() for t in ts]
    typical = [t for q in TYPICAL for t in per_query[q]]
    worst = [t for q in WORST for t in per_query[q]]
    print("\n| option | all queries p50 / p95 / p99 ms | typical p50 / p95 | one letter or digit p50 / p95 |")
    print("|---|---|---|---|")
    print(
        f"| `search` entry (page of 20 and total) | {_p(every)} / {pct(every, 99):.1f} "
        f"| {_p(typical)} | {_p(worst)} |"
    )
    options: list[tuple[str, Callable[[str], None], int]] = [
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
    for name, once, repeats in options:
        typical = timings(once, TYPICAL, repeats)
        worst = timings(once, WORST, max(3, repeats // 5))
        every = typical + worst
        print(f"| {name} | {_p(every)} / {pct(every, 99):.1f} | {_p(typical)} | {_p(worst)} |", flush=True)
    return 0


def _p(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} / {pct(values, 95):.1f}"


if __name__ == "__main__":
    raise SystemExit(main())
