"""Relations between the proposed entities, typed from the words of their sentence.

Three kinds of evidence, in falling confidence: the official divisions (a village lies in the
township the list puts it in) and names (天荒坪镇党委 lies in 天荒坪镇, 大溪村党支部 is based in 大溪村);
the verbs between two names (派驻, 成立, 领办, 引进 ...: vocabulary.RELATION_VERBS); and two
names in one sentence whose labels admit only one relation (an industry and the place that
grows it). Every relation's type and ends are checked against graph.model.RELATIONSHIPS.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from graph.divisions import parent_code, short_code
from graph.model import RELATIONSHIPS
from graph.vocabulary import SHARED_ENTITIES
from loaders.draft import vocabulary as V
from loaders.draft.figures import Figure
from loaders.draft.proposals import EntityProposal, FigureProposal, RelationProposal
from loaders.draft.text import Article, Sentence

_PLACES = ("Village", "Township", "County", "City", "Province")
_ACTORS = ("Alliance", "Branch", "Organization", "Enterprise", "Village", "Township", "County")
_PEOPLE = ("Person", "Group")
_LEVEL_WORD = re.compile(r"([省市县区乡镇])(?:级|派|委派|选派|下派)(?!员)")


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    entity: EntityProposal


def allowed(rel_type: str, start: EntityProposal, end: EntityProposal) -> bool:
    if rel_type not in RELATIONSHIPS or start.key == end.key:
        return False
    starts, ends = RELATIONSHIPS[rel_type]
    return start.label in starts and end.label in ends


class RelationFinder:
    def __init__(
        self,
        article: Article,
        entities: list[EntityProposal],
        mentions: list[Mention],
        home: EntityProposal | None,
    ) -> None:
        self.article = article
        self.home = home
        self.entities = entities
        self.by_key = {e.key: e for e in entities}
        self.by_id = {e.id: e for e in entities if e.id}
        self.mentions = sorted(mentions, key=lambda m: (m.start, -(m.end - m.start)))
        self.found: dict[tuple[str, str, str], RelationProposal] = {}

    def add(self, rel: RelationProposal) -> None:
        start, end = self.by_key[rel.start_key], self.by_key[rel.end_key]
        if not allowed(rel.type, start, end):
            return
        key = (rel.type, rel.start_key, rel.end_key)
        old = self.found.get(key)
        if old is None or rel.confidence > old.confidence:
            self.found[key] = rel

    def in_sentence(self, s: Sentence) -> list[Mention]:
        return [m for m in self.mentions if s.start <= m.start < s.end]

    # -- from the divisions and from names -------------------------------------------------------

    def hierarchy(self) -> None:
        places = {short_code(e.code): e for e in self.entities if e.code and e.label in _PLACES}
        absent = [e for e in self.entities if e.absent and e.candidates]
        for code, e in places.items():
            parent = None
            c: str | None = code
            # a village hangs from its own township only: under the county, where the list names
            # its township, `ruralkg check` refuses it
            while c and parent is None and (c == code or e.label != "Village"):
                c = parent_code(c)
                parent = places.get(c) if c else None
            if parent is not None:
                at = self._together(e, parent)
                self.add(RelationProposal("LOCATED_IN", e.key, parent.key, at, 0.9))
        for e in absent:
            scope = e.attrs.get("scope")
            parent = places.get(scope) if isinstance(scope, str) else None
            if parent is not None:
                self.add(RelationProposal("LOCATED_IN", e.key, parent.key, self._together(e, parent), 0.6))

    def _together(self, a: EntityProposal, b: EntityProposal) -> int:
        """The offset of a sentence naming both (else where `a` is first named)."""
        spans = {(m.start, m.end) for m in self.mentions if m.entity.key == b.key}
        for m in self.mentions:
            if m.entity.key != a.key:
                continue
            s = self.article.sentence_at(m.start)
            if s and any(s.start <= x < s.end for x, _ in spans):
                return m.start
        return a.start

    def names(self) -> None:
        """An organisation named after a place lies in it; a branch named after a village or
        an enterprise is based in it; a project named after a place is that place's."""
        places = [e for e in self.entities if e.label in _PLACES and (e.code or e.absent)]
        holders = [e for e in self.entities if e.label in ("Enterprise", "Organization")]
        for e in self.entities:
            if e.label in _PLACES or e.label in _PEOPLE or e.label in ("Industry", "Practice"):
                continue
            forms = [
                (f, p) for p in places for f in {p.name, *p.aliases} if e.name.startswith(f) and e.name != f
            ]
            if e.label == "Branch":
                inside = [h for h in holders if h.name in e.name and h.name != e.name]
                if inside:
                    self.add(
                        RelationProposal(
                            "BASED_IN", e.key, max(inside, key=lambda h: len(h.name)).key, e.start, 0.8
                        )
                    )
                    continue
            if not forms:
                # named after no place: the article's own place holds it (its organisations,
                # projects and enterprises are local unless their name says otherwise)
                if self.home is not None and e.label != "Branch":
                    rel = "HAS_PROJECT" if e.label == "Project" else "LOCATED_IN"
                    ends = (self.home.key, e.key) if rel == "HAS_PROJECT" else (e.key, self.home.key)
                    self.add(RelationProposal(rel, *ends, e.start, 0.35))
                continue
            place = max(forms, key=lambda fp: len(fp[0]))[1]
            if e.label == "Branch":
                self.add(RelationProposal("BASED_IN", e.key, place.key, e.start, 0.85))
            elif e.label == "Project":
                self.add(RelationProposal("HAS_PROJECT", place.key, e.key, e.start, 0.8))
            else:
                self.add(RelationProposal("LOCATED_IN", e.key, place.key, e.start, 0.8))

    # -- people ---------------------------------------------------------------------------------

    def people(self) -> None:
        for s in self.article.prose:
            ms = self.in_sentence(s)
            for i, m in enumerate(ms):
                e = m.entity
                if e.label not in _PEOPLE:
                    continue
                role = e.attrs.get("role")
                before = [
                    x
                    for x in ms[:i]
                    if x.entity.label in ("Village", "Township", "County", "Enterprise", "Alliance")
                ]
                if role in V.DISPATCH_ROLES:
                    target = self._dispatch_target(s, ms, i)
                    if target is not None:
                        level = self._level(s, m.start)
                        self.add(
                            RelationProposal(
                                "DISPATCHED_TO", e.key, target.key, m.start, 0.8, role=role, level=level
                            )
                        )
                        continue
                # 担任 X 书记: the post in the organisation named after 担任
                rest = self.article.text[m.end : s.end]
                if rest.startswith(("担任", "任", "兼任")):
                    after = [
                        x
                        for x in ms[i + 1 :]
                        if x.entity.label in ("Alliance", "Branch", "Organization", "Enterprise", "Village")
                    ]
                    if after:
                        org = after[0]
                        tail = self.article.text[org.end : org.end + 6]
                        post = next(
                            (p for p in V.POSTS if tail.startswith(p) or org.entity.name.endswith(p)), None
                        )
                        post = _plain_post(post or next((p for p in V.POSTS if p in tail), "书记"))
                        lead = self.article.text[max(s.start, m.start - 12) : m.start]
                        status = "拟任" if "拟" in lead else "兼任" if rest.startswith("兼任") else None
                        self.add(
                            RelationProposal(
                                "HOLDS_POST", e.key, org.entity.key, m.start, 0.75, role=post, status=status
                            )
                        )
                # 镇党委委员张三: a post in the organisation named just before
                if role in V.POSTS and before is not None:
                    orgs = [
                        x
                        for x in ms[:i]
                        if x.entity.label in ("Organization", "Alliance", "Branch") and m.start - x.end <= 4
                    ]
                    if orgs:
                        self.add(
                            RelationProposal(
                                "HOLDS_POST", e.key, orgs[-1].entity.key, m.start, 0.7, role=_plain_post(role)
                            )
                        )
                if e.label == "Group" and any(v in s.text for v in (*V.DISPATCH_VERBS, "驻")):
                    target = self._dispatch_target(s, ms, i)
                    if target is not None and role in V.DISPATCH_ROLES:
                        self.add(
                            RelationProposal(
                                "DISPATCHED_TO",
                                e.key,
                                target.key,
                                m.start,
                                0.6,
                                role=role,
                                level=self._level(s, m.start),
                            )
                        )

    def _dispatch_target(self, s: Sentence, ms: list[Mention], i: int) -> EntityProposal | None:
        """Where a person is sent: the place named between the dispatch verb and the name."""
        m = ms[i]
        ends = RELATIONSHIPS["DISPATCHED_TO"][1]
        before = [x for x in ms[:i] if x.entity.label in ends and m.start - x.end <= 14]
        # the narrowest place: a village over its county (派驻安吉县大溪村的特派员)
        if before:
            return max(before, key=lambda x: (_rank(x.entity.label), x.start)).entity
        after = [x for x in ms[i + 1 :] if x.entity.label in ends]
        return after[0].entity if after else None

    def _level(self, s: Sentence, at: int) -> str | None:
        """Who sent them: 省派, 县派, 县级, 安徽省派驻 (the level right before 派 or 级)."""
        lead = self.article.text[s.start : at]
        found = list(_LEVEL_WORD.finditer(lead))
        return V.DISPATCH_LEVELS[found[-1].group(1)] if found else None

    # -- verbs ----------------------------------------------------------------------------------

    def verbs(self) -> None:
        for s in self.article.prose:
            ms = self.in_sentence(s)
            if len(ms) < 2:
                continue
            for rel_type, words in V.RELATION_VERBS.items():
                for word in words:
                    pos = s.text.find(word)
                    while pos >= 0:
                        at = s.start + pos
                        self._verb(rel_type, at, at + len(word), ms)
                        pos = s.text.find(word, pos + 1)

    def _verb(self, rel_type: str, at: int, end: int, ms: list[Mention]) -> None:
        starts, ends = RELATIONSHIPS[rel_type]
        subjects = [m for m in ms if m.end <= at and m.entity.label in starts]
        objects = [m for m in ms if m.start >= end and m.entity.label in ends]
        if not subjects or not objects:
            return
        obj = objects[0]
        if obj.start - end > 30:
            return
        # verbs after commas share the sentence's subject (甲牵头成立乙,引进丙: 甲 引进 丙)
        subject = subjects[0]
        conf = 0.65 if at - subject.end <= 12 else 0.5
        if rel_type == "HAS_MEMBER":
            for o in objects:
                if o.start - end <= 40:
                    self.add(RelationProposal(rel_type, subject.entity.key, o.entity.key, at, conf - 0.1))
            return
        self.add(RelationProposal(rel_type, subject.entity.key, obj.entity.key, at, conf))

    # -- names in one sentence ----------------------------------------------------------------------

    def together(self) -> None:
        for s in self.article.prose:
            ms = self.in_sentence(s)
            actors = [m for m in ms if m.entity.label in _ACTORS or m.entity.label == "Project"]
            for m in ms:
                e = m.entity
                if e.label == "Industry":
                    self._nearest_actor("IN_INDUSTRY", m, actors, to=True)
                    # a list of places or projects and the industries they share (甲、乙村发展白茶)
                    for a in actors:
                        if (
                            a.entity.label in ("Village", "Project", "Enterprise")
                            and abs(a.start - m.start) <= 40
                        ):
                            self.add(RelationProposal("IN_INDUSTRY", a.entity.key, e.key, m.start, 0.35))
                elif e.label == "Practice":
                    self._nearest_actor(
                        "USES_PRACTICE", m, [a for a in actors if a.entity.label in _ACTORS], to=True
                    )
                elif e.label == "Project":
                    holders = [
                        a for a in actors if a.entity.label in ("Village", "Township", "County", "Alliance")
                    ]
                    self._nearest_actor("HAS_PROJECT", m, holders, to=True)
                elif e.label == "Alliance":
                    for v in ms:
                        if (
                            v.entity.label in ("Village", "Branch") and not v.entity.absent
                        ) or v.entity.label == "Village":
                            self.add(RelationProposal("HAS_MEMBER", e.key, v.entity.key, m.start, 0.45))

    def _nearest_actor(self, rel_type: str, m: Mention, actors: list[Mention], *, to: bool) -> None:
        if not actors:
            return
        before = [a for a in actors if a.end <= m.start]
        pick = before[-1] if before else actors[0]
        conf = 0.5 if before and m.start - pick.end <= 20 else 0.35
        self.add(RelationProposal(rel_type, pick.entity.key, m.entity.key, m.start, conf))

    def home_ties(self) -> None:
        """What the article's own place does, where no nearer actor is named: it grows the
        industries, uses the practices, holds the projects the article tells of."""
        home = self.home
        if home is None:
            return
        for e in self.entities:
            if e.label == "Industry":
                self.add(RelationProposal("IN_INDUSTRY", home.key, e.key, e.start, 0.35))
            elif e.label == "Practice":
                self.add(RelationProposal("USES_PRACTICE", home.key, e.key, e.start, 0.3))
                for concept, cue in V.CONCEPT_CUES.items():
                    if concept != e.id and re.search(cue, e.name):
                        target = self.by_id.get(concept)
                        if target is None:
                            target = self._concept(concept, e)
                        self.add(RelationProposal("INSTANCE_OF", e.key, target.key, e.start, 0.5))
            elif e.label == "Project":
                if not any(r.end_key == e.key and r.type == "HAS_PROJECT" for r in self.found.values()):
                    self.add(RelationProposal("HAS_PROJECT", home.key, e.key, e.start, 0.3))
                if not any(r.start_key == e.key and r.type == "LOCATED_IN" for r in self.found.values()):
                    self.add(RelationProposal("LOCATED_IN", e.key, home.key, e.start, 0.3))
            elif e.label == "Group" and e.attrs.get("role") in V.DISPATCH_ROLES and not self._sent(e):
                role = e.attrs["role"]
                self.add(RelationProposal("DISPATCHED_TO", e.key, home.key, e.start, 0.35, role=role))

    def _sent(self, e: EntityProposal) -> bool:
        return any(r.start_key == e.key and r.type == "DISPATCHED_TO" for r in self.found.values())

    def industries_in_names(self) -> None:
        """An organisation or project whose name holds an industry is in it (白茶专业合作社)."""
        industries = [e for e in self.entities if e.label == "Industry"]
        for e in self.entities:
            for ind in industries:
                if e.key != ind.key and ind.name in e.name:
                    self.add(RelationProposal("IN_INDUSTRY", e.key, ind.key, e.start, 0.6))

    def _concept(self, concept: str, instance: EntityProposal) -> EntityProposal:
        """The shared concept as a proposal of its own, quoted where its instance is."""
        shared = SHARED_ENTITIES[concept]
        e = EntityProposal(f"c-{concept}", "Practice", shared.name, instance.start, instance.end, 0.5)
        e.id = concept
        e.attrs["kind"] = shared.kind
        self.entities.append(e)
        self.by_key[e.key] = e
        self.by_id[concept] = e
        return e

    def all(self) -> list[RelationProposal]:
        self.hierarchy()
        self.names()
        self.people()
        self.verbs()
        self.together()
        self.home_ties()
        self.industries_in_names()
        return sorted(self.found.values(), key=lambda r: (r.at, r.type))


