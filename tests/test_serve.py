"""`ruralkg serve`, which `make run` ends in: local server up, curated data in, API answering,
and nothing left running after Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from graph.local_server import free_port, jvm_pids, pid_alive


def test_serve_on_a_fresh_data_dir(tmp_path: Path) -> None:
    data_dir = (tmp_path / "graph").resolve()
    port = free_port()
    env = {**os.environ, "RURALKG_DATA_DIR": str(data_dir)}
    env.pop("NEO4J_URI", None)
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
        jvms = jvm_pids(data_dir)
        assert len(jvms) == 1
    finally:
        proc.send_signal(signal.SIGINT)
        out = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, out
    assert "loaded 6 curated sources" in out and f"http://127.0.0.1:{port}" in out
    deadline = time.monotonic() + 20
    while pid_alive(jvms[0]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert jvm_pids(data_dir) == []
