"""Names other than places: people and groups with their roles, organisations, alliances,
branches, enterprises and cooperatives, projects, practices and industries.

Organisations and projects are read from the last word of their name (党委, 联合社, 基地 ...)
and extended leftwards over jieba's nouns and place names until a verb, preposition or
punctuation; people are jieba's `nr` words that start with a surname and stand next to a
role; practices are the quoted names of mechanisms (“1+3+N”, 《...规划》).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from loaders.draft import vocabulary as V
from loaders.draft.proposals import EntityProposal
from loaders.draft.segment import Segmenter, Token
from loaders.draft.text import Article, Sentence

# jieba tags a name may be built of: nouns, place and proper names, idioms, abbreviations.
_NAME_FLAGS = (
    "n",
    "nr",
    "ns",
    "nt",
    "nz",
    "nrt",
    "ng",
    "vn",
    "an",
    "j",
    "l",
    "eng",
    "b",
    "s",
    "nrfg",
    "tg",
    "zg",
)
_NAME_JOINERS = ("—", "-", "·")
_LEADING_PARTICLES = "了的在和与及"
# Words that end a name when reading leftwards: particles, determiners, and the verbs of
# founding and leading a name follows (成立万宝山...: the name starts after 成立).
_STOP_WORDS = frozenset(
    [
        "的",
        "与",
        "和",
        "及",
        "或",
        "等",
        "各",
        "全",
        "该",
        "其",
        "由",
        "在",
        "为",
        "了",
        "将",
        "把",
        "对",
        "向",
        "从",
        "以",
        "并",
        "也",
        "都",
        "又",
        "再",
        "这",
        "那",
        "每",
        "是",
        "有",
        "个",
        "于",
        "被",
        "让",
        "使",
        "给",
        "成功",
        "积极",
        "大力",
        "全面",
        "进一步",
        "不断",
        "已",
        "已经",
        "正在",
        "共",
        "同",
        "新",
        "原",
        "新一届",
        "所在",
        "成为",
        "作为",
        "通过",
        "依托",
        "围绕",
        "按照",
        "建立",
        "成立",
        "组建",
        "引进",
        "打造",
        "推动",
        "推进",
        "实施",
        "开展",
        "形成",
        "实现",
        "探索",
        "培育",
        "设立",
        "吸纳",
        "加强",
        "联动",
        "整合",
        "采取",
        "坚持",
        "带动",
        "带领",
        "领办",
        "牵头",
        "指导",
        "帮助",
        "负责",
        "适时",
        "邀请",
        "聘请",
    ]
)
_QUOTED = re.compile(r"[“\"]([^“”\"]{2,30})[”\"]")
_BOOK = re.compile(r"《([^《》]{2,40})》")
_ORG_SUFFIX = re.compile("|".join(sorted((re.escape(s) for s in V.ORG_SUFFIXES), key=len, reverse=True)))
_PROJECT_SUFFIX = re.compile(
    "|".join(sorted((re.escape(s) for s in V.PROJECT_SUFFIXES), key=len, reverse=True))
)
_GROUP = re.compile(
    r"(\d+|[一二两三四五六七八九十]+)("
    + "|".join(V.GROUP_UNITS)
    + r")([^,。;、]{0,6}?)("
    + "|".join(sorted(V.GROUP_ROLES, key=len, reverse=True))
    + ")"
)
MAX_NAME = 20
# Words that follow a person's name (and so vouch for it): posts, honorifics, memorials.
_AFTER_A_NAME = (
    "担任",
    "同志",
    "书记",
    "任",
    "先生",
    "女士",
    "烈士",
    "故居",
    "纪念馆",
    "旧居",
    "表示",
    "说",
    "介绍",
)


class EntityFinder:
    def __init__(self, article: Article, segmenter: Segmenter) -> None:
        self.article = article
        self.segmenter = segmenter
        self.tokens: dict[int, list[Token]] = {}

    def _tokens(self, s: Sentence) -> list[Token]:
        if s.index not in self.tokens:
            self.tokens[s.index] = self.segmenter.cut(s.text, s.start)
        return self.tokens[s.index]

    def _extend_left(self, s: Sentence, start: int) -> int:
        """Where a name ending in a suffix at `start` begins: back over name-like words."""
        tokens = self._tokens(s)
        # the word holding the suffix's first character may hold part of the name too
        begin = start
        for t in tokens:
            if t.start < start < t.start + len(t.word):
                if t.word not in _STOP_WORDS and t.flag.startswith(_NAME_FLAGS):
                    begin = t.start
                break
        left = [t for t in tokens if t.start + len(t.word) <= begin]
        for i in range(len(left) - 1, -1, -1):
            t = left[i]
            if t.start + len(t.word) != begin:
                break
            ok = t.word in _NAME_JOINERS or (t.word not in _STOP_WORDS and t.flag.startswith(_NAME_FLAGS))
            # a word of joint organisations the segmenter cut in two (联/村党委)
            ok = ok or any(self.article.text.startswith(w, t.start) for w in V.ALLIANCE_MARKERS)
            # a verb inside a name (旅游开发有限公司) when a name word stands before it
            if not ok and t.flag == "v" and len(t.word) >= 2 and t.word not in _STOP_WORDS and i > 0:
                prev = left[i - 1]
                ok = (
                    prev.word not in _STOP_WORDS and prev.flag.startswith(_NAME_FLAGS) and len(prev.word) >= 2
                )
            if not ok or start - t.start > MAX_NAME:
                break
            begin = t.start
        text = self.article.text
        # a quoted name before the words: “甲乙”联盟
        if begin > s.start and text[begin - 1] in '”"':
            opening = max(text.rfind("“", s.start, begin - 1), text.rfind('"', s.start, begin - 1))
            if opening >= 0 and begin - opening <= 16:
                begin = opening
        # a name never starts with a joiner or a particle jieba left on it
        while begin < start and (text[begin] in _NAME_JOINERS or text[begin] in _LEADING_PARTICLES):
            begin += 1
        return begin

    # -- organisations, alliances, branches, enterprises --------------------------------------------

    def organisations(self) -> Iterator[EntityProposal]:
        for s in self.article.prose:
            for m in _ORG_SUFFIX.finditer(s.text):
                abs_start, abs_end = s.start + m.start(), s.start + m.end()
                # a longer suffix word goes on (党委委员 is a post, 支部书记 too)
                rest = s.text[m.end() : m.end() + 2]
                if rest.startswith(("委员", "书记", "成员")) and m.group() not in ("委员会",):
                    continue
                if _ORG_SUFFIX.match(s.text, m.end()):
                    continue  # the name goes on (县委组织部): the longer one is read there
                begin = self._extend_left(s, abs_start)
                name = self.article.text[begin:abs_end]
                if len(name) < len(m.group()) + 1 or len(name) > MAX_NAME:
                    continue
                label, kind = V.ORG_SUFFIXES[m.group()]
                if label in ("Branch", "Organization") and any(w in name for w in V.ALLIANCE_MARKERS):
                    label = "Alliance"
                if label == "Alliance":
                    kind = next((name[name.find(w) :] for w in V.ALLIANCE_MARKERS if w in name), m.group())
                    kind = kind.strip('“”"')
                elif label == "Branch":
                    kind = next((k for w, k in V.BRANCH_KINDS if w in name[: -len(m.group())]), "other")
                conf = 0.8 if begin < abs_start else 0.5
                plain = _unquote(name)
                aliases = [name] if plain != name else []
                yield EntityProposal("", label, plain, begin, abs_end, conf, {"kind": kind}, aliases)

    # -- projects ---------------------------------------------------------------------------------------

    def projects(self) -> Iterator[EntityProposal]:
        for s in self.article.prose:
            for m in _PROJECT_SUFFIX.finditer(s.text):
                abs_start, abs_end = s.start + m.start(), s.start + m.end()
                begin = self._extend_left(s, abs_start)
                begin = self._drop_leading_verbs(s, begin, abs_start)
                name = self.article.text[begin:abs_end].strip('“”"')
                if len(name) < len(m.group()) + 2 or len(name) > MAX_NAME:
                    continue
                kind = next((k for w, k in V.PROJECT_KIND_WORDS if w in name), V.PROJECT_SUFFIXES[m.group()])
                yield EntityProposal("", "Project", name, begin, abs_end, 0.6, {"kind": kind})

    # -- practices ------------------------------------------------------------------------------------

    def practices(self) -> Iterator[EntityProposal]:
        for s in self.article.prose:
            for m in _QUOTED.finditer(s.text):
                inner = m.group(1)
                after = s.text[m.end() : m.end() + 3]
                word = next((w for w, _ in V.PRACTICE_KINDS if after.startswith(w)), "")
                kind = next((k for w, k in V.PRACTICE_KINDS if w in inner + word), "mechanism")
                if not word and not re.search(r"[+＋、,，\d一二三四五六七八九十]", inner) and len(inner) < 4:
                    continue  # a quoted word (“红色引擎”), not a named mechanism
                name = m.group() + word if word else inner
                begin = s.start + m.start() + (0 if word else 1)
                end = s.start + m.end() + len(word) - (0 if word else 1)
                conf = 0.7 if word or re.search(r"[+＋]|\d", inner) else 0.45
                yield EntityProposal(
                    "", "Practice", name, begin, end, conf, {"kind": kind}, aliases=[inner] if word else []
                )
            for m in _BOOK.finditer(s.text):
                inner = m.group(1)
                kind = next((k for w, k in V.PRACTICE_KINDS if w in inner), "policy")
                begin = s.start + m.start(1)
                yield EntityProposal("", "Practice", inner, begin, begin + len(inner), 0.6, {"kind": kind})

    def concepts(self) -> Iterator[EntityProposal]:
        """The shared practice concepts and industries the article names by their name."""
        for vocab, label, conf in (
            (V.shared_practices(), "Practice", 0.8),
            (V.shared_industries(), "Industry", 0.7),
        ):
            for name, ident in vocab.items():
                at = self.article.text.find(name)
                if at >= 0 and any(p.start <= at < p.end for p in self.article.prose):
                    e = EntityProposal("", label, name, at, at + len(name), conf)
                    e.id = ident
                    yield e

    # -- people and groups --------------------------------------------------------------------------

    def people(self) -> Iterator[EntityProposal]:
        roles = sorted({*V.DISPATCH_ROLES, *V.POSTS}, key=len, reverse=True)
        for s in self.article.prose:
            if any(w in s.text[:12] for w in V.BYLINE_WORDS):
                continue
            tokens = self._tokens(s)
            for i, t in enumerate(tokens):
                nxt = tokens[i + 1] if i + 1 < len(tokens) else None
                # a surname jieba cut from the given name (赵/春华) right after a role word
                split = (
                    len(t.word) == 1
                    and t.word in V.SURNAMES
                    and nxt is not None
                    and 1 <= len(nxt.word) <= 2
                    and nxt.flag[:1] in ("n", "a", "t", "v")
                    and nxt.word not in _STOP_WORDS
                    and any(self.article.text[s.start : t.start].endswith(r) for r in roles)
                )
                if split:
                    assert nxt is not None
                    t = Token(t.word + nxt.word, "nr", t.start)
                if t.flag != "nr" or not 2 <= len(t.word) <= 4:
                    continue
                name = t.word
                # jieba leaves a given name's last character apart at times (王明/远担任)
                nxt = tokens[i + 1] if i + 1 < len(tokens) else None
                after_next = "".join(x.word for x in tokens[i + 2 : i + 4])
                if (
                    len(name) == 2
                    and nxt is not None
                    and len(nxt.word) == 1
                    and nxt.flag not in ("p", "c", "u", "uj", "ul", "x", "d", "m", "r", "f")
                    and after_next.startswith(_AFTER_A_NAME)
                ):
                    name += nxt.word
                surname_ok = name[0] in V.SURNAMES or name[:2] in V.COMPOUND_SURNAMES
                if not surname_ok:
                    continue
                before = self.article.text[max(s.start, t.start - 12) : t.start]
                after = self.article.text[t.start + len(name) : t.start + len(name) + 6]
                role = next((r for r in roles if before.endswith(r)), None)
                role = role or next((r for r in roles if r in before[-6:]), None)
                context = (
                    role is not None
                    or after.startswith(_AFTER_A_NAME)
                    or any(v in before for v in V.DISPATCH_VERBS)
                )
                if not context:
                    continue
                conf = 0.9 if role else 0.6
                attrs = {"role": role} if role else {}
                yield EntityProposal("", "Person", name, t.start, t.start + len(name), conf, attrs)

    def _drop_leading_verbs(self, s: Sentence, begin: int, end: int) -> int:
        """A name does not start with the verb before it (建设竹林基地: 竹林基地)."""
        for t in self._tokens(s):
            if t.start == begin and t.flag in ("v", "vn") and begin + len(t.word) < end - 1:
                return begin + len(t.word)
        return begin

    def groups(self) -> Iterator[EntityProposal]:
        """Unnamed people the article counts: 53名农技专家, 16支工作队."""
        for s in self.article.prose:
            for m in _GROUP.finditer(s.text):
                number, unit, between, role = m.groups()
                if any(c in between for c in "的与和及"):
                    continue
                size = int(number) if number.isdigit() else _chinese_number(number)
                if size is None or size < 2:
                    continue
                begin = s.start + m.start()
                attrs = {"role": role, "size": size, "size_unit": unit}
                yield EntityProposal("", "Group", role, begin, s.start + m.end(), 0.7, attrs)

    def all(self) -> list[EntityProposal]:
        found = [*self.organisations(), *self.projects(), *self.practices(), *self.concepts(), *self.people()]
        found += list(self.groups())
        return found


def _unquote(name: str) -> str:
    return re.sub('[“”"]', "", name)


def _chinese_number(text: str) -> int | None:
    """十六 -> 16, 三 -> 3; None for what is not a plain Chinese number."""
    if all(c in V.CHINESE_DIGITS for c in text):
        if "十" not in text:
            return V.CHINESE_DIGITS[text[-1]] if len(text) == 1 else None
        tens, _, ones = text.partition("十")
        return (V.CHINESE_DIGITS[tens] if tens else 1) * 10 + (V.CHINESE_DIGITS[ones] if ones else 0)
    return None


def find_entities(article: Article, segmenter: Segmenter) -> list[EntityProposal]:
    return EntityFinder(article, segmenter).all()
