"""Headless Debian chromium for the browser tests and bench/: launched by path, never downloaded.

The tests' one browser is tests/conftest.py's `browser` fixture; each page is opened with
`watch`, which keeps the page on this machine and records what went wrong in it.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MISSING = (
    "Debian's chromium is not installed: `apt-get install -y chromium fonts-noto-cjk` "
    "(.ci/run does it when missing)"
)


def chromium_path() -> str | None:
    """Debian's chromium, or None when it is not installed."""
    if CHROMIUM.exists():
        return str(CHROMIUM)
    return shutil.which("chromium")


class Watched:
    """A page whose requests off 127.0.0.1 are recorded and refused, with its errors kept:
    `page_errors` (uncaught exceptions) and `console_errors` (console.error, failed loads)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.external: list[str] = []
        self.page_errors: list[str] = []
        self.console_errors: list[str] = []

    @property
    def errors(self) -> list[str]:
        return [f"pageerror: {e}" for e in self.page_errors] + [f"console: {e}" for e in self.console_errors]


@contextlib.contextmanager
def watch(browser: Browser, *, width: int = 1400, height: int = 860) -> Iterator[Watched]:
    """A page in a context of its own; on leaving, asserts that no request left the machine."""
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    w = Watched(context.new_page())

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).hostname == "127.0.0.1":
            r.continue_()
        else:
            w.external.append(url)
            r.abort()

    context.route("**/*", route)
    w.page.on("pageerror", lambda exc: w.page_errors.append(str(exc)))
    w.page.on("console", lambda m: w.console_errors.append(m.text) if m.type == "error" else None)
    try:
        yield w
    finally:
        context.close()
    assert w.external == [], f"requests off the machine: {w.external}"
