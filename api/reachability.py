"""Knowing at once that the graph is gone, whatever it is: the local server, a Neo4j at
NEO4J_URI, a cluster behind a routing URI.

The driver alone learns it slowly: a request on a dead or frozen graph waits for its
connection, then for the driver's retries (issue 22: 503 after 6.7-7.7 s against a 4 s connect
timeout). So the API asks the graph itself, through a driver of its own with one connection,
checked by a round trip on every use (`verify_connectivity` resets it, or connects anew):

- while requests wait on the graph, every `interval` (an idle API asks nothing);
- while the graph is down, every `interval` until it answers again.

A probe that fails (refused, reset; or no answer within `timeout` while no request got one
either: a graph busy with 32 queries on 2 cores is slow, not gone) marks the graph down: the
requests waiting on it are cancelled and answer 503 (with Retry-After), new ones answer 503 at
once without touching the driver. The first probe that succeeds marks it up again, and the API
takes a fresh driver (the old pool holds connections to a server that is gone). The interval
and the probe's timeout together stay within the connect timeout, so no request waits longer
than that on a graph that is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from neo4j import AsyncDriver

from graph.connection import GraphUnavailable, Target, open_async_driver
from graph.settings import Settings, redact_uri
from queries.catalog import QueryTimedOut

log = logging.getLogger("ruralkg.graph")
T = TypeVar("T")
PROBE_SECONDS = 0.5
# The probe's answer may take this share of the connect timeout; the interval a quarter of it
# at most, so a request on a graph that stopped answering waits less than the connect timeout.
PROBE_SHARE = 0.75


class Reachability:
    """Whether the graph answers, as the last probe found it, and the requests waiting on it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.interval = min(PROBE_SECONDS, settings.connect_timeout / 4)
        self.timeout = settings.connect_timeout * PROBE_SHARE
        self.reason: str | None = None  # why the graph is down; None while it answers
        self.since: float | None = None  # wall clock, for /health
        self._driver: AsyncDriver | None = None
        self._uri: str | None = None
        self._loop: asyncio.Task[None] | None = None
        self._waiting: set[asyncio.Task[Any]] = set()
        self._cut: set[asyncio.Task[Any]] = set()
        self._last = -math.inf
        self._answered = -math.inf  # when a unit of work last came back from the graph
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def down(self) -> bool:
        return self.reason is not None

    def status(self) -> dict[str, Any]:
        return {"reachable": not self.down, "down_since": self.since, "reason": self.reason}

    async def within(
        self,
        deadline: float,
        what: str,
        unit: Callable[[], Awaitable[T]],
        target: Callable[[], Awaitable[Target | None]],
        on_up: Callable[[], Awaitable[None]],
    ) -> T:
        """Run a unit of work under a deadline (QueryTimedOut when it passes), in the caller's
        task; GraphUnavailable as soon as a probe finds the graph gone while it waits."""
        task = asyncio.current_task()
        assert task is not None
        self._waiting.add(task)
        self.watch(target, on_up)
        try:
            async with asyncio.timeout(deadline):
                done = await unit()
            self._answered = time.monotonic()
            return done
        except TimeoutError:
            raise QueryTimedOut(f"{what} ran longer than {deadline:g} s") from None
        except asyncio.CancelledError:
            if task not in self._cut:
                raise
            self._cut.discard(task)
            task.uncancel()
            raise GraphUnavailable(self.reason or "the graph stopped answering") from None
        finally:
            self._waiting.discard(task)

    def watch(
        self, target: Callable[[], Awaitable[Target | None]], on_up: Callable[[], Awaitable[None]]
    ) -> None:
        """Keep probing while requests wait or the graph is down (one loop for all of them)."""
        if self._loop is None or self._loop.done():
            self._loop = asyncio.create_task(self._probe_loop(target, on_up))

    async def _probe_loop(
        self, target_of: Callable[[], Awaitable[Target | None]], on_up: Callable[[], Awaitable[None]]
    ) -> None:
        while True:
            # Never closer than the interval, whoever started the loop.
            await asyncio.sleep(max(0.0, self._last + self.interval - time.monotonic()))
            self._last = time.monotonic()
            target = await target_of()
            if target is not None:
                await self._probe(target, on_up)
            if not (self.down or self._waiting):
                return

    async def _probe(self, target: Target, on_up: Callable[[], Awaitable[None]]) -> None:
        started = time.monotonic()
        try:
            driver = await self._driver_for(target)
            async with asyncio.timeout(self.timeout):
                await driver.verify_connectivity()
        except Exception as exc:
            # Whatever the probe's pool held is suspect now: the next probe starts afresh.
            self._drop_driver()
            # Timed out: slow, not gone, if requests got answers meanwhile (a frozen graph
            # answers nothing). Refused, reset, refused login: not answering.
            if not isinstance(exc, TimeoutError) or self._answered < started:
                self._lost(target, exc)
            return
        if self.down:
            log.warning("the graph at %s answers again (down since %s)", redact_uri(target.uri), self.since)
            self.reason = self.since = None
            await on_up()

    def _lost(self, target: Target, exc: Exception) -> None:
        why = f"no answer within {self.timeout:g} s" if isinstance(exc, TimeoutError) else str(exc)
        why = why.splitlines()[0] if why else type(exc).__name__
        reason = f"the graph at {redact_uri(target.uri)} does not answer ({why})"
        if not self.down:
            log.warning("%s: requests answer 503 until it does", reason)
            self.since = time.time()
        self.reason = reason
        for task in self._waiting:
            if not task.done() and task not in self._cut:
                self._cut.add(task)
                task.cancel()

    async def _driver_for(self, target: Target) -> AsyncDriver:
        if self._driver is None or self._uri != target.uri:
            await self._close_driver()
            self._driver = await open_async_driver(
                target,
                self.settings,
                verify=False,
                config={
                    "max_connection_pool_size": 1,
                    "connection_timeout": self.timeout,
                    "connection_acquisition_timeout": self.timeout,
                },
            )
            self._uri = target.uri
        return self._driver

    async def _close_driver(self) -> None:
        driver, self._driver = self._driver, None
        if driver is not None:
            await self._close(driver)

    def _drop_driver(self) -> None:
        """Close the probe's driver in the background (its server may not answer a goodbye)."""
        driver, self._driver = self._driver, None
        if driver is not None:
            task = asyncio.create_task(self._close(driver))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def _close(self, driver: AsyncDriver) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(driver.close(), self.settings.connect_timeout)

    async def close(self) -> None:
        for task in list(self._closing):
            task.cancel()
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(BaseException):
                await self._loop
        await self._close_driver()
