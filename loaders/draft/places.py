"""Places: every division of the official list the article names, told apart by the places
named around it.

One streaming pass over the 665,271 divisions keeps those whose name, or name without its
suffix, occurs in the article, and every village of the counties the article is about (for
the candidates of a village the list does not hold). A name that several divisions bear
(龙溪 is a township in many counties) is resolved to the one whose ancestors or descendants
the article also names; where two or more fit equally, the proposal lists them with their
region paths and picks none.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from pypinyin import lazy_pinyin

from graph.divisions import CODE_LENGTHS, LEVEL_LABELS, full_code, parent_code
from loaders.draft.segment import Segmenter
from loaders.draft.text import Article
from loaders.gazetteer import VARIANTS, official_key, read_rows

_VILLAGE_COMMITTEE = (
    "村民委员会",
    "社区居民委员会",
    "居民委员会",
    "社区居委会",
    "村委会",
    "居委会",
    "委员会",
)
_VILLAGE_SUFFIX = ("社区", "村")
# Characters that may stand right after a short form of a place name (芹溪、际头) or before it.
_DELIMITERS = frozenset('、,，和与及等:;。 \n“”"()')
# What may follow a short name and still make it a place: its own kind of suffix.
_LEVEL_SUFFIXES: dict[int, tuple[str, ...]] = {
    1: ("省", "市", "自治区"),
    2: ("市", "州", "地区", "盟"),
    3: ("县", "市", "区", "旗"),
    4: ("镇", "乡", "街道"),
    5: ("村", "社区", "居委会"),
}
_CJK = re.compile(r"[\u3400-\u9fff]")
# A list of villages the article names with their suffix: 甲村、乙村、丙村.
_VILLAGE_LIST = re.compile(r"(?:[\u4e00-\u9fff]{1,5}村、)+[\u4e00-\u9fff]{1,5}村")
# Words before 村 that make no name (三个村, 各村, 强村): a count, a determiner, a kind of village.
_NOT_A_NAME = re.compile(
    r"^(?:[0-9一二三四五六七八九十百几数两多各全本该每此其个]+|.*(?:强|弱|贫困|薄弱|示范|重点|试点|典型|行政|自然|联建|项目))$"
)
# Romanised provinces that the toneless pinyin alone would merge (山西/陕西) or spell unusually.
_PROVINCE_SLUGS = {"陕西": "shaanxi", "内蒙古": "neimenggu"}
MAX_CANDIDATES = 5
# How much a shared ancestor says: the same county or township, much; the same province, little
# (a 发展村 somewhere in the article's province is no reason to read 发展 as a village).
_ANCESTOR_WEIGHT = {1: 0.2, 2: 0.4, 3: 1.0, 4: 1.5, 5: 1.5}


def slug(name: str, village: bool = False) -> str:
    """Toneless pinyin of a place name's core, run together (ü as v), as curated ids spell them
    (a village's core keeps what would be a county suffix elsewhere: 红旗村 is hongqi)."""
    key = _village_key(name) if village else official_key(name)
    if key in _PROVINCE_SLUGS:
        return _PROVINCE_SLUGS[key]
    return "".join(p for p in lazy_pinyin(key, v_to_u=False) if p.isascii() and p.isalnum()).lower()


def level_of(code: str) -> int:
    return CODE_LENGTHS.index(len(code)) + 1


def _village_key(name: str) -> str:
    for suffix in _VILLAGE_COMMITTEE:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    for suffix in _VILLAGE_SUFFIX:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


@dataclass
class Candidate:
    code: str  # at its own length
    name: str
    path: str  # the region path: 安徽省/黄山市/黟县/宏村镇

    @property
    def level(self) -> int:
        return level_of(self.code)


@dataclass
class PlaceProposal:
    """One place the article names: its division, or the candidates when none is sure."""

    form: str  # the name as the article writes it (大溪, 大溪村, 安吉县)
    label: str
    start: int  # first mention, in Article.text
    candidates: list[Candidate]
    chosen: Candidate | None
    confidence: float
    absent: bool = False  # named as a place the official list does not hold there
    reason: str = ""
    mentions: list[int] = field(default_factory=list)
    suffix: str = ""  # the suffix the article writes after the form (村 in 红旗村)

    @property
    def name(self) -> str:
        """The name the case file gives it: the article's form with its suffix (大溪村)."""
        if self.chosen is None:
            return self.form + self.suffix
        if self.chosen is not None:
            shown = _display_name(self.chosen.name, self.form)
            core = official_key(self.form.translate(VARIANTS))
            return self.form + shown[len(core) :] if shown.startswith(core) else shown
        return self.form


def _display_name(official: str, form: str) -> str:
    """A village is named by its usual name, not the committee's (大溪村, not 大溪村委会)."""
    for suffix in _VILLAGE_COMMITTEE:
        if official.endswith(suffix):
            core = official[: -len(suffix)]
            return (
                core
                if core.endswith(_VILLAGE_SUFFIX)
                else core + ("社区" if "社区" in suffix or "居" in suffix else "村")
            )
    return official


@dataclass
class _Form:
    """A surface form and the divisions it may stand for."""

    text: str
    codes: set[str] = field(default_factory=set)
    strong: list[int] = field(default_factory=list)  # offsets where it reads as a place
    weak: list[int] = field(default_factory=list)  # offsets of a short form among delimiters


def _substrings(article: Article, longest: int = 12) -> set[str]:
    out: set[str] = set()
    for s in article.prose:
        text = s.text.translate(VARIANTS)
        for i in range(len(text)):
            if _CJK.match(text[i]):
                for j in range(i + 2, min(i + longest, len(text)) + 1):
                    out.add(text[i:j])
    return out


class PlaceFinder:
    """Finds and resolves the places of one article."""

    def __init__(self, article: Article, segmenter: Segmenter) -> None:
        self.article = article
        # the article as the official list writes its characters (坵 as 丘); offsets unchanged
        self.text = article.text.translate(VARIANTS)
        self.segmenter = segmenter
        self.names: dict[str, str] = {}  # code -> official name, every division kept
        self.forms: dict[str, _Form] = {}
        self.local_villages: dict[str, str] = {}  # code -> name, villages of the article's counties
        # offsets where a word starts or ends, and where prose (not site furniture) is
        self.boundaries: set[int] = set()
        self.prose_starts: set[int] = set()
        for sentence in article.prose:
            self.prose_starts.update(range(sentence.start, sentence.end))
            pos = sentence.start
            for word in segmenter.words(sentence.text):
                self.boundaries.add(pos)
                pos += len(word)
            self.boundaries.add(pos)

    # -- the scan -------------------------------------------------------------------------------

    def scan(self) -> None:
        subs = _substrings(self.article)
        context_counties: tuple[str, ...] | None = None
        matched: dict[str, list[str]] = defaultdict(list)  # form -> codes
        # a name the article holds starts with one of its two-character pieces: most of the
        # 620,572 villages are passed over on that test alone
        pairs = {x[:2] for x in subs}
        for code, name in read_rows():
            if len(code) == 12:
                if context_counties is None:
                    self._collect(matched)
                    context_counties = self._context_counties()
                if code.startswith(context_counties):
                    self.local_villages[code] = name
                if name[:2] not in pairs:
                    continue
                key = _village_key(name)
                form = key if len(key) >= 2 else name
                if form in subs:
                    self.names[code] = name
                    matched[form].append(code)
                continue
            self.names[code] = name
            if name[:2] not in pairs:
                continue
            key = official_key(name)
            form = key if len(key) >= 2 else name
            if form in subs:
                matched[form].append(code)
        self._collect(matched)

    def _collect(self, matched: dict[str, list[str]]) -> None:
        for form, codes in matched.items():
            self.forms.setdefault(form, _Form(form)).codes.update(codes)

    def _mentions(self, f: _Form, codes: set[str]) -> None:
        """Where the form reads as a place of the candidates' levels: with its suffix, or as a
        whole word among list delimiters; a short form inside a longer word never counts."""
        f.strong, f.weak = [], []
        text, form = self.text, f.text
        officials = {self.names.get(c, "") for c in codes} - {""}
        levels = {level_of(c) for c in codes}
        start = text.find(form)
        while start >= 0:
            end = start + len(form)
            after, before = text[end : end + 3], text[start - 1] if start > 0 else "\n"
            left = start in self.boundaries or before in _DELIMITERS
            right = end in self.boundaries or after[:1] in _DELIMITERS
            if start not in self.prose_starts:
                pass
            elif any(after.startswith(x) for lv in levels for x in _LEVEL_SUFFIXES[lv]) or any(
                text.startswith(o, start) and (len(o) >= 3 or (left and right)) for o in officials
            ):
                f.strong.append(start)
            elif left and right and (before in _DELIMITERS or after[:1] in _DELIMITERS or min(levels) <= 3):
                f.weak.append(start)
            start = text.find(form, start + 1)

    def _context_counties(self) -> tuple[str, ...]:
        """The counties the article is about: those of the places it names in full."""
        resolved = self._resolve_all(villages=False)
        counties: set[str] = set()
        for p in resolved:
            for c in [p.chosen] if p.chosen else p.candidates:
                if c.level >= 3:
                    counties.add(c.code[:6])
        return tuple(sorted(counties)) or ("-",)

    # -- resolution -----------------------------------------------------------------------------

    def _path(self, code: str) -> str:
        parts: list[str] = []
        c: str | None = code
        while c:
            parts.append(self.names.get(c, self.local_villages.get(c, c)))
            c = parent_code(c)
        return "/".join(reversed(parts))

    def _candidate(self, code: str) -> Candidate:
        return Candidate(code, self.names.get(code, self.local_villages.get(code, "")), self._path(code))

    def _ancestors(self, code: str) -> list[str]:
        out: list[str] = []
        c = parent_code(code)
        while c:
            out.append(c)
            c = parent_code(c)
        return out

    def _resolve_all(self, villages: bool = True) -> list[PlaceProposal]:
        codes_of: dict[str, set[str]] = {}
        forms: list[_Form] = []
        for f in self.forms.values():
            codes = {c for c in f.codes if villages or level_of(c) < 5}
            # a form takes only the levels whose suffix or delimiters it is read with
            fitting: set[str] = set()
            for level in sorted({level_of(c) for c in codes}):
                at_level = {c for c in codes if level_of(c) == level}
                self._mentions(f, at_level)
                if f.strong or f.weak:
                    fitting |= at_level
            if fitting:
                self._mentions(f, fitting)
                forms.append(f)
                codes_of[f.text] = fitting
        forms = self._drop_covered(forms)
        ancestors_of = {f.text: {a for c in codes_of[f.text] for a in self._ancestors(c)} for f in forms}
        out: list[PlaceProposal] = []
        for f in forms:
            codes = codes_of[f.text]
            scored: list[tuple[float, str]] = []
            for code in codes:
                mine = self._ancestors(code)
                support = 0.0
                for g in forms:
                    if g.text in f.text or f.text in g.text:
                        continue
                    weight = 1.0 if g.strong else 0.5
                    shared = [a for a in mine if a in codes_of[g.text]]
                    if shared:
                        support += weight * _ANCESTOR_WEIGHT[level_of(shared[0])]
                    elif code in ancestors_of[g.text]:
                        support += weight
                scored.append((support, code))
            scored.sort(key=lambda t: (-t[0], t[1]))
            best = scored[0][0]
            top = [c for sc, c in scored if sc == best]
            level = min(level_of(c) for c in top)
            full = bool(f.strong)
            if (level >= 4 and best < 1) or (not f.strong and best < 1.5):
                continue  # a name with nothing around it, or a bare word: most likely not a place
            if level <= 3 and best == 0 and not (full and len(top) == 1):
                continue
            start = min(f.strong + f.weak)
            as_written = self.article.text[start : start + len(f.text)]  # 芹太坵, not the list's 芹太丘
            label = LEVEL_LABELS[level_of(top[0]) - 1]
            mentions = sorted(f.strong + f.weak)
            if len(top) == 1:
                conf = 0.95 if best >= 2 else 0.85 if best >= 1 else 0.6
                chosen = self._candidate(top[0])
                out.append(PlaceProposal(as_written, label, start, [chosen], chosen, conf, mentions=mentions))
            else:
                cands = [self._candidate(c) for c in top[:MAX_CANDIDATES]]
                reason = f"{len(top)} divisions fit equally"
                after = self.text[start + len(f.text) : start + len(f.text) + 3]
                suffix = next((x for x in _LEVEL_SUFFIXES[level_of(top[0])] if after.startswith(x)), "")
                out.append(
                    PlaceProposal(
                        as_written,
                        label,
                        start,
                        cands,
                        None,
                        0.4,
                        reason=reason,
                        mentions=mentions,
                        suffix=suffix,
                    )
                )
        return out

    def _drop_covered(self, forms: list[_Form]) -> list[_Form]:
        """A short form counts only where no longer place name covers it (安吉 inside 安吉县)."""
        spans = sorted(
            ((s, s + len(f.text)) for f in forms for s in f.strong),
            key=lambda t: (t[0], -(t[1] - t[0])),
        )
        kept: list[_Form] = []
        for f in forms:
            n = len(f.text)

            def covered(s: int, n: int = n) -> bool:
                return any(a <= s and s + n <= b and (b - a) > n for a, b in spans)

            f.strong = [s for s in f.strong if not covered(s)]
            f.weak = [s for s in f.weak if not covered(s)]
            if f.strong or f.weak:
                kept.append(f)
        return kept

    # -- villages the list does not hold ------------------------------------------------------------

    def absent_villages(self, found: list[PlaceProposal]) -> list[PlaceProposal]:
        """Villages named in a list with their suffix (甲村、乙村、丙村) that no division fits in
        the places around them: reported with the nearest candidates, never matched."""
        known = {p.form for p in found} | {p.name for p in found}
        townships = [p.chosen for p in found if p.chosen and p.chosen.level == 4]
        counties = [p.chosen for p in found if p.chosen and p.chosen.level == 3]
        out: dict[str, PlaceProposal] = {}
        for s in self.article.sentences:
            for m in _VILLAGE_LIST.finditer(s.text):
                items = m.group().split("、")
                items[0] = self._first_item(s.text, s.start, m.start(), items[0])
                for item in items:
                    core = item[:-1]
                    if (
                        len(core) < 2
                        or item in known
                        or core in known
                        or _NOT_A_NAME.match(core)
                        or item in out
                    ):
                        continue
                    offset = self.article.text.find(item, s.start)
                    scope = self._scope_for(offset, townships, counties)
                    if scope is None:
                        continue
                    cands = self._nearest(core, scope)
                    out[item] = PlaceProposal(
                        item,
                        "Village",
                        offset,
                        cands,
                        None,
                        0.5,
                        absent=True,
                        reason=f"not in the 2023 list in {scope.name}",
                        mentions=[offset],
                    )
        return list(out.values())

    def _first_item(self, sentence: str, sentence_start: int, at: int, item: str) -> str:
        """The first name of a list starts where the words before it end (以甲村: 甲村)."""
        tokens = self.segmenter.cut(sentence[: at + len(item)])
        name = ""
        for t in reversed(tokens):
            if t.word == "村" and not name:
                continue
            if t.flag[:1] in ("p", "v", "c", "u", "x", "m", "r", "d") and name:
                break
            name = t.word + name
            if len(name) >= len(item) - 1:
                break
        name = name.removesuffix("村")
        name = name[-(len(item) - 1) :] if name else item[:-1]
        return name + "村"

    def _scope_for(
        self, offset: int, townships: list[Candidate], counties: list[Candidate]
    ) -> Candidate | None:
        """The township (else the county) the article names nearest before a place."""

        def nearest(cands: list[Candidate]) -> Candidate | None:
            best: tuple[int, Candidate] | None = None
            for c in cands:
                form = official_key(c.name)
                pos = self.article.text.rfind(form, 0, offset)
                if pos < 0:
                    pos = self.article.text.find(form)
                    dist = abs(pos - offset) + 100_000 if pos >= 0 else 10**9
                else:
                    dist = offset - pos
                if best is None or dist < best[0]:
                    best = (dist, c)
            return best[1] if best else None

        return nearest(townships) or nearest(counties)

    def _nearest(self, core: str, scope: Candidate) -> list[Candidate]:
        county = scope.code[:6]
        pool = {c: n for c, n in self.local_villages.items() if c.startswith(county)}
        same = [c for c, n in pool.items() if _village_key(n) == core]
        inside = {c: n for c, n in pool.items() if c.startswith(scope.code)}
        scored = sorted(
            inside,
            key=lambda c: (-difflib.SequenceMatcher(None, core, _village_key(inside[c])).ratio(), c),
        )
        codes = list(dict.fromkeys(same + scored))[: MAX_CANDIDATES - 1]
        return [self._candidate(c) for c in codes]

    def find(self) -> list[PlaceProposal]:
        self.scan()
        found = self._resolve_all()
        self.segmenter.add_words({p.form for p in found} | {p.name for p in found}, "ns")
        found += self.absent_villages(found)
        return sorted(found, key=lambda p: p.start)


def find_places(article: Article, segmenter: Segmenter) -> list[PlaceProposal]:
    return PlaceFinder(article, segmenter).find()


def twelve(code: str) -> str:
    return full_code(code)


def place_forms(proposals: Iterable[PlaceProposal]) -> set[str]:
    return {p.form for p in proposals} | {p.name for p in proposals}
