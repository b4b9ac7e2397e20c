"""`ruralkg draft`: a draft case file from a new article, and how good drafts are.

The draft is written to a file (never to the graph): a person reviews it at /review, or edits
it by hand, and `ruralkg check` and `ruralkg load` take the case file the review saves.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import time
from pathlib import Path

from graph.settings import get_settings
from loaders.casefile import CaseValidationError, parse_case_file
from loaders.load import curated_cases
from loaders.regions import resolve_cases

# loaders.draft (jieba, the vocabularies) is imported by the draft command only, so every
# other command starts as fast as before.


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--date takes YYYY-MM-DD, not {text!r}") from exc


def cmd_draft(args: argparse.Namespace) -> int:
    from loaders.draft.draft import SourceInfo, draft_article, draft_mapping, known_places
    from loaders.draft.write import DRAFT_SUFFIX, write_draft

    settings = get_settings()
    if args.compare is not None:
        return _compare(args)
    article: Path = args.article
    if article is None:
        print("ruralkg draft: give an ARTICLE (or --compare CASEFILE)", file=sys.stderr)
        return 2
    if not article.is_file():
        print(f"ruralkg draft: {article} is not a file", file=sys.stderr)
        return 1
    started = time.perf_counter()
    info = SourceInfo(args.title, args.publisher, args.date, args.url)
    try:
        mapping = draft_mapping(draft_article(article, info), known_places(settings.cases_dir))
    except UnicodeDecodeError as exc:
        print(f"ruralkg draft: {article} is not UTF-8 text: {exc}", file=sys.stderr)
        return 1
    out = args.output or settings.drafts_path / (article.stem + DRAFT_SUFFIX)
    write_draft(mapping, out)
    took = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    counts = {k: len(mapping[k]) for k in ("entities", "relations", "quantities")}
    print(
        f"draft  {out}: {counts['entities']} entities, {counts['relations']} relations, "
        f"{counts['quantities']} quantities ({took:.1f} s, {rss:.0f} MB peak)"
    )
    return 0


def _compare(args: argparse.Namespace) -> int:
    """Draft the curated file's own article (or read --draft) and score the draft against it."""
    from loaders.draft.compare import compare, format_comparison
    from loaders.draft.draft import draft_article, draft_mapping, known_places
    from loaders.draft.write import read_draft

    settings = get_settings()
    try:
        all_cases = curated_cases(settings)
    except CaseValidationError as exc:
        print(exc, file=sys.stderr)
        return 1
    resolution = resolve_cases(all_cases)
    results = []
    for path in args.compare:
        case, errors = parse_case_file(path)
        if case is None:
            print("\n".join(str(e) for e in errors), file=sys.stderr)
            return 1
        if not case.source.file:
            print(f"ruralkg draft: {path} names no article file", file=sys.stderr)
            return 1
        article = settings.sources_dir / case.source.file
        if args.draft is not None:
            mapping = read_draft(args.draft)
        else:
            started = time.perf_counter()
            mapping = draft_mapping(draft_article(article), known_places(settings.cases_dir))
            print(f"drafted {article.name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        results.append(compare(mapping, case, resolution, article))
    print(format_comparison(results))
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    draft = sub.add_parser(
        "draft", help="draft a case file from an article (places, names, relations, figures, quotes)"
    )
    draft.add_argument("article", nargs="?", type=Path, help="the captured article (UTF-8 text)")
    draft.add_argument("--title")
    draft.add_argument("--publisher")
    draft.add_argument("--date", type=_date, help="YYYY-MM-DD")
    draft.add_argument("--url")
    draft.add_argument("-o", "--output", type=Path, help="the draft file (default: the drafts folder)")
    draft.add_argument(
        "--compare",
        nargs="+",
        type=Path,
        metavar="CASEFILE",
        help="draft each curated file's article and score the draft against the curated file",
    )
    draft.add_argument("--draft", type=Path, help="with --compare: score this draft file instead")
    draft.set_defaults(handler=cmd_draft)
