"""The API's way to the graph: one driver, found again when the local server moves, and every
unit of work bounded by a deadline.

The local server is watched (graph/keeper.py): when it exits or stops answering it is started
again. Any graph, local or not, is probed while requests wait on it (api/reachability.py):
while it is gone requests answer 503 at once instead of waiting on the driver, and when it
answers again the driver is opened afresh. If the local server comes back on new ports, the
API notices its state file changed, resolves the target again and swaps the driver, without
a restart.
A unit of work runs under a deadline: at the deadline its task is cancelled, and the driver
then kills (not returns) the connection, so a frozen graph cannot hold the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import neo4j
from neo4j import AsyncDriver
from pydantic import TypeAdapter
from starlette.responses import Response

from api.cache import AnswerCache, Unchecked
from api.reachability import Reachability
from graph import version
from graph.connection import GraphUnavailable, Target, open_async_driver, resolve_target
from graph.keeper import Keeper
from graph.local_server import LocalServer
from graph.settings import Settings
from queries.catalog import Entry, run_async

log = logging.getLogger("ruralkg.graph")
T = TypeVar("T")
# How often a graph that could not be resolved is looked for again.
RETRY_RESOLVE_SECONDS = 1.0


class GraphHandle:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.driver: AsyncDriver | None = None
        self.target: Target | None = None
        self.error = "the graph driver is not open"
        self._state_file = LocalServer(settings).state_file if settings.uses_local_server else None
        self._seen: tuple[int, int] | None = None
        self._next_try = 0.0
        self._lock = asyncio.Lock()
        self._retired: set[asyncio.Task[None]] = set()
        self.answers = AnswerCache(settings)
        self.reach = Reachability(settings)
        self.keeper = Keeper(settings) if settings.uses_local_server and settings.heal else None

    def _state_signature(self) -> tuple[int, int] | None:
        if self._state_file is None:
            return None
        try:
            st = os.stat(self._state_file)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    async def open(self) -> None:
        async with self._lock:
            await self._resolve()
        if self.keeper is not None:
            self.keeper.start()

    async def _resolve(self) -> None:
        seen = self._state_signature()
        try:
            # Off the loop: resolving the local server reads its state and asks it if it is ready.
            target = await asyncio.to_thread(resolve_target, self.settings, start_local=False)
        except GraphUnavailable as exc:
            # Not found (or not ready yet, its state already written): look again a little later.
            self.error, self._seen = str(exc), None
            self._next_try = time.monotonic() + RETRY_RESOLVE_SECONDS
            return
        self._seen, self._next_try = seen, 0.0
        if self.target is not None and target.uri == self.target.uri and self.driver is not None:
            self.target = target
            return
        if self.target is not None:
            log.warning("the graph moved: now at %s (was %s)", target.uri, self.target.uri)
        await self._swap(target)

    async def _swap(self, target: Target) -> None:
        """A new driver for `target`; the old one is closed in the background."""
        old = self.driver
        self.driver = await open_async_driver(target, self.settings, verify=False)
        self.target = target
        if old is not None:
            task = asyncio.create_task(self._retire(old))
            self._retired.add(task)
            task.add_done_callback(self._retired.discard)

    async def _back(self) -> None:
        """The graph answers again: a fresh pool, not the connections to the server that left."""
        async with self._lock:
            if self.target is not None:
                await self._swap(self.target)

    async def _target_now(self) -> Target | None:
        """Where the graph is now (the local server may have moved while it was down)."""
        if self._stale():
            async with self._lock:
                if self._stale():
                    await self._resolve()
        return self.target

    async def within(self, deadline: float, what: str, unit: Callable[[], Awaitable[T]]) -> T:
        """Run a unit of work on the graph under a deadline (QueryTimedOut when it passes);
        GraphUnavailable as soon as the graph is found gone while it waits."""
        return await self.reach.within(deadline, what, unit, self._target_now, self._back)

    async def _retire(self, driver: AsyncDriver) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(driver.close(), self.settings.connect_timeout)

    async def current(self) -> AsyncDriver:
        """The driver for where the graph is now; GraphUnavailable when it cannot be found, or
        at once while the local server is known to be down (it is being started again)."""
        if self.keeper is not None and self.keeper.down:
            state = self.keeper.state
            raise GraphUnavailable(f"the local graph server is down ({state}); it is being started again")
        if self.reach.reason is not None:
            raise GraphUnavailable(self.reach.reason)
        if self._stale():
            async with self._lock:
                if self._stale():
                    await self._resolve()
        if self.driver is None:
            raise GraphUnavailable(self.error)
        return self.driver

    def _stale(self) -> bool:
        if time.monotonic() < self._next_try:
            return False
        moved = self._state_file is not None and self._state_signature() != self._seen
        return moved or self.driver is None

    async def data_version(self) -> str | None:
        """The graph's data version (graph/version.py), within the connect timeout."""
        driver = await self.current()

        async def read() -> str | None:
            async with driver.session(
                database=self.settings.neo4j_database, default_access_mode=neo4j.READ_ACCESS
            ) as session:
                record = await (await session.run(version.READ)).single()
            return version.token_of(record["tokens"] if record else [])

        return await self.within(self.settings.connect_timeout, "reading the graph's data version", read)

    def status(self) -> dict[str, Any] | None:
        """What the watcher of the local server sees (None on another graph), for /health."""
        return self.keeper.status() if self.keeper is not None else None

    async def close(self) -> None:
        await self.reach.close()
        if self.keeper is not None:
            await asyncio.to_thread(self.keeper.stop)
        if self.driver is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.driver.close(), self.settings.connect_timeout)
        for task in list(self._retired):
            task.cancel()


