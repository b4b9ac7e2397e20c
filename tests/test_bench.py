"""The whole benchmark at scale 0.001, so that it cannot rot: every phase runs and reports.

Figures at this size mean nothing; that every figure is there and the phases agree does.
"""

from __future__ import annotations

import re
from pathlib import Path

from bench.run import main


def test_tiny_bench_runs_every_phase(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    args = ["--scale", "0.001", "--out", str(out), "--heap", "1g", "--repeats", "2", "--rounds", "1"]
    args += ["--api-seconds", "1", "--naive-seconds", "1", "--sample-rows", "500"]
    assert main(args) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks")
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
