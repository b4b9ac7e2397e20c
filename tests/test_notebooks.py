"""Every notebook in notebooks/ runs top to bottom on a real kernel against the curated graph,
and is stored without outputs."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from neo4j import Driver

from graph.settings import Settings
from tests.kernel import execute_notebook

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_the_three_notebooks_exist() -> None:
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_clean(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: outputs stored"
        else:
            # Prose in Chinese, headings in English.
            headings = [line for line in cell.source.splitlines() if line.startswith("#")]
            assert all(not CJK.search(h) for h in headings), f"{path.name}: {headings}"
            assert CJK.search(cell.source), f"{path.name}: a markdown cell without Chinese prose"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path: Path, curated_graph: Driver, graph_settings: Settings) -> None:
    nb = execute_notebook(path, graph_settings)  # raises CellExecutionError on any cell error
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "ruralkg-network" in html, "each notebook draws at least one network"
    if path.stem.startswith("03"):
        assert any("image/png" in o.get("data", {}) for o in outputs), "the third notebook draws a chart"
