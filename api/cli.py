"""The `ruralkg` command: one entry point for the local server, schema, data and service."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from neo4j import Driver
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from api import bulk, drafting
from graph.connection import GraphUnavailable, connect, session
from graph.local_server import LocalServer, LocalServerError, describe, serving
from graph.schema import apply_schema
from graph.settings import Settings, get_settings
from loaders import industry_tally, person_villages, tally
from loaders.casefile import CaseValidationError
from loaders.facts import SourcePlan
from loaders.gazetteer import EDITION, SOURCE_ID, normalize_within
from loaders.load import (
    SourceLoadError,
    collect_facts,
    curated_cases,
    load,
    load_if_empty,
    total_batches,
)
from loaders.regions import (
    REGION_BATCH,
    LoadProgress,
    has_gazetteer,
    load_regions,
    needs_load,
    parent_errors,
    read_progress,
    resolve_cases,
)
from queries import CATALOG, get_entry, run
from queries.analyst import CypherFailed, CypherRequest, run_cypher
from queries.catalog import NotFound, UnknownQuery, params_from_strings
from queries.output import render, render_rows
from queries.readonly import WriteRefused

Handler = Callable[[argparse.Namespace], int]


def cmd_check(args: argparse.Namespace) -> int:
    try:
        cases = curated_cases(get_settings(), args.paths)
    except CaseValidationError as exc:
        print(exc, file=sys.stderr)
        return 1
    for case in cases:
        print(
            f"ok  {case.path}: {len(case.entities)} entities, {len(case.relations)} relations, "
            f"{len(case.quantities)} quantities"
        )
    # the files asked for among every curated file, so that a village is placed in the context
    # of the counties the other files declare
    everything = list({c.path.resolve(): c for c in [*curated_cases(get_settings()), *cases]}.values())
    resolution = resolve_cases(everything)
    asked = {case.path.resolve() for case in cases}
    misplaced = [e for e in parent_errors(everything, resolution) if e.file.resolve() in asked]
    if misplaced:
        print(CaseValidationError(misplaced), file=sys.stderr)
        return 1
    print(
        f"places: {len(resolution.places)} resolve to the official divisions ({EDITION}), "
        f"{len(resolution.unresolved)} do not"
    )
    for unresolved in resolution.unresolved:
        print(f"unresolved  {unresolved}")
    return 0


def cmd_regions_load(args: argparse.Namespace) -> int:
    settings = get_settings()
    try:
        within = sorted({normalize_within(w) for w in args.within})
        cases = curated_cases(settings)
    except (ValueError, CaseValidationError) as exc:
        print(f"ruralkg: {exc}", file=sys.stderr)
        return 1
    driver = connect(settings)
    if args.if_needed and not needs_load(driver, settings, within):
        return 0
    resolution = resolve_cases(cases)
    started = time.monotonic()
    with Progress(transient=True, disable=args.quiet) as progress:
        task = progress.add_task(f"divisions{' under ' + ', '.join(within) if within else ''}", total=None)

        def on_start(plan: LoadProgress) -> None:
            progress.update(task, total=plan.total, completed=plan.done)

        report = load_regions(
            driver,
            settings,
            resolution,
            within=within,
            batch_size=args.batch_size,
            on_rows=lambda n: progress.advance(task, n),
            on_start=on_start,
        )
    seconds = time.monotonic() - started
    rate = f"{report.rows} rows in {seconds:.1f} s ({report.rows / max(seconds, 1e-9):,.0f} rows/s)"
    joined = (
        f"curated places: {len(resolution.places)} joined to their division, {len(resolution.unresolved)} not"
    )
    if args.quiet:
        print(f"official divisions loaded: {rate}; {joined}", flush=True)
        return 0
    table = Table(title=f"official divisions ({EDITION}) loaded", caption=f"source {SOURCE_ID}")
    table.add_column("level")
    table.add_column("rows", justify="right")
    for label, count in report.by_label.items():
        table.add_row(label, str(count))
    Console().print(table)
    print(rate)
    print(joined)
    for unresolved in resolution.unresolved:
        print(f"unresolved  {unresolved}")
    return 0


def describe_divisions(progress: LoadProgress | None) -> str:
    """One line: how far the official divisions are loaded."""
    if progress is None:
        return "official divisions: not loaded (`ruralkg regions load`, or `ruralkg serve` loads them)"
    scope = f" under {', '.join(progress.within)}" if progress.within else ""
    if progress.state == "done":
        return f"official divisions{scope}: {progress.total:,} loaded"
    return (
        f"official divisions{scope}: {progress.done:,} of {progress.total:,} "
        "(loading, or cut short: the next load resumes it)"
    )


def cmd_regions_status(args: argparse.Namespace) -> int:
    settings = get_settings()
    driver = connect(settings)
    progress = read_progress(driver, settings)
    if progress is None and has_gazetteer(driver, settings):
        print("official divisions: loaded (no record of how: an import)")
        return 0
    print(describe_divisions(progress))
    return 0 if progress is not None and progress.state == "done" else 3


def _print_plans(plans: Sequence[SourcePlan], *, dry_run: bool, verbose: bool) -> None:
    console = Console()
    if dry_run or verbose:
        for p in plans:
            for kind, change in (
                ("entity", p.entities),
                ("quantity", p.quantities),
                ("relation", p.relations),
            ):
                for verb, items in (
                    ("create", change.added),
                    ("update", change.changed),
                    ("delete", change.removed),
                ):
                    for item in items:
                        console.print(
                            f"{'would ' if dry_run else ''}{verb} {kind} {item}  [dim]({p.source_id})[/]"
                        )
    table = Table(
        title="load " + ("plan (dry run: nothing written)" if dry_run else "summary"),
        caption="added / changed / removed",
    )
    table.add_column("source", no_wrap=True)
    for kind in ("entities", "quantities", "relations"):
        table.add_column(kind, justify="right", no_wrap=True)
    table.add_column("status")
    for p in plans:
        cells = [
            f"{len(c.added)}/{len(c.changed)}/{len(c.removed)}"
            for c in (p.entities, p.quantities, p.relations)
        ]
        status = "new" if p.source_new else ("unchanged" if p.unchanged else "synced")
        table.add_row(p.source_id, *cells, status)
    console.print(table)


def cmd_load(args: argparse.Namespace) -> int:
    settings = get_settings()
    if args.batch_size:
        settings = settings.model_copy(update={"batch_size": args.batch_size})
    driver = connect(settings)
    try:
        facts = collect_facts(settings, args.paths, driver=driver, prune=args.prune)
    except CaseValidationError as exc:
        print(exc, file=sys.stderr)
        print("nothing was written.", file=sys.stderr)
        return 1
    if args.dry_run:
        _print_plans(load(driver, settings, facts, dry_run=True), dry_run=True, verbose=True)
        return 0
    try:
        with Progress(transient=True) as progress:
            task = progress.add_task("loading", total=total_batches(settings, facts))
            plans = load(driver, settings, facts, on_batch=lambda n: progress.advance(task, n))
    except SourceLoadError as exc:
        if exc.loaded:
            _print_plans(exc.loaded, dry_run=False, verbose=args.verbose)
        print(f"ruralkg: {exc}", file=sys.stderr)
        return 1
    _print_plans(plans, dry_run=False, verbose=args.verbose)
    return 0


def _local_only() -> None:
    if not get_settings().uses_local_server:
        raise SystemExit("NEO4J_URI is set: the graph is that server, not the local one. Unset it first.")


def cmd_server_start(args: argparse.Namespace) -> int:
    _local_only()
    state, started = LocalServer(get_settings()).start()
    print(("started" if started else "already running") + f": {state.uri}")
    print(describe(get_settings()))
    return 0


def cmd_server_stop(args: argparse.Namespace) -> int:
    _local_only()
    stopped = LocalServer(get_settings()).stop()
    print("stopped" if stopped else "not running")
    return 0


def cmd_server_status(args: argparse.Namespace) -> int:
    _local_only()
    print(describe(get_settings()))
    return 0 if LocalServer(get_settings()).running() else 3


def _ready_graph(settings: Settings) -> Driver:
    """The driver, with the schema applied and the curated data loaded if the graph is empty."""
    driver = connect(settings)
    if plans := load_if_empty(driver, settings):  # loading applies the schema first
        print(f"loaded {len(plans)} curated sources into the empty graph")
    else:
        apply_schema(driver, settings)
    return driver


def cmd_server_run(args: argparse.Namespace) -> int:
    """Foreground: the local server until Ctrl-C, then stopped (if this command started it)."""
    _local_only()
    settings = get_settings()
    # Ctrl-C may land at any point, even before the wait: it always means a clean stop.
    with contextlib.suppress(KeyboardInterrupt), serving(settings):
        driver = _ready_graph(settings)
        echo = driver.execute_query("RETURN $name AS name", name="芹溪村").records[0]["name"]
        print(describe(settings))
        print(f"round trip through the driver: {echo}")
        print("Ctrl-C stops it.", flush=True)
        signal.pause()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """The API; on the local server (started or reused), with the curated data if it was empty."""
    # FastAPI and uvicorn are loaded only by the command that serves.
    from api.app import create_app
    from api.serving import serve

    settings = get_settings()
    local = serving(settings) if settings.uses_local_server else contextlib.nullcontext()
    with contextlib.suppress(KeyboardInterrupt), local:
        _ready_graph(settings)
        if settings.uses_local_server:
            print(describe(settings))
        print(f"API: http://{args.host}:{args.port}  (OpenAPI at /docs)", flush=True)
        app = create_app(settings, background_divisions=settings.divisions_autoload)
        serve(app, settings, args.host, args.port, args.log_level)
    return 0


NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def cmd_notebook(args: argparse.Namespace) -> int:
    """JupyterLab on the notebooks, on the service's graph: the local server (started or reused,
    with the curated data if it was empty) when NEO4J_URI is unset. Stops the server it started
    when Jupyter exits."""
    if importlib.util.find_spec("jupyterlab") is None:
        print("ruralkg: Jupyter is not installed; `make notebook` installs it", file=sys.stderr)
        return 2
    settings = get_settings()
    # Kernels start in the notebook's folder: they find the server by its absolute data dir.
    env = {**os.environ, "RURALKG_DATA_DIR": str(settings.data_path)}
    command = [
        sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={NOTEBOOKS}",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={args.port}",
    ]  # fmt: skip
    if args.no_browser:
        command.append("--no-browser")
    if os.geteuid() == 0:  # containers and CI machines run as root; Jupyter refuses it unless told
        command.append("--allow-root")
    local = serving(settings) if settings.uses_local_server else contextlib.nullcontext()
    with local:
        _ready_graph(settings)
        if settings.uses_local_server:
            print(describe(settings), flush=True)
        jupyter = subprocess.Popen(command, env=env)
        # Ctrl-C belongs to Jupyter (it asks before shutting down); we stop when it has.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            return jupyter.wait()
        finally:
            signal.signal(signal.SIGINT, previous)
            if jupyter.poll() is None:
                jupyter.terminate()
                jupyter.wait(timeout=30)


def cmd_query(args: argparse.Namespace) -> int:
    entry = get_entry(args.name)
    given: dict[str, list[str]] = {}
    for pair in args.param:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--param takes key=value, not {pair!r}")
        given.setdefault(key, []).append(value)
    try:
        params = params_from_strings(entry.params, given)
    except ValidationError as exc:
        print(f"bad parameters for {entry.name}:\n{exc}", file=sys.stderr)
        return 2
    settings = get_settings()
    with session(connect(settings), settings) as s:
        result = run(s, settings, entry, params)
    print(render(result, args.format))
    return 0


def _param_value(text: str) -> Any:
    """`-p n=5` is a number, `-p ids=["a","b"]` a list, anything that is not JSON a string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def cmd_cypher(args: argparse.Namespace) -> int:
    """One read-only query: checked, in a READ transaction that is rolled back, capped."""
    text = args.query if args.query != "-" else sys.stdin.read()
    params: dict[str, Any] = {}
    for pair in args.param:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--param takes key=value, not {pair!r}")
        params[key] = _param_value(value)
    settings = get_settings()
    try:
        req = CypherRequest(query=text, params=params)
        timeout = args.timeout or settings.cypher_timeout
        answer = run_cypher(
            connect(settings), settings, req, timeout=timeout, cap=args.row_cap or settings.cypher_row_cap
        )
    except (ValidationError, WriteRefused, CypherFailed) as exc:
        print(f"ruralkg: {exc}", file=sys.stderr)
        return 2
    result = answer.result(timeout)
    if args.format == "json":
        print(result.model_dump_json(indent=2))
    else:
        print(render_rows(result.columns, result.rows, args.format))
    if result.cut == "rows":
        print(f"(stopped at the row cap of {result.row_cap} rows)", file=sys.stderr)
    elif result.cut == "bytes":
        print(f"(stopped at RURALKG_MAX_ANSWER_BYTES, {result.max_bytes} bytes)", file=sys.stderr)
    return 0


