"""Concurrent clients for a fixed time, in a process of their own: over HTTP or the driver.

    python -m bench.clients --mode api --url http://127.0.0.1:8000 --seconds 10 -q 寒山 -q hs
    RURALKG_DATA_DIR=... python -m bench.clients --mode driver --seconds 10 -q 寒山

Both modes run the catalog's `search` entry with the same parameters in turn, `--concurrency`
requests in flight at all times: `api` calls GET /search (one HTTP request each, one kept-alive
connection per client), `driver` runs the entry with the async driver the way the API does
(one read session per request), so the difference is what the API adds. `--distinct` gives
every request parameters no earlier request had (the query terms in turn, each with a new
offset): with the API's answer cache on, that is the cold figure, the plain run the warm one.

The HTTP side is a few lines over asyncio streams, not an HTTP library: the clients share the
2 cores with the API and the graph server, and httpx spent 6.6 ms of CPU per request here,
about what the API itself spent; the clients' own CPU per request is reported so that a run
can show its load generator was not the bottleneck. Both modes run on uvloop, the loop the
API runs on. Prints one JSON line: requests, errors,
requests/s, latency p50/p95/p99 in ms and the clients' CPU ms per request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode, urlsplit

import neo4j
import uvloop

from graph.connection import open_async_driver, resolve_target
from graph.settings import get_settings
from queries import run_async
from queries.explore import SEARCH, SearchParams


def percentile(values: list[float], p: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


# A request that takes longer is an error counted (under overload), not the end of the run.
REQUEST_TIMEOUT = 30.0
Params = dict[str, str | int]
Call = Callable[[int, Params], Awaitable[bool]]


def parameters(queries: list[str], distinct: bool) -> Callable[[int], Params]:
    """The i-th request's search parameters: the terms in turn; with `distinct`, each round of
    terms at the next offset, so that no two requests of a run ask the same thing."""

    def nth(i: int) -> Params:
        q = queries[i % len(queries)]
        return {"q": q, "offset": i // len(queries)} if distinct else {"q": q}

    return nth


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _drive(call: Call, nth: Callable[[int], Params], seconds: float, conc: int) -> dict:
    latencies: list[float] = []
    errors = 0
    counter = 1  # the warm-up request was the 0th
    deadline = time.monotonic() + seconds

    async def worker(slot: int) -> None:
        nonlocal errors, counter
        while time.monotonic() < deadline:
            params = nth(counter)
            counter += 1
            start = time.perf_counter()
            ok = await call(slot, params)
            latencies.append((time.perf_counter() - start) * 1000)
            errors += not ok

    started, cpu = time.monotonic(), _cpu_seconds()
    await asyncio.gather(*(worker(k) for k in range(conc)))
    elapsed, cpu = time.monotonic() - started, _cpu_seconds() - cpu
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "client_cpu_ms": cpu * 1000 / max(1, len(latencies)),
    }


class HttpConnection:
    """One kept-alive HTTP/1.1 connection for GETs; reconnects after an error."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, target: str) -> int:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        writer.write(f"GET {target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        length = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:  # every answer of ours has a length; anything else is an error
            raise ValueError("an answer without content-length")
        await reader.readexactly(length)
        return int(head[9:12])

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def run_api(url: str, nth: Callable[[int], Params], seconds: float, conc: int) -> dict:
    parts = urlsplit(url)
    connections = [HttpConnection(parts.hostname or "127.0.0.1", parts.port or 80) for _ in range(conc)]

    async def call(slot: int, params: Params) -> bool:
        connection = connections[slot]
        try:
            status = await asyncio.wait_for(connection.get("/search?" + urlencode(params)), REQUEST_TIMEOUT)
        except (OSError, ValueError, asyncio.IncompleteReadError, TimeoutError):
            connection.close()
            return False
        return status == 200

    try:
        if not await call(0, nth(0)):
            raise SystemExit(f"GET /search at {url} failed")
        return await _drive(call, nth, seconds, conc)
    finally:
        for connection in connections:
            connection.close()


async def run_driver(nth: Callable[[int], Params], seconds: float, conc: int) -> dict:
    settings = get_settings()
    driver = await open_async_driver(resolve_target(settings, start_local=False), settings)
    try:

        async def call(slot: int, params: Params) -> bool:
            async with driver.session(
                database=settings.neo4j_database, default_access_mode=neo4j.READ_ACCESS
            ) as session:
                await run_async(session, settings, SEARCH, SearchParams.model_validate(params))
            return True

        await call(0, nth(0))
        return await _drive(call, nth, seconds, conc)
    finally:
        await driver.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=["api", "driver"], required=True)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("-q", "--query", action="append", required=True)
    parser.add_argument(
        "--distinct", action="store_true", help="no two requests with the same parameters (cold cache)"
    )
    args = parser.parse_args(argv)
    nth = parameters(args.query, args.distinct)
    # The loop the API runs on (uvicorn picks uvloop), in both modes: a fair comparison, and
    # the cheapest load generator.
    if args.mode == "api":
        result = uvloop.run(run_api(args.url, nth, args.seconds, args.concurrency))
    else:
        result = uvloop.run(run_driver(nth, args.seconds, args.concurrency))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
