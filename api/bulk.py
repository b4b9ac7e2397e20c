"""`ruralkg synth` and `ruralkg export`: national-scale data in and out (see bench/ and README)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rich.progress import Progress

from graph.connection import connect
from graph.export import ExportError, export_neo4j_admin
from graph.settings import get_settings
from loaders.casefile import CaseValidationError
from loaders.load import curated_cases
from loaders.regions import resolve_cases
from loaders.synthetic import (
    SynthSpec,
    SynthStats,
    cases,
    load_divisions,
    load_overlay,
    select,
    write_case,
)


def _spec(args: argparse.Namespace) -> SynthSpec:
    return SynthSpec(seed=args.seed, scale=args.scale)


def _curated_counties() -> tuple[set[str], dict[str, str]]:
    """Counties the curated cases lie in (the overlay leaves them alone) and the resolved
    curated places' ids by code (their division nodes carry the curated ids)."""
    resolution = resolve_cases(curated_cases(get_settings()))
    codes = {d.code[:6] for d in resolution.places.values() if len(d.code) >= 6}
    return codes, resolution.ids_by_code


def cmd_synth_write(args: argparse.Namespace) -> int:
    spec = _spec(args)
    exclude, _ = _curated_counties()
    selection = select(spec, exclude)
    args.dir.mkdir(parents=True, exist_ok=True)
    stats = SynthStats()
    started = time.monotonic()
    with Progress(transient=True) as progress:
        task = progress.add_task("counties", total=len(selection.counties))
        for raw in cases(spec, selection):
            write_case(raw, args.dir)
            stats.add(raw)
            progress.advance(task)
    seconds = time.monotonic() - started
    print(
        f"wrote {stats.counties} case files to {args.dir}: {stats.entities:,} entities, "
        f"{stats.relations:,} relations ({selection.villages:,} villages) in {seconds:.0f} s"
    )
    print("load them with `ruralkg synth load` (same seed and scale) or `ruralkg load DIR`")
    return 0


def cmd_synth_load(args: argparse.Namespace) -> int:
    settings = get_settings()
    spec = _spec(args)
    try:
        exclude, ids = _curated_counties()
    except CaseValidationError as exc:
        print(exc, file=sys.stderr)
        return 1
    selection = select(spec, exclude)
    driver = connect(settings)
    started = time.monotonic()
    divisions = load_divisions(driver, settings, selection, ids)
    print(f"official divisions of {len(selection.counties)} counties: {divisions:,} rows")
    directory = args.dir
    if args.via == "files" and directory is None:
        print("ruralkg: --via files needs --dir, where the case files are written", file=sys.stderr)
        return 1
    if directory:
        directory.mkdir(parents=True, exist_ok=True)
    with Progress(transient=True) as progress:
        task = progress.add_task("counties", total=len(selection.counties))
        stats = load_overlay(
            driver,
            settings,
            spec,
            selection,
            via=args.via,
            directory=directory,
            on_county=lambda s: progress.advance(task),
        )
    seconds = time.monotonic() - started
    print(
        f"synthetic overlay (seed {spec.seed}, scale {spec.scale:g}): {stats.counties} counties, "
        f"{stats.entities:,} entities, {stats.relations:,} relations in {seconds:.0f} s "
        f"({stats.rows / seconds:,.0f} rows/s)"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    settings = get_settings()
    try:
        report = export_neo4j_admin(
            connect(settings), settings, args.dir, on_file=lambda name, n: print(f"  {name}: {n:,}")
        )
    except ExportError as exc:
        print(f"ruralkg: {exc}", file=sys.stderr)
        return 1
    command = report.command()
    (args.dir / "import-command.txt").write_text(command + "\n", encoding="utf-8")
    print(
        f"exported {sum(report.nodes.values()):,} nodes and {sum(report.relationships.values()):,} "
        f"relationships to {args.dir}; import into an empty Neo4j (stopped) with:\n{command}\n"
        "then `ruralkg schema apply` against it (constraints and indexes)."
    )
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    synth = sub.add_parser("synth", help="a synthetic overlay on the official villages, for national scale")
    synth_sub = synth.add_subparsers(dest="action", required=True)
    for name, handler, text in (
        ("write", cmd_synth_write, "write the overlay as case files into DIR"),
        ("load", cmd_synth_load, "load the official divisions it needs and the overlay into the graph"),
    ):
        p = synth_sub.add_parser(name, help=text)
        p.add_argument("--seed", type=int, default=1)
        p.add_argument(
            "--scale", type=float, default=0.01, help="share of the country's villages: 1 is national"
        )
        p.set_defaults(handler=handler)
        if name == "write":
            p.add_argument("dir", type=Path)
        else:
            p.add_argument(
                "--via",
                choices=["rows", "files"],
                default="rows",
                help="rows: facts straight to the writer; files: write, parse and validate case files",
            )
            p.add_argument("--dir", type=Path, help="where --via files writes the case files")

    export = sub.add_parser("export", help="the whole graph as files for a bulk import elsewhere")
    export.add_argument("--format", choices=["neo4j-admin"], required=True)
    export.add_argument("dir", type=Path)
    export.set_defaults(handler=cmd_export)
