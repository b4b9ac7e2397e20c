"""The local server: start, readiness, reuse, stop with no JVM left, and the CLI around it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from graph.connection import connect, open_driver, resolve_target
from graph.local_server import LocalServer, LocalServerError, jvm_pids, pid_alive, serving
from graph.settings import Settings


def _settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(RURALKG_DATA_DIR=tmp_path / "graph", **extra)


def _wait_gone(pid: int, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_start_is_ready_and_round_trips_chinese(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    server = LocalServer(settings)
    state, started = server.start()
    try:
        assert started
        with urllib.request.urlopen(state.ready_url, timeout=2) as resp:
            assert resp.status == 204
        driver = open_driver(resolve_target(settings, start_local=False), settings)
        with driver:
            records = driver.execute_query("RETURN $v AS v", v="芹溪村").records
            assert records[0]["v"] == "芹溪村"
            assert "Neo4j/5" in driver.get_server_info().agent
        assert server.state_file.stat().st_mode & 0o077 == 0, "the state file holds a password"
    finally:
        assert server.stop()
    assert _wait_gone(state.pid)
    assert jvm_pids(settings.data_path) == []


def test_bound_to_loopback_only(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with serving(settings) as state:
        listening = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
        ours = [line for line in listening.splitlines() if f"pid={state.pid}," in line]
        assert ours, listening
        for line in ours:
            local = line.split()[3]
            assert local.startswith(("127.0.0.1:", "[::ffff:127.0.0.1]:")), line


def test_second_start_reuses_the_running_server(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    server = LocalServer(settings)
    first, started = server.start()
    try:
        again, started_again = LocalServer(settings).start()
        assert started and not started_again
        assert again.pid == first.pid and again.bolt_port == first.bolt_port
        assert jvm_pids(settings.data_path) == [first.pid]
    finally:
        server.stop()


def test_data_persists_across_restarts(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    server = LocalServer(settings)
    server.start()
    target = resolve_target(settings, start_local=False)
    with open_driver(target, settings) as driver:
        driver.execute_query("CREATE (:Probe {id: 'p1', name: '寒岩村'})")
    server.stop()
    server.start()
    try:
        with open_driver(resolve_target(settings, start_local=False), settings) as driver:
            names = [r["n"] for r in driver.execute_query("MATCH (p:Probe) RETURN p.name AS n").records]
        assert names == ["寒岩村"]
    finally:
        server.stop()


def test_serving_stops_what_it_started_but_not_a_reused_server(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with serving(settings) as state:
        assert pid_alive(state.pid)
    assert _wait_gone(state.pid)

    outer = LocalServer(settings)
    running, _ = outer.start()
    try:
        with serving(settings) as reused:
            assert reused.pid == running.pid
        assert pid_alive(running.pid), "a server this block did not start must keep running"
    finally:
        outer.stop()


def _run_cli_in_foreground(settings_dir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "RURALKG_DATA_DIR": str(settings_dir)}
    env.pop("NEO4J_URI", None)
    # SIGINT at its default, so that Python turns it into KeyboardInterrupt: a suite started in
    # the background by a shell without job control (`make test &`) ignores SIGINT, and a child
    # inherits that (the command then never sees the Ctrl-C this test sends).
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "server", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_foreground_run_leaves_no_jvm_on_signal(tmp_path: Path, sig: signal.Signals) -> None:
    data = tmp_path / "graph"
    proc = _run_cli_in_foreground(data)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "Ctrl-C stops it" in line:
            break
    assert any("芹溪村" in line for line in lines), lines
    jvms = jvm_pids(data.resolve())
    assert len(jvms) == 1
    proc.send_signal(sig)
    assert proc.wait(timeout=30) in (0, 128 + sig)
    assert _wait_gone(jvms[0])
    assert jvm_pids(data.resolve()) == []


def test_hard_killed_owner_takes_its_jvm_with_it(tmp_path: Path) -> None:
    data = tmp_path / "graph"
    proc = _run_cli_in_foreground(data)
    assert proc.stdout is not None
    for line in proc.stdout:
        if "Ctrl-C stops it" in line:
            break
    jvms = jvm_pids(data.resolve())
    proc.kill()
    proc.wait()
    assert jvms and _wait_gone(jvms[0])


def test_start_failure_quotes_the_server_log(tmp_path: Path) -> None:
    settings = _settings(tmp_path, RURALKG_HEAP="1k")  # too small a heap for the JVM to start
    with pytest.raises(LocalServerError) as info:
        LocalServer(settings).start()
    message = str(info.value)
    assert "server.log" in message and "heap" in message.lower()
    assert jvm_pids(settings.data_path) == []


def test_stale_state_file_is_replaced(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    server = LocalServer(settings)
    state, _ = server.start()
    os.kill(state.pid, signal.SIGKILL)
    assert _wait_gone(state.pid)
    fresh, started = server.start()
    try:
        assert started and fresh.pid != state.pid
    finally:
        server.stop()


def test_connect_starts_a_detached_server_that_later_calls_reuse(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    code = (
        "from graph.connection import connect;"
        "print(connect().execute_query(\"RETURN '楼坪村' AS v\").records[0]['v'])"
    )
    env = {**os.environ, "RURALKG_DATA_DIR": str(settings.data_dir)}
    env.pop("NEO4J_URI", None)
    try:
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=90
        )
        assert out.stdout.strip() == "楼坪村", out.stderr
        state = LocalServer(settings).running()
        assert state is not None, "connect() leaves the server it started running for the next caller"
        out2 = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=90
        )
        assert out2.stdout.strip() == "楼坪村"
        assert jvm_pids(settings.data_path) == [state.pid]
    finally:
        LocalServer(settings).stop()
    assert connect is not None
