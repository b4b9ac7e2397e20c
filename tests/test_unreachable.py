"""A graph that is not the local server, gone: every route answers 503 (problem+json, Retry-After)
within the connect timeout, and 200 again when it is back, without a restart of the API
(api/reachability.py; issue 22, finding 6).

The graph is a local server this module starts on its own ports and data dir, addressed only
through NEO4J_URI, as an operator's Neo4j would be: the API neither owns nor heals it. And a
port where nothing listens. Neither reads the developer's NEO4J_URI."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import httpx
import pytest

from graph.local_server import USERNAME, LocalServer, free_port, pid_alive
from graph.settings import Settings
from tests.conftest import REPO, freeze, loaded_local_server, problem_of, serve_api

CONNECT_TIMEOUT = 1.0
# The test's own HTTP round trip on a busy machine, beside the connect timeout.
MARGIN = 0.8
ROUTES = [
    ("/search", {"q": "芹溪"}),
    ("/entities/village:fujian.zhouning.lidun.qinxi", {}),
    ("/queries/overview", {}),
    ("/regions/350925", {}),
    ("/health", {}),
]


def _external(uri: str, password: str | None, data_dir: object) -> Settings:
    return Settings(
        NEO4J_URI=uri,
        NEO4J_USERNAME=USERNAME,
        NEO4J_PASSWORD=password,
        NEO4J_DATABASE=None,
        RURALKG_DATA_DIR=data_dir,
        RURALKG_CONNECT_TIMEOUT=CONNECT_TIMEOUT,
        RURALKG_QUERY_TIMEOUT=30,
        RURALKG_CACHE_CHECK_MS=0,
    )


@pytest.fixture(scope="module")
def external(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, LocalServer]]:
    """A loaded local server on fixed ports of its own, and settings that reach it only by URI."""
    own = Settings(
        NEO4J_URI=None,
        RURALKG_DATA_DIR=tmp_path_factory.mktemp("external-graph"),
        RURALKG_BOLT_PORT=free_port(),
        RURALKG_HTTP_PORT=free_port(),
        RURALKG_CASES_DIR=REPO / "data",
    )
    with loaded_local_server(own) as (server, state):
        # Its data dir is not the API's: the API cannot find it as "the local server".
        yield _external(state.uri, state.password, tmp_path_factory.mktemp("api-data")), server


def _search(c: httpx.Client) -> httpx.Response:
    path, params = ROUTES[0]
    return c.get(path, params=params)


def _all_unavailable(c: httpx.Client) -> None:
    for path, params in ROUTES:
        t0 = time.monotonic()
        resp = c.get(path, params=params)
        elapsed = time.monotonic() - t0
        body = problem_of(resp, 503)
        assert resp.headers["retry-after"], path
        assert elapsed < CONNECT_TIMEOUT + MARGIN, f"{path} took {elapsed:.2f} s"
        assert "password" not in str(body).lower()


def _until_ok(c: httpx.Client, seconds: float = 20) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        resp = _search(c)
        if resp.status_code == 200:
            return time.monotonic() - t0
        problem_of(resp, 503)
        time.sleep(0.1)
    raise AssertionError(f"the API did not find the graph again within {seconds} s")


def test_a_port_where_nothing_listens(tmp_path: object) -> None:
    settings = _external(f"bolt://127.0.0.1:{free_port()}", "nothing", tmp_path)
    with serve_api(settings) as url, httpx.Client(base_url=url, timeout=10) as c:
        first = _search(c)
        problem_of(first, 503)
        _all_unavailable(c)
        assert c.get("/queries").status_code == 200, "what needs no graph still answers"


def test_an_external_graph_killed_then_back(external: tuple[Settings, LocalServer]) -> None:
    settings, server = external
    with serve_api(settings) as url, httpx.Client(base_url=url, timeout=10) as c:
        want = _search(c).json()
        assert want["total"] >= 1
        state = server.read_state()
        assert state is not None
        os.kill(state.pid, signal.SIGKILL)
        while pid_alive(state.pid):
            time.sleep(0.02)
        _all_unavailable(c)
        # Nobody heals it but its operator: started again on the same ports, found by itself.
        server.start(owned=True)
        assert _until_ok(c) < 10
        assert _search(c).json() == want
        assert c.get("/health").json()["graph"]["reachable"] is True


def test_an_external_graph_frozen_then_thawed(external: tuple[Settings, LocalServer]) -> None:
    settings, server = external
    with serve_api(settings) as url, httpx.Client(base_url=url, timeout=10) as c:
        want = _search(c).json()
        state = server.read_state()
        assert state is not None
        freeze(state.pid)
        try:
            _all_unavailable(c)
        finally:
            os.kill(state.pid, signal.SIGCONT)
        assert _until_ok(c) < 10
        assert _search(c).json() == want
