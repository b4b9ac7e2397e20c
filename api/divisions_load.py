"""The official divisions loaded in the background of `ruralkg serve`, and how far that load is.

`make run` answers at once with the curated cases; the divisions (665,271 rows for the country)
follow in a child process, `ruralkg regions load --if-needed`, so the API's event loop and its
CPU are not the loader's. The child does nothing on a graph that holds them already; a load
killed half-way (the API stopped, the machine rebooted) resumes after its last committed batch
the next time. How far it is lives in the graph (loaders.regions.LoadProgress), so /health, the
explorer and `ruralkg regions status` read the same figure whichever process loads.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import sys
from typing import Any

import neo4j
from neo4j import AsyncDriver

from graph.settings import Settings
from loaders.regions import PROGRESS_ID, READ_PROGRESS

log = logging.getLogger("ruralkg.divisions")
STOP_SECONDS = 10.0


class BackgroundDivisions:
    """The child process loading the divisions, started with the API and stopped with it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        within = [arg for code in self.settings.divisions_within for arg in ("--within", code)]
        return [sys.executable, "-m", "api.cli", "regions", "load", "--if-needed", "--quiet", *within]

    def start(self) -> None:
        # The child reads the same environment: the same graph, the same local server.
        self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL)
        log.info("loading the official divisions in the background (pid %d)", self.process.pid)

    def state(self) -> str | None:
        """running, finished, failed (exit code), or None when none was started."""
        if self.process is None:
            return None
        code = self.process.poll()
        return "running" if code is None else "finished" if code == 0 else f"failed (exit {code})"

    def stop(self) -> None:
        """Stop a load still running: it resumes where it was at the next start."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(STOP_SECONDS)


async def divisions_status(driver: AsyncDriver, settings: Settings) -> dict[str, Any]:
    """How far the divisions are loaded: `absent` (never started), `loading` (running, or cut
    short: the next load resumes it) or `done`, with rows done of the total and the scope."""
    async with driver.session(
        database=settings.neo4j_database, default_access_mode=neo4j.READ_ACCESS
    ) as session:
        record = await (await session.run(READ_PROGRESS, id=PROGRESS_ID)).single()
    if record is None:
        return {"state": "absent"}
    return {
        "state": record["state"],
        "done": record["done"],
        "total": record["total"],
        "within": list(record["within"] or []),
    }
