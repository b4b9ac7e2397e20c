"""The baselines the loader's throughput is measured against, writing the same graph as it.

Both write exactly what the loader writes for the same sources (tests/test_bench.py compares
the three graphs node by node and relationship by relationship): the Source nodes, every
entity with its properties and the properties the loader derives (aliases, sources, search
keys), a MENTIONS from its source with the evidence, every relation with its sources and
evidence. They do none of the loader's other work: no reading of what a source held before,
no removal of stale facts, no plan, no data version.

- raw ceiling (`load_raw`): the fastest way the server takes these rows, knowing the whole
  sample in advance. Every derived property is worked out in Python before the first
  statement; each id is looked up once on the unique `Entity.id` index; new nodes and their
  relationships are CREATEd (no MERGE); the loader's transaction and statement sizes
  (GROUP_ROWS rows of sources per transaction, BULK_BATCH rows per statement).
- naive (`load_naive`): the same statements, one row per transaction.

A relation between two nodes that were in the graph before (the official divisions) may
exist already: like the loader, both ways MERGE those and CREATE the rest.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import neo4j
from neo4j import Driver, ManagedTransaction

from graph.model import SYNTHETIC
from graph.settings import Settings
from loaders.facts import SourceFacts, set_props
from loaders.synthetic import BULK_BATCH, GROUP_ROWS
from loaders.writer import MERGE_RELATIONS, _derived

RAW_SOURCES = """
UNWIND $rows AS row
CREATE (s:Entity:Source)
SET s = row.props, s.date = CASE WHEN row.date IS NULL THEN null ELSE date(row.date) END
"""
RAW_KNOWN = """
UNWIND $ids AS id
MATCH (n:Entity {id: id})
RETURN n.id AS id, n.official_name AS official_name, n.code AS code
"""
RAW_CREATE_NODES = """
UNWIND $rows AS row
MATCH (s:Entity {{id: row.source}})
CREATE (n:Entity:{label})
SET n = row.props
CREATE (s)-[:MENTIONS {{evidence: row.evidence, aliases: row.aliases}}]->(n)
"""
RAW_MENTION_KNOWN = """
UNWIND $rows AS row
MATCH (n:Entity {id: row.id})
SET n += row.props
WITH n, row
MATCH (s:Entity {id: row.source})
CREATE (s)-[:MENTIONS {evidence: row.evidence, aliases: row.aliases}]->(n)
"""
RAW_CREATE_RELATIONS = """
UNWIND $rows AS row
MATCH (a:Entity {{id: row.start}})
MATCH (b:Entity {{id: row.end}})
CREATE (a)-[r:{type}]->(b)
SET r = row.props
"""


@dataclass
class Statement:
    """One statement of a transaction: its text and its rows (`$rows`; `$ids`, the rows' ids,
    for the lookup)."""

    query: str
    rows: list[dict[str, Any]]
    reads_known: bool = False


@dataclass
class _Sample:
    """What the whole sample states, worked out before anything is written."""

    mentions: dict[str, list[tuple[str, Sequence[str], str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    names: dict[str, str] = field(default_factory=dict)
    relations: dict[tuple[str, str, str], list[tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    @classmethod
    def of(cls, sample: Sequence[SourceFacts]) -> _Sample:
        out = cls()
        for f in sample:
            kind = f.source.kind if f.source else SYNTHETIC
            for e in f.entities.values():
                out.mentions[e.id].append((f.source_id, e.aliases, kind))
                out.names[e.id] = e.props["name"]
            for r in f.relations.values():
                out.relations[r.key].append((f.source_id, r.evidence))
        return out


def _groups(sample: Sequence[SourceFacts], group_rows: int) -> Iterator[list[SourceFacts]]:
    """The sources of each transaction, as loaders.load.sync_sources groups them."""
    group: list[SourceFacts] = []
    rows = 0
    for f in sample:
        group.append(f)
        rows += len(f.entities) + len(f.relations)
        if rows >= group_rows:
            yield group
            group, rows = [], 0
    if group:
        yield group


class Planner:
    """The statements of the raw way, group by group; the graph's answers to its one read (which
    ids are there already) shape the writes that follow it."""

    def __init__(self, sample: Sequence[SourceFacts]) -> None:
        self.whole = _Sample.of(sample)
        self.created: set[str] = set()  # ids this sample created
        self.known: dict[str, tuple[str | None, str | None]] = {}  # id there before -> (official name, code)
        self.written: set[tuple[str, str, str]] = set()

    def sources(self, group: Sequence[SourceFacts]) -> Statement:
        rows = []
        for f in group:
            assert f.source is not None
            props = set_props(f.source_props())
            derived = _derived(props["name"], [], None, None, own_kind=f.source.kind)
            date = f.source.date.isoformat() if f.source.date else None
            rows.append({"props": {**props, **set_props(derived), "id": f.source_id}, "date": date})
        return Statement(RAW_SOURCES, rows)

    def lookup(self, group: Sequence[SourceFacts]) -> Statement:
        seen = self.created | self.known.keys()
        ids = list(dict.fromkeys(i for f in group for i in f.entities if i not in seen))
        return Statement(RAW_KNOWN, [{"id": i} for i in ids], reads_known=True)

    def learn(self, found: Sequence[dict[str, Any]], asked: Sequence[str]) -> None:
        for r in found:
            self.known[r["id"]] = (r["official_name"], r["code"])
        self.created.update(i for i in asked if i not in self.known)

    def _derived(self, entity_id: str) -> dict[str, Any]:
        official, code = self.known.get(entity_id, (None, None))
        derived = _derived(self.whole.names[entity_id], self.whole.mentions[entity_id], official, code)
        if code:  # the division's own search keys stay, as the loader keeps them
            for key in ("key_name", "key_pinyin", "key_initials"):
                derived.pop(key)
        return derived

    def entities(self, group: Sequence[SourceFacts], fresh: set[str]) -> list[Statement]:
        """New nodes (created with their first mention), then every other mention."""
        by_label: dict[str, list[dict[str, Any]]] = defaultdict(list)
        mentions: list[dict[str, Any]] = []
        for f in group:
            for e in f.entities.values():
                row = {"id": e.id, "source": f.source_id, "evidence": e.evidence, "aliases": list(e.aliases)}
                if e.id in fresh:
                    fresh.discard(e.id)
                    props = {**set_props(e.props), **set_props(self._derived(e.id)), "id": e.id}
                    by_label[e.label].append({**row, "props": props})
                else:
                    mentions.append({**row, "props": {**e.props, **self._derived(e.id)}})
        out = [Statement(RAW_CREATE_NODES.format(label=label), rows) for label, rows in by_label.items()]
        return [*out, Statement(RAW_MENTION_KNOWN, mentions)]

    def relations(self, group: Sequence[SourceFacts]) -> list[Statement]:
        """Each relation once, at its first statement, with every source of the sample stating
        it: CREATEd when an end is new, else MERGEd (the divisions' own may be there)."""
        create: dict[str, list[dict[str, Any]]] = defaultdict(list)
        merge: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for f in group:
            for r in f.relations.values():
                if r.key in self.written:
                    continue
                self.written.add(r.key)
                stated = self.whole.relations[r.key]
                if r.start in self.created or r.end in self.created:
                    props = {
                        **set_props(r.props),
                        "sources": [s for s, _ in stated],
                        "evidence": [e for _, e in stated],
                    }
                    create[r.type].append({"start": r.start, "end": r.end, "props": props})
                else:
                    for source, evidence in stated:
                        merge[r.type].append(
                            {
                                "start": r.start,
                                "end": r.end,
                                "props": r.props,
                                "source": source,
                                "evidence": evidence,
                            }
                        )
        return [
            *(Statement(RAW_CREATE_RELATIONS.format(type=t), rows) for t, rows in create.items()),
            *(Statement(MERGE_RELATIONS.format(type=t), rows) for t, rows in merge.items()),
        ]


def script_session(driver: Driver, settings: Settings) -> neo4j.Session:
    """A write session as a script outside our code opens one: no data version to keep."""
    return driver.session(database=settings.neo4j_database, default_access_mode=neo4j.WRITE_ACCESS)


def _run(tx: ManagedTransaction, statement: Statement, batch: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for start in range(0, len(statement.rows), batch):
        chunk = statement.rows[start : start + batch]
        params = {"ids": [r["id"] for r in chunk]} if statement.reads_known else {"rows": chunk}
        result = tx.run(statement.query, params)
        found += [r.data() for r in result]
    return found


def load_raw(
    driver: Driver,
    settings: Settings,
    sample: Sequence[SourceFacts],
    *,
    group_rows: int = GROUP_ROWS,
    batch: int = BULK_BATCH,
) -> None:
    """The raw ceiling: one transaction per group of sources, BULK_BATCH rows a statement."""
    planner = Planner(sample)
    with script_session(driver, settings) as s:
        for group in _groups(sample, group_rows):

            def work(tx: ManagedTransaction, group: list[SourceFacts] = group) -> None:
                _run(tx, planner.sources(group), batch)
                lookup = planner.lookup(group)
                asked = [r["id"] for r in lookup.rows]
                planner.learn(_run(tx, lookup, batch), asked)
                for statement in [
                    *planner.entities(group, set(asked) - planner.known.keys()),
                    *planner.relations(group),
                ]:
                    _run(tx, statement, batch)

            s.execute_write(work)


def load_naive(
    driver: Driver, settings: Settings, sample: Sequence[SourceFacts], seconds: float | None = None
) -> int:
    """The same statements one row per transaction, until the rows (or the seconds) run out;
    the rows (entities and relations) written."""
    deadline = time.monotonic() + seconds if seconds is not None else None
    planner = Planner(sample)
    done = 0

    def one(
        statement: Statement, row: dict[str, Any]
    ) -> Callable[[ManagedTransaction], list[dict[str, Any]]]:
        return lambda tx: _run(tx, Statement(statement.query, [row], statement.reads_known), 1)

    with script_session(driver, settings) as s:
        for group in _groups(sample, 1):  # one source at a time
            source = planner.sources(group)
            s.execute_write(one(source, source.rows[0]))
            lookup = planner.lookup(group)
            asked = [r["id"] for r in lookup.rows]
            found = [x for row in lookup.rows for x in s.execute_read(one(lookup, row))]
            planner.learn(found, asked)
            for statement in planner.entities(group, set(asked) - planner.known.keys()):
                for row in statement.rows:
                    s.execute_write(one(statement, row))
                    done += 1
                    if deadline is not None and time.monotonic() > deadline:
                        return done
            for statement in planner.relations(group):
                for row in statement.rows:
                    s.execute_write(one(statement, row))
                    done += 1
                    if deadline is not None and time.monotonic() > deadline:
                        return done
    return done
