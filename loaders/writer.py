"""Writing sources to the graph: one transaction per source (or per group of sources, for bulk
loads), batched `UNWIND ... MERGE`.

Each source is synced, not appended: the graph ends up holding exactly what the source's file
states, with facts it no longer states removed. Removal is scoped to the source: an entity or
relation that another source also states keeps that source's provenance and survives. A
failure anywhere rolls the whole source back, so a source is either as it was or fully loaded.
Several sources synced in one transaction (`sync_many`) share its statements, each row naming
its source: the same result as syncing them one after another, in far fewer round trips.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from neo4j import Driver, ManagedTransaction

from graph.connection import session
from graph.divisions import GAZETTEER_SOURCE_ID, short_code
from graph.model import LABELS, RELATIONSHIP_TYPES, SYNTHETIC
from graph.settings import Settings
from graph.text import name_keys, pinyin, search_key
from loaders.facts import RELATION_PROPS, SourceFacts, SourcePlan, chunks, plan, set_props
from loaders.tally import track_sync

# Properties the loader derives from all sources together; not stated by any one file.
DERIVED_PROPS = frozenset({"id", "aliases", "sources", "search", "pinyin", "search_scope"})
# Properties the official division list gives a curated place (loaders.regions); no case file
# states them, so a sync neither compares nor removes them. The search keys (`key_*`) are the
# loader's own for every other entity (`_derived`).
GAZETTEER_PROPS = frozenset({"code", "official_name", "level", "key_name", "key_pinyin", "key_initials"})

# Patterns start at a node found by id: the local server expands a pattern from its first node,
# and `(:Source)-[:MENTIONS]->(n)` with n bound scanned every source's mentions (all of them,
# nationally) for each row.
READ_SOURCES = "UNWIND $sources AS id MATCH (s:Source {id: id}) RETURN s.id AS id"
READ_SOURCE_ENTITIES = """
MATCH (:Source {id: $source})-[m:MENTIONS]->(n:Entity)
RETURN n.id AS id, [l IN labels(n) WHERE l <> 'Entity'][0] AS label, n {.*} AS props,
       m.evidence AS evidence, m.aliases AS aliases,
       COUNT { (n)<-[:MENTIONS]-(:Source) } AS mentions
"""
READ_SOURCE_RELATIONS = """
MATCH (:Source {id: $source})-[:MENTIONS]->(a:Entity)-[r]->(b:Entity)
WHERE $source IN r.sources
RETURN type(r) AS type, a.id AS start, b.id AS end, r {.*} AS props
"""
# Every writing statement takes rows that name their source (`row.source`), so one statement
# serves the rows of several sources synced in one transaction (SourceWriter.sync_many).
MERGE_SOURCES = """
UNWIND $rows AS row
MERGE (s:Entity:Source {id: row.source})
SET s += row.props, s.date = CASE WHEN row.date IS NULL THEN null ELSE date(row.date) END
RETURN collect([row.source, elementId(s)]) AS nodes
"""
UNLINK_RELATIONS = """
UNWIND $rows AS row
MATCH (a:Entity {id: row.start})-[r]->(b:Entity {id: row.end})
WHERE type(r) = row.type AND row.source IN r.sources
WITH r, [i IN range(0, size(r.sources) - 1) WHERE r.sources[i] <> row.source] AS keep
SET r.sources = [i IN keep | r.sources[i]], r.evidence = [i IN keep | r.evidence[i]]
WITH r WHERE size(r.sources) = 0
DELETE r
"""
UNLINK_ENTITIES = """
UNWIND $rows AS row
MATCH (n:Entity {id: row.id})<-[m:MENTIONS]-(:Source {id: row.source})
DELETE m
"""
DELETE_ORPHANS = """
UNWIND $ids AS id
MATCH (n:Entity {id: id})
WHERE NOT EXISTS { (n)<-[:MENTIONS]-(:Source) } AND n.code IS NULL
DETACH DELETE n
"""
DELETE_SOURCES = "UNWIND $ids AS id MATCH (s:Source {id: id}) DETACH DELETE s"
# Labels and relationship types cannot be parameters; they come only from graph.model's lists.
# Missing nodes are created first, then every row is found by `Entity.id`: a two-label
# `MERGE (n:Entity:Village {id: ..})` scans the label on the local server (measured: it slows
# as the label grows; the synthetic overlay made it the loader's main cost, as the national
# division load did), while a lookup on `Entity.id` uses the unique index on both servers.
# A node holding the id under another label is created again on purpose: the id constraint
# refuses it, and the source is rolled back, as MERGE did.
#
# Node handles: a lookup on `Entity.id` costs the local server 20-35 us a row, found or not,
# most of a bulk load's server time (a relation takes two). Each statement that writes an
# entity or a source returns its `elementId` with its id, and the transaction's later
# statements find that node by it (a direct seek on both servers, 1-3 us a row on the local
# one): `row.node`, `row.a`, `row.b`, `row.src`. A handle is used only inside the transaction
# that read it, after every deletion of that transaction, and is never shown or stored (its
# format differs between the servers).
#
# A node new to the graph gets its props, its derived props (computed from the group's sources,
# the only ones that can mention it yet) and its mention in this one statement, which returns
# the handles it created: those need no read-back, and their relations no MERGE.
# `row.props` holds the id, the stated and the derived props, none null, set as one map (two
# `+=` merges and a record per row took 1.2-1.4x the server CPU, 5,000 rows interleaved).
# CREATE_ENTITIES first looks for a node holding the id; CREATE_NEW_ENTITIES takes rows whose id
# the transaction's tally tracker looked up before any write and did not find (loaders.tally
# `Tracker.there`), so that lookup would find nothing either.
_CREATE_ENTITY = """CREATE (n:Entity:{label} {{id: row.id}})
SET n = row.props
WITH n, row
MATCH (s) WHERE elementId(s) = row.src
CREATE (s)-[:MENTIONS {{evidence: row.evidence, aliases: row.aliases}}]->(n)
RETURN collect([row.id, elementId(n)]) AS nodes
"""
CREATE_ENTITIES = (
    """
