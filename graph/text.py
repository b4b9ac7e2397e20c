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
from pypinyin import lazy_pinyin

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
    if text.isascii():  # NFKC and OpenCC leave ASCII as it is (tests/test_text.py): pinyin, codes
        return _SPACES.sub("", text).lower().replace(SEARCH_SEPARATOR, "")
    text = unicodedata.normalize("NFKC", text)
    return _SPACES.sub("", to_simplified(text)).lower().replace(SEARCH_SEPARATOR, "")


# Marks a stretch pypinyin has no pinyin for (kept whole by both `pinyin` and `initials`).
_NO_PINYIN = "\x00"


# Cached: a bulk load computes the pinyin of the same names (villages, people, the shared
# vocabulary) over and over; pypinyin's segmentation is the costly part, so it runs once per
# text for both the pinyin and the initials (pypinyin's FIRST_LETTER style is the first letter
# of the same toneless syllable; tests/test_text.py holds the two equal).
@lru_cache(maxsize=1 << 16)
def _syllables(text: str) -> tuple[str, ...]:
    return tuple(lazy_pinyin(to_simplified(text), v_to_u=False, errors=lambda chars: _NO_PINYIN + chars))


def pinyin(text: str) -> str:
    """Toneless pinyin, syllables separated by spaces (ü written v, as typed): 芹溪村 -> qin xi cun."""
    return " ".join(p for p in (s.removeprefix(_NO_PINYIN) for s in _syllables(text)) if p.strip()).lower()


def initials(text: str) -> str:
    return "".join(s[1:] if s.startswith(_NO_PINYIN) else s[:1] for s in _syllables(text)).lower()


# Cached: a row's name_keys and search_key fold the same name, pinyin and initials (665,271
# division rows nationally, where this folding was a third of the Python time per row).
@lru_cache(maxsize=1 << 16)
def _forms(name: str) -> tuple[str, str, str]:
    """The folded name, its folded pinyin and its folded initials."""
    return fold(name), fold(pinyin(name)), fold(initials(name))


def name_keys(name: str) -> dict[str, str]:
    """The keys search finds a name by its start with (range indexes): the folded name, its
    pinyin and its initials."""
    key_name, key_pinyin, key_initials = _forms(name)
    return {"key_name": key_name, "key_pinyin": key_pinyin, "key_initials": key_initials}


def search_key(names: Iterable[str]) -> str:
    """One string to CONTAINS-match against: folded names, their pinyin and initials."""
    parts: list[str] = []
    for name in names:
        if _CJK.search(name):
            parts.extend(_forms(name))
        else:
            parts.append(fold(name))
    unique = dict.fromkeys(p for p in parts if p)
    return SEARCH_SEPARATOR + SEARCH_SEPARATOR.join(unique) + SEARCH_SEPARATOR
