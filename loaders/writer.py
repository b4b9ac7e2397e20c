"""Writing sources to the graph: one transaction per source, batched `UNWIND ... MERGE`.

Each source is synced, not appended: the graph ends up holding exactly what the source's file
states, with facts it no longer states removed. Removal is scoped to the source: an entity or
relation that another source also states keeps that source's provenance and survives. A
failure anywhere rolls the whole source back, so a source is either as it was or fully loaded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from neo4j import Driver, ManagedTransaction

from graph.connection import session
from graph.divisions import GAZETTEER_SOURCE_ID, short_code
from graph.model import LABELS, RELATIONSHIP_TYPES, SYNTHETIC
from graph.settings import Settings
from graph.text import name_keys, pinyin, search_key
from loaders.facts import RELATION_PROPS, SourceFacts, SourcePlan, plan

# Properties the loader derives from all sources together; not stated by any one file.
DERIVED_PROPS = frozenset({"id", "aliases", "sources", "search", "pinyin", "search_scope"})
# Properties the official division list gives a curated place (loaders.regions); no case file
# states them, so a sync neither compares nor removes them.
GAZETTEER_PROPS = frozenset({"code", "official_name", "level", "key_name", "key_pinyin", "key_initials"})

READ_SOURCE = "MATCH (s:Source {id: $source}) RETURN s.id AS id"
READ_SOURCE_ENTITIES = """
MATCH (:Source {id: $source})-[m:MENTIONS]->(n:Entity)
RETURN n.id AS id, [l IN labels(n) WHERE l <> 'Entity'][0] AS label, n {.*} AS props,
       m.evidence AS evidence, m.aliases AS aliases,
       COUNT { (:Source)-[:MENTIONS]->(n) } AS mentions
"""
READ_SOURCE_RELATIONS = """
MATCH (:Source {id: $source})-[:MENTIONS]->(a:Entity)-[r]->(b:Entity)
WHERE $source IN r.sources
RETURN type(r) AS type, a.id AS start, b.id AS end, r {.*} AS props
"""
MERGE_SOURCE = """
MERGE (s:Entity:Source {id: $source})
SET s += $props, s.date = CASE WHEN $date IS NULL THEN null ELSE date($date) END
"""
UNLINK_RELATIONS = """
UNWIND $rows AS row
MATCH (a:Entity {id: row.start})-[r]->(b:Entity {id: row.end})
WHERE type(r) = row.type AND $source IN r.sources
WITH r, [i IN range(0, size(r.sources) - 1) WHERE r.sources[i] <> $source] AS keep
SET r.sources = [i IN keep | r.sources[i]], r.evidence = [i IN keep | r.evidence[i]]
WITH r WHERE size(r.sources) = 0
DELETE r
"""
UNLINK_ENTITIES = """
UNWIND $ids AS id
MATCH (:Source {id: $source})-[m:MENTIONS]->(:Entity {id: id})
DELETE m
"""
DELETE_ORPHANS = """
UNWIND $ids AS id
MATCH (n:Entity {id: id})
WHERE NOT EXISTS { (:Source)-[:MENTIONS]->(n) } AND n.code IS NULL
DETACH DELETE n
"""
DELETE_SOURCE = "MATCH (s:Source {id: $source}) DETACH DELETE s"
# Labels and relationship types cannot be parameters; they come only from graph.model's lists.
# Missing nodes are created first, then every row is found by `Entity.id`: a two-label
# `MERGE (n:Entity:Village {id: ..})` scans the label on the local server (measured: it slows
# as the label grows; the synthetic overlay made it the loader's main cost, as the national
# division load did), while a lookup on `Entity.id` uses the unique index on both servers.
# A node holding the id under another label is created again on purpose: the id constraint
# refuses it, and the source is rolled back, as MERGE did.
CREATE_ENTITIES = """
UNWIND $rows AS row
OPTIONAL MATCH (known:Entity {{id: row.id}})
WITH row, known WHERE known IS NULL OR NOT known:{label}
CREATE (:Entity:{label} {{id: row.id}})
"""
MERGE_ENTITIES = """
UNWIND $rows AS row
MATCH (n:Entity {id: row.id})
SET n += row.props
WITH n, row
MATCH (s:Source {id: $source})
MERGE (s)-[m:MENTIONS]->(n)
SET m.evidence = row.evidence, m.aliases = row.aliases
"""
MERGE_RELATIONS = """
UNWIND $rows AS row
MATCH (a:Entity {{id: row.start}})
MATCH (b:Entity {{id: row.end}})
MERGE (a)-[r:{type}]->(b)
SET r += row.props
WITH r, row, coalesce(r.sources, []) AS srcs, coalesce(r.evidence, []) AS evs
SET r.sources = CASE WHEN $source IN srcs THEN srcs ELSE srcs + [$source] END,
    r.evidence = CASE WHEN $source IN srcs
        THEN [i IN range(0, size(srcs) - 1) | CASE WHEN srcs[i] = $source THEN row.evidence ELSE evs[i] END]
        ELSE evs + [row.evidence] END
