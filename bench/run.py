"""The whole benchmark on a local server of its own; a dated section appended to docs/benchmarks/runs.md.

    make bench SCALE=0.1          # = .venv/bin/python -m bench.run --scale 0.1

One run, one server (a fresh data dir under /tmp, stopped at the end), so the ratios compare
like with like:
1. the official divisions of the selected counties (the gazetteer's writer);
2. load throughput on the same sample counties, each way into the same empty slots: our loader
   fed rows, our loader fed case files (write, parse, validate), the raw ceiling and the naive
   script (bench/load_ways.py: the same graph, written the fastest way the server takes it, and
   with the same statements one row per transaction, for a fixed time);
3. the whole overlay with the loader, its time, rows/s and the loader's peak RSS;
4. warm latency p50/p95/p99 of six catalog entries through the driver;
5. 32 concurrent clients for a fixed time from a separate process, against the API (its own
   process; cache misses and hits) and against the driver directly, and 1 client each way
   (bench/api.py);
6. peak RSS (VmHWM) of the API process and the graph server.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neo4j import Driver

from bench.api import measure as measure_api
from bench.api import status_kb
from bench.clients import percentile
from bench.load_ways import load_naive, load_raw, script_session
from graph.connection import open_driver, resolve_target, session
from graph.local_server import LocalServer
from graph.settings import REPO_ROOT, Settings
from loaders import industry_tally, person_villages
from loaders.casefile import validate_cases
from loaders.facts import SourceFacts, facts_of
from loaders.load import sync_sources
from loaders.synthetic import (
    BULK_BATCH,
    GROUP_ROWS,
    Selection,
    SynthSpec,
    cases,
    facts_of_case,
    load_divisions,
    load_overlay,
    select,
    write_case,
)
from loaders.tally import Figures, read_tallies, read_type_tallies, replace_all
from loaders.writer import SourceWriter
from queries import get_entry, run

# Everything the sample wrote but the divisions, which were there before and stay.
CLEAR = "UNWIND $ids AS id MATCH (n:Entity {id: id}) WHERE n.code IS NULL DETACH DELETE n"
CLEAR_EDGES = """
UNWIND $rows AS row
MATCH (:Entity {id: row.start})-[r]->(:Entity {id: row.end}) WHERE type(r) = row.type DELETE r
"""


@dataclass
class Results:
    lines: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    def say(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- load throughput ----------------------------------------------------------------------------


def _rows(facts: SourceFacts) -> int:
    return len(facts.entities) + len(facts.relations)


Kept = tuple[Figures, dict[str, int], industry_tally.Kept]
"""The figures kept per place and per relationship type (loaders.tally) and per industry
(loaders.industry_tally) of the divisions alone."""


def _kept(driver: Driver, settings: Settings) -> Kept:
    return (
        read_tallies(driver, settings),
        read_type_tallies(driver, settings),
        industry_tally.read(driver, settings),
    )


def _clear(driver: Driver, settings: Settings, sample: Sequence[SourceFacts], kept: Kept) -> None:
    """Back to the divisions alone: what the sample wrote, gone (sources too), and the figures
    kept as they were (a way's deltas would otherwise pile up on the last one's)."""
    for f in sample:
        rels = [{"type": t, "start": a, "end": b} for t, a, b in f.relations]
        ids = [*f.entities, f.source_id]
        for query, key, rows in ((CLEAR_EDGES, "rows", rels), (CLEAR, "ids", ids)):
            for i in range(0, len(rows), BULK_BATCH):
                _write(driver, settings, query, **{key: rows[i : i + BULK_BATCH]})
    replace_all(driver, settings, kept[0], kept[1])
    industry_tally.replace_all(driver, settings, kept[2])
    person_villages.replace_all(driver, settings, {})  # the divisions alone hold nobody


def _write(driver: Driver, settings: Settings, query: str, **params: Any) -> None:
    # An explicit transaction: the local server runs an auto-commit `session.run` write many
    # times slower (measured: 150 against 1,600-7,700 rows/s for the same UNWIND MERGE).
    with script_session(driver, settings) as s:
        s.execute_write(lambda tx: tx.run(query, params).consume())


def bulk_writer(driver: Driver, settings: Settings) -> SourceWriter:
    """The writer as the overlay load uses it: several counties per transaction."""
    return SourceWriter(driver, settings, batch_size=max(settings.batch_size, BULK_BATCH))


def load_loader(driver: Driver, settings: Settings, sample: Sequence[SourceFacts]) -> SourceWriter:
    writer = bulk_writer(driver, settings)
    for _ in sync_sources(writer, sample, group_rows=GROUP_ROWS):
        pass
    return writer


def load_files(driver: Driver, settings: Settings, raws: Sequence[dict[str, Any]], directory: Path) -> None:
    facts = (facts_of(validate_cases([write_case(raw, directory)])[0]) for raw in raws)
    for _ in sync_sources(bulk_writer(driver, settings), facts, group_rows=GROUP_ROWS):
        pass


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    out = work()
    return time.perf_counter() - started, out


# -- queries ------------------------------------------------------------------------------------


def busiest_province(selection: Selection) -> str:
    """The province with the most selected counties: region-coverage's division."""
    return max(selection.counties, key=lambda c: sum(x[:2] == c[:2] for x in selection.counties))[:2]


