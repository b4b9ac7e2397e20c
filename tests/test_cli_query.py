"""`ruralkg query` from the shell, against the curated data."""

from __future__ import annotations

import csv
import io
import json

from neo4j import Driver

from graph.settings import Settings
from tests.test_cli_load import run_cli


def test_query_formats(curated_graph: Driver, graph_settings: Settings) -> None:
    out = run_cli(graph_settings, "query", "shared-experts", "-p", "role=第一书记", "-f", "json")
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert body["total"] == 1 and body["items"][0]["person"]["name"] == "朱俊平"

    out = run_cli(graph_settings, "query", "search", "-p", "q=寒巖", "-p", "label=Village", "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [r["name"] for r in rows] == ["寒岩村"]

    out = run_cli(graph_settings, "query", "neighborhood", "-p", "id=village:fujian.zhouning.lidun.qinxi")
    assert out.returncode == 0 and "陈建福" in out.stdout


def test_query_errors(curated_graph: Driver, graph_settings: Settings) -> None:
    unknown = run_cli(graph_settings, "query", "no-such-query")
    assert unknown.returncode == 2 and "shared-experts" in unknown.stderr
    bad = run_cli(graph_settings, "query", "neighborhood", "-p", "id=village:x.y", "-p", "depth=9")
    assert bad.returncode == 2 and "depth" in bad.stderr
    missing = run_cli(graph_settings, "query", "alliance-tree", "-p", "id=alliance:none")
    assert missing.returncode == 1 and "alliance:none" in missing.stderr
