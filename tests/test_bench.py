"""The whole benchmark at scale 0.001, so that it cannot rot: every phase runs and reports.

Figures at this size mean nothing; that every figure is there and the phases agree does.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench import queries
from bench.run import main
from graph.local_server import serving
from graph.settings import Settings, get_settings


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