async def answer(graph: GraphHandle, entry: Entry[Any, Any], params: Any) -> Any:
    """Run a catalog entry in one read session, within RURALKG_QUERY_TIMEOUT; log it when slow."""
    settings = graph.settings
    driver = await graph.current()

    async def unit() -> Any:
        async with driver.session(
            database=settings.neo4j_database, default_access_mode=neo4j.READ_ACCESS
        ) as session:
            return await run_async(session, settings, entry, params)

    t0 = time.monotonic()
    try:
        return await graph.within(settings.query_timeout, f"the query {entry.name!r}", unit)
    finally:
        ms = (time.monotonic() - t0) * 1000
        if ms >= settings.slow_query_ms:
            log.warning(
                "slow query %s: %.0f ms", entry.name, ms, extra={"entry": entry.name, "ms": round(ms, 1)}
            )


_adapters: dict[type, TypeAdapter[Any]] = {}


def encode(entry: Entry[Any, Any], value: Any) -> bytes:
    """An answer as FastAPI would send it for a route whose response model is the entry's
    result (validated from attributes, dumped by alias): the same bytes, cached or not."""
    adapter = _adapters.get(entry.result)
    if adapter is None:
        adapter = _adapters[entry.result] = TypeAdapter(entry.result)
    return adapter.dump_json(adapter.validate_python(value, from_attributes=True), by_alias=True)


def json_response(body: bytes, cache: str) -> Response:
    return Response(body, media_type="application/json", headers={"x-cache": cache})


async def answer_json(graph: GraphHandle, entry: Entry[Any, Any], params: Any) -> Response:
    """A catalog entry's answer as a JSON response, from the answer cache when the graph has
    not changed since it was computed (api/cache.py); `X-Cache` says which: hit, miss or off."""
    cache = graph.answers
    if not cache.enabled:
        return json_response(encode(entry, await answer(graph, entry, params)), "off")
    key = (entry.name, params.model_dump_json())
    current = await cache.version(graph.data_version)
    if isinstance(current, Unchecked):
        # Nothing from the cache: the query runs as if there were none, and answers, or says
        # what is wrong (503, 504) as it always did.
        return json_response(encode(entry, await answer(graph, entry, params)), "miss")
    body = cache.get(key, current)
    if body is not None:
        return json_response(body, "hit")
    body = encode(entry, await answer(graph, entry, params))
    cache.put(key, current, body)
    return json_response(body, "miss")
