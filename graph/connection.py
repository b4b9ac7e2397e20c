"""Driver lifecycle: where the graph is, one driver per process, one session per unit of work.

Scripts and notebooks call `connect()`; the API opens its own async driver in its lifespan
with `open_async_driver()`. Both resolve the graph the same way: NEO4J_URI if set, else
the local server (started, detached, if it is not running yet).
"""

from __future__ import annotations

import atexit
import logging
import threading
from dataclasses import dataclass
from typing import Any, cast

import neo4j
from neo4j import AsyncDriver, AsyncGraphDatabase, Driver, GraphDatabase
from neo4j.exceptions import AuthError, ConfigurationError, ServiceUnavailable

from graph.local_server import USERNAME, LocalServer
from graph.settings import Settings, get_settings, redact_uri
from graph.version import VersionedSession

USER_AGENT = "ruralkg/0.1"
LIVENESS_CHECK_AFTER_IDLE = 10.0  # seconds
log = logging.getLogger("ruralkg")


class GraphUnavailable(RuntimeError):
    """The graph cannot be reached. The message names the URI, never the password."""


@dataclass(frozen=True)
class Target:
    uri: str
    auth: tuple[str, str] | None
    database: str | None
    local: bool

    def __repr__(self) -> str:
        return f"Target(uri={redact_uri(self.uri)!r}, database={self.database!r}, local={self.local})"


def resolve_target(settings: Settings, *, start_local: bool = True) -> Target:
    if settings.neo4j_uri:
        password = settings.neo4j_password.get_secret_value() if settings.neo4j_password else None
        auth = (settings.neo4j_username, password) if password is not None else None
        return Target(settings.neo4j_uri, auth, settings.neo4j_database, local=False)
    server = LocalServer(settings)
    state = server.running()
    if state is None:
        if not start_local:
            raise GraphUnavailable(
                f"the local graph server is not running (data dir {server.root}); "
                "start it with `ruralkg server start`, or set NEO4J_URI"
            )
        state, _ = server.start()
        log.warning(
            "started the local graph server at %s (data in %s); it keeps running: "
            "`ruralkg server stop` stops it",
            state.uri,
            server.root,
        )
    return Target(state.uri, (USERNAME, state.password), settings.neo4j_database, local=True)


def _driver_config(settings: Settings) -> dict[str, Any]:
    return {
        "connection_timeout": settings.connect_timeout,
        "connection_acquisition_timeout": settings.connect_timeout * 2,
        "max_connection_pool_size": settings.pool_size,
        # Retries of transient errors (deadlocks, a leader switch) stay short: an unreachable
        # graph must turn into a 503 quickly, not after a minute of backoff.
        "max_transaction_retry_time": settings.connect_timeout,
        # A frozen server must not hang a caller: writes give up after the connect timeout,
        # connections idle for a while are checked before reuse, and reads are bounded by
        # the caller's deadline (the API cancels the task; the driver then kills the connection).
        "connection_write_timeout": settings.connect_timeout,
        "liveness_check_timeout": LIVENESS_CHECK_AFTER_IDLE,
        "user_agent": USER_AGENT,
    }


def _unavailable(target: Target, exc: Exception) -> GraphUnavailable:
    reason = exc.message if isinstance(exc, neo4j.exceptions.Neo4jError) and exc.message else str(exc)
    who = f" as {target.auth[0]}" if target.auth else ""
    return GraphUnavailable(f"cannot reach the graph at {redact_uri(target.uri)}{who}: {reason}")


_REACH_ERRORS = (ServiceUnavailable, AuthError, ConfigurationError, OSError, ValueError)


def open_driver(target: Target, settings: Settings) -> Driver:
    """A driver that has shown it can reach the graph."""
    try:
        driver = GraphDatabase.driver(target.uri, auth=target.auth, **_driver_config(settings))
    except _REACH_ERRORS as exc:
        raise _unavailable(target, exc) from None
    try:
        driver.verify_connectivity()
    except _REACH_ERRORS as exc:
        driver.close()
        raise _unavailable(target, exc) from None
    return driver


async def open_async_driver(
    target: Target, settings: Settings, *, verify: bool = True, config: dict[str, Any] | None = None
) -> AsyncDriver:
    """An async driver; with verify=False it connects on first use (a service that starts
    while its graph is down answers 503 until the graph is back). `config` overrides the
    settings' driver configuration (the API's probe of the graph keeps one connection)."""
    try:
        driver = AsyncGraphDatabase.driver(
            target.uri, auth=target.auth, **(_driver_config(settings) | (config or {}))
        )
    except _REACH_ERRORS as exc:
        raise _unavailable(target, exc) from None
    if verify:
        try:
            await driver.verify_connectivity()
        except _REACH_ERRORS as exc:
            await driver.close()
            raise _unavailable(target, exc) from None
    return driver


_lock = threading.Lock()
_driver: Driver | None = None


def connect(settings: Settings | None = None) -> Driver:
    """The process's driver, opened on first use with the settings from the environment.

    >>> driver = connect()
    >>> driver.execute_query("RETURN '芹溪村' AS name").records[0]["name"]
    '芹溪村'
    """
    global _driver
    with _lock:
        if _driver is None:
            settings = settings or get_settings()
            _driver = open_driver(resolve_target(settings), settings)
            atexit.register(close)
        return _driver


def close() -> None:
    global _driver
    with _lock:
        if _driver is not None:
            _driver.close()
            _driver = None


def session(
    driver: Driver, settings: Settings, *, write: bool = False, fetch_size: int = 1000
) -> neo4j.Session:
    """One session for one unit of work, on the configured database, read-only unless asked.

    A write session changes the graph's data version with every transaction it commits
    (graph/version.py): that is how the API's answer cache learns of a load."""
    inner = driver.session(
        database=settings.neo4j_database,
        default_access_mode=neo4j.WRITE_ACCESS if write else neo4j.READ_ACCESS,
        fetch_size=fetch_size,  # the driver's default; ad hoc queries pull fewer at a time
    )
    # The wrapper is the driver's session with two methods extended; callers see a Session.
    return cast(neo4j.Session, VersionedSession(inner)) if write else inner
