"""Every command and example in README.md runs, as written, and answers.

The `sh` blocks are read from the README itself: each curl runs (the real curl, against the
test graph's API in place of 127.0.0.1:8000, with `--fail` so an HTTP error fails it), each
`ruralkg` command runs on the test graph, and each `make` target is one the Makefile has (what
`make run` ends in, `ruralkg serve`, runs in tests/test_serve.py; `make test` is this suite).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from neo4j import Driver

from graph.settings import Settings
from loaders.load import curated_cases
from loaders.regions import load_regions, resolve_cases

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
ADDRESS = "http://127.0.0.1:8000"


def commands() -> list[str]:
    """The command lines of the README's sh blocks (comments left out)."""
    text = README.read_text(encoding="utf-8")
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


def make_targets() -> set[str]:
    """Every `make X` the README names, in blocks or in prose."""
    return set(re.findall(r"`?make ([a-z-]+)", README.read_text(encoding="utf-8")))


def test_the_readme_is_short_and_names_its_commands() -> None:
    assert README.stat().st_size < 15_000
    assert {"run", "test", "notebook"} <= make_targets()
    assert [c.split()[0] for c in commands()] == ["make", "make", "curl", "curl", "curl", ".venv/bin/ruralkg"]


@pytest.mark.parametrize("target", sorted(make_targets()))
def test_make_targets_exist(target: str) -> None:
    dry = subprocess.run(["make", "-n", target], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    if target == "run":
        assert "ruralkg serve" in dry.stdout


@pytest.fixture(scope="module")
def readme_graph(curated_graph: Driver, graph_settings: Settings) -> Driver:
    """The curated graph with the divisions of 周宁 (the README's /regions/350925)."""
    settings = graph_settings.model_copy(update={"cases_dir": REPO / "data"})
    load_regions(curated_graph, settings, resolve_cases(curated_cases(settings)), within=["350925"])
    return curated_graph


@pytest.fixture(scope="module")
def env(readme_graph: Driver, graph_settings: Settings) -> Iterator[dict[str, str]]:
    env = {**os.environ, "RURALKG_CASES_DIR": str(REPO / "data"), "COLUMNS": "200"}
    if graph_settings.uses_local_server:
        env["RURALKG_DATA_DIR"] = str(graph_settings.data_dir)
        env.pop("NEO4J_URI", None)
    yield env


@pytest.mark.parametrize("line", [c for c in commands() if c.startswith("curl ")])
def test_curl_examples_answer(line: str, api_url: str, env: dict[str, str]) -> None:
    assert ADDRESS in line
    argv = shlex.split(line.replace(ADDRESS, api_url))
    ran = subprocess.run(
        [argv[0], "--fail", "--silent", "--show-error", *argv[1:]], capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    body = json.loads(ran.stdout)
    if "/search" in line:
        # qxc: 芹溪村's initials, the village found with its official code
        assert any(h["id"] == "village:fujian.zhouning.lidun.qinxi" and h["code"] for h in body["items"])
    elif "/regions/" in line:
        assert (body["id"], body["code"]) == ("county:fujian.zhouning", "350925000000")
    else:
        assert body["items"], body


@pytest.mark.parametrize("line", [c for c in commands() if c.startswith(".venv/bin/ruralkg ")])
def test_cli_examples_answer(line: str, env: dict[str, str]) -> None:
    ran = subprocess.run(shlex.split(line), cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert "第一书记" in ran.stdout
