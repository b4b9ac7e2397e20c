"""Pinyin and initials come from one pypinyin pass (graph/text.py): they must stay what
pypinyin's own NORMAL and FIRST_LETTER styles give, which search keys were built with.
(All 685,719 distinct division names and short names were compared once when the change was
made; here a slice of them, and the odd cases, each run.)"""

from __future__ import annotations

import re
import unicodedata
from itertools import islice

from pypinyin import Style, lazy_pinyin

from graph.text import fold, initials, pinyin, to_simplified
from loaders.gazetteer import read_divisions, short_name

ODD = ["芹溪村", "abc第1村", "重庆市", "绿村", "A区 B", "吕家庄", "〇村", "ABC", "長樂", "", "  "]


def test_one_pass_gives_pypinyins_styles() -> None:
    names = ODD + [n for d in islice(read_divisions(), 0, None, 97) for n in (d.name, short_name(d.name))]
    assert len(names) > 13_000
    for name in names:
        text = to_simplified(name)
        assert pinyin(name) == " ".join(p for p in lazy_pinyin(text, v_to_u=False) if p.strip()).lower()
        assert initials(name) == "".join(lazy_pinyin(text, style=Style.FIRST_LETTER)).lower()


def test_ascii_folds_without_nfkc_and_opencc() -> None:
    """fold() skips NFKC and OpenCC for ASCII text (pinyin, codes): both leave every ASCII
    character as it is, so the short path gives what the long one does."""
    text = "".join(chr(i) for i in range(128))
    assert unicodedata.normalize("NFKC", text) == text
    assert to_simplified(text) == text
    for sample in (text, "Qin Xi  Cun|350925", "ABC\tdef\n", "qx|c"):
        assert fold(sample) == re.sub(r"\s+", "", sample).lower().replace("|", "")
