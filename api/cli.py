"""The `ruralkg` command: one entry point for the local server, schema, data and service."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from graph.settings import get_settings
from loaders.casefile import CaseValidationError, discover, validate_cases

Handler = Callable[[argparse.Namespace], int]


def _case_paths(given: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """The files asked for (default: all curated files) and all curated files, for consistency checks."""
    everything = discover([get_settings().cases_dir])
    return (discover(given) if given else everything), everything


def cmd_check(args: argparse.Namespace) -> int:
    paths, context = _case_paths(args.paths)
    try:
        cases = validate_cases(paths, context=context)
    except CaseValidationError as exc:
        print(exc, file=sys.stderr)
        return 1
    for case in cases:
        print(
            f"ok  {case.path}: {len(case.entities)} entities, {len(case.relations)} relations, "
            f"{len(case.quantities)} quantities"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ruralkg", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="validate curated case files without touching the graph")
    check.add_argument("paths", nargs="*", type=Path, help="files or folders (default: all curated files)")
    check.set_defaults(handler=cmd_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
