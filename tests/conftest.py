"""The graph the tests run against is chosen from the environment, not from code.

- NEO4J_URI set: that server (NEO4J_USERNAME / NEO4J_PASSWORD / NEO4J_DATABASE). Tests that
  need a clean graph delete everything in that database: point it at a scratch database.
- `pytest --docker`: pytest-docker brings up docker/docker-compose.yml's Neo4j 5.
- otherwise: the local ArcadeDB Bolt server, started once per session on free ports with a
  temporary data dir, and stopped at the end.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from neo4j import Driver
from playwright.sync_api import Browser, sync_playwright

from graph.connection import open_driver, resolve_target
from graph.local_server import LocalServer, ServerState, pid_alive, serving
from graph.schema import apply_schema
from graph.settings import Settings
from tests.browser import CHROMIUM_ARGS, MISSING, chromium_path

REPO = Path(__file__).resolve().parent.parent
FIXTURE_CASES = REPO / "tests" / "fixtures" / "cases"
COMPOSE_FILE = REPO / "docker" / "docker-compose.yml"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--docker", action="store_true", help="run the graph tests against docker compose's Neo4j 5"
    )
    parser.addoption(
        "--graph-loaded",
        action="store_true",
        help="the graph already holds data/ and the fixture cases: the answer tests read it as it is "
        "(make mutants loads it once for every mutant)",
    )


@pytest.fixture(scope="session")
def docker_compose_file() -> str:
    return str(COMPOSE_FILE)


@pytest.fixture(scope="session")
def docker_compose_project_name() -> str:
    return "ruralkg-tests"


@pytest.fixture(scope="session")
def docker_setup() -> list[str]:
    # Only the database: the API image is not needed to test against Neo4j.
    return ["up --wait neo4j"]


@pytest.fixture(scope="session")
def graph_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    if os.environ.get("NEO4J_URI"):
        yield Settings()
        return
    if request.config.getoption("--docker"):
        # docker compose reads the password from the environment for NEO4J_AUTH
        password = os.environ.setdefault("NEO4J_PASSWORD", "ruralkg-" + secrets.token_hex(6))
        services = request.getfixturevalue("docker_services")
        port = services.port_for("neo4j", 7687)
        settings = Settings(NEO4J_URI=f"bolt://127.0.0.1:{port}", NEO4J_PASSWORD=password)
        services.wait_until_responsive(timeout=120, pause=2, check=lambda: _reachable(settings))
        yield settings
        return
    settings = Settings(RURALKG_DATA_DIR=tmp_path_factory.mktemp("graph"))
    with serving(settings):
        yield settings


def _reachable(settings: Settings) -> bool:
    try:
        open_driver(resolve_target(settings), settings).close()
    except Exception:
        return False
    return True


@pytest.fixture(scope="session")
def driver(graph_settings: Settings) -> Iterator[Driver]:
    drv = open_driver(resolve_target(graph_settings, start_local=False), graph_settings)
    apply_schema(drv, graph_settings)
    yield drv
    drv.close()


@pytest.fixture
def clean_graph(driver: Driver, graph_settings: Settings) -> Driver:
    """The driver, with every node and relationship of the test database deleted first."""
    driver.execute_query("MATCH (n) DETACH DELETE n", database_=graph_settings.neo4j_database)
    return driver


@pytest.fixture(scope="module")
def curated_graph(driver: Driver, graph_settings: Settings) -> Driver:
    """The graph holding exactly the curated data in data/, for a module of read-only tests."""
    from loaders.load import collect_facts, load

    settings = graph_settings.model_copy(update={"cases_dir": REPO / "data"})
    driver.execute_query("MATCH (n) DETACH DELETE n", database_=settings.neo4j_database)
    load(driver, settings, collect_facts(settings))
    return driver


@pytest.fixture(scope="module")
def fixture_graph(request: pytest.FixtureRequest, driver: Driver, graph_settings: Settings) -> Driver:
    """The curated data and then the fixture cases (tests/fixtures/cases/: made-up villages,
    people and ties shaped so that a wrong catalog answer differs), for read-only tests."""
    from loaders.load import collect_facts, load

    if request.config.getoption("--graph-loaded"):
        return driver
    settings = graph_settings.model_copy(update={"cases_dir": REPO / "data"})
    driver.execute_query("MATCH (n) DETACH DELETE n", database_=settings.neo4j_database)
    load(driver, settings, collect_facts(settings, [REPO / "data", FIXTURE_CASES]))
    return driver


@contextlib.contextmanager
def loaded_local_server(settings: Settings) -> Iterator[tuple[LocalServer, ServerState]]:
    """A local server of the test's own, owned and loaded with the curated cases; thawed (a
    fault test may have frozen it) and stopped at the end."""
    from loaders.load import collect_facts, load

    server = LocalServer(settings)
    state, _ = server.start(owned=True)
    driver = open_driver(resolve_target(settings, start_local=False), settings)
    load(driver, settings, collect_facts(settings))
    driver.close()
    try:
        yield server, state
    finally:
        now = server.read_state()
        if now and pid_alive(now.pid):
            os.kill(now.pid, signal.SIGCONT)
        server.stop()


def freeze(pid: int, seconds: float = 10) -> None:
    """SIGSTOP a server and wait until every thread of it has stopped: the signal is
    asynchronous, and a thread still running may answer one more query (a CI run saw a 200
    right after the kill)."""
    import time

    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            states = [
                (task / "stat").read_text().rsplit(") ", 1)[1][0]
                for task in Path(f"/proc/{pid}/task").iterdir()
            ]
        except (OSError, IndexError):
            states = []  # a thread ended while we looked: look again
        if states and all(state in "Tt" for state in states):
            return
        time.sleep(0.01)
    raise AssertionError(f"pid {pid} did not stop within {seconds} s of SIGSTOP")


@contextlib.contextmanager
def serve_api(settings: Settings) -> Iterator[str]:
    """The API served by uvicorn (as `ruralkg serve` serves it) on a free port, in a thread."""
    import threading
    import time

    import uvicorn

    from api.app import create_app
    from api.serving import config
    from graph.local_server import free_port

    port = free_port()
    server = uvicorn.Server(config(create_app(settings), settings, "127.0.0.1", port, "warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the API did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def api_url(graph_settings: Settings) -> Iterator[str]:
    """The API against the test graph, for the whole session."""
    with serve_api(graph_settings) as url:
        yield url


@pytest.fixture(scope="module")
def client(curated_graph: Driver, api_url: str) -> Iterator[httpx.Client]:
    """An HTTP client of the session's API, over the curated graph."""
    with httpx.Client(base_url=api_url, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, driven by Playwright, for every browser test of a module (pages are
    opened with tests.browser.watch). Per module, not per session: a Playwright left running
    holds its event loop on this thread, so a second one (another module's) refused to start,
    and so did the Jupyter clients of the notebook tests."""
    path = chromium_path()
    if path is None:
        pytest.fail(MISSING)
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def problem_of(resp: httpx.Response, status: int) -> dict[str, object]:
    """The problem+json body of an error answer, checked for its status and required members."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.headers
    body = dict(resp.json())
    assert body["status"] == status and body["title"] and body["detail"]
    return body
