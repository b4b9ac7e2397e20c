"""The whole benchmark at scale 0.001, so that it cannot rot: every phase runs and reports;
and the load ways it compares write the same graph.

Figures at this size mean nothing; that every figure is there and the phases agree does.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from bench import queries
from bench.load_ways import load_naive, load_raw
from bench.run import main
from graph.local_server import serving
from graph.settings import Settings, get_settings
from loaders.load import sync_sources
from loaders.synthetic import SynthSpec, cases, facts_of_case, load_divisions, select
from loaders.tally import MEASURES, check, read_tallies, read_type_tallies
from loaders.writer import SourceWriter
from tests.graphdump import snapshot


def test_tiny_bench_runs_every_phase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "runs.md"
    graph = tmp_path / "graph"
    args = ["--scale", "0.001", "--out", str(out), "--heap", "1g", "--repeats", "2", "--rounds", "1"]
    args += ["--data-dir", str(graph)]
    args += ["--api-seconds", "1", "--naive-seconds", "1", "--sample-rows", "500"]
    assert main(args) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Benchmark runs")
    assert re.search(r"## \d{4}-\d\d-\d\d \d\d:\d\d UTC: scale 0.001, seed 1", text)
    for line in ("- machine:", "- commit:", "- command: `python -m bench.run --scale 0.001"):
        assert line in text
    for way in ("loader, rows", "loader, case files", "raw ceiling", "naive"):
        assert re.search(rf"\| {re.escape(way)}[^|]*\| [\d,]+ \| [\d.]+x \|", text), way
    for entry in ("shared-experts", "neighborhood", "path", "village-profile", "region-coverage", "search"):
        assert re.search(rf"\| {entry} \|.*\| [\d.]+ / [\d.]+ / [\d.]+ \|", text), entry
    for through in ("driver, 32 clients", "API cold", "API warm", "driver, 1 client", "API cold, 1 client"):
        assert re.search(rf"\| {re.escape(through)}[^|]*\| [\d,]+ \| [\d.]+ / [\d.]+ / [\d.]+ \| 0 \|", text)
    assert re.search(r"The API adds -?[\d.]+ ms at p50 to one request alone", text)
    assert re.search(r"Whole overlay with the loader \(rows\): [\d,]+ entities", text)
    assert re.search(r"Peak RSS: API process [\d,]+ MB; loader .* [\d,]+ MB; graph server [\d,]+ MB", text)

    # bench.queries measures the same entries again on the graph the run left behind
    monkeypatch.setenv("RURALKG_DATA_DIR", str(graph))
    monkeypatch.delenv("NEO4J_URI", raising=False)
    get_settings.cache_clear()
    try:
        with serving(Settings(RURALKG_DATA_DIR=graph)):
            args = ["--scale", "0.001", "--repeats", "2", "--statements", "--profile", "--out", str(out)]
            assert queries.main(args) == 0
    finally:
        get_settings.cache_clear()
    again = out.read_text(encoding="utf-8")[len(text) :]
    assert re.search(r"### \d{4}-\d\d-\d\d \d\d:\d\d UTC: catalog latency on a loaded graph", again)
    for entry in queries.ENTRIES:
        assert re.search(rf"\| {entry} \|.*\| [\d.]+ / [\d.]+ / [\d.]+ \|", again), entry
    assert re.search(r"\| region-coverage \| children \| [\d.]+ / [\d.]+ / [\d.]+ \|", again)


def _trimmed(raw: dict[str, Any], per_label: int) -> dict[str, Any]:
    """A county's case cut to the first entities of each label and the relations among them:
    still whole, and still with every kind of fact the figures kept per place count."""
    seen: Counter[str] = Counter()
    kept = []
    for e in raw["entities"]:
        seen[e["label"]] += 1
        if seen[e["label"]] <= per_label:
            kept.append(e)
    ids = {e["id"] for e in kept}
    relations = [r for r in raw["relations"] if r["from"] in ids and r["to"] in ids]
    return {**raw, "entities": kept, "relations": relations}


def test_every_load_way_writes_the_same_graph(clean_graph: Driver, graph_settings: Settings) -> None:
    """The loader, the raw ceiling and the naive script, each from the same divisions: the same
    nodes, relationships and properties, and the same figures kept per place and per
    relationship type (loaders.tally), each equal to a recount (`ruralkg tally check`). Two
    counties, two sources per transaction at most, so the shared industries and practices are
    stated by sources of different transactions."""
    spec = SynthSpec(1, 0.001)
    selection = select(spec)
    raws = [_trimmed(raw, 40) for raw, _ in zip(cases(spec, selection), range(3), strict=False)]
    sample = [facts_of_case(raw) for raw in raws]
    group = sum(len(f.entities) + len(f.relations) for f in sample[:2])
    ways: dict[str, Callable[[], object]] = {
        "loader": lambda: [
            *sync_sources(SourceWriter(clean_graph, graph_settings, batch_size=40), sample, group_rows=group)
        ],
        "raw": lambda: load_raw(clean_graph, graph_settings, sample, group_rows=group, batch=40),
        "naive": lambda: load_naive(clean_graph, graph_settings, sample),
    }
    graphs = {}
    for name, way in ways.items():
        clean_graph.execute_query("MATCH (n) DETACH DELETE n", database_=graph_settings.neo4j_database)
        load_divisions(clean_graph, graph_settings, selection, {})
        divisions = read_tallies(clean_graph, graph_settings)
        way()
        assert check(clean_graph, graph_settings) == [], f"{name}: the figures kept are not a recount"
        figures = read_tallies(clean_graph, graph_settings), read_type_tallies(clean_graph, graph_settings)
        graphs[name] = (*snapshot(clean_graph, graph_settings), *figures)
    nodes, edges, tallies, types = graphs["loader"]
    assert len(nodes) > 500 and len(edges) > 1000
    assert sum(1 for e in edges if e[1] == "MENTIONS") >= sum(len(f.entities) for f in sample)
    # the sample changed every measure it can: all but `villages`, which only divisions change
    for i, measure in enumerate(MEASURES[1:], start=1):
        assert any(v[i] != divisions.get(p, [0] * len(MEASURES))[i] for p, v in tallies.items()), measure
    assert types["MENTIONS"] == sum(len(f.entities) for f in sample)
    for name in ("raw", "naive"):
        assert graphs[name][0] == nodes, f"{name}: nodes differ"
        assert graphs[name][1] == edges, f"{name}: relationships differ"
        assert graphs[name][2] == tallies, f"{name}: the figures per place differ"
        assert graphs[name][3] == types, f"{name}: the counts per relationship type differ"
