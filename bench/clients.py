"""Concurrent clients for a fixed time, in a process of their own: over HTTP or the driver.

    python -m bench.clients --mode api --url http://127.0.0.1:8000 --seconds 10 -q 寒山 -q hs
    RURALKG_DATA_DIR=... python -m bench.clients --mode driver --seconds 10 -q 寒山

Both modes run the catalog's `search` entry with the same queries in turn, `--concurrency`
requests in flight at all times: `api` calls GET /search (one HTTP request each, kept-alive
connections), `driver` runs the entry with the async driver the way the API does (one read
session per request), so the difference is what the API adds. Prints one JSON line: requests,
errors, requests/s and latency p50/p95/p99 in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable

import httpx
import neo4j

from graph.connection import open_async_driver, resolve_target
from graph.settings import get_settings
from queries import run_async
from queries.explore import SEARCH, SearchParams


def percentile(values: list[float], p: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


async def _drive(
    call: Callable[[str], Awaitable[bool]], queries: list[str], seconds: float, conc: int
) -> dict:
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds

    async def worker(offset: int) -> None:
        nonlocal errors
        i = offset
        while time.monotonic() < deadline:
            q = queries[i % len(queries)]
            i += 1
            start = time.perf_counter()
            ok = await call(q)
            latencies.append((time.perf_counter() - start) * 1000)
            errors += not ok

    started = time.monotonic()
    await asyncio.gather(*(worker(k) for k in range(conc)))
    elapsed = time.monotonic() - started
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
    }


async def run_api(url: str, queries: list[str], seconds: float, conc: int) -> dict:
    limits = httpx.Limits(max_connections=conc, max_keepalive_connections=conc)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def call(q: str) -> bool:
            try:  # a timeout under overload is an error counted, not the end of the run
                response = await client.get("/search", params={"q": q})
            except httpx.HTTPError:
                return False
            return response.status_code == 200

        await call(queries[0])
        return await _drive(call, queries, seconds, conc)


async def run_driver(queries: list[str], seconds: float, conc: int) -> dict:
    settings = get_settings()
    driver = await open_async_driver(resolve_target(settings, start_local=False), settings)
    try:

        async def call(q: str) -> bool:
            async with driver.session(
                database=settings.neo4j_database, default_access_mode=neo4j.READ_ACCESS
            ) as session:
                await run_async(session, settings, SEARCH, SearchParams(q=q))
            return True

        await call(queries[0])
        return await _drive(call, queries, seconds, conc)
    finally:
        await driver.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=["api", "driver"], required=True)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("-q", "--query", action="append", required=True)
    args = parser.parse_args(argv)
    if args.mode == "api":
        result = asyncio.run(run_api(args.url, args.query, args.seconds, args.concurrency))
    else:
        result = asyncio.run(run_driver(args.query, args.seconds, args.concurrency))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
