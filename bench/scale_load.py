"""The national-scale load alone: the official divisions, then the synthetic overlay with the loader.

    .venv/bin/python -m bench.scale_load --scale 1 --heap 6g --data-dir /tmp/scale1 > scale1.log

On a local server of its own (started here on the data dir, stopped at the end unless
--keep-server): loads the divisions of the selected counties (at scale 1 every county: the
whole country) with the gazetteer's writer, then the overlay county by county with the
loader (several counties per transaction, `loaders.synthetic.load_overlay`), and reports the
time, rows per second, the loader's peak RSS (`ru_maxrss`) and the server's peak RSS (VmHWM).
A progress line is printed every --every seconds, so a run stopped before the end still says
how far it got and at what rate. With --out, a dated section is appended to that file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import time
from pathlib import Path

from bench.run import free_port, header, status_kb
from graph.connection import open_driver, resolve_target, session
from graph.local_server import LocalServer
from graph.settings import Settings
from loaders.synthetic import GROUP_ROWS, SynthSpec, SynthStats, load_divisions, load_overlay, select


def _mb(kb: int) -> str:
    return f"{kb / 1024:,.0f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--heap", default="6g", help="the server's -Xmx")
    parser.add_argument("--data-dir", type=Path, required=True, help="the server's data dir (a new one)")
    parser.add_argument("--group-rows", type=int, default=GROUP_ROWS, help="rows per transaction")
    parser.add_argument("--every", type=float, default=60, help="seconds between progress lines")
    parser.add_argument("--out", type=Path, help="append a dated section to this file")
    parser.add_argument("--keep-server", action="store_true", help="leave the server running")
    args = parser.parse_args(argv)

    spec = SynthSpec(args.seed, args.scale)
    settings = Settings(
        NEO4J_URI=None,
        RURALKG_DATA_DIR=args.data_dir,
        RURALKG_HEAP=args.heap,
        RURALKG_QUERY_TIMEOUT=600,
        RURALKG_CYPHER_TIMEOUT=600,
        RURALKG_BOLT_PORT=free_port(),
        RURALKG_HTTP_PORT=free_port(),
    )
    server = LocalServer(settings)
    state, _ = server.start(owned=True)
    driver = open_driver(resolve_target(settings), settings)
    started_at, load = dt.datetime.now(dt.UTC), os.getloadavg()
    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    try:
        selection = select(spec)
        say(
            f"- selection: {len(selection.counties):,} counties, "
            f"{selection.villages:,} administrative villages"
        )
        t0 = time.monotonic()
        divisions = load_divisions(driver, settings, selection, {})
        t_div = time.monotonic() - t0
        say(f"- official divisions: {divisions:,} rows in {t_div:.0f} s ({divisions / t_div:,.0f} rows/s)")

        t1 = time.monotonic()
        last = [t1]

        def progress(stats: SynthStats) -> None:
            now = time.monotonic()
            if now - last[0] >= args.every:
                last[0] = now
                rate = stats.rows / (now - t1)
                rss, hwm = status_kb(state.pid, "VmRSS"), status_kb(state.pid, "VmHWM")
                print(
                    f"  {dt.datetime.now(dt.UTC):%H:%M:%S} overlay: {stats.counties:,}/"
                    f"{len(selection.counties):,} counties, {stats.rows:,} rows in {now - t1:.0f} s "
                    f"({rate:,.0f} rows/s); loader RSS peak "
                    f"{_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)}, server RSS {_mb(rss)} "
                    f"(peak {_mb(hwm)})",
                    flush=True,
                )

        stats = load_overlay(
            driver, settings, spec, selection, group_rows=args.group_rows, on_county=progress
        )
        t_overlay = time.monotonic() - t1
        say(
            f"- overlay: {stats.counties:,} counties, {stats.entities:,} entities + {stats.relations:,} "
            f"relations = {stats.rows:,} rows in {t_overlay:.0f} s ({stats.rows / t_overlay:,.0f} rows/s; "
            f"plus a MENTIONS edge per entity and provenance on every relation)"
        )
        with session(driver, settings) as s:
            nodes = s.run("MATCH (n) RETURN count(n) AS n").single(strict=True)["n"]
            rels = s.run("MATCH ()-[r]->() RETURN count(r) AS n").single(strict=True)["n"]
        say(f"- graph: {nodes:,} nodes, {rels:,} relationships")
        say(f"- wall time, divisions + overlay: {t_div + t_overlay:.0f} s")
        say(
            f"- loader peak RSS {_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)}; "
            f"server peak RSS (VmHWM) {_mb(status_kb(state.pid, 'VmHWM'))} (-Xmx{settings.local_heap})"
        )
    finally:
        driver.close()
        if not args.keep_server:
            server.stop()
    if args.out:
        title = (
            f"\n### {started_at:%Y-%m-%d %H:%M} UTC: the load alone at scale {args.scale:g}, seed {args.seed}"
        )
        section = [*header(title, "bench.scale_load", argv, load), *lines, ""]
        with args.out.open("a", encoding="utf-8") as handle:
            handle.write("\n".join(section))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
