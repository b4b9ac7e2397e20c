"""Faults under a running API, on a local server of its own (never the session's graph):
the graph killed and started again on new ports, frozen with SIGSTOP under load, the
connection pool exhausted, and shutdown while requests hang. Each ends with the API answering
correctly, no request outliving its deadline, and the graph unchanged."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from graph.connection import open_driver, resolve_target
from graph.local_server import LocalServer, free_port, pid_alive
from graph.settings import Settings
from tests.conftest import REPO, freeze, loaded_local_server, serve_api
from tests.graphdump import fingerprint

QUERY_TIMEOUT = 3.0
CONNECT_TIMEOUT = 1.0
# The API's outer deadline: the longest query timeout plus the connect timeout, and a margin
# for the test's own HTTP round trip on a busy machine.
LIMIT = QUERY_TIMEOUT + CONNECT_TIMEOUT + 1.5
SEARCH = ("/search", {"q": "芹溪"})


@pytest.fixture(scope="module")
def own_graph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, LocalServer]]:
    settings = Settings(
        NEO4J_URI=None,
        RURALKG_DATA_DIR=tmp_path_factory.mktemp("fault-graph"),
        RURALKG_QUERY_TIMEOUT=QUERY_TIMEOUT,
        RURALKG_CYPHER_TIMEOUT=QUERY_TIMEOUT,
        RURALKG_CONNECT_TIMEOUT=CONNECT_TIMEOUT,
        RURALKG_POOL_SIZE=4,
        RURALKG_CASES_DIR=REPO / "data",
        # The answer cache reads the graph's data version for every request here, so each request
        # reaches the graph as the faults need (by default a cached answer is still served for up
        # to RURALKG_CACHE_CHECK_MS after the last check: tests/test_answer_cache.py).
        RURALKG_CACHE_CHECK_MS=0,
        # These faults are about the API following a graph that someone else restarts or that
        # thaws by itself; the API starting it again (graph/keeper.py) is tests/test_healing.py.
        RURALKG_HEAL=False,
    )
    with loaded_local_server(settings) as (server, _):
        yield settings, server


@pytest.fixture(autouse=True)
def _graph_running(own_graph: tuple[Settings, LocalServer]) -> None:
    """A test that failed midway may have left the graph killed or frozen: each starts with it up."""
    _, server = own_graph
    state = server.read_state()
    if state and pid_alive(state.pid):
        os.kill(state.pid, signal.SIGCONT)
    if server.running() is None:
        server.start(owned=True)


def _fingerprint(settings: Settings) -> tuple[int, int, str]:
    driver = open_driver(resolve_target(settings, start_local=False), settings)
    try:
        return fingerprint(driver, settings)
    finally:
        driver.close()


def _wait_for(url: str, want: dict[str, object], seconds: float = 20) -> float:
    t0 = time.monotonic()
    with httpx.Client(base_url=url, timeout=LIMIT + 2) as c:
        while time.monotonic() - t0 < seconds:
            resp = c.get(SEARCH[0], params=SEARCH[1])
            if resp.status_code == 200:
                assert resp.json() == want
                return time.monotonic() - t0
            # 503 with Retry-After; or, on a busy machine, a request still retrying the old
            # address when its deadline came (504), as right after the kill
            assert resp.status_code == 504 or resp.headers["retry-after"], resp.text
            assert resp.status_code in (503, 504), resp.text
            time.sleep(0.2)
    raise AssertionError(f"the API did not find the graph again within {seconds} s")


def _timed(c: httpx.Client, path: str, params: dict[str, str]) -> tuple[int, float, str]:
    t0 = time.monotonic()
    resp = c.get(path, params=params)
    return resp.status_code, time.monotonic() - t0, resp.headers.get("content-type", "")


def test_graph_restarted_on_new_ports(own_graph: tuple[Settings, LocalServer]) -> None:
    settings, server = own_graph
    before = _fingerprint(settings)
    with serve_api(settings) as url, httpx.Client(base_url=url, timeout=LIMIT + 2) as c:
        want = c.get(SEARCH[0], params=SEARCH[1]).json()
        assert want["total"] >= 1
        old = server.read_state()
        assert old is not None
        os.kill(old.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while pid_alive(old.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        status, elapsed, ctype = _timed(c, *SEARCH)
        # unreachable (503), or still retrying when the deadline came (504) on a busy machine
        assert status in (503, 504) and ctype.startswith("application/problem+json") and elapsed < LIMIT
        # started again as after a crash: new free ports (pinned elsewhere, so they cannot match)
        moved = settings.model_copy(update={"local_bolt_port": free_port(), "local_http_port": free_port()})
        new, started = LocalServer(moved).start(owned=True)
        assert started and new.bolt_port != old.bolt_port
        took = _wait_for(url, want)
        assert took < 10
    assert _fingerprint(settings) == before


def test_frozen_graph_under_load(own_graph: tuple[Settings, LocalServer]) -> None:
    settings, server = own_graph
    before = _fingerprint(settings)
    state = server.read_state()
    assert state is not None
    with serve_api(settings) as url, httpx.Client(base_url=url, timeout=LIMIT + 5) as c:
        want = c.get(SEARCH[0], params=SEARCH[1]).json()
        routes = [
            SEARCH,
            ("/entities/village:fujian.zhouning.lidun.qinxi", {}),
            ("/queries/overview", {}),
            ("/health", {}),
        ]
        freeze(state.pid)
        try:
            # 24 requests from 12 clients against 4 pooled connections: the pool is exhausted too.
            with ThreadPoolExecutor(12) as pool:
                results = list(pool.map(lambda i: _timed(c, *routes[i % len(routes)]), range(24)))
        finally:
            os.kill(state.pid, signal.SIGCONT)
        for status, elapsed, ctype in results:
            assert status in (503, 504), results
            assert ctype.startswith("application/problem+json")
            assert elapsed < LIMIT, f"a request took {elapsed:.1f} s with the graph frozen"
        _wait_for(url, want)
        assert c.get("/queries/overview").status_code == 200
    assert _fingerprint(settings) == before


def test_pool_exhaustion_attempts(own_graph: tuple[Settings, LocalServer]) -> None:
    settings, _ = own_graph
    big = b'{"village": "' + b"v" * (17 << 20) + b'"}'
    with serve_api(settings) as url, httpx.Client(base_url=url, timeout=30) as c:
        want = c.get(SEARCH[0], params=SEARCH[1]).json()

        def attack(i: int) -> int:
            with httpx.Client(base_url=url, timeout=30) as own:
                resp = own.post(
                    "/queries/shared-experts", content=big, headers={"content-type": "application/json"}
                )
                return resp.status_code

        t0 = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(attack, range(40)))
        assert set(statuses) == {413} and time.monotonic() - t0 < 60
        # many concurrent readers over 4 connections: all answered, none left waiting
        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(lambda i: _timed(c, *SEARCH), range(64)))
        assert all(s in (200, 503) for s, _, _ in results) and all(e < LIMIT for _, e, _ in results)
        assert sum(1 for s, _, _ in results if s == 200) >= 32
        assert c.get(SEARCH[0], params=SEARCH[1]).json() == want


def test_shutdown_within_seconds_while_requests_hang(own_graph: tuple[Settings, LocalServer]) -> None:
    settings, server = own_graph
    state = server.read_state()
    assert state is not None
    port = free_port()
    env = {
        **os.environ,
        "RURALKG_DATA_DIR": str(settings.data_dir),
        "RURALKG_QUERY_TIMEOUT": "30",
        "RURALKG_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
        # the graph alone under test: no background load of the official divisions
        "RURALKG_DIVISIONS_AUTOLOAD": "false",
    }
    env.pop("NEO4J_URI", None)
    api = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--log-level", "info"],
        env=env,
        cwd=Path(REPO),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        assert _up(url), api.stderr.read().decode() if api.poll() is not None and api.stderr else "not up"
        freeze(state.pid)
        hanging = [threading.Thread(target=_quiet_get, args=(url,)) for _ in range(6)]
        for t in hanging:
            t.start()
        time.sleep(1)
        t0 = time.monotonic()
        api.send_signal(signal.SIGTERM)
        api.wait(timeout=20)
        assert time.monotonic() - t0 < 8, "shutdown waited on hanging requests"
        assert api.stderr is not None
        logged = [
            json.loads(line) for line in api.stderr.read().decode().splitlines() if line.startswith("{")
        ]
        assert any(e["logger"] == "ruralkg.access" for e in logged)
        assert all("request_id" in e for e in logged), "every log line carries a request id"
        assert {e["request_id"] for e in logged if e["logger"] == "ruralkg.access"} != {"-"}
    finally:
        os.kill(state.pid, signal.SIGCONT)
        if api.poll() is None:
            api.kill()
            api.wait()


def _up(url: str) -> bool:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                return True
        time.sleep(0.2)
    return False


def _quiet_get(url: str) -> None:
    with contextlib.suppress(httpx.HTTPError):
        httpx.get(f"{url}/search", params=SEARCH[1], timeout=40)


def test_graph_lost_mid_load_names_the_sources_loaded(own_graph: tuple[Settings, LocalServer]) -> None:
    from loaders.load import SourceLoadError, collect_facts, load
    from loaders.writer import batch_count

    settings, server = own_graph
    driver = open_driver(resolve_target(settings, start_local=False), settings)
    driver.execute_query("MATCH (n) DETACH DELETE n")
    facts = collect_facts(settings)
    first_batches = batch_count(facts[0], settings.batch_size)
    calls = 0

    def kill_during_the_second_source(n: int) -> None:
        nonlocal calls
        calls += n
        if calls == first_batches + 1:
            state = server.read_state()
            assert state is not None
            os.kill(state.pid, signal.SIGKILL)

    with pytest.raises(SourceLoadError) as info:
        load(driver, settings, facts, on_batch=kill_during_the_second_source)
    driver.close()
    message = str(info.value)
    assert info.value.source_id == facts[1].source_id
    assert "was lost" in message and f"sources already loaded: {facts[0].source_id}" in message
    server.start(owned=True)
    driver = open_driver(resolve_target(settings, start_local=False), settings)
    try:
        loaded = [r["id"] for r in driver.execute_query("MATCH (s:Source) RETURN s.id AS id").records]
        assert loaded == [facts[0].source_id], "only whole sources: the first, not the second"
        load(driver, settings, facts)  # rerun: everything, as a clean load
    finally:
        driver.close()
