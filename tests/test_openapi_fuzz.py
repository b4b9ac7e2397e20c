"""schemathesis against the live OpenAPI document, every check: every operation the app
documents (routes added later too), bounded in examples and time, seeded. Zero 5xx, zero
responses whose status, content type, headers or body the document does not declare, invalid
input always refused, valid input always accepted.

One rule cannot be stated in JSON schema: /cypher runs only read-only Cypher the graph accepts,
and any string is schema-valid, so there a 400 counts as accepting (tests/schemathesis.toml).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from neo4j import Driver
from pydantic import SecretStr

from graph.settings import Settings
from tests.conftest import serve_api
from tests.graphdump import fingerprint

HERE = Path(__file__).resolve().parent
KEY = "fuzz-key-" + "z" * 24
CHECKS = "all"
MAX_EXAMPLES = 30
TIME_LIMIT_SECONDS = 240


def test_live_openapi_holds_under_fuzzing(graph_settings: Settings, curated_graph: Driver) -> None:
    before = fingerprint(curated_graph, graph_settings)
    settings = graph_settings.model_copy(update={"api_keys": [SecretStr(KEY)]})
    with serve_api(settings) as url:
        st = Path(sys.executable).with_name("st")
        run = subprocess.run(
            [
                str(st),
                "--config-file",
                str(HERE / "schemathesis.toml"),
                "run",
                f"{url}/openapi.json",
                "--checks",
                CHECKS,
                "--max-examples",
                str(MAX_EXAMPLES),
                "--seed",
                "20261201",
                "--header",
                f"X-API-Key: {KEY}",
                "--request-timeout",
                "30",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=TIME_LIMIT_SECONDS,
        )
    tail = run.stdout[-20000:] + run.stderr[-2000:]
    assert run.returncode == 0, tail
    assert " passed" in run.stdout and "failure" not in run.stdout.split("SUMMARY")[-1], tail
    assert fingerprint(curated_graph, graph_settings) == before, "fuzzing changed the graph"