def cmd_schema_apply(args: argparse.Namespace) -> int:
    settings = get_settings()
    count = apply_schema(connect(settings), settings)
    print(f"schema applied: {count} statements")
    return 0


def cmd_tally_rebuild(args: argparse.Namespace) -> int:
    settings = get_settings()
    driver = connect(settings)
    apply_schema(driver, settings)
    started = time.monotonic()
    # One kind of figures alone (a graph loaded before they existed): minutes nationally, where
    # the place recount pages the whole graph for an hour.
    if args.people_only or args.industries_only:
        if args.people_only:
            people = person_villages.rebuild(driver, settings)
            print(f"villages per person rebuilt from the facts: {people:,} people")
        if args.industries_only:
            industries = industry_tally.rebuild(driver, settings)
            print(f"industry figures rebuilt from the facts: {industries:,} industries")
        print(f"in {time.monotonic() - started:.0f} s")
        return 0
    places = tally.rebuild(driver, settings)
    print(f"tallies rebuilt from the facts: {places:,} places in {time.monotonic() - started:.0f} s")
    return 0


def cmd_tally_check(args: argparse.Namespace) -> int:
    settings = get_settings()
    driver = connect(settings)
    wrong = tally.check(driver, settings)
    for place, measure, have, want in wrong[: args.most]:
        print(f"{place} {measure}: kept {have}, counted {want}")
    if wrong:
        print(
            f"tallies differ from a recount: {len(wrong):,} figures (`ruralkg tally rebuild` recounts them)"
        )
        return 1
    print(f"tallies equal a recount: {len(tally.read_tallies(driver, settings)):,} places")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ruralkg", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="validate curated case files without touching the graph")
    check.add_argument("paths", nargs="*", type=Path, help="files or folders (default: all curated files)")
    check.set_defaults(handler=cmd_check)

    load_p = sub.add_parser("load", help="validate curated files and sync them into the graph")
    load_p.add_argument("paths", nargs="*", type=Path, help="files or folders (default: all curated files)")
    load_p.add_argument("--dry-run", action="store_true", help="print the creates, updates and deletes only")
    load_p.add_argument("--batch-size", type=int, help="rows per UNWIND batch (default RURALKG_BATCH_SIZE)")
    load_p.add_argument(
        "--prune", action="store_true", help="also remove sources the graph holds that no curated file states"
    )
    load_p.add_argument("-v", "--verbose", action="store_true", help="list every change, not only counts")
    load_p.set_defaults(handler=cmd_load)

    serve = sub.add_parser(
        "serve", help="run the HTTP API (starting the local server when NEO4J_URI is unset)"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    serve.set_defaults(handler=cmd_serve)

    notebook = sub.add_parser(
        "notebook", help="JupyterLab on notebooks/, on the service's graph (local if NEO4J_URI is unset)"
    )
    notebook.add_argument("--port", type=int, default=8888, help="Jupyter's port on 127.0.0.1")
    notebook.add_argument("--no-browser", action="store_true", help="do not open a browser")
    notebook.set_defaults(handler=cmd_notebook)

    query = sub.add_parser("query", help="run a catalog query from the shell")
    query.add_argument("name", help=f"one of: {', '.join(CATALOG)}")
    query.add_argument("--param", "-p", action="append", default=[], metavar="KEY=VALUE")
    query.add_argument("--format", "-f", choices=["table", "json", "csv"], default="table")
    query.set_defaults(handler=cmd_query)

    server = sub.add_parser("server", help="the local graph server (used when NEO4J_URI is not set)")
    server_sub = server.add_subparsers(dest="action", required=True)
    for name, handler, text in (
        ("start", cmd_server_start, "start it in the background (or report the running one)"),
        ("stop", cmd_server_stop, "stop it"),
        ("status", cmd_server_status, "say whether it runs and where; exit 3 if not"),
        ("run", cmd_server_run, "run it in the foreground until Ctrl-C"),
    ):
        server_sub.add_parser(name, help=text).set_defaults(handler=handler)

    cypher = sub.add_parser("cypher", help="run one read-only Cypher query (refused if it could write)")
    cypher.add_argument("query", help="the query, or - to read it from stdin")
    cypher.add_argument("--param", "-p", action="append", default=[], metavar="KEY=VALUE")
    cypher.add_argument("--format", "-f", choices=["table", "json", "csv"], default="table")
    cypher.add_argument("--timeout", type=float, help="seconds (default RURALKG_CYPHER_TIMEOUT)")
    cypher.add_argument("--row-cap", type=int, help="rows at most (default RURALKG_CYPHER_ROW_CAP)")
    cypher.set_defaults(handler=cmd_cypher)
    regions = sub.add_parser("regions", help=f"the official divisions of China ({EDITION} edition)")
    regions_sub = regions.add_subparsers(dest="action", required=True)
    regions_load = regions_sub.add_parser(
        "load", help="load every division (or a subtree) as Province ... Village nodes, idempotently"
    )
    regions_load.add_argument(
        "--within",
        metavar="CODE",
        nargs="+",
        action="extend",
        default=[],
        help="only the divisions under these code prefixes (e.g. 350925 331023), with their parents",
    )
    regions_load.add_argument("--batch-size", type=int, default=REGION_BATCH, help="rows per transaction")
    regions_load.add_argument(
        "--if-needed",
        action="store_true",
        help="do nothing when they are loaded already (a load cut short is resumed)",
    )
    regions_load.add_argument("--quiet", action="store_true", help="one line at the end, no progress bar")
    regions_load.set_defaults(handler=cmd_regions_load)
    regions_sub.add_parser(
        "status", help="how far the official divisions are loaded (exit 3 until they are)"
    ).set_defaults(handler=cmd_regions_status)

    schema = sub.add_parser("schema", help="constraints and indexes")
    schema_sub = schema.add_subparsers(dest="action", required=True)
    schema_sub.add_parser("apply", help="create them (idempotent)").set_defaults(handler=cmd_schema_apply)

    tallies = sub.add_parser(
        "tally",
        help="the figures kept per place (region-coverage, overview), per person (shared-experts, "
        "multi-village-people) and per industry (industry-clusters)",
    )
    tally_sub = tallies.add_subparsers(dest="action", required=True)
    tally_rebuild = tally_sub.add_parser(
        "rebuild",
        help="recount every place, person and industry from the facts and replace the kept figures "
        "(after an import)",
    )
    tally_rebuild.add_argument(
        "--people-only",
        action="store_true",
        help="only the villages counted per person (a graph whose other figures are kept already)",
    )
    tally_rebuild.add_argument(
        "--industries-only",
        action="store_true",
        help="only the figures kept per industry (a graph whose other figures are kept already)",
    )
    tally_rebuild.set_defaults(handler=cmd_tally_rebuild)
    tally_check = tally_sub.add_parser(
        "check", help="compare the tallies with a recount (exit 1 on a difference)"
    )
    tally_check.add_argument("--most", type=int, default=20, help="differences printed at most")
    tally_check.set_defaults(handler=cmd_tally_check)

    bulk.add_parsers(sub)
    drafting.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except (GraphUnavailable, LocalServerError) as exc:
        print(f"ruralkg: {exc}", file=sys.stderr)
        return 2
    except UnknownQuery as exc:
        print(
            f"ruralkg: no query named {exc.args[0]!r}; known: {', '.join(sorted(CATALOG))}", file=sys.stderr
        )
        return 2
    except NotFound as exc:
        print(f"ruralkg: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
