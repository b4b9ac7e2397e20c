"""At the door of the graph: a made-up evidence quote is refused by `ruralkg check` and
`ruralkg load` (file, line, record, field) and the graph is unchanged; an absent article is
said once, naming RURALKG_SOURCES_DIR; an unreadable case file (a symlink loop) is named, not
a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from neo4j import Driver

from graph.settings import Settings
from tests.conftest import REPO
from tests.graphdump import fingerprint
from tests.test_cli_load import run_cli

SOURCES = Settings().sources_dir
REAL = "数十次前往泉州异地取经"
MADE_UP = "数十次前往月球异地取经"

needs_articles = pytest.mark.skipif(
    not SOURCES.is_dir(), reason=f"the source articles are not here ({SOURCES} is absent)"
)


def _with_made_up_quote(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data)
    case = data / "cases" / "2022-zhouning.yaml"
    text = case.read_text(encoding="utf-8")
    assert REAL in text
    case.write_text(text.replace(REAL, MADE_UP, 1), encoding="utf-8")  # the first: the city's
    return data, case


@needs_articles
def test_a_made_up_quote_is_refused_by_check_and_load(
    curated_graph: Driver, graph_settings: Settings, tmp_path: Path
) -> None:
    data, case = _with_made_up_quote(tmp_path)
    lines = case.read_text(encoding="utf-8").splitlines()
    record_line = 1 + lines.index("  - id: city:fujian.quanzhou")
    before = fingerprint(curated_graph, graph_settings)
    check = run_cli(graph_settings, "check", cases_dir=data)
    assert check.returncode == 1
    where = f"{case}:{record_line}: entities[1] (city:fujian.quanzhou) field `evidence`"
    assert where in check.stderr and MADE_UP in check.stderr, check.stderr
    load = run_cli(graph_settings, "load", cases_dir=data)
    assert load.returncode == 1 and where in load.stderr and "nothing was written" in load.stderr
    assert fingerprint(curated_graph, graph_settings) == before


def test_an_absent_article_is_said_once_naming_the_setting(graph_settings: Settings, tmp_path: Path) -> None:
    data, _ = _with_made_up_quote(tmp_path)
    empty = tmp_path / "no-articles"
    empty.mkdir()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RURALKG_SOURCES_DIR", str(empty))
        check = run_cli(graph_settings, "check", cases_dir=data)
    assert check.returncode == 0, check.stderr
    assert check.stderr.count("RURALKG_SOURCES_DIR") == 1 and str(empty) in check.stderr


def test_a_symlink_loop_is_named(graph_settings: Settings, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data)
    loop = data / "cases" / "loop.yaml"
    loop.symlink_to(loop)
    check = run_cli(graph_settings, "check", cases_dir=data)
    assert check.returncode == 1
    assert f"{loop}: file: cannot be read" in check.stderr and "Traceback" not in check.stderr, check.stderr
