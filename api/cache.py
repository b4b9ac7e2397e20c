"""The answer cache: catalog answers kept as the JSON bytes sent, while the graph is unchanged.

The catalog only reads, and one entry with the same validated parameters on the same data
gives the same bytes (the answers are byte-stable by design), so a repeated question needs
no query. What bounds it:

- memory: at most RURALKG_CACHE_ENTRIES answers and RURALKG_CACHE_MB of them per API process
  (keys and bodies counted), least recently used first out; an answer larger than a sixteenth
  of the budget is sent but not kept;
- freshness: every write through our loaders changes the graph's data version
  (graph/version.py) in the same transaction. The version is read again (one small query,
  by one request while the others wait for it) when the last read started more than
  RURALKG_CACHE_CHECK_MS ago; a new version empties the cache. An answer is kept with the
  version read before its query ran, and served only while that is still the version. So no
  answer is served more than RURALKG_CACHE_CHECK_MS after a load committed. Writes that do
  not go through our code (raw Cypher in a browser, a bulk import) leave the version as it
  is: no answer is kept longer than RURALKG_CACHE_TTL seconds, which bounds those.

A version not read in time (the graph down, frozen or just restarted: a request waits a
quarter of a second for it at most) serves nothing from the cache: the request runs its
query as if there were no cache, and answers or fails (503/504) exactly as it would have.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from graph.settings import Settings

Key = tuple[str, str]  # the entry's name, its validated parameters as JSON
# A key's and an entry's own memory beside the body, roughly: counted so that many tiny
# answers cannot pass the memory bound.
OVERHEAD_BYTES = 200


VERSION_WAIT_SECONDS = 0.25


class Unchecked:
    """The version could not be read in time: nothing may come from the cache."""


UNCHECKED = Unchecked()


@dataclass(frozen=True)
class Cached:
    version: str | None
    stored: float  # time.monotonic()
    body: bytes


class AnswerCache:
    def __init__(self, settings: Settings) -> None:
        self.max_bytes = int(settings.cache_mb * 2**20)
        self.max_entries = settings.cache_entries
        self.check_seconds = settings.cache_check_ms / 1000
        self.ttl = settings.cache_ttl
        self.enabled = self.max_bytes > 0
        self.hits = self.misses = 0
        self._entries: OrderedDict[Key, Cached] = OrderedDict()
        self._bytes = 0
        self._version: str | None = None
        self._checked = -math.inf  # when the last successful read of the version started
        # A request waits this long at most for a version read (the request's deadline has
        # the connect timeout to spare beside the query's).
        self.wait_seconds = min(VERSION_WAIT_SECONDS, settings.connect_timeout / 2)
        self._reading: asyncio.Task[str | None] | None = None

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    async def version(self, read: Callable[[], Awaitable[str | None]]) -> str | Unchecked | None:
        """The graph's data version, read again (by one task for all requests) when the last
        read started `check_seconds` ago. A request waits for that read at most
        `wait_seconds`; past it, or when the read fails, UNCHECKED: the request goes to the
        graph as if there were no cache, and the read goes on for the requests after it."""
        if time.monotonic() - self._checked < self.check_seconds:
            return self._version
        if self._reading is None or self._reading.done():
            self._reading = asyncio.create_task(self._read(read))
            # a failed read is the requests' UNCHECKED; it needs no other handling
            self._reading.add_done_callback(lambda t: t.cancelled() or t.exception())
        try:
            return await asyncio.wait_for(asyncio.shield(self._reading), self.wait_seconds)
        except Exception:  # the read failed or is slow: the graph will say what is wrong
            return UNCHECKED

    async def _read(self, read: Callable[[], Awaitable[str | None]]) -> str | None:
        started = time.monotonic()
        version = await read()
        if version != self._version:
            self.clear()
            self._version = version
        self._checked = started
        return version

    def get(self, key: Key, version: str | None) -> bytes | None:
        cached = self._entries.get(key)
        if cached is None or cached.version != version or time.monotonic() - cached.stored >= self.ttl:
            if cached is not None:
                self._drop(key)
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return cached.body

    def put(self, key: Key, version: str | None, body: bytes) -> None:
        """Keep an answer computed after `version` was read; not if the version moved since."""
        size = self._cost(key, body)
        if version != self._version or size > self.max_bytes // 16:
            return
        if key in self._entries:
            self._drop(key)
        self._entries[key] = Cached(version, time.monotonic(), body)
        self._bytes += size
        while self._bytes > self.max_bytes or len(self._entries) > self.max_entries:
            self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0

    def _drop(self, key: Key) -> None:
        cached = self._entries.pop(key)
        self._bytes -= self._cost(key, cached.body)

    @staticmethod
    def _cost(key: Key, body: bytes) -> int:
        return len(body) + len(key[0]) + len(key[1]) + OVERHEAD_BYTES