UNWIND $rows AS row
OPTIONAL MATCH (known:Entity {{id: row.id}})
WITH row, known WHERE known IS NULL OR NOT known:{label}
"""
    + _CREATE_ENTITY
)
CREATE_NEW_ENTITIES = "\nUNWIND $rows AS row\n" + _CREATE_ENTITY
# An entity new to its source has no MENTIONS from it yet (the plan read them all): CREATE,
# not MERGE, which would look through every mention of the source for each row.
MENTION_NEW = """
UNWIND $rows AS row
MATCH (n:Entity {id: row.id})
SET n += row.props
WITH n, row
MATCH (s) WHERE elementId(s) = row.src
CREATE (s)-[:MENTIONS {evidence: row.evidence, aliases: row.aliases}]->(n)
RETURN collect([row.id, elementId(n)]) AS nodes
"""
MENTION_NEW_HANDLED = """
UNWIND $rows AS row
MATCH (n) WHERE elementId(n) = row.node
SET n += row.props
WITH n, row
MATCH (s) WHERE elementId(s) = row.src
CREATE (s)-[:MENTIONS {evidence: row.evidence, aliases: row.aliases}]->(n)
"""
MENTION_KNOWN = """
UNWIND $rows AS row
MATCH (n:Entity {id: row.id})
SET n += row.props
WITH n, row
MATCH (n)<-[m:MENTIONS]-(:Source {id: row.source})
SET m.evidence = row.evidence, m.aliases = row.aliases
RETURN collect([row.id, elementId(n)]) AS nodes
"""
# A relation row's ends: by id, or by the handles the transaction's earlier statements returned.
_RELATION_ENDS = {
    False: "MATCH (a:Entity {id: row.start})\nMATCH (b:Entity {id: row.end})",
    True: "MATCH (a) WHERE elementId(a) = row.a\nMATCH (b) WHERE elementId(b) = row.b",
}
_MERGE_RELATION = """MERGE (a)-[r:{type}]->(b)
SET r += row.props
WITH r, row, coalesce(r.sources, []) AS srcs, coalesce(r.evidence, []) AS evs
SET r.sources = CASE WHEN row.source IN srcs THEN srcs ELSE srcs + [row.source] END,
    r.evidence = CASE WHEN row.source IN srcs
        THEN [i IN range(0, size(srcs) - 1) |
              CASE WHEN srcs[i] = row.source THEN row.evidence ELSE evs[i] END]
        ELSE evs + [row.evidence] END
