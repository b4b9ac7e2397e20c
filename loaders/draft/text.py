"""The article as the draft reads it: normalised text cut into sentences and clauses.

Quotes are taken from this text, which is the article after the same normalisation the
curation test applies before it looks a quote up (inserted pinyin removed, traditional
script simplified), so every quote the draft proposes is found in its article.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from graph.text import fold, to_simplified
from loaders.quotes import without_inserted_pinyin

_TAG = re.compile(r"<[^>]*>")
_CJK = re.compile(r"[\u3400-\u9fff]")
# A sentence runs to its end mark; a line break ends one too (pages put headings on lines).
_SENTENCE = re.compile(r"[^。!?;\n]+[。!?;]?")
_CLAUSE_END = re.compile(r"(?<=[,,、:：])")
_PROSE = re.compile(r"[,。;:、]")
_CLAUSE_MARKS = " ,、:"
MAX_QUOTE = 200
"""The longest evidence a case file takes (graph.model.Evidence)."""


def normalized_article(raw: str) -> str:
    """The article as quotes are looked up in: pinyin insertions removed, simplified script."""
    return to_simplified(without_inserted_pinyin(raw))


def quote_is_verbatim(quote: str, normalized: str) -> bool:
    """Whether a quote is in the article, compared as the curation test compares (fold)."""
    return fold(quote) in fold(normalized)


@dataclass(frozen=True)
class Sentence:
    index: int
    start: int  # offset in Article.text
    text: str

    @property
    def end(self) -> int:
        return self.start + len(self.text)


class Article:
    """A captured article: its normalised text and the sentences worth reading.

    Lines that are only markup, links or site furniture (no Chinese characters) are skipped;
    their text stays in `text`, so offsets and quotes refer to the normalised article itself.
    """

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.text = unicodedata.normalize("NFKC", normalized_article(raw))

    @classmethod
    def read(cls, path: Path) -> Article:
        return cls(path.read_text(encoding="utf-8"))

    @cached_property
    def sentences(self) -> list[Sentence]:
        out: list[Sentence] = []
        for m in _SENTENCE.finditer(self.text):
            piece = m.group()
            stripped = piece.strip()
            if len(_CJK.findall(_TAG.sub("", stripped))) < 2:
                continue
            lead = len(piece) - len(piece.lstrip())
            out.append(Sentence(len(out), m.start() + lead, stripped))
        return out

    @cached_property
    def prose(self) -> list[Sentence]:
        """The sentences of the article itself: with a clause mark or long enough, so a
        page's link lists (漳平市| 普洱| ...) and bylines are not read as its content."""
        return [
            s for s in self.sentences if "|" not in s.text and (_PROSE.search(s.text) or len(s.text) >= 16)
        ]

    @cached_property
    def year(self) -> int | None:
        """The year the page was published, the first plausible date in the text."""
        m = re.search(r"(20\d\d|19\d\d)[-年./](\d{1,2})[-月./](\d{1,2})", self.text)
        return int(m.group(1)) if m else None

    def sentence_at(self, offset: int) -> Sentence | None:
        for s in self.sentences:
            if s.start <= offset < s.end:
                return s
        return None


def quote(sentence: str, start: int = 0, end: int | None = None) -> str:
    """The evidence for a span of a sentence: the sentence, or when longer than a case file
    takes, the clauses around the span."""
    end = len(sentence) if end is None else end
    text = sentence.strip()
    if len(text) <= MAX_QUOTE:
        return text
    bounds = [0] + [m.start() for m in _CLAUSE_END.finditer(sentence)] + [len(sentence)]
    lo = max(b for b in bounds if b <= start)
    hi = min(b for b in bounds if b >= end)
    while hi - lo > MAX_QUOTE and hi > end:
        hi -= 1
    piece = sentence[lo:hi].strip(_CLAUSE_MARKS)
    if len(piece) > MAX_QUOTE:
        piece = sentence[max(start - 20, 0) : max(start - 20, 0) + MAX_QUOTE]
    return piece.strip()