def _rank(label: str) -> int:
    return {"Village": 4, "Enterprise": 4, "Alliance": 3, "Township": 2, "County": 1}.get(label, 0)


def _plain_post(post: str | None) -> str:
    """The post itself, without the organisation its long form names (党支部书记 -> 书记)."""
    if post is None:
        return "书记"
    for p in ("副书记", "书记", "委员", "副主任", "主任", "理事长", "队长", "负责人"):
        if post.endswith(p):
            return p
    return post


def find_relations(
    article: Article, entities: list[EntityProposal], mentions: Iterable[Mention], home: EntityProposal | None
) -> list[RelationProposal]:
    return RelationFinder(article, entities, list(mentions), home).all()


def figure_subjects(
    figures: Iterable[Figure], mentions: list[Mention], home: EntityProposal | None
) -> Iterator[FigureProposal]:
    """Each figure measures the nearest entity named before it in its sentence (else the
    article's own place)."""
    ordered = sorted(mentions, key=lambda m: m.start)
    for f in figures:
        s = f.sentence
        before = [
            m
            for m in ordered
            if s.start <= m.start and m.end <= f.at and m.entity.label not in ("Industry", "Practice")
        ]
        subject = before[-1].entity if before else home
        if subject is None:
            continue
        conf = 0.6 if before else 0.4
        yield FigureProposal(
            subject.key,
            f.measure,
            f.unit,
            f.qualifier,
            f.at,
            f.end,
            conf,
            f.value,
            f.min,
            f.max,
            f.year,
            f.year is not None,
        )