"""
# A relation with an end created in this transaction cannot exist yet (first round of its type).
_CREATE_RELATION = """CREATE (a)-[r:{type}]->(b)
SET r += row.props, r.sources = [row.source], r.evidence = [row.evidence]
"""


def merge_relations(rel_type: str, *, handled: bool = False) -> str:
    """A relation type's rows (from graph.model's list) merged, its ends found by id or by handle."""
    return f"UNWIND $rows AS row\n{_RELATION_ENDS[handled]}\n{_MERGE_RELATION.format(type=rel_type)}"


def create_relations(rel_type: str, *, handled: bool = False) -> str:
    """A relation type's rows created (no such relation can exist yet), ends by id or by handle."""
    return f"UNWIND $rows AS row\n{_RELATION_ENDS[handled]}\n{_CREATE_RELATION.format(type=rel_type)}"


# `official_name` is read by a key given as a parameter: on a Neo4j that has never held it (no
# division loaded, no index on it) `n.official_name` raises warning 01N52 (the property key
# does not exist) once per source loaded; a dynamic key is not checked when compiled.
READ_NAMES = """
UNWIND $ids AS id
MATCH (n:Entity {id: id})
OPTIONAL MATCH (n)<-[m:MENTIONS]-(s:Source)
RETURN n.id AS id, n.name AS name, n[$official_name] AS official_name, n.code AS code,
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
    n.search_scope = row.search_scope, n.key_name = coalesce(row.key_name, n.key_name),
    n.key_pinyin = coalesce(row.key_pinyin, n.key_pinyin),
    n.key_initials = coalesce(row.key_initials, n.key_initials)
"""
# Curated sources only: a dataset (the official division list) is not synced from a file.
LIST_SOURCES = "MATCH (s:Source) WHERE coalesce(s.kind, '') <> 'dataset' RETURN s.id AS id ORDER BY id"

OnBatch = Callable[[int], None]


def _rounds(
    rows: Iterable[dict[str, Any]], key: Callable[[dict[str, Any]], Any]
) -> list[list[dict[str, Any]]]:
    """Rows split so that no key repeats within one statement: a relation that two sources of a
    group state is merged once per source, in source order, as one source at a time would."""
    out: list[list[dict[str, Any]]] = []
    seen: Counter[Any] = Counter()
    for row in rows:
        k = key(row)
        if seen[k] == len(out):
            out.append([])
        out[seen[k]].append(row)
        seen[k] += 1
    return out


def _derived(
    name: str,
    mentions: Iterable[tuple[str, Sequence[str], str | None]],
    official_name: str | None,
    code: str | None,
    own_kind: str | None = None,
) -> dict[str, Any]:
    """What an entity's node derives from every source naming it: (source id, aliases, source
    kind) each, and for a place resolved to a division its official name and code, and that
    list. `own_kind`: a Source node's own kind (no source names a source)."""
    ordered = sorted(mentions, key=lambda m: m[0])
    aliases = list(dict.fromkeys(a for _, names, _ in ordered for a in names if a != name))
    official = [official_name or name, short_code(code)] if code else []
    sources = [m[0] for m in ordered] + ([GAZETTEER_SOURCE_ID] if code else [])
    kinds = {kind for _, _, kind in ordered} | ({own_kind} if own_kind else set())
    keys = {} if code else name_keys(name)
    return {
        "aliases": aliases,
        "sources": sorted(sources),
        "search": search_key([name, *aliases, *official]),
        "pinyin": pinyin(name),
        "search_scope": None if kinds == {SYNTHETIC} else "curated",
        "key_name": keys.get("key_name"),
        "key_pinyin": keys.get("key_pinyin"),
        "key_initials": keys.get("key_initials"),
    }


def _new_derived(stated: Sequence[tuple[str, Sequence[str], Any, str]]) -> dict[str, Any]:
    """The derived props of a node created by this group: its sources are the group's that state
    it, its name the last one's (props are set in source order), no division yet."""
    return _derived(stated[-1][2], [(src, aliases, kind) for src, aliases, _, kind in stated], None, None)


