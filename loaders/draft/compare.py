"""How good a draft is: scored against the curated case file of the same article.

A curated entity counts when the article names it (its name or an alias is in the normalised
article). It is found by the draft when a proposal stands for it: a place with the curated
place's official code (or, for a place the official list lacks, proposed absent with
candidates); another entity with the same label family and the same name once quotes are
dropped, or a name one ends the other with (安吉县天荒坪镇白茶专业合作社 / 天荒坪镇白茶专业合作社),
or a curated alias. A curated relation counts when both its ends were found; it is found when
the draft has the same type between the same two ends, in the same direction.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph.divisions import full_code
from graph.text import fold
from loaders.casefile import CaseFile
from loaders.draft.text import normalized_article, quote_is_verbatim
from loaders.gazetteer import Resolution

PLACE_LABELS = ("Province", "City", "County", "Township", "Village")
ORG_LABELS = ("Organization", "Alliance", "Branch", "Enterprise")
# label -> the family a proposal may carry and still stand for it
_FAMILY = {label: ORG_LABELS for label in ORG_LABELS}
TARGETS = {
    "places": 0.95,
    "people": 0.90,
    "roles": 0.80,
    "organisations": 0.75,
    "relations": 0.50,
    "quotes": 1.0,
}


def _norm(name: str) -> str:
    return re.sub(r"[“”\"《》()()\s]", "", fold(name))


@dataclass
class Score:
    found: int = 0
    total: int = 0
    missed: list[str] = field(default_factory=list)

    @property
    def share(self) -> float | None:
        return self.found / self.total if self.total else None

    def add(self, ok: bool, what: str) -> None:
        self.total += 1
        if ok:
            self.found += 1
        else:
            self.missed.append(what)


@dataclass
class Comparison:
    article: str
    places: Score = field(default_factory=Score)
    people: Score = field(default_factory=Score)
    roles: Score = field(default_factory=Score)
    organisations: Score = field(default_factory=Score)
    relations: Score = field(default_factory=Score)
    quotes: Score = field(default_factory=Score)
    precision: dict[str, Score] = field(default_factory=dict)

    def rows(self) -> list[tuple[str, Score]]:
        return [
            (k, getattr(self, k))
            for k in ("places", "people", "roles", "organisations", "relations", "quotes")
        ]


def _names(e: Any) -> set[str]:
    return {_norm(n) for n in (e.name, *e.aliases) if n}


def _same_name(draft_names: set[str], curated: set[str]) -> bool:
    if draft_names & curated:
        return True
    for a in draft_names:
        for b in curated:
            short, long_ = sorted((a, b), key=len)
            if len(short) >= 4 and long_.endswith(short):
                return True
    return False


@dataclass
class _Proposed:
    id: str
    label: str
    names: set[str]
    code: str | None
    absent: bool
    candidates: int
    role: str | None


def compare(draft: dict[str, Any], case: CaseFile, resolution: Resolution, article_path: Path) -> Comparison:
    text = fold(normalized_article(article_path.read_text(encoding="utf-8")))
    result = Comparison(case.path.name)
    proposed = [
        _Proposed(
            e["id"],
            e["label"],
            {_norm(n) for n in (e["name"], *e.get("aliases", []))},
            e.get("code"),
            bool(e.get("absent")),
            len(e.get("candidates", [])),
            e.get("role"),
        )
        for e in draft.get("entities", [])
    ]
    roles_of: dict[str, set[str]] = defaultdict(set)
    for r in draft.get("relations", []):
        if r.get("role"):
            roles_of[r["from"]].add(_plain_role(r["role"]))
    for p in proposed:
        if p.role:
            roles_of[p.id].add(_plain_role(p.role))

    named = [e for e in case.entities if any(fold(n) in text for n in (e.name, *e.aliases))]
    match: dict[str, str] = {}  # curated id -> draft id
    for e in case.entities:
        hit = _find(e, proposed, resolution)
        if hit is not None:
            match[e.id] = hit.id
    for e in named:
        ok = e.id in match
        if e.label in PLACE_LABELS:
            result.places.add(ok, f"{e.label} {e.name}")
        elif e.label == "Person":
            result.people.add(ok, e.name)
            curated_roles = {_plain_role(r.role) for r in case.relations if r.from_ == e.id and r.role}
            if curated_roles:
                mine = roles_of.get(match.get(e.id, ""), set())
                result.roles.add(bool(curated_roles & mine), f"{e.name} {sorted(curated_roles)}")
        elif e.label in ORG_LABELS:
            result.organisations.add(ok, f"{e.label} {e.name}")
    drafted = {(r["type"], r["from"], r["to"]) for r in draft.get("relations", [])}
    for r in case.relations:
        if r.from_ in match and r.to in match:
            result.relations.add(
                (r.type, match[r.from_], match[r.to]) in drafted, f"{r.type} {r.from_} -> {r.to}"
            )
    # precision: the share of proposals that stand for something the curator recorded
    matched_ids = set(match.values())
    for p in proposed:
        result.precision.setdefault(p.label, Score()).add(p.id in matched_ids, p.id)
    curated_keys = {(r.type, match.get(r.from_), match.get(r.to)) for r in case.relations}
    for r in draft.get("relations", []):
        key = (r["type"], r["from"], r["to"])
        result.precision.setdefault("relations", Score()).add(key in curated_keys, " ".join(key))
    raw = normalized_article(article_path.read_text(encoding="utf-8"))
    for section in ("entities", "relations", "quantities"):
        for rec in draft.get(section, []):
            result.quotes.add(quote_is_verbatim(rec["evidence"], raw), rec["evidence"])
    return result


def _find(e: Any, proposed: list[_Proposed], resolution: Resolution) -> _Proposed | None:
    if e.label in PLACE_LABELS:
        division = resolution.places.get(e.id)
        if division is not None:
            code = full_code(division.code)
            return next((p for p in proposed if p.code == code), None)
        names = _names(e)
        return next((p for p in proposed if p.absent and p.candidates and p.names & names), None)
    family = _FAMILY.get(e.label, (e.label,))
    names = _names(e)
    exact = [p for p in proposed if p.label in family and p.names & names]
    if exact:
        return next((p for p in exact if p.label == e.label), exact[0])
    if e.label in ("Industry", "Practice"):
        same_id = next((p for p in proposed if p.id == e.id), None)
        if same_id:
            return same_id
    loose = [p for p in proposed if p.label in family and _same_name(p.names, names)]
    return loose[0] if loose else None


def _plain_role(role: str) -> str:
    for status in ("拟任", "兼任"):
        role = role.removeprefix(status)
    for post in ("副书记", "书记", "委员"):
        if role.endswith(post):
            return post
    return role


def format_comparison(results: Iterable[Comparison]) -> str:
    """A plain table: one line per measure per article, then the totals against the targets."""
    lines: list[str] = []
    totals: dict[str, Score] = defaultdict(Score)
    precision: dict[str, Score] = defaultdict(Score)
    for c in results:
        lines.append(f"{c.article}")
        for name, s in c.rows():
            shown = f"{s.share:.0%}" if s.share is not None else "-"
            lines.append(f"  {name:<14} {s.found:>4}/{s.total:<4} {shown:>5}")
            for miss in s.missed:
                lines.append(f"      missed: {miss}")
            totals[name].found += s.found
            totals[name].total += s.total
        for label, s in sorted(c.precision.items()):
            precision[label].found += s.found
            precision[label].total += s.total
    lines.append("all articles")
    for name, s in totals.items():
        share = s.share
        verdict = (
            ""
            if share is None
            else ("meets" if share >= TARGETS[name] else "below") + f" {TARGETS[name]:.0%}"
        )
        lines.append(
            f"  {name:<14} {s.found:>4}/{s.total:<4} {share:>5.0%}  {verdict}"
            if share is not None
            else f"  {name}: -"
        )
    lines.append("precision (proposals standing for a curated record)")
    for label, s in sorted(precision.items()):
        lines.append(
            f"  {label:<14} {s.found:>4}/{s.total:<4} {s.share:>5.0%}"
            if s.share is not None
            else f"  {label}"
        )
    return "\n".join(lines)