"""
READ_NAMES = """
UNWIND $ids AS id
MATCH (n:Entity {id: id})
OPTIONAL MATCH (s:Source)-[m:MENTIONS]->(n)
RETURN n.id AS id, n.name AS name, n.official_name AS official_name, n.code AS code,
       CASE WHEN n:Source THEN n.kind END AS source_kind,
       collect([s.id, m.aliases, s.kind]) AS mentions
"""
# Search (queries.explore) finds every entity by the start of its name, pinyin or initials
# (`key_*`; a place resolved to a division keeps its official name's), and the entities of the
# curated sources (`search_scope`) also anywhere in any of their names: a synthetic source's
# millions of entities stay out of that scan.
SET_DERIVED = """
UNWIND $rows AS row
MATCH (n:Entity {id: row.id})
SET n.aliases = row.aliases, n.sources = row.sources, n.search = row.search, n.pinyin = row.pinyin,
    n.search_scope = row.scope, n.key_name = coalesce(row.key_name, n.key_name),
    n.key_pinyin = coalesce(row.key_pinyin, n.key_pinyin),
    n.key_initials = coalesce(row.key_initials, n.key_initials)
"""
# Curated sources only: a dataset (the official division list) is not synced from a file.
LIST_SOURCES = "MATCH (s:Source) WHERE coalesce(s.kind, '') <> 'dataset' RETURN s.id AS id ORDER BY id"

OnBatch = Callable[[int], None]


def _chunks(rows: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


class SourceWriter:
    """Plans and applies the sync of one source at a time."""

    def __init__(self, driver: Driver, settings: Settings, on_batch: OnBatch | None = None) -> None:
        self.driver, self.settings = driver, settings
        self.batch_size = settings.batch_size
        self.on_batch = on_batch or (lambda n: None)

    # -- reading ----------------------------------------------------------------------------
    def _plan(self, tx: ManagedTransaction, facts: SourceFacts) -> SourcePlan:
        src = facts.source_id
        in_graph = tx.run(READ_SOURCE, source=src).single() is not None
        entities: dict[str, tuple[tuple[Any, ...], int]] = {}
        for rec in tx.run(READ_SOURCE_ENTITIES, source=src):
            props = {
                k: v
                for k, v in rec["props"].items()
                if k not in DERIVED_PROPS and k not in GAZETTEER_PROPS and v is not None
            }
            aliases = tuple(sorted(rec["aliases"] or ()))
            entities[rec["id"]] = ((rec["label"], props, rec["evidence"], aliases), rec["mentions"])
        relations: dict[tuple[str, str, str], tuple[Any, ...]] = {}
        for rec in tx.run(READ_SOURCE_RELATIONS, source=src):
            props = rec["props"]
            evidence = props["evidence"][props["sources"].index(src)]
            stated = {k: props[k] for k in RELATION_PROPS if props.get(k) is not None}
            relations[(rec["type"], rec["start"], rec["end"])] = (stated, evidence)
        return plan(facts, entities, relations, in_graph)

    def plan(self, facts: SourceFacts) -> SourcePlan:
        with session(self.driver, self.settings) as s:
            return s.execute_read(self._plan, facts)

    # -- writing ----------------------------------------------------------------------------
    def _run_batches(
        self, tx: ManagedTransaction, query: str, rows: Sequence[Any], *, key: str = "rows", source: str = ""
    ) -> None:
        for chunk in _chunks(rows, self.batch_size):
            tx.run(query, {key: list(chunk), "source": source}).consume()
            self.on_batch(1)

    def _sync(self, tx: ManagedTransaction, facts: SourceFacts) -> SourcePlan:
        src = facts.source_id
        p = self._plan(tx, facts)
        stale_rel_rows = [{"type": t, "start": a, "end": b} for t, a, b in p.stale_relations]
        self._run_batches(tx, UNLINK_RELATIONS, stale_rel_rows, source=src)
        self._run_batches(tx, UNLINK_ENTITIES, p.stale_entity_ids, key="ids", source=src)
        self._run_batches(tx, DELETE_ORPHANS, p.orphaned, key="ids")
        if facts.source is None:
            tx.run(DELETE_SOURCE, source=src).consume()
            return p
        date = facts.source.date.isoformat() if facts.source.date else None
        tx.run(MERGE_SOURCE, source=src, props=facts.source_props(), date=date).consume()

        by_label: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for e in facts.entities.values():
            row = {"id": e.id, "props": e.props, "evidence": e.evidence, "aliases": list(e.aliases)}
            by_label[e.label].append(row)
        for label in LABELS:  # allow-listed: the only text formatted into Cypher
            if by_label.get(label):
                self._run_batches(tx, CREATE_ENTITIES.format(label=label), by_label[label], source=src)
                self._run_batches(tx, MERGE_ENTITIES, by_label[label], source=src)

        by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in facts.relations.values():
            by_type[r.type].append({"start": r.start, "end": r.end, "props": r.props, "evidence": r.evidence})
        for rel_type in RELATIONSHIP_TYPES:
            if by_type.get(rel_type):
                self._run_batches(tx, MERGE_RELATIONS.format(type=rel_type), by_type[rel_type], source=src)

        orphaned = set(p.orphaned)
        surviving = [i for i in p.stale_entity_ids if i not in orphaned]
        self.refresh_derived(tx, [*facts.entities, *surviving, src])
        return p

    def refresh_derived(self, tx: ManagedTransaction, ids: Iterable[str]) -> None:
        """Recompute what depends on every source at once: aliases, sources, search keys (with
        the official name and code of a place resolved to a division, and that list as a source)."""
        rows = []
        for chunk in _chunks(list(ids), self.batch_size):
            for rec in tx.run(READ_NAMES, ids=list(chunk)):
                mentions = sorted((m for m in rec["mentions"] if m[0] is not None), key=lambda m: m[0])
                aliases = list(
                    dict.fromkeys(a for _, names, _ in mentions for a in names or () if a != rec["name"])
                )
                official = [rec["official_name"], short_code(rec["code"])] if rec["code"] else []
                sources = [m[0] for m in mentions] + ([GAZETTEER_SOURCE_ID] if rec["code"] else [])
                kinds = {m[2] for m in mentions} | ({rec["source_kind"]} if rec["source_kind"] else set())
                keys = {} if rec["code"] else name_keys(rec["name"])
                rows.append(
                    {
                        "id": rec["id"],
                        "aliases": aliases,
                        "sources": sorted(sources),
                        "search": search_key([rec["name"], *aliases, *official]),
                        "pinyin": pinyin(rec["name"]),
                        "scope": None if kinds == {SYNTHETIC} else "curated",
                        "key_name": keys.get("key_name"),
                        "key_pinyin": keys.get("key_pinyin"),
                        "key_initials": keys.get("key_initials"),
                    }
                )
        self._run_batches(tx, SET_DERIVED, rows)

    def sync(self, facts: SourceFacts) -> SourcePlan:
        """Bring the graph in line with one source's facts, in one transaction."""
        with session(self.driver, self.settings, write=True) as s:
            return s.execute_write(self._sync, facts)


def batch_count(facts: SourceFacts, batch_size: int) -> int:
    """How many write batches a sync of these facts takes at most, for a progress bar."""
    labels: defaultdict[str, int] = defaultdict(int)
    types: defaultdict[str, int] = defaultdict(int)
    for e in facts.entities.values():
        labels[e.label] += 1
    for r in facts.relations.values():
        types[r.type] += 1
    types["derived"] = len(facts.entities)
    batches = [-(-size // batch_size) for size in types.values()]
    # entities take two statements per batch: create the missing, then update all
    return sum(batches) + 2 * sum(-(-size // batch_size) for size in labels.values())


def loaded_sources(driver: Driver, settings: Settings) -> list[str]:
    with session(driver, settings) as s:
        return [r["id"] for r in s.run(LIST_SOURCES)]