def pick_params(driver: Driver, settings: Settings, province: str) -> dict[str, dict[str, Any]]:
    """Parameters from the graph itself: a village whose dispatched person serves others too."""
    whole = {"region-coverage": {"division": province}, "overview": {}}
    with session(driver, settings) as s:
        found = s.run(
            "MATCH (p:Person)-[:DISPATCHED_TO]->(v:Village) WITH p, collect(v.id) AS vs "
            "WHERE size(vs) > 2 WITH p, vs ORDER BY p.id LIMIT 1 RETURN vs[0] AS village"
        ).single()
        if found is None:  # no overlay (the curated data and the divisions): the whole-region entries only
            return whole
        village = found["village"]
        code = s.run("MATCH (v:Village {id: $village}) RETURN v.code AS code", village=village).single()[
            "code"
        ]
        # a village of another township of the same county
        other = s.run(
            "MATCH (o:Village) WHERE o.code STARTS WITH $county AND NOT o.code STARTS WITH $township "
            "WITH o ORDER BY o.code LIMIT 1 RETURN o.id AS id",
            county=code[:6],
            township=code[:9],
        ).single()
    return {
        "shared-experts": {"village": village},
        "neighborhood": {"id": village, "depth": 2},
        "path": {"source": village, "target": other["id"] if other else village},
        "village-profile": {"id": village},
        **whole,
    }


# Entries that count the whole graph: fewer timed runs (each reads every region's subtree).
WHOLE_GRAPH_REPEATS = {"overview": 20}


def latency(
    driver: Driver, settings: Settings, name: str, params: dict[str, Any], repeats: int
) -> list[float]:
    entry = get_entry(name)
    p = entry.params.model_validate(params)
    out = []
    for i in range(repeats + 3):
        with session(driver, settings) as s:
            started = time.perf_counter()
            run(s, settings, entry, p)
            if i >= 3:  # three warm-up runs: plans cached, pages in memory
                out.append((time.perf_counter() - started) * 1000)
    return out


def search_terms(driver: Driver, settings: Settings) -> list[str]:
    with session(driver, settings) as s:
        names = [
            r["name"]
            for r in s.run(
                "MATCH (v:Village) WHERE v.code IS NOT NULL RETURN v.name AS name ORDER BY v.code LIMIT 200"
            )
        ]
    picked = names[::40][:5]
    return [*(n[:2] for n in picked), *picked[:2], "hs", "heping"]


# -- the run ------------------------------------------------------------------------------------


def machine() -> str:
    cpu = "?"
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    py = platform.python_version()
    return f"{platform.node()}: {os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, Python {py}"


def header(
    title: str,
    module: str,
    argv: Sequence[str] | None,
    load: tuple[float, float, float],
    took: float | None = None,
) -> list[str]:
    """A section's first lines: what ran, where, on which commit, and how busy the machine was
    when it started (the load average, measured: other work on the 2 cores slows every figure)."""
    command = f"python -m {module} " + " ".join(argv if argv is not None else sys.argv[1:])
    spent = f" ({took:.0f} s in all)" if took is not None else ""
    return [
        title,
        "",
        f"- machine: {machine()}; load average at the start {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}",
        f"- commit: {commit()}",
        f"- command: `{command.strip()}`{spent}",
    ]


def commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO_ROOT
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "-uno"], capture_output=True, text=True, cwd=REPO_ROOT
        )
        return head.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")
    except OSError:
        return "?"


def fmt_ms(values: list[float]) -> str:
    return f"{percentile(values, 50):.1f} / {percentile(values, 95):.1f} / {percentile(values, 99):.1f}"


