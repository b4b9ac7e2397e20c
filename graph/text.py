"""Chinese text normalization shared by the loader (what it stores) and queries (what they look up).

Names are stored in simplified Chinese; a search key holds every simplified form of a name and
its aliases plus their pinyin and pinyin initials, so a query in traditional script, simplified
script, pinyin or initials finds the same node with one CONTAINS on one indexed property.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import opencc
from pypinyin import Style, lazy_pinyin

SEARCH_SEPARATOR = "|"
HIDDEN_PROPS = frozenset({"id", "search", "search_scope", "key_name", "key_pinyin", "key_initials"})
"""Stored for lookups, not shown among an entity's properties."""
_SPACES = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u9fff]")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return str(_t2s().convert(text))


def fold(text: str) -> str:
    """The comparable form of a string: NFKC (full-width to half-width), simplified, lower case,
    no whitespace, no separator."""
    text = unicodedata.normalize("NFKC", text)
    return _SPACES.sub("", to_simplified(text)).lower().replace(SEARCH_SEPARATOR, "")


# Cached: a bulk load computes the pinyin of the same names (villages, people, the shared
# vocabulary) over and over; pypinyin's segmentation is the costly part.
@lru_cache(maxsize=1 << 16)
def pinyin(text: str) -> str:
    """Toneless pinyin, syllables separated by spaces (ü written v, as typed): 芹溪村 -> qin xi cun."""
    return " ".join(p for p in lazy_pinyin(to_simplified(text), v_to_u=False) if p.strip()).lower()


@lru_cache(maxsize=1 << 16)
def initials(text: str) -> str:
    return "".join(lazy_pinyin(to_simplified(text), style=Style.FIRST_LETTER)).lower()


def name_keys(name: str) -> dict[str, str]:
    """The keys search finds a name by its start with (range indexes): the folded name, its
    pinyin and its initials."""
    return {"key_name": fold(name), "key_pinyin": fold(pinyin(name)), "key_initials": fold(initials(name))}


def search_key(names: Iterable[str]) -> str:
    """One string to CONTAINS-match against: folded names, their pinyin and initials."""
    parts: list[str] = []
    for name in names:
        parts.append(fold(name))
        if _CJK.search(name):
            parts.append(fold(pinyin(name)))
            parts.append(fold(initials(name)))
    unique = dict.fromkeys(p for p in parts if p)
    return SEARCH_SEPARATOR + SEARCH_SEPARATOR.join(unique) + SEARCH_SEPARATOR
