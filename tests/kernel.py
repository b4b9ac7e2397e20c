"""A real Jupyter kernel for tests, on the test graph's settings and nothing else.

The kernel is this interpreter (a kernelspec written to a temporary folder, so a `python3`
kernel installed elsewhere on the machine is never picked). Its environment is the tester's
with every NEO4J_* and RURALKG_* variable removed, then the test graph's settings set
explicitly: a NEO4J_URI in the tester's shell cannot redirect it.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbformat import NotebookNode

from graph.settings import Settings

REPO = Path(__file__).resolve().parent.parent
KERNEL_NAME = "ruralkg-test"
CELL_TIMEOUT = 180


def kernel_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "RURALKG_"))}
    if settings.neo4j_uri:
        env["NEO4J_URI"] = settings.neo4j_uri
        env["NEO4J_USERNAME"] = settings.neo4j_username
        if settings.neo4j_password is not None:
            env["NEO4J_PASSWORD"] = settings.neo4j_password.get_secret_value()
    else:
        env["RURALKG_DATA_DIR"] = str(settings.data_path)
    if settings.neo4j_database:
        env["NEO4J_DATABASE"] = settings.neo4j_database
    env["RURALKG_QUERY_TIMEOUT"] = str(settings.query_timeout)
    env["RURALKG_CONNECT_TIMEOUT"] = str(settings.connect_timeout)
    # The code under test, whatever the venv's editable install points at.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    return env


@contextmanager
def _kernel_manager() -> Iterator[KernelManager]:
    with tempfile.TemporaryDirectory(prefix="ruralkg-kernels-") as root:
        spec_dir = Path(root) / KERNEL_NAME
        spec_dir.mkdir()
        spec = {
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "ruralkg tests",
            "language": "python",
        }
        (spec_dir / "kernel.json").write_text(json.dumps(spec))
        specs = KernelSpecManager(kernel_dirs=[root])
        yield KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)


def execute_notebook(path: Path, settings: Settings) -> NotebookNode:
    """Run a notebook top to bottom in a fresh kernel started in its folder; raises
    nbclient's CellExecutionError (naming the cell and the error) on the first failing cell."""
    nb = nbformat.read(path, as_version=4)
    with _kernel_manager() as km:
        client = NotebookClient(
            nb, km=km, timeout=CELL_TIMEOUT, resources={"metadata": {"path": str(path.parent)}}
        )
        try:
            client.execute(env=kernel_env(settings))
        finally:
            if km.has_kernel:
                km.shutdown_kernel(now=True)
    return nb


class Kernel:
    """One kernel for a module of tests: run cells, read their outputs."""

    def __init__(self, client: NotebookClient) -> None:
        self.client = client
        self.count = 0

    def run(self, source: str) -> NotebookNode:
        """Execute one cell; its outputs (errors included, they do not raise) are returned."""
        cell = nbformat.v4.new_code_cell(source)
        self.client.nb.cells.append(cell)
        self.client.execute_cell(cell, len(self.client.nb.cells) - 1)
        return cell

    def ok(self, source: str) -> NotebookNode:
        """Execute one cell that must not fail."""
        cell = self.run(source)
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, "\n".join(errors[0].traceback)
        return cell

    def value(self, expression: str) -> Any:
        """An expression evaluated in the kernel, brought back as JSON."""
        cell = self.ok(
            f"import json as _json\nprint(_json.dumps({expression}, ensure_ascii=False, default=str))"
        )
        return json.loads(stdout(cell))


def stdout(cell: NotebookNode) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def outputs_of(cell: NotebookNode, output_type: str) -> list[NotebookNode]:
    return [o for o in cell.outputs if o.output_type == output_type]


@contextmanager
def kernel(settings: Settings) -> Iterator[Kernel]:
    with _kernel_manager() as km:
        client = NotebookClient(
            nbformat.v4.new_notebook(), km=km, timeout=CELL_TIMEOUT, allow_errors=True, record_timing=False
        )
        with client.setup_kernel(env=kernel_env(settings), cwd=str(REPO)):
            try:
                yield Kernel(client)
            finally:
                km.shutdown_kernel(now=True)