def bench(args: argparse.Namespace, data_dir: Path, out: Results) -> None:
    spec = SynthSpec(args.seed, args.scale)
    settings = Settings(
        NEO4J_URI=None,
        RURALKG_DATA_DIR=data_dir,
        RURALKG_HEAP=args.heap,
        # A bench statement may run long at scale 1; the API and client settings keep theirs.
        RURALKG_QUERY_TIMEOUT=args.server_timeout,
        # the local server's command timeout is the shorter of the two (at most 600 s)
        RURALKG_CYPHER_TIMEOUT=min(args.server_timeout, 600),
        RURALKG_BOLT_PORT=free_port(),
        RURALKG_HTTP_PORT=free_port(),
    )
    server = LocalServer(settings)
    state, _ = server.start(owned=True)
    driver = open_driver(resolve_target(settings), settings)
    figures = out.figures
    try:
        t, selection = timed(lambda: select(spec))
        out.say(
            f"- selection: {len(selection.counties)} counties, {selection.villages:,} administrative villages"
        )
        t, divisions = timed(lambda: load_divisions(driver, settings, selection, {}))
        out.say(
            f"- official divisions of those counties: {divisions:,} rows in {t:.1f} s "
            f"({divisions / t:,.0f} rows/s)"
        )

        # 2. throughput on a sample, each way from the same empty slots
        raws: list[dict[str, Any]] = []
        for raw in cases(spec, selection):
            raws.append(raw)
            if sum(len(r["entities"]) + len(r["relations"]) for r in raws) >= args.sample_rows:
                break
        sample = [facts_of_case(r) for r in raws]
        rows = sum(_rows(f) for f in sample)
        kept = _kept(driver, settings)
        # A fresh JVM runs its first thousands of rows interpreted: one unmeasured round first.
        load_loader(driver, settings, sample)
        _clear(driver, settings, sample, kept)
        # The cores are shared: each way runs `rounds` times, interleaved, and keeps its best.
        rates: dict[str, float] = {}
        with tempfile.TemporaryDirectory() as files_dir:
            ways: list[tuple[str, Callable[[], Any]]] = [
                ("loader, rows", lambda: load_loader(driver, settings, sample)),
                (
                    "loader, case files (write + parse + validate)",
                    lambda: load_files(driver, settings, raws, Path(files_dir)),
                ),
                (
                    f"raw ceiling: the same rows and figures, one Entity.id lookup then handles, CREATE, "
                    f"{GROUP_ROWS:,} rows/transaction, {BULK_BATCH:,}/statement",
                    lambda: load_raw(driver, settings, sample),
                ),
            ]
            profile: dict[str, float] = {}
            for _ in range(args.rounds):
                for name, work in ways:
                    t, used = timed(work)
                    if rows / t > rates.get(name, 0.0) and isinstance(used, SourceWriter):
                        profile = dict(used.timings)
                    rates[name] = max(rates.get(name, 0.0), rows / t)
                    _clear(driver, settings, sample, kept)
        t, done = timed(lambda: load_naive(driver, settings, sample, args.naive_seconds))
        rates["naive: the raw way's statements, one row and its figures per transaction"] = done / t
        _clear(driver, settings, sample, kept)
        figures["rates"] = rates
        out.say(
            f"\nLoad throughput, the same {rows:,} rows ({len(sample)} counties) each way, "
            f"best of {args.rounds} interleaved rounds (naive: one run of {args.naive_seconds:g} s):\n"
        )
        out.say("| way | rows/s | loader (rows) is |")
        out.say("|---|---|---|")
        ours = rates["loader, rows"]
        for name, rate in rates.items():
            out.say(f"| {name} | {rate:,.0f} | {ours / rate:.2f}x |")
        figures["loader_profile"] = profile
        total = profile.pop("transaction, all in", 0.0)
        out.say(
            f"\nWhere the loader's time went in its best round ({total:.2f} s from the first statement "
            f"to the commit; {GROUP_ROWS:,} rows per transaction, {BULK_BATCH:,} per statement):\n"
        )
        out.say("| step | seconds |")
        out.say("|---|---|")
        for step, seconds in sorted(profile.items(), key=lambda kv: -kv[1]):
            out.say(f"| {step} | {seconds:.2f} |")
        out.say(f"| rest (driver, commit, Python between statements) | {total - sum(profile.values()):.2f} |")
        if args.load_only:
            return

        # 3. the whole overlay
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t, stats = timed(lambda: load_overlay(driver, settings, spec, selection))
        loader_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        figures["overlay"] = {"seconds": t, "rows": stats.rows, "rps": stats.rows / t, "peak_mb": loader_peak}
        with session(driver, settings) as s:
            nodes = s.run("MATCH (n) RETURN count(n) AS n").single()["n"]
            rels = s.run("MATCH ()-[r]->() RETURN count(r) AS n").single()["n"]
        out.say(
            f"\nWhole overlay with the loader (rows): {stats.entities:,} entities + "
            f"{stats.relations:,} relations "
            f"in {t:.0f} s = {stats.rows / t:,.0f} rows/s (plus MENTIONS and provenance); graph now "
            f"{nodes:,} nodes, {rels:,} relationships. Loader peak RSS {loader_peak:,.0f} MB "
            f"(before the overlay: {before / 1024:,.0f} MB)."
        )

        # 4. warm query latency
        params = pick_params(driver, settings, busiest_province(selection))
        terms = search_terms(driver, settings)
        out.say(f"\nWarm latency through the driver, {args.repeats} runs each after 3 warm-ups (ms):\n")
        out.say("| entry | parameters | p50 / p95 / p99 |")
        out.say("|---|---|---|")
        lat: dict[str, list[float]] = {}
        for name, p in params.items():
            lat[name] = latency(
                driver, settings, name, p, min(args.repeats, WHOLE_GRAPH_REPEATS.get(name, args.repeats))
            )
            out.say(f"| {name} | {json.dumps(p, ensure_ascii=False)} | {fmt_ms(lat[name])} |")
        lat["search"] = [
            x
            for q in terms
            for x in latency(driver, settings, "search", {"q": q}, max(1, args.repeats // len(terms)))
        ]
        out.say(f"| search | {len(terms)} terms: {', '.join(terms)} | {fmt_ms(lat['search'])} |")
        figures["latency"] = {
            k: [percentile(v, 50), percentile(v, 95), percentile(v, 99)] for k, v in lat.items()
        }

        # 5. API vs driver, clients in a separate process (bench/api.py)
        out.say(
            f"\n`search` from a separate client process, {args.api_seconds:g} s a run, best of "
            f"{args.rounds} alternating rounds; the API as `ruralkg serve` runs it (its own process, "
            "1 uvicorn worker, uvloop, answer cache on):\n"
        )
        api_figures = measure_api(data_dir, terms, args.api_seconds, args.rounds, say=out.say)
        figures["clients"] = api_figures["runs"]
        api_peak = api_figures["api_peak_mb"]

        # 6. memory
        server_peak = status_kb(state.pid, "VmHWM") / 1024
        figures["memory"] = {"api": api_peak, "loader": loader_peak, "server": server_peak}
        out.say(
            f"\nPeak RSS: API process {api_peak:,.0f} MB; loader (this process, overlay) "
            f"{loader_peak:,.0f} MB; "
            f"graph server {server_peak:,.0f} MB (-Xmx{settings.local_heap})."
        )
    finally:
        driver.close()
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO_ROOT / "docs" / "benchmarks" / "runs.md",
        help="file the section is appended to (BENCHMARKS.md's summary names the latest figures)",
    )
    parser.add_argument(
        "--data-dir", type=Path, help="the bench server's data dir (default: a new one under /tmp)"
    )
    parser.add_argument(
        "--heap", default=os.environ.get("RURALKG_HEAP", "4g"), help="the bench server's -Xmx"
    )
    parser.add_argument(
        "--server-timeout", type=float, default=3600, help="the bench server's command timeout, s"
    )
    parser.add_argument("--repeats", type=int, default=100, help="timed runs per catalog entry")
    parser.add_argument("--api-seconds", type=float, default=15, help="how long the clients run, each way")
    # 20,000 rows in 2 rounds took about 3 s a way on a quiet machine while the server's JIT was
    # still warming between rounds, favouring the way measured last (docs/benchmarks/load-baselines.md)
    parser.add_argument("--sample-rows", type=int, default=40_000, help="rows of the throughput sample")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the load ways")
    parser.add_argument("--naive-seconds", type=float, default=20, help="how long the naive script runs")
    parser.add_argument(
        "--load-only", action="store_true", help="stop after the load throughput (no overlay, queries, API)"
    )
    args = parser.parse_args(argv)
    out = Results()
    started, load = dt.datetime.now(dt.UTC), os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="ruralkg-bench-") as tmp:
        bench(args, args.data_dir or Path(tmp), out)
    took = (dt.datetime.now(dt.UTC) - started).total_seconds()
    title = f"\n## {started:%Y-%m-%d %H:%M} UTC: scale {args.scale:g}, seed {args.seed}"
    section = "\n".join([*header(title, "bench.run", argv, load, took), *out.lines, ""])
    with args.out.open("a", encoding="utf-8") as handle:
        if handle.tell() == 0:
            handle.write(
                "# Benchmark runs, dated (newest last)\n\n"
                "Sections are appended by `make bench` (bench/run.py).\n"
            )
        handle.write(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
