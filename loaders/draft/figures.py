"""Figures: value, base unit, qualifier (余/多/约/以上, ranges such as 1-2 and 数十) and year."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from loaders.draft import vocabulary as V
from loaders.draft.text import Article, Sentence

_UNIT = "|".join(sorted((re.escape(u) for u in V.UNITS), key=len, reverse=True))
_NUMBER = r"\d+(?:\.\d+)?"
# 1-2人, 3至5个 | 数十次, 几百人 | 约50余万元 ...
_RANGE = re.compile(rf"({_NUMBER})\s*[-~～—–至到]\s*({_NUMBER})\s*(万|亿)?({_UNIT})")
_WORD_RANGE = re.compile(rf"([数几])([十百千])(余|多)?(万)?({_UNIT})")
_FIGURE = re.compile(
    rf"(约|近|超过|逾|至少|不少于|不到|不足|低于)?\s*({_NUMBER})\s*(余|多)?\s*(万|亿|千)?\s*(余|多)?\s*({_UNIT})(以上|以下|左右)?"
)
_YEAR = re.compile(r"((?:19|20)\d\d)年")
_SCALE = {"万": 10_000, "亿": 100_000_000, "千": 1_000}
_WORD_SCALE = {"十": 10, "百": 100, "千": 1_000}
_OVER = ("余", "多", "超过", "逾", "至少", "不少于", "以上")
_ABOUT = ("约", "近", "左右")
_UNDER = ("不到", "不足", "低于", "以下")
# Words left of a figure that are not what it measures.
_MEASURE_TRIM = re.compile(
    r"^(?:[,,。;、:]|共|累计|全年|其中|已|目前|现有|达到|达|实现|完成|新增|带动|吸纳|有)+"
)


@dataclass
class Figure:
    at: int  # offset of the figure in Article.text
    end: int
    measure: str
    unit: str
    qualifier: str
    value: float | None
    min: float | None
    max: float | None
    year: int | None
    sentence: Sentence


def _measure(s: Sentence, start: int, end: int) -> str:
    """What the figure counts: the words between the clause's start and the figure, or the
    noun after it (下派53名农技专家 counts 农技专家)."""
    local = start - s.start
    clause_start = max(s.text.rfind(c, 0, local) for c in ",,。;、:") + 1
    left = _MEASURE_TRIM.sub("", s.text[clause_start:local]).strip()
    left = re.sub(r"(?:19|20)\d\d年(?:以来)?", "", left)
    right = re.split(r"[,,。;、:()\d]", s.text[end - s.start :], maxsplit=1)[0][:8]
    if len(left) >= 2:
        return left[-12:] + (right if len(right) <= 4 and right else "")
    return right if len(right) >= 2 else (left + right).strip() or "数量"


def _qualifier(words: str) -> str:
    if any(w in words for w in _OVER):
        return "over"
    if any(w in words for w in _ABOUT):
        return "about"
    if any(w in words for w in _UNDER):
        return "under"
    return "exact"


def find_figures(article: Article) -> Iterator[Figure]:
    for s in article.prose:
        years = [int(y) for y in _YEAR.findall(s.text)]
        year = years[0] if years else None
        taken: list[tuple[int, int]] = []
        for m in _RANGE.finditer(s.text):
            unit, mult = V.UNITS[m.group(4)]
            mult *= _SCALE.get(m.group(3) or "", 1)
            lo, hi = float(m.group(1)) * mult, float(m.group(2)) * mult
            if lo >= hi:
                continue
            at, end = s.start + m.start(), s.start + m.end()
            taken.append((m.start(), m.end()))
            yield Figure(at, end, _measure(s, at, end), unit, "range", None, lo, hi, year, s)
        for m in _WORD_RANGE.finditer(s.text):
            unit, mult = V.UNITS[m.group(5)]
            base = _WORD_SCALE[m.group(2)] * (10_000 if m.group(4) else 1) * mult
            at, end = s.start + m.start(), s.start + m.end()
            taken.append((m.start(), m.end()))
            yield Figure(at, end, _measure(s, at, end), unit, "range", None, 2 * base, 9 * base, year, s)
        for m in _FIGURE.finditer(s.text):
            if any(a <= m.start() < b for a, b in taken):
                continue
            bound, number, over1, scale, over2, unit_word, tail = m.groups()
            after = s.text[m.end() : m.end() + 1]
            if unit_word == "个" and after in "月":
                continue
            if s.text[m.start(2) - 1 : m.start(2)] in ("第",) or (
                unit_word in ("名", "个") and number.startswith("0")
            ):
                continue
            # a year is not a figure (2019年), nor a date
            if len(number) == 4 and number.startswith(("19", "20")) and unit_word not in V.UNITS:
                continue
            unit, mult = V.UNITS[unit_word]
            value = float(number) * mult * _SCALE.get(scale or "", 1)
            qualifier = _qualifier("".join(x for x in (bound, over1, over2, tail) if x))
            at, end = s.start + m.start(), s.start + m.end()
            yield Figure(at, end, _measure(s, at, end), unit, qualifier, value, None, None, year, s)
