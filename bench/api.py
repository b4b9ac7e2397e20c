"""The API against the driver: `search` from concurrent clients in a process of their own.

    RURALKG_DATA_DIR=/tmp/x python -m bench.api --seconds 10 -q 芹溪 -q qinxi   # a running local server

bench/run.py runs this as its API phase; alone it measures a local server that is already
running (the data dir's), with terms from the command line or picked from the graph. The API
runs as `ruralkg serve` runs it (uvicorn, our protocol, the access log written) in a process
of its own; the clients (bench/clients.py) run in another. Each comparison runs the same
parameters the same number of clients:

- 32 clients, every request a question not asked before (`--distinct`): through the driver,
  then through the API, whose cache then misses every time (the cold figure, what the API
  adds to a query);
- 32 clients asking the terms in turn through the API: answered from its cache (warm), compared
  with the API's own misses, not with the driver, which has no answer cache: like with like;
- 1 client each way, distinct: what the API adds to one request when nothing queues.

The rounds alternate driver and API and each keeps its best, as the machine is shared. Each
cold run has an API process of its own, started for it: an empty cache.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from graph.local_server import free_port
from graph.settings import REPO_ROOT

Run = dict[str, float]
# (label, mode, distinct, concurrency)
PLAN = [
    ("driver, 32 clients, distinct", "driver", True, 32),
    ("API cold (cache misses), 32 clients, distinct", "api", True, 32),
    ("API warm (cache hits), 32 clients, repeated", "api", False, 32),
    ("driver, 1 client, distinct", "driver", True, 1),
    ("API cold, 1 client, distinct", "api", True, 1),
]


def status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_healthy(url: str, api: subprocess.Popen[bytes], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        if api.poll() is not None:
            raise RuntimeError(f"the API exited with {api.returncode}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


class ApiProcess:
    """The API as `ruralkg serve` runs it, in a process of its own, its log in a temp file."""

    def __init__(self, data_dir: Path, log: IO[bytes]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # the API alone under measure: no background load of the official divisions
        self.env = {**os.environ, "RURALKG_DATA_DIR": str(data_dir), "RURALKG_DIVISIONS_AUTOLOAD": "false"}
        self.env.pop("NEO4J_URI", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(self.port)],
            cwd=REPO_ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        self.peak_mb = 0.0
        try:
            _wait_healthy(self.url, self.process)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self.peak_mb = max(self.peak_mb, status_kb(self.process.pid, "VmHWM") / 1024)
        self.process.terminate()
        self.process.wait(15)


def measure(
    data_dir: Path, terms: Sequence[str], seconds: float, rounds: int = 2, say: Callable[[str], None] = print
) -> dict[str, Any]:
    """Run the plan against the local server of `data_dir`; print a markdown table; return the
    figures (runs by label, the API's CPU per request in each, its peak RSS). Every cold run
    starts a new API process: its cache is empty and none of its questions was asked before."""
    runs: dict[str, Run] = {}
    peak = 0.0
    args = [a for q in terms for a in ("-q", q)]
    with tempfile.NamedTemporaryFile(prefix="ruralkg-bench-api-", suffix=".log") as log:
        api: ApiProcess | None = None
        try:
            for _ in range(rounds):
                for label, mode, distinct, conc in PLAN:
                    if (mode == "api" and distinct) or api is None:
                        if api is not None:
                            api.stop()
                            peak = max(peak, api.peak_mb)
                        api = ApiProcess(data_dir, log)
                    cpu = cpu_seconds(api.process.pid)
                    done = subprocess.run(
                        [sys.executable, "-m", "bench.clients", "--mode", mode, "--url", api.url,
                         "--seconds", str(seconds), "--concurrency", str(conc), *args,
                         *(["--distinct"] if distinct else [])],
                        cwd=REPO_ROOT, env=api.env, capture_output=True, text=True, check=True,
                    )  # fmt: skip
                    run = json.loads(done.stdout.strip().splitlines()[-1])
                    spent = (cpu_seconds(api.process.pid) - cpu) * 1000
                    run["api_cpu_ms"] = spent / max(1, run["requests"]) if mode == "api" else 0.0
                    if label not in runs or run["rps"] > runs[label]["rps"]:
                        runs[label] = run
        finally:
            if api is not None:
                api.stop()
                peak = max(peak, api.peak_mb)
    say("| through | requests/s | p50 / p95 / p99 ms | errors | CPU ms per request: API / clients |")
    say("|---|---|---|---|---|")
    for label, r in runs.items():
        api_cpu = f"{r['api_cpu_ms']:.2f}" if r["api_cpu_ms"] else "-"
        say(
            f"| {label} | {r['rps']:,.0f} | {r['p50']:.1f} / {r['p95']:.1f} / {r['p99']:.1f} "
            f"| {r['errors']} | {api_cpu} / {r['client_cpu_ms']:.2f} |"
        )
    driver, cold, warm, one_driver, one = (runs[plan[0]] for plan in PLAN)
    say(
        f"\nThe API adds {one['p50'] - one_driver['p50']:.1f} ms at p50 to one request alone, "
        f"{cold['p50'] - driver['p50']:.1f} ms at p50 with 32 clients on cache misses "
        f"(throughput {cold['rps'] / driver['rps']:.2f}x the driver's); answered from its cache, "
        f"/search serves {warm['rps']:,.0f} requests/s, {warm['rps'] / cold['rps']:.1f}x its own cache "
        "misses (hits are set against the same API's misses: the driver keeps no answers). "
        f"On cache misses the API spends {cold['api_cpu_ms']:.2f} ms of CPU per request, of which "
        f"the driver's own work is about what its clients spent per request ({driver['client_cpu_ms']:.2f} "
        f"ms): the API's share is {cold['api_cpu_ms'] - driver['client_cpu_ms']:.2f} ms. "
        f"API peak RSS {peak:,.0f} MB."
    )
    return {"runs": runs, "api_peak_mb": peak}


def terms_from_graph(data_dir: Path) -> list[str]:
    from graph.connection import open_driver, resolve_target, session
    from graph.settings import Settings

    settings = Settings(NEO4J_URI=None, RURALKG_DATA_DIR=data_dir)
    driver = open_driver(resolve_target(settings, start_local=False), settings)
    try:
        with session(driver, settings) as s:
            names = [
                r["name"]
                for r in s.run("MATCH (n:Village) RETURN n.name AS name ORDER BY n.id LIMIT 200")
                if r["name"]
            ]
    finally:
        driver.close()
    picked = names[:: max(1, len(names) // 5)][:5]
    return [*(n[:2] for n in picked), *picked[:2], "hs"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10, help="how long each run lasts")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; each run keeps its best")
    parser.add_argument("-q", "--query", action="append", help="search terms (default: from the graph)")
    args = parser.parse_args(argv)
    data_dir = Path(os.environ.get("RURALKG_DATA_DIR", ".ruralkg"))
    terms = args.query or terms_from_graph(data_dir)
    print(f"terms: {', '.join(terms)}\n")
    measure(data_dir, terms, args.seconds, args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
