"""What one source states, as rows for the graph, and how that differs from what the graph holds.

A source's facts are its entities (with its evidence and the aliases it uses) and its
relations (with its evidence). Quantities become `Quantity` entities linked from their subject
by `HAS_QUANTITY`, so they carry provenance like everything else.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graph.model import Quantity, Relation, SourceRecord
from loaders.casefile import CaseFile

if TYPE_CHECKING:
    from neo4j import Record, Session


def chunks(rows: Sequence[Any], size: int) -> Iterator[list[Any]]:
    """The rows in lists of at most `size`: one statement's batch (the writer's and the tallies')."""
    for start in range(0, len(rows), size):
        yield list(rows[start : start + size])


def pages(s: Session, query: str, size: int) -> Iterator[Record]:
    """Every record of a statement paged by id (`$after`, `$n` = size, ordered by a unique `id`):
    the kept figures' recounts and reads walk a whole label so, one statement per page."""
    after = ""
    while True:
        records = list(s.run(query, after=after, n=size))
        yield from records
        if len(records) < size:
            return
        after = records[-1]["id"]


RELATION_PROPS = ("role", "level", "status", "since", "note")
_NOT_PROPS = {"id", "label", "aliases", "evidence"}


@dataclass(frozen=True)
class EntityFact:
    id: str
    label: str
    props: dict[str, Any]  # name and attributes; None marks an attribute this source leaves unset
    evidence: str
    aliases: tuple[str, ...]

    @property
    def comparable(self) -> tuple[Any, ...]:
        return (self.label, set_props(self.props), self.evidence, tuple(sorted(self.aliases)))


@dataclass(frozen=True)
class RelationFact:
    type: str
    start: str
    end: str
    props: dict[str, Any]
    evidence: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.type, self.start, self.end)

    @property
    def comparable(self) -> tuple[Any, ...]:
        return (set_props(self.props), self.evidence)


def set_props(props: dict[str, Any]) -> dict[str, Any]:
    """The props that hold a value: what `SET n += props` leaves on a new node (a null sets nothing)."""
    return {k: v for k, v in props.items() if v is not None}


@dataclass
class SourceFacts:
    source: SourceRecord | None  # None: the source is being removed
    source_id: str
    entities: dict[str, EntityFact] = field(default_factory=dict)
    relations: dict[tuple[str, str, str], RelationFact] = field(default_factory=dict)

    def source_props(self) -> dict[str, Any]:
        """The Source node's properties but its date, which is written as a Cypher date."""
        assert self.source is not None
        props = self.source.model_dump(exclude={"id", "date"}, mode="json")
        props["name"] = self.source.title
        return props


def _quantity_props(q: Quantity) -> dict[str, Any]:
    return {
        "name": f"{q.measure}({q.year})",
        "measure": q.measure,
        "value": q.value,
        "min": q.min,
        "max": q.max,
        "unit": q.unit,
        "year": q.year,
        "year_stated": q.year_stated,
        "qualifier": q.qualifier,
    }


def _relation(r: Relation) -> RelationFact:
    return RelationFact(r.type, r.from_, r.to, {k: getattr(r, k) for k in RELATION_PROPS}, r.evidence)


def facts_of(case: CaseFile) -> SourceFacts:
    facts = SourceFacts(case.source, case.source.id)
    for e in case.entities:
        props = {k: getattr(e, k) for k in type(e).model_fields if k not in _NOT_PROPS}
        facts.entities[e.id] = EntityFact(e.id, e.label, props, e.evidence, e.aliases)
    for q in case.quantities:
        facts.entities[q.id] = EntityFact(q.id, "Quantity", _quantity_props(q), q.evidence, ())
        rel = RelationFact("HAS_QUANTITY", q.subject, q.id, dict.fromkeys(RELATION_PROPS), q.evidence)
        facts.relations[rel.key] = rel
    for r in case.relations:
        facts.relations[r.key] = _relation(r)
    return facts


def removal_of(source_id: str) -> SourceFacts:
    """The facts of a source that no longer exists: none."""
    return SourceFacts(None, source_id)


@dataclass
class Change:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)


@dataclass
class SourcePlan:
    """The difference between a source's facts and what the graph holds for that source."""

    source_id: str
    source_new: bool
    entities: Change = field(default_factory=Change)
    quantities: Change = field(default_factory=Change)
    relations: Change = field(default_factory=Change)
    orphaned: list[str] = field(default_factory=list)  # nodes no other source names: deleted
    stale_entity_ids: list[str] = field(default_factory=list)
    stale_relations: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not (self.source_new or self.entities or self.quantities or self.relations)


def plan(
    facts: SourceFacts,
    graph_entities: dict[str, tuple[tuple[Any, ...], int]],
    graph_relations: dict[tuple[str, str, str], tuple[Any, ...]],
    source_in_graph: bool,
) -> SourcePlan:
    """Compare facts with the graph's view of the same source.

    graph_entities maps id -> (comparable, number of sources naming it);
    graph_relations maps key -> comparable.
    """
    p = SourcePlan(facts.source_id, source_new=not source_in_graph and facts.source is not None)
    for eid, fact in facts.entities.items():
        bucket = p.quantities if fact.label == "Quantity" else p.entities
        if eid not in graph_entities:
            bucket.added.append(eid)
        elif graph_entities[eid][0] != fact.comparable:
            bucket.changed.append(eid)
    for eid, (comparable, mentions) in graph_entities.items():
        if eid in facts.entities:
            continue
        (p.quantities if comparable[0] == "Quantity" else p.entities).removed.append(eid)
        p.stale_entity_ids.append(eid)
        if mentions <= 1:
            p.orphaned.append(eid)
    for key, rel in facts.relations.items():
        if key not in graph_relations:
            p.relations.added.append(" ".join(key))
        elif graph_relations[key] != rel.comparable:
            p.relations.changed.append(" ".join(key))
    for key in graph_relations:
        if key not in facts.relations:
            p.relations.removed.append(" ".join(key))
            p.stale_relations.append(key)
    return p
