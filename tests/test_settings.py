"""Settings come from the environment with the Neo4j ecosystem's names; secrets stay secret."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from graph.connection import GraphUnavailable, open_driver, resolve_target
from graph.local_server import free_port
from graph.settings import Settings, redact_uri


def test_defaults_use_the_local_server(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NEO4J_URI", "NEO4J_USERNAME", "NEO4J_PASSWORD", "NEO4J_DATABASE", "RURALKG_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.uses_local_server
    assert settings.data_dir == Path(".ruralkg")
    assert settings.neo4j_database is None
    assert settings.local_wal_flush == 2, "commits are flushed to disk by default, as on Neo4j"


def test_environment_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEO4J_URI", "neo4j+s://abc.databases.neo4j.io")
    monkeypatch.setenv("NEO4J_USERNAME", "analyst")
    monkeypatch.setenv("NEO4J_PASSWORD", "s3cret-pass")
    monkeypatch.setenv("NEO4J_DATABASE", "rural")
    monkeypatch.setenv("RURALKG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RURALKG_HEAP", "2g")
    monkeypatch.setenv("RURALKG_QUERY_TIMEOUT", "30")
    s = Settings()
    assert not s.uses_local_server
    assert (s.neo4j_uri, s.neo4j_username, s.neo4j_database) == (
        "neo4j+s://abc.databases.neo4j.io",
        "analyst",
        "rural",
    )
    assert s.data_dir == tmp_path and s.local_heap == "2g" and s.query_timeout == 30
    assert "s3cret-pass" not in repr(s) and "s3cret-pass" not in str(s.model_dump())


def test_bad_values_are_rejected_with_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RURALKG_HEAP", "lots")
    with pytest.raises(ValidationError, match="RURALKG_HEAP"):
        Settings()


def test_redact_uri() -> None:
    assert redact_uri("bolt://user:pw@host:7687") == "bolt://host:7687"
    assert redact_uri("neo4j+s://x.databases.neo4j.io") == "neo4j+s://x.databases.neo4j.io"


@pytest.mark.parametrize("scheme", ["bolt", "neo4j"])
def test_unreachable_uri_fails_fast_naming_uri_not_password(scheme: str) -> None:
    uri = f"{scheme}://127.0.0.1:{free_port()}"
    settings = Settings(NEO4J_URI=uri, NEO4J_PASSWORD="hunter2-secret")
    started = time.monotonic()
    with pytest.raises(GraphUnavailable) as info:
        open_driver(resolve_target(settings), settings)
    assert time.monotonic() - started < 5
    assert uri in str(info.value)
    assert "hunter2-secret" not in str(info.value)


def test_cli_reports_unreachable_graph_within_5s() -> None:
    uri = f"bolt://127.0.0.1:{free_port()}"
    env = {"NEO4J_URI": uri, "NEO4J_PASSWORD": "hunter2-secret", "PATH": "/usr/bin:/bin"}
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "api.cli", "schema", "apply"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert time.monotonic() - started < 5
    assert out.returncode == 2
    assert uri in out.stderr and "hunter2-secret" not in out.stderr + out.stdout
