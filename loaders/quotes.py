"""Evidence quotes checked against their articles: a quote the article does not hold is refused
at the door (`ruralkg check`, `ruralkg load`), with file, line, record and field.

The comparison is the documented one (docs/data-format.md): the article and the quote are both
folded (graph/text.py `fold`: NFKC, simplified script, lower case, no whitespace), and the pinyin
a converter inserted after characters in one captured page (`聯(lián)盟`) is dropped from the
article first. The articles live outside the repository (RURALKG_SOURCES_DIR, by default
../shared/sources/); where one is absent the check cannot run for it, and says so once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path

from graph.text import fold
from loaders.casefile import CaseError, CaseFile

log = logging.getLogger("ruralkg.loaders")
# A converter inserted toned pinyin after characters in one captured page: 聯(lián)盟.
INSERTED_PINYIN = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")
_said_absent: set[Path] = set()


def without_inserted_pinyin(raw: str) -> str:
    """The captured text without the pinyin a converter inserted (聯(lián)盟 is 聯盟 again)."""
    return INSERTED_PINYIN.sub("", raw)


@lru_cache(maxsize=64)
def _normalized(path: Path, mtime_ns: int) -> str:
    return fold(without_inserted_pinyin(path.read_text(encoding="utf-8")))


def normalized_article(path: Path) -> str:
    """The article as quotes are looked for in it (read again when the file changes)."""
    return _normalized(path, path.stat().st_mtime_ns)


def quotes(case: CaseFile) -> Iterator[tuple[str, tuple[str, object], str, str]]:
    """Every evidence quote of a case: (record name, its key in `case.lines`, field, quote)."""
    for i, e in enumerate(case.entities):
        yield f"entities[{i}] ({e.id})", ("entities", e.id), "evidence", e.evidence
    for i, r in enumerate(case.relations):
        yield f"relations[{i}] ({r.type} {r.from_} -> {r.to})", ("relations", r.key), "evidence", r.evidence
    for i, q in enumerate(case.quantities):
        yield f"quantities[{i}] ({q.id})", ("quantities", q.id), "evidence", q.evidence


def quote_errors(cases: Sequence[CaseFile], sources_dir: Path) -> list[CaseError]:
    """A CaseError for every quote its article does not hold. Cases whose article is not in
    `sources_dir` are not checked; that is logged once per folder, naming the setting."""
    errors: list[CaseError] = []
    absent: list[str] = []
    for case in cases:
        if case.source.kind != "article" or not case.source.file:
            continue
        article = sources_dir / case.source.file
        try:
            text = normalized_article(article)
        except FileNotFoundError:
            absent.append(case.source.file)
            continue
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(CaseError(case.path, None, "source", "file", f"the article cannot be read: {exc}"))
            continue
        for record, key, field, quote in quotes(case):
            if fold(quote) not in text:
                errors.append(
                    CaseError(
                        case.path,
                        case.lines.get(key),
                        record,
                        field,
                        f"the quote {quote!r} is not in the article {case.source.file} "
                        "(compared after folding whitespace, width and script)",
                    )
                )
    if absent and sources_dir not in _said_absent:
        _said_absent.add(sources_dir)
        log.warning(
            "evidence quotes not checked for %d case file(s): their articles are not in %s "
            "(RURALKG_SOURCES_DIR names the folder of captured articles)",
            len(absent),
            sources_dir,
        )
    return errors