class SourceWriter:
    """Plans and applies the sync of sources: one source, or several in one transaction."""

    def __init__(
        self,
        driver: Driver,
        settings: Settings,
        on_batch: OnBatch | None = None,
        *,
        batch_size: int | None = None,
    ) -> None:
        self.driver, self.settings = driver, settings
        self.batch_size = batch_size or settings.batch_size
        self.on_batch = on_batch or (lambda n: None)
        # Seconds spent per statement (sent and consumed), for profiles of the loader.
        self.timings: defaultdict[str, float] = defaultdict(float)

    # -- reading ----------------------------------------------------------------------------
    def _plan(self, tx: ManagedTransaction, facts: SourceFacts, in_graph: bool) -> SourcePlan:
        src = facts.source_id
        entities: dict[str, tuple[tuple[Any, ...], int]] = {}
        relations: dict[tuple[str, str, str], tuple[Any, ...]] = {}
        if not in_graph:  # no Source node: nothing mentioned by it, no provenance of it
            return plan(facts, entities, relations, in_graph)
        started = time.perf_counter()
        for rec in tx.run(READ_SOURCE_ENTITIES, source=src):
            props = {
                k: v
                for k, v in rec["props"].items()
                if k not in DERIVED_PROPS and k not in GAZETTEER_PROPS and v is not None
            }
            aliases = tuple(sorted(rec["aliases"] or ()))
            entities[rec["id"]] = ((rec["label"], props, rec["evidence"], aliases), rec["mentions"])
        for rec in tx.run(READ_SOURCE_RELATIONS, source=src):
            props = rec["props"]
            evidence = props["evidence"][props["sources"].index(src)]
            stated = {k: props[k] for k in RELATION_PROPS if props.get(k) is not None}
            relations[(rec["type"], rec["start"], rec["end"])] = (stated, evidence)
        self.timings["plan: read the source's view"] += time.perf_counter() - started
        return plan(facts, entities, relations, in_graph)

    def _plans(self, tx: ManagedTransaction, group: Sequence[SourceFacts]) -> list[SourcePlan]:
        started = time.perf_counter()
        known = {r["id"] for r in tx.run(READ_SOURCES, sources=[f.source_id for f in group])}
        self.timings["plan: which sources exist"] += time.perf_counter() - started
        return [self._plan(tx, f, f.source_id in known) for f in group]

    def plan(self, facts: SourceFacts) -> SourcePlan:
        with session(self.driver, self.settings) as s:
            return s.execute_read(lambda tx: self._plans(tx, [facts])[0])

    # -- writing ----------------------------------------------------------------------------
    def _run_batches(
        self,
        tx: ManagedTransaction,
        name: str,
        query: str,
        rows: Sequence[Any],
        *,
        key: str = "rows",
        handles: dict[str, str] | None = None,
    ) -> list[str]:
        """Run the statement over the rows in batches; with `handles`, take in the node handles
        it returns (its `nodes` column: [id, elementId] pairs) and return their ids."""
        out: list[str] = []
        for chunk in chunks(rows, self.batch_size):
            started = time.perf_counter()
            result = tx.run(query, {key: chunk})
            if handles is not None:
                for rec in result:
                    for node_id, node in rec["nodes"]:
                        handles[node_id] = node
                        out.append(node_id)
            result.consume()
            self.timings[name] += time.perf_counter() - started
            self.on_batch(1)
        return out

    def _relations(
        self,
        tx: ManagedTransaction,
        name: str,
        by_id: str,
        by_handle: str,
        rows: list[dict[str, Any]],
        handles: dict[str, str],
    ) -> None:
        """Write relation rows, each finding its ends by their handles where the transaction has
        both, by id otherwise."""
        handled = []
        for r in rows:
            a, b = handles.get(r["start"]), handles.get(r["end"])
            if a is not None and b is not None:
                handled.append({**r, "a": a, "b": b})
        ids = [r for r in rows if r["start"] not in handles or r["end"] not in handles]
        self._run_batches(tx, name, by_handle, handled)
        self._run_batches(tx, name, by_id, ids)

    def _sync(self, tx: ManagedTransaction, group: Sequence[SourceFacts]) -> list[SourcePlan]:
        """Sync every source of the group in this transaction, each as if synced alone: the same
        statements, their rows naming their source, so the group takes as many statements as
        one source (each label and type once) however many sources it holds."""
        plans = self._plans(tx, group)
        started = time.perf_counter()
        tally = track_sync(tx, group, plans)  # the figures kept per place, in this transaction
        self.timings["tally: before"] += time.perf_counter() - started
        stale_rels, stale_mentions, orphans = [], [], []
        for f, p in zip(group, plans, strict=True):
            src = f.source_id
            stale_rels += [{"type": t, "start": a, "end": b, "source": src} for t, a, b in p.stale_relations]
            stale_mentions += [{"id": i, "source": src} for i in p.stale_entity_ids]
            orphans += p.orphaned
        self._run_batches(tx, "unlink stale relations", UNLINK_RELATIONS, stale_rels)
        self._run_batches(tx, "unlink stale entities", UNLINK_ENTITIES, stale_mentions)
        self._run_batches(tx, "delete orphans", DELETE_ORPHANS, orphans, key="ids")
        removed = [f.source_id for f in group if f.source is None]
        self._run_batches(tx, "delete sources", DELETE_SOURCES, removed, key="ids")
        live = [(f, p) for f, p in zip(group, plans, strict=True) if f.source is not None]
        sources = []
        for f, _ in live:
            assert f.source is not None
            date = f.source.date.isoformat() if f.source.date else None
            sources.append({"source": f.source_id, "props": f.source_props(), "date": date})
        # every node the statements below write, by id: its handle (the module's comment)
        handles: dict[str, str] = {}
        self._run_batches(tx, "merge sources", MERGE_SOURCES, sources, handles=handles)

        by_label: dict[str, list[dict[str, Any]]] = defaultdict(list)
        # every source of the group stating an entity: (source, aliases, name, source kind), in group order
        stated: dict[str, list[tuple[str, Sequence[str], Any, str]]] = defaultdict(list)
        for f, p in live:
            added = {*p.entities.added, *p.quantities.added}
            kind = f.source.kind if f.source else ""
            src = handles[f.source_id]
            for e in f.entities.values():
                by_label[e.label].append(
                    {"id": e.id, "props": e.props, "evidence": e.evidence, "aliases": list(e.aliases),
                     "source": f.source_id, "src": src, "new": e.id in added}
                )  # fmt: skip
                stated[e.id].append((f.source_id, e.aliases, e.props.get("name"), kind))
        # Relationships this transaction surely creates from a node new to the graph (`fresh`: an
        # entity it creates, a source new to the graph), counted here so that the tally tracker
        # need not read those nodes again (Tracker.after): before the transaction they had no
        # relationships, or were orphans it deleted with all of theirs.
        fresh_sources = {p.source_id for p in plans if p.source_new}
        made_from: list[tuple[str, str]] = []  # (start, type), one per relationship surely created
        unsure: set[str] = set()  # fresh nodes some statement may or may not start a relationship at
        created: set[str] = set()
        for label in LABELS:  # allow-listed: the only text formatted into Cypher
            # an entity several sources of the group state: their props are set in source order
            for i, rows in enumerate(_rounds(by_label.get(label, ()), key=lambda r: r["id"])):
                fresh = [r for r in rows if r["new"]]
                if i == 0 and fresh:  # an id is new to the graph in its first round only
                    started = time.perf_counter()
                    nodes = [
                        {"id": r["id"], "evidence": r["evidence"], "aliases": r["aliases"],
                         "source": r["source"], "src": r["src"],
                         "props": set_props({**r["props"], **_new_derived(stated[r["id"]]), "id": r["id"]})}
                        for r in fresh
                    ]  # fmt: skip
                    self.timings["derived: search keys and pinyin (Python)"] += time.perf_counter() - started
                    unseen = [r for r in nodes if r["id"] not in tally.there]
                    seen = [r for r in nodes if r["id"] in tally.there]
                    made = [
                        *self._run_batches(tx, "create entities", CREATE_NEW_ENTITIES.format(label=label),
                                           unseen, handles=handles),
                        *self._run_batches(tx, "create entities", CREATE_ENTITIES.format(label=label),
                                           seen, handles=handles),
                    ]  # fmt: skip
                    created.update(made)
                    made_from += [(r["source"], "MENTIONS") for r in nodes if r["id"] in created]
                    fresh = [r for r in fresh if r["id"] not in created]
                handled = [{**r, "node": handles[r["id"]]} for r in fresh if r["id"] in handles]
                self._run_batches(tx, "entities new to their source", MENTION_NEW_HANDLED, handled)
                fresh = [r for r in fresh if r["id"] not in handles]
                self._run_batches(tx, "entities new to their source", MENTION_NEW, fresh, handles=handles)
                # the node is there (created above or before) and has no mention from the source yet
                made_from += [(r["source"], "MENTIONS") for r in [*handled, *fresh]]
                known = [r for r in rows if not r["new"]]
                self._run_batches(tx, "entities known to their source", MENTION_KNOWN, known, handles=handles)

        by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for f, _ in live:
            for rel in f.relations.values():
                by_type[rel.type].append(
                    {
                        "start": rel.start,
                        "end": rel.end,
                        "props": rel.props,
                        "evidence": rel.evidence,
                        "source": f.source_id,
                        # both ends are there by now, so the statement surely matches them
                        "sure": rel.start in f.entities and rel.end in f.entities,
                    }
                )
        for rel_type in RELATIONSHIP_TYPES:
            for i, rows in enumerate(
                _rounds(by_type.get(rel_type, ()), key=lambda r: (r["start"], r["end"]))
            ):
                if i == 0:
                    new = [r for r in rows if r["start"] in created or r["end"] in created]
                    rows = [r for r in rows if not (r["start"] in created or r["end"] in created)]
                    self._relations(
                        tx, "create relations", create_relations(rel_type),
                        create_relations(rel_type, handled=True), new, handles,
                    )  # fmt: skip
                    made_from += [(r["start"], rel_type) for r in new if r["sure"]]
                    unsure.update(r["start"] for r in new if not r["sure"])
                self._relations(
                    tx, "merge relations", merge_relations(rel_type),
                    merge_relations(rel_type, handled=True), rows, handles,
                )  # fmt: skip
                # a sure row from a created node in a later round merges what its first round
                # created; any other merge from a fresh node may create a relationship or not
                unsure.update(r["start"] for r in rows if not (r["sure"] and r["start"] in created))

        touched: list[str] = []
        for f, p in zip(group, plans, strict=True):
            orphaned = set(p.orphaned)
            touched += [*f.entities, *(i for i in p.stale_entity_ids if i not in orphaned)]
            if f.source is not None:
                touched.append(f.source_id)
        self.refresh_derived(tx, [i for i in dict.fromkeys(touched) if i not in created])
        started = time.perf_counter()
        settled = (created | fresh_sources) - unsure
        tally.extra_types.update(t for start, t in made_from if start in settled)
        tally.after(settled=settled, handles=handles)
        self.timings["tally: after"] += time.perf_counter() - started
        return plans

    def refresh_derived(self, tx: ManagedTransaction, ids: Iterable[str]) -> None:
        """Recompute what depends on every source at once: aliases, sources, search keys (with
        the official name and code of a place resolved to a division, and that list as a source)."""
        rows = []
        for chunk in chunks(list(ids), self.batch_size):
            started = time.perf_counter()
            records = list(tx.run(READ_NAMES, ids=chunk, official_name="official_name"))
            self.timings["derived: read names and mentions"] += time.perf_counter() - started
            started = time.perf_counter()
            for rec in records:
                mentions = [(m[0], m[1] or (), m[2]) for m in rec["mentions"] if m[0] is not None]
                derived = _derived(
                    rec["name"], mentions, rec["official_name"], rec["code"], rec["source_kind"]
                )
                rows.append({"id": rec["id"], **derived})
            self.timings["derived: search keys and pinyin (Python)"] += time.perf_counter() - started
        self._run_batches(tx, "derived: set", SET_DERIVED, rows)

    def sync(self, facts: SourceFacts) -> SourcePlan:
        """Bring the graph in line with one source's facts, in one transaction."""
        return self.sync_many([facts])[0]

    def sync_many(self, group: Sequence[SourceFacts]) -> list[SourcePlan]:
        """Sync several sources in one transaction: all of them, or none if anything fails."""
        if len({f.source_id for f in group}) != len(group):
            raise ValueError("a source appears twice in one group")
        with session(self.driver, self.settings, write=True) as s:
            started = time.perf_counter()
            try:
                return s.execute_write(self._sync, group)
            finally:
                self.timings["transaction, all in"] += time.perf_counter() - started


def batch_count(facts: SourceFacts, batch_size: int) -> int:
    """How many write batches a sync of these facts takes at most, for a progress bar."""
    labels: defaultdict[str, int] = defaultdict(int)
    types: defaultdict[str, int] = defaultdict(int)
    for e in facts.entities.values():
        labels[e.label] += 1
    for r in facts.relations.values():
        types[r.type] += 1
    types["derived"] = len(facts.entities) + 1  # and the source itself
    types["source"] = 1
    batches = [-(-size // batch_size) for size in types.values()]
    # entities take two statements per batch: create the missing, then update all
    return sum(batches) + 2 * sum(-(-size // batch_size) for size in labels.values())


def loaded_sources(driver: Driver, settings: Settings) -> list[str]:
    with session(driver, settings) as s:
        return [r["id"] for r in s.run(LIST_SOURCES)]
