"""Hostile queries against a served API on a local server of its own (docs/benchmarks/hardening.md).

    .venv/bin/python -m bench.hostile

`ruralkg serve` runs as its own process on a fresh data dir (it starts the local server and
loads the curated cases). Then, through `POST /cypher`:
1. a 134 M-character answer (`range(1, 27)` doublings): status, body size, and the API's
   resident memory before, after and at its peak (VmHWM);
2. a 512 M-character one (`range(1, 29)`), which runs the server's heap out: its status, then
   how long until an entity answers 200 again without anyone's hand (or not within 60 s), how
   many 503s came meanwhile and the slowest of them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from graph.local_server import LocalServer, free_port
from graph.settings import Settings

KEY = "bench-key-" + "k" * 24
ENTITY = "/entities/village:fujian.zhouning.lidun.qinxi"
DOUBLINGS = "RETURN reduce(s = 'x', i IN range(1, {n}) | s + s) AS s"
RECOVERY_SECONDS = 60.0


def _memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) // 1024
    return fields


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="ruralkg-hostile-"))
    port = free_port()
    env = {
        **os.environ,
        "RURALKG_DATA_DIR": str(data_dir),
        "RURALKG_API_KEYS": KEY,
        "RURALKG_CACHE_MB": "0",
        # Time enough for the big answer to be built and sent on a busy machine: its size is
        # what is measured here, not the deadline.
        "RURALKG_CYPHER_TIMEOUT": "30",
    }
    env.pop("NEO4J_URI", None)
    api = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    out: dict[str, object] = {}
    try:
        with httpx.Client(base_url=url, timeout=120, headers={"X-API-Key": KEY}) as c:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.HTTPError):
                    if c.get("/health").status_code == 200:
                        break
                time.sleep(0.5)
            before = _memory(api.pid)
            t0 = time.monotonic()
            big = c.post("/cypher", json={"query": DOUBLINGS.format(n=27)})
            out["big"] = {
                "status": big.status_code,
                "body_bytes": len(big.content),
                "seconds": round(time.monotonic() - t0, 2),
                "api_rss_mb_before": before["VmRSS"],
                "api_rss_mb_after": _memory(api.pid)["VmRSS"],
                "api_peak_mb": _memory(api.pid)["VmHWM"],
            }
            server = LocalServer(Settings(RURALKG_DATA_DIR=data_dir))
            first = server.read_state()
            t0 = time.monotonic()
            hostile = c.post("/cypher", json={"query": DOUBLINGS.format(n=29)})
            unavailable, slowest, back = 0, 0.0, None
            while time.monotonic() - t0 < RECOVERY_SECONDS:
                t = time.monotonic()
                try:
                    status = c.get(ENTITY, timeout=10).status_code
                except httpx.HTTPError:
                    status = 0
                if status == 200:
                    back = round(time.monotonic() - t0, 2)
                    break
                unavailable += 1
                slowest = max(slowest, time.monotonic() - t)
                time.sleep(0.2)
            after = server.read_state()
            out["heap"] = {
                "status": hostile.status_code,
                "seconds_to_200": back,
                "non_200_meanwhile": unavailable,
                "slowest_non_200_s": round(slowest, 2),
                "server_restarted": bool(first and after and after.pid != first.pid),
            }
            with contextlib.suppress(httpx.HTTPError):
                out["health"] = c.get("/health").json()
    finally:
        api.send_signal(signal.SIGTERM)
        try:
            api.wait(timeout=30)
        except subprocess.TimeoutExpired:
            api.kill()
        LocalServer(Settings(RURALKG_DATA_DIR=data_dir)).stop()
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
