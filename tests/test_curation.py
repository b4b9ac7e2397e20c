"""Every evidence quote is found in the article it cites (after normalizing whitespace and script).

The articles live outside the repo, in ../shared/sources/ (RURALKG_SOURCES_DIR); where that
folder is absent the check is skipped, saying so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.settings import Settings
from graph.text import fold
from loaders.casefile import CaseFile, discover, validate_cases
from loaders.draft.text import normalized_article as without_page_noise

REPO = Path(__file__).resolve().parent.parent
SOURCES = Settings().sources_dir

ARTICLE_CASES = [c for c in validate_cases(discover([REPO / "data"])) if c.source.kind == "article"]


def normalized_article(path: Path) -> str:
    return fold(without_page_noise(path.read_text(encoding="utf-8")))


def quotes(case: CaseFile) -> list[tuple[str, str]]:
    out = [(e.id, e.evidence) for e in case.entities]
    out += [(q.id, q.evidence) for q in case.quantities]
    out += [(" ".join(r.key), r.evidence) for r in case.relations]
    return out


@pytest.mark.skipif(not SOURCES.is_dir(), reason=f"the source articles are not here ({SOURCES} is absent)")
@pytest.mark.parametrize("case", ARTICLE_CASES, ids=lambda c: c.path.name)
def test_every_quote_is_in_its_article(case: CaseFile) -> None:
    assert case.source.file
    article = SOURCES / case.source.file
    assert article.is_file(), f"{case.path} cites {case.source.file}, which is not in {SOURCES}"
    text = normalized_article(article)
    missing = [f"{what}: {quote}" for what, quote in quotes(case) if fold(quote) not in text]
    assert not missing, f"{len(missing)} quote(s) not found in {article.name}:\n" + "\n".join(missing)


def test_every_article_is_curated() -> None:
    if not SOURCES.is_dir():
        pytest.skip(f"the source articles are not here ({SOURCES} is absent)")
    articles = {p.name for p in SOURCES.glob("*.txt")}
    assert articles == {c.source.file for c in ARTICLE_CASES}
