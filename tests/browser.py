"""Headless Debian chromium for the browser tests and bench/: launched by path, never downloaded."""

from __future__ import annotations

import shutil
from pathlib import Path

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
