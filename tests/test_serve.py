"""`ruralkg serve`, which `make run` ends in: local server up, curated data in, API answering,
the official divisions loaded in the background (one county here, RURALKG_DIVISIONS_WITHIN;
the country by default), and nothing left running after Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from graph.local_server import free_port, jvm_pids, pid_alive


def test_serve_on_a_fresh_data_dir(tmp_path: Path) -> None:
    data_dir = (tmp_path / "graph").resolve()
    port = free_port()
    env = {**os.environ, "RURALKG_DATA_DIR": str(data_dir), "RURALKG_DIVISIONS_WITHIN": "350925"}
    env.pop("NEO4J_URI", None)
    env.pop("RURALKG_DIVISIONS_AUTOLOAD", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        assert health is not None and health.status_code == 200, proc.stdout.read() if proc.stdout else ""
        hits = httpx.get(f"http://127.0.0.1:{port}/search", params={"q": "芹溪村", "label": "Village"}).json()
        assert [h["id"] for h in hits["items"]] == ["village:fujian.zhouning.lidun.qinxi"]
        seen = _divisions_loaded(f"http://127.0.0.1:{port}", proc)
        # progress was reported while it loaded: rows done of the county's 159 (and ancestors)
        assert seen[0]["total"] == 159 and seen[-1] == {
            "state": "done", "done": 159, "total": 159, "within": ["350925"], "background": "finished"
        }  # fmt: skip
        assert all(s["state"] in ("absent", "loading", "done") for s in seen)
        region = httpx.get(f"http://127.0.0.1:{port}/regions/350925").json()
        assert (region["id"], region["code"], region["children"]) == (
            "county:fujian.zhouning", "350925000000", {"Township": 9}
        )  # fmt: skip
        hits = httpx.get(f"http://127.0.0.1:{port}/search", params={"q": "qxc"}).json()
        qinxi = [h for h in hits["items"] if h["id"] == "village:fujian.zhouning.lidun.qinxi"]
        assert qinxi and qinxi[0]["code"] == "350925104209"
        jvms = jvm_pids(data_dir)
        assert len(jvms) == 1
    finally:
        proc.send_signal(signal.SIGINT)
        out = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, out
    assert "loaded 6 curated sources" in out and f"http://127.0.0.1:{port}" in out
    assert "official divisions loaded: 159 rows" in out
    deadline = time.monotonic() + 20
    while pid_alive(jvms[0]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert jvm_pids(data_dir) == []


def _divisions_loaded(url: str, proc: subprocess.Popen[str]) -> list[dict[str, Any]]:
    """/health's `divisions` at each poll until the background load is done (distinct ones)."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        divisions = httpx.get(f"{url}/health", timeout=10).json()["divisions"]
        if divisions.get("total") and (not seen or divisions != seen[-1]):
            seen.append(divisions)
        if divisions["state"] == "done" and divisions.get("background") == "finished":
            return seen
        time.sleep(0.05)
    raise AssertionError(f"the background load did not finish: {seen}")
