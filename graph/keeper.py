"""Keeping the local server up: a watcher that starts it again when it exits or stops answering.

The API and the notebook extension each run one for the local server they use. It looks at the
server every CHECK_SECONDS (its pid, then its HTTP ready endpoint). A server it has seen running
that exited is started again on the same data dir at once; one that is alive but has not
answered for RURALKG_HEAL_AFTER seconds (frozen, thrashing) is killed and started again. Failed
starts are retried with a doubling backoff up to BACKOFF_MAX_SECONDS. Every start is logged and
counted, and `status()` says what the watcher sees, for /health. A server it never saw running
it does not start: that is `ruralkg serve`'s or the operator's call.

Ownership does not change hands: a server this process owned (started, to be stopped on exit)
is started again as owned; one it found running is started again detached, as it was, so it
outlives this process the way the one it replaces would have. The same ports are used again when
they are free, so drivers already open keep working; otherwise new ones (the API follows the
state file; the notebook's driver is reopened through `on_restart`).
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
from collections.abc import Callable
from typing import Any

from graph.local_server import LocalServer, LocalServerError, pid_alive, ports_free
from graph.settings import Settings

log = logging.getLogger("ruralkg.keeper")
CHECK_SECONDS = 0.5
BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 30.0


class ExitWatch:
    """Whether one process has exited, asked once per request: a pidfd polled (one syscall;
    readable once the process has exited, reaped or a zombie) where the kernel has them, else
    pid_alive (a signal 0 and a read of /proc/<pid>/stat for zombies: 20 us of CPU on a JVM's,
    against half a microsecond for the poll; issue 21).

    Its descriptor is closed with it: a watch replaced while a request still asks it stays
    open until that request is done."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._fd: int | None = None
        self._poll: select.poll | None = None
        try:
            self._fd = os.pidfd_open(pid)
        except (OSError, AttributeError):
            pass  # gone already (pid_alive says so), or no pidfds here (old kernel, seccomp, not Linux)
        else:
            self._poll = select.poll()
            self._poll.register(self._fd, select.POLLIN)

    def exited(self) -> bool:
        if self._poll is None:
            return not pid_alive(self.pid)
        return bool(self._poll.poll(0))

    def __del__(self) -> None:
        if self._fd is not None:
            os.close(self._fd)


class Keeper:
    """Watches and restarts the local server of one data dir, from a thread of its own."""

    def __init__(self, settings: Settings, on_restart: Callable[[], None] | None = None) -> None:
        self.settings = settings
        self.server = LocalServer(settings)
        self.on_restart = on_restart
        self.state = "unknown"  # running, not answering, down, restarting; before: not running, starting
        self.restarts = 0
        self.last_restart: float | None = None  # wall clock, for /health
        self.last_error: str | None = None
        self._failures = 0
        self._retry_at = 0.0
        self._silent_since: float | None = None
        self._watch: ExitWatch | None = None  # the server last seen running: checked live by `down`
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- the watcher thread ---------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="ruralkg-keeper", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.check()
            except Exception:  # the watcher must outlive any one surprise
                log.exception("checking the local graph server failed")
            self._stop.wait(CHECK_SECONDS)

    # -- one look -------------------------------------------------------------------------------
    @property
    def down(self) -> bool:
        """The server is known not to serve queries just now: callers answer 503 at once. The
        pid is looked at here too (a syscall), so a kill is seen before the next look."""
        if self.state in ("down", "restarting"):
            return True
        watch = self._watch
        return watch is not None and watch.exited()

    def check(self) -> None:
        """Look once; start the server again if it exited, or was silent for too long."""
        with self._lock:
            state = self.server.read_state()
            alive = state is not None and pid_alive(state.pid)
            if alive and state is not None and self.server.ready(state):
                self.state, self._silent_since, self._failures = "running", None, 0
                self._follow(state.pid)
                return
            if self._watch is None:
                # Never seen running here: starting one is `ruralkg serve`'s or the operator's
                # call (the error says how), not the watcher's.
                self.state = "starting" if alive else "not running"
                return
            now = time.monotonic()
            if alive:
                self._silent_since = self._silent_since or now
                if now - self._silent_since < self.settings.heal_after:
                    self.state = "not answering"
                    return
                why = f"it has not answered for {now - self._silent_since:.0f} s"
            else:
                why = "it is not running" if state is None else f"its process {state.pid} exited"
            self.state = "down"
            if now < self._retry_at:
                return
            self._restart(why, state.bolt_port if state else 0, state.http_port if state else 0)

    def _restart(self, why: str, bolt_port: int, http_port: int) -> None:
        owned = self.server.owns_running()
        self.state = "restarting"
        log.warning("the local graph server is down (%s): starting it again in %s", why, self.server.root)
        same = bolt_port and http_port and ports_free(bolt_port, http_port)
        settings = self.settings.model_copy(
            update={"local_bolt_port": bolt_port, "local_http_port": http_port} if same else {}
        )
        t0 = time.monotonic()
        try:
            new, _ = LocalServer(settings).start(owned=owned, tied=False)
        except (LocalServerError, OSError) as exc:
            self._failures += 1
            delay = min(BACKOFF_FIRST_SECONDS * 2 ** (self._failures - 1), BACKOFF_MAX_SECONDS)
            self._retry_at = time.monotonic() + delay
            self.state, self.last_error = "down", str(exc).splitlines()[0]
            log.error("starting the local graph server again failed (%s); next try in %.0f s", exc, delay)
            return
        self.restarts += 1
        self.last_restart, self.last_error = time.time(), None
        self._follow(new.pid)
        self.state, self._silent_since, self._failures = "running", None, 0
        log.warning(
            "the local graph server is back at %s after %.1f s (restart %d)",
            new.uri,
            time.monotonic() - t0,
            self.restarts,
        )
        if self.on_restart is not None:
            self.on_restart()

    def _follow(self, pid: int) -> None:
        if self._watch is None or self._watch.pid != pid:
            self._watch = ExitWatch(pid)

    def status(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "restarts": self.restarts,
            "last_restart": self.last_restart,
            "last_error": self.last_error,
        }
