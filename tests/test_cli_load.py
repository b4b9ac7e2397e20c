"""`ruralkg load` and `ruralkg check` from the shell: output, exit codes, nothing written on errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from neo4j import Driver

from graph.settings import Settings
from tests.graphdump import snapshot

REPO = Path(__file__).resolve().parent.parent


def run_cli(
    settings: Settings, *args: str, cases_dir: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RURALKG_CASES_DIR": str(cases_dir or settings.cases_dir), "COLUMNS": "200"}
    if settings.uses_local_server:
        env["RURALKG_DATA_DIR"] = str(settings.data_dir)
        env.pop("NEO4J_URI", None)
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_load_dry_run_then_load_then_unchanged(clean_graph: Driver, graph_settings: Settings) -> None:
    dry = run_cli(graph_settings, "load", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would create entity village:fujian.zhouning.lidun.qinxi" in dry.stdout
    assert "would create relation LOCATED_IN county:fujian.zhouning city:fujian.ningde" in dry.stdout
    assert "dry run: nothing written" in dry.stdout
    assert snapshot(clean_graph, graph_settings) == ((), ())

    first = run_cli(graph_settings, "load")
    assert first.returncode == 0, first.stderr
    assert "load summary" in first.stdout and "source:2022-08-15.zhouning" in first.stdout
    assert sum(" new " in line for line in first.stdout.splitlines()) == 6, first.stdout

    again = run_cli(graph_settings, "load")
    assert again.stdout.count("unchanged") == 6, again.stdout


def test_load_with_bad_file_exits_1_and_writes_nothing(
    clean_graph: Driver, graph_settings: Settings, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data)
    case = data / "cases" / "2022-zhouning.yaml"
    case.write_text(case.read_text(encoding="utf-8").replace("date: 2022-08-15", "date: 2022-08-45"), "utf-8")
    out = run_cli(graph_settings, "load", cases_dir=data)
    assert out.returncode == 1
    assert f"{case}:7: source field `date`" in out.stderr and "nothing was written" in out.stderr
    assert snapshot(clean_graph, graph_settings) == ((), ())

    check = run_cli(graph_settings, "check", cases_dir=data)
    assert check.returncode == 1 and "2022-08-45" not in check.stdout


def test_load_names_the_source_the_graph_refuses(clean_graph: Driver, graph_settings: Settings) -> None:
    clean_graph.execute_query(
        "CREATE (:Entity:Industry {id: 'village:fujian.zhouning.lidun.qinxi', name: '手工'})",
        database_=graph_settings.neo4j_database,
    )
    out = run_cli(graph_settings, "load")
    assert out.returncode == 1
    assert "source:2022-08-15.zhouning: the graph refused it, nothing of it was written" in out.stderr
    assert "source:2020-07-08.tiantai-longxi" in out.stdout, "the sources loaded before it are reported"
