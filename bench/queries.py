"""Warm latency of the catalog entries on a graph that is already loaded, and where it goes.

    RURALKG_DATA_DIR=/tmp/natl-q python -m bench.queries --scale 0.1 --seed 1
    RURALKG_DATA_DIR=/tmp/natl-q python -m bench.queries --only neighborhood --statements --profile

`make bench` (bench/run.py) loads a fresh graph before it measures; at scale 0.1 that is half
an hour. This measures the same seven entries, with the parameters chosen the same way
(bench.run.pick_params, bench.run.search_terms), on whatever graph the settings point to (the
local server of RURALKG_DATA_DIR, started beforehand, or NEO4J_URI), so a query change can be
measured again in a minute. `--scale`/`--seed` name the overlay that was loaded: they pick the
province for `region-coverage` as bench.run does (or give `--province`).

--statements times each statement of an entry alone, in a read transaction of its own: which
part of the entry the time goes to. --profile prints each statement's PROFILE once (the local
server's plan text; on Neo4j the operator tree with rows and db hits).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import neo4j
from neo4j import Driver
from pydantic import ValidationError

from bench.run import (
    WHOLE_GRAPH_REPEATS,
    busiest_province,
    fmt_ms,
    header,
    latency,
    pick_params,
    search_terms,
)
from graph.connection import open_driver, resolve_target, session
from graph.settings import Settings, get_settings
from loaders.synthetic import SynthSpec, select
from queries import get_entry
from queries.catalog import CATALOG

ENTRIES = (
    "shared-experts",
    "neighborhood",
    "path",
    "village-profile",
    "region-coverage",
    "overview",
    "search",
)


def statement_times(
    driver: Driver, settings: Settings, name: str, params: dict[str, Any], repeats: int
) -> dict[str, list[float]]:
    """Each statement of the entry alone, `repeats` times after one warm-up (ms)."""
    entry = get_entry(name)
    p = entry.params.model_validate(params)
    statements, bound = entry.statements(p), entry.parameters(p)
    out: dict[str, list[float]] = {}
    for key, text in statements.items():
        for i in range(repeats + 1):
            with session(driver, settings) as s:
                started = time.perf_counter()
                s.execute_read(lambda tx, text=text: tx.run(text, bound).consume())
                if i:
                    out.setdefault(key, []).append((time.perf_counter() - started) * 1000)
    return out


def _operator_tree(op: dict[str, Any], depth: int = 0) -> list[str]:
    line = f"{'  ' * depth}+ {op.get('operatorType')} rows={op.get('rows')} dbHits={op.get('dbHits')}"
    return [line] + [x for child in op.get("children", []) for x in _operator_tree(child, depth + 1)]


def profiles(driver: Driver, settings: Settings, name: str, params: dict[str, Any]) -> dict[str, str]:
    entry = get_entry(name)
    p = entry.params.model_validate(params)
    statements, bound = entry.statements(p), entry.parameters(p)
    out = {}
    for key, text in statements.items():
        with session(driver, settings) as s:
            summary = s.execute_read(lambda tx, text=text: tx.run("PROFILE " + text, bound).consume())
        prof = summary.profile or {}
        text_plan = prof.get("args", {}).get("string-representation")
        out[key] = text_plan or "\n".join(_operator_tree(prof))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=0.1, help="the overlay loaded (picks the province)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--province", help="region-coverage's division (default: as bench.run picks it)")
    parser.add_argument("--repeats", type=int, default=30, help="timed runs per entry, after 3 warm-ups")
    parser.add_argument("--only", action="append", choices=ENTRIES, help="these entries only (repeatable)")
    parser.add_argument("--statements", action="store_true", help="also time each statement alone")
    parser.add_argument("--profile", action="store_true", help="print each statement's PROFILE")
    parser.add_argument(
        "--whole",
        type=int,
        metavar="N",
        help="also every entry that takes its defaults, N runs each: the broadest question, "
        "what counts a whole label (a refused answer is reported as such)",
    )
    parser.add_argument("--out", type=Path, help="append the figures as a dated section to this file")
    args = parser.parse_args(argv)

    settings = get_settings()
    driver = open_driver(resolve_target(settings), settings)
    started, load = dt.datetime.now(dt.UTC), os.getloadavg()
    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    try:
        province = args.province or busiest_province(select(SynthSpec(args.seed, args.scale)))
        chosen = args.only or list(ENTRIES)
        params = {k: v for k, v in pick_params(driver, settings, province).items() if k in chosen}
        with session(driver, settings) as s:
            nodes = s.run("MATCH (n) RETURN count(n) AS n").single()["n"]  # type: ignore[index]
            rels = s.run("MATCH ()-[r]->() RETURN count(r) AS n").single()["n"]  # type: ignore[index]
        say(f"- graph: {nodes:,} nodes, {rels:,} relationships")
        say(f"\nWarm latency through the driver, {args.repeats} runs each after 3 warm-ups (ms):\n")
        say("| entry | parameters | p50 / p95 / p99 |")
        say("|---|---|---|")
        for name, p in params.items():
            repeats = min(args.repeats, WHOLE_GRAPH_REPEATS.get(name, args.repeats))
            figures = fmt_ms(latency(driver, settings, name, p, repeats))
            say(f"| {name} | {json.dumps(p, ensure_ascii=False)} | {figures} |")
        if "search" in chosen:
            terms = search_terms(driver, settings)
            each = max(1, args.repeats // len(terms))
            lat = [x for q in terms for x in latency(driver, settings, "search", {"q": q}, each)]
            say(f"| search | {len(terms)} terms: {', '.join(terms)} | {fmt_ms(lat)} |")
        if args.whole:
            say(f"\nEvery entry with its default parameters, {args.whole} runs each after 3 warm-ups (ms):\n")
            say("| entry | p50 / p95 / p99 |")
            say("|---|---|")
            for name in sorted(CATALOG):
                try:
                    get_entry(name).params.model_validate({})
                except ValidationError:
                    continue  # it needs a parameter: not a question about the whole graph
                try:
                    figures = fmt_ms(latency(driver, settings, name, {}, args.whole))
                except Exception as exc:  # a refusal (too large, over the memory budget) is the figure
                    figures = f"refused: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
                say(f"| {name} | {figures} |")
        if args.statements:
            say(f"\nEach statement alone, {args.repeats} runs after a warm-up (ms):\n")
            say("| entry | statement | p50 / p95 / p99 |")
            say("|---|---|---|")
            for name, p in params.items():
                for key, values in statement_times(driver, settings, name, p, args.repeats).items():
                    say(f"| {name} | {key} | {fmt_ms(values)} |")
        if args.profile:
            for name, p in params.items():
                for key, plan in profiles(driver, settings, name, p).items():
                    print(f"\n### PROFILE {name} / {key}\n{plan}", flush=True)
    except neo4j.exceptions.ServiceUnavailable as exc:
        print(f"no graph server to measure: {exc}", file=sys.stderr)
        return 2
    finally:
        driver.close()
    if args.out:
        title = (
            f"\n### {started:%Y-%m-%d %H:%M} UTC: catalog latency on a loaded graph "
            f"(scale {args.scale:g}, seed {args.seed})"
        )
        with args.out.open("a", encoding="utf-8") as handle:
            handle.write("\n".join([*header(title, "bench.queries", argv, load), *lines, ""]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
