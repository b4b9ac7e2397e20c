"""Figures kept per place ("tallies"), so that region-coverage and overview read one node per
place instead of walking everything a division holds (6.3 s for a province at national size).

A place is any Province, City, County, Township or Village node. Its tally is one node outside
the Entity model, `(:Tally {id: <the place's id>})` (no catalog entry, export or dump sees it,
as with LoadProgress and DataVersion), with one integer per measure:

- `villages`, `in_alliance`, `dispatched`, `projects`, `enterprises`: region-coverage's five
  figures for the place, over "inside(D)" = D itself and every entity with a LOCATED_IN*1..6
  path to D (queries.regions defined them that way when it counted them on each request),
  except that `villages` leaves a village place itself out (the reader adds it): a village
  counted only by itself would need a tally of its own, and the national divisions' first
  load would write 620,000 of them (it ran 10-40% slower so, measured on Fujian's 18,760 rows);
- `entities`: overview's count of the distinct entities with a LOCATED_IN*1..6 path to it.

A missing tally reads as all zeros, and a tally that falls to all zeros is deleted. Overview's
relationships per type are kept the same way, one `(:TypeTally {id: <type>, count})` each.

They are kept by deltas, written in the transaction of the facts they count, so they cannot be
stale: every counted item *contributes* to a set of (place, measure) keys, computed from the
graph by `contributions`. A write transaction names what it touches (`Tracker.before`), the
tracker finds the items whose contributions may change, reads their contributions before the
writes and again after them (both servers read their own writes inside a transaction), and
adds the difference to the tallies in one statement. `recount` computes every contribution of
the graph from the facts: `ruralkg tally rebuild` writes it, `ruralkg tally check` and the
tests compare it with what is kept.

Which items a write can change, from T (every node it writes or deletes, both ends of every
relationship it writes or deletes, the neighbours of the nodes it deletes) and A (T and the
LOCATED_IN descendants of every node whose own LOCATED_IN edges or id change), as the
contributions below depend on the graph:

- a village counts in the places it lies in (itself too), and in_alliance / dispatched by the
  alliances and dispatches that reach it: A's villages, the villages A's branches are BASED_IN
  and A's alliances HAS_MEMBER (an alliance's member branch is in T when that edge changes);
- a project counts where it lies, where its holders (HAS_PROJECT) lie and where the bases of the
  branches that LEAD it lie: A's projects, the projects A's nodes hold, A's branches lead, and
  the branches based in A's nodes lead;
- an enterprise counts where it lies and in every place of the projects that INVOLVE it: A's
  enterprises and those the projects above involve;
- an entity counts (`entities`) in every place it lies in: A.

Every path that reaches an item through a changed relationship has that relationship's ends in
T, so the item is found both before the writes and after them; an item found only after them
is new.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from neo4j import Driver, ManagedTransaction, Record

from graph.connection import session
from graph.divisions import LEVEL_LABELS
from graph.model import RELATIONSHIPS
from graph.settings import Settings
from loaders import industry_tally, person_villages
from loaders.facts import SourceFacts, SourcePlan, chunks, pages
from loaders.person_villages import PersonTracker

MEASURES = ("villages", "in_alliance", "dispatched", "projects", "enterprises", "entities")
VILLAGES, IN_ALLIANCE, DISPATCHED, PROJECTS, ENTERPRISES, ENTITIES = range(len(MEASURES))
HOPS = 6  # as queries.analysis.REGION_HOPS: project -> village -> ... -> province, a hop to spare
BATCH = 2000
"""Ids per statement when contributions are read: small enough for one statement's memory on
the local server, large enough that a national recount is a few hundred statements."""

PAGE = 20_000
"""Nodes per statement when a recount walks the whole graph: on the local server every statement
must end within its command timeout (RURALKG_QUERY_TIMEOUT, 5 s by default), and one statement
listing every entity of a scale 0.1 graph did not."""

Figures = dict[str, list[int]]
"""Place id -> one integer per measure (MEASURES' order): tallies, or a change to them."""


def _any(var: str, labels: Iterable[str]) -> str:
    return "(" + " OR ".join(f"{var}:{label}" for label in labels) + ")"


# Every pattern starts at the node found by id: the local server expands a pattern from its
# first node. Roots: the holders of a project (the labels that may hold one) and the bases of the
# branches that lead it (the labels a branch may be based in), as region-coverage counted them.
_FIND = """
UNWIND $ids AS id
MATCH (x:Entity {id: id})
"""
_NODE = f"""x.id AS id,
  CASE WHEN x:Village THEN 'v' WHEN x:Project THEN 'p' WHEN x:Enterprise THEN 'e' ELSE '' END AS kind,
  CASE WHEN {_any("x", LEVEL_LABELS)} THEN true ELSE false END AS place,
  [(x)-[:LOCATED_IN*1..{HOPS}]->(c) WHERE {_any("c", LEVEL_LABELS)} | c.id] AS up,
  CASE WHEN x:Village THEN size([(x)<-[:HAS_MEMBER]-(:Alliance) | 1]) > 0
    OR size([(x)<-[:BASED_IN]-(:Branch)<-[:HAS_MEMBER]-(:Alliance) | 1]) > 0 ELSE false END AS in_alliance,
  CASE WHEN x:Village THEN size([(x)<-[:DISPATCHED_TO]-(:Entity) | 1]) > 0 ELSE false END AS dispatched,
  CASE WHEN x:Project THEN
    [(x)<-[:HAS_PROJECT]-(h) WHERE {_any("h", RELATIONSHIPS["HAS_PROJECT"][0])} | h.id]
    + [(x)<-[:LEADS]-(:Branch)-[:BASED_IN]->(b) WHERE {_any("b", RELATIONSHIPS["BASED_IN"][1])} | b.id]
  ELSE [] END AS roots,
  CASE WHEN x:Enterprise THEN [(x)<-[:INVOLVES]-(p:Project) | p.id] ELSE [] END AS projects"""
CONTRIBUTIONS = f"{_FIND}RETURN {_NODE}\n"
# The items whose contributions a change to these nodes can change (the module's rules), and the
# nodes' own contributions: a touched node is an item too, read so in the same pass.
_AFFECTED = f"""RETURN {_NODE},
  CASE WHEN x:Village THEN [x.id] ELSE [] END
    + CASE WHEN x:Branch THEN [(x)-[:BASED_IN]->(v:Village) | v.id] ELSE [] END
    + CASE WHEN x:Alliance THEN [(x)-[:HAS_MEMBER]->(v:Village) | v.id] ELSE [] END AS villages,
  CASE WHEN x:Project THEN [x.id] ELSE [] END
    + [(x)-[:HAS_PROJECT]->(p:Project) | p.id]
    + CASE WHEN x:Branch THEN [(x)-[:LEADS]->(p:Project) | p.id] ELSE [] END
    + [(x)<-[:BASED_IN]-(:Branch)-[:LEADS]->(p:Project) | p.id] AS projects_affected,
  CASE WHEN x:Enterprise THEN [x.id] ELSE [] END AS enterprises
"""
AFFECTED = _FIND + _AFFECTED
# The same, each node found by the handle a writer's statement returned for it in this
# transaction (loaders.writer's node handles): a seek, where an id is a lookup in the index.
AFFECTED_HANDLED = (
    """
UNWIND $ids AS node
MATCH (x) WHERE elementId(x) = node
"""
    + _AFFECTED
)
INVOLVED = """
UNWIND $ids AS id
MATCH (p:Entity {id: id})
RETURN [(p)-[:INVOLVES]->(e:Enterprise) | e.id] AS enterprises
"""
DESCENDANTS = f"""
UNWIND $ids AS id
MATCH (n:Entity {{id: id}})<-[:LOCATED_IN*1..{HOPS}]-(d:Entity)
RETURN DISTINCT d.id AS id
"""
NEIGHBOURS = """
UNWIND $ids AS id
MATCH (n:Entity {id: id})
RETURN [(n)--(m:Entity) | m.id] AS ids
"""
LINKED = """
UNWIND $pairs AS pair
MATCH (a:Entity {id: pair[0]})-[:LOCATED_IN]->(b:Entity)
WHERE b.id = pair[1]
RETURN a.id AS start, b.id AS end
"""
APPLY = f"""
UNWIND $rows AS row
MERGE (t:Tally {{id: row.id}})
SET {", ".join(f"t.{m} = coalesce(t.{m}, 0) + row.{m}" for m in MEASURES)}
WITH t WHERE {" AND ".join(f"t.{m} = 0" for m in MEASURES)}
DELETE t
"""
# `ruralkg tally rebuild`: the recount's figures replace the tallies, place by place.
REPLACE = f"""
UNWIND $rows AS row
MERGE (t:Tally {{id: row.id}})
SET {", ".join(f"t.{m} = row.{m}" for m in MEASURES)}
"""
# Relationships per type, for overview: the local server counts `()-[r:TYPE]->()` by reading
# every node (about 1 s nationally, even for a type with 22 relationships), so each type's count
# is kept too, by the same transactions: every relationship written or deleted starts at a node
# the tracker is told of (T), so T's outgoing relationships by type, counted before the writes
# and after them, change exactly as the graph's do.
OUT_TYPES = """
UNWIND $ids AS id
MATCH (n:Entity {id: id})-[r]->()
RETURN type(r) AS type, count(*) AS n
"""
APPLY_TYPES = """
UNWIND $rows AS row
MERGE (t:TypeTally {id: row.type})
SET t.count = coalesce(t.count, 0) + row.n
WITH t WHERE t.count = 0
DELETE t
"""
REPLACE_TYPES = """
UNWIND $rows AS row
MERGE (t:TypeTally {id: row.type})
SET t.count = row.n
"""
READ_TYPE_TALLIES = "MATCH (t:TypeTally) RETURN t.id AS type, t.count AS n"
DELETE_TYPE_TALLIES = "UNWIND $types AS type MATCH (t:TypeTally {id: type}) DELETE t"
# The whole graph is read in pages by id: each page is one statement, so no statement holds or
# returns the whole graph. Neo4j answers `id > $after ... ORDER BY id LIMIT` from the id index;
# the local server does so for a small graph, but nationally it plans the open range as a scan of
# the label (18 s for the first page of 3.99 M entities at scale 1, measured): a national recount
# there needs the server started with a longer RURALKG_QUERY_TIMEOUT (docs/servers.md).
READ_TALLIES = f"""
MATCH (t:Tally) WHERE t.id > $after
WITH t ORDER BY t.id LIMIT $n
RETURN t.id AS id, [{", ".join(f"coalesce(t.{m}, 0)" for m in MEASURES)}] AS figures
"""
DELETE_TALLIES = "UNWIND $ids AS id MATCH (t:Tally {id: id}) DELETE t"
# Every item a recount counts (the villages, projects and enterprises, and every entity that lies
# somewhere: only those count in `entities`), and the type of every relationship, from its start.
ALL_ENTITIES = """
MATCH (x:Entity) WHERE x.id > $after
WITH x ORDER BY x.id LIMIT $n
RETURN x.id AS id,
  CASE WHEN x:Village THEN 'villages' WHEN x:Project THEN 'projects'
       WHEN x:Enterprise THEN 'enterprises' ELSE '' END AS kind,
  [(x)-[r]->() | type(r)] AS out
"""


@dataclass
class Items:
    """The items whose contributions are read: each kind counts in its own measures."""

    villages: set[str] = field(default_factory=set)
    projects: set[str] = field(default_factory=set)
    enterprises: set[str] = field(default_factory=set)
    entities: set[str] = field(default_factory=set)

    def __or__(self, other: Items) -> Items:
        return Items(
            self.villages | other.villages,
            self.projects | other.projects,
            self.enterprises | other.enterprises,
            self.entities | other.entities,
        )


@dataclass(frozen=True)
class Node:
    """What a node adds to the tallies depends on: CONTRIBUTIONS' columns."""

    id: str
    kind: str
    place: bool
    up: frozenset[str]
    in_alliance: bool
    dispatched: bool
    roots: tuple[str, ...]
    projects: tuple[str, ...]

    @property
    def reach(self) -> frozenset[str]:
        """The places it lies in, itself too if it is one."""
        return self.up | {self.id} if self.place else self.up


def _node(r: Record) -> Node:
    """A node as CONTRIBUTIONS (or AFFECTED) returns it."""
    return Node(
        r["id"], r["kind"], r["place"], frozenset(r["up"]), r["in_alliance"], r["dispatched"],
        tuple(r["roots"]), tuple(r["projects"]),
    )  # fmt: skip


def read_nodes(tx: ManagedTransaction, ids: Iterable[str], known: dict[str, Node | None]) -> None:
    """Read the nodes not read yet into `known` (None: not in the graph)."""
    missing = sorted(set(ids) - known.keys())
    for chunk in chunks(missing, BATCH):
        for r in tx.run(CONTRIBUTIONS, ids=chunk):
            known[r["id"]] = _node(r)
        for i in chunk:
            known.setdefault(i, None)


NodeOf = Callable[[str], Node | None]
"""An item's or root's contribution-relevant facts (None: not in the graph), from wherever they
were read or worked out: the graph (`contributions`) or a load's own rows (bench.load_ways)."""


def contributions(
    tx: ManagedTransaction, items: Items, known: dict[str, Node | None] | None = None
) -> Figures:
    """What these items add to the tallies, as the graph stands in this transaction; `known`:
    nodes read already in this state of it (more are added)."""
    known = {} if known is None else known
    read_nodes(tx, set().union(items.villages, items.projects, items.enterprises, items.entities), known)
    involving = {p for e in items.enterprises if (n := known[e]) is not None for p in n.projects}
    read_nodes(tx, involving, known)
    projects = items.projects | involving
    read_nodes(tx, {r for p in projects if (n := known[p]) is not None for r in n.roots}, known)
    return figures_of(items, known.__getitem__)


def figures_of(items: Items, node: NodeOf) -> Figures:
    """What these items add to the tallies, given each one's facts and those of the projects
    involving its enterprises and of their projects' roots."""

    def project_places(p: str) -> set[str]:
        n = node(p)
        if n is None or n.kind != "p":
            return set()
        out = set(n.reach)
        for r in n.roots:
            if (root := node(r)) is not None:
                out |= root.reach
        return out

    figures: Figures = {}

    def add(places: Iterable[str], measure: int) -> None:
        for c in places:
            figures.setdefault(c, [0] * len(MEASURES))[measure] += 1

    for v in items.villages:
        if (n := node(v)) is not None and n.kind == "v":
            add(n.up, VILLAGES)
            if n.in_alliance:
                add(n.reach, IN_ALLIANCE)
            if n.dispatched:
                add(n.reach, DISPATCHED)
    for p in items.projects:
        add(project_places(p), PROJECTS)
    for e in items.enterprises:
        if (n := node(e)) is not None and n.kind == "e":
            add(set(n.reach).union(*(project_places(p) for p in n.projects)), ENTERPRISES)
    for x in items.entities:
        if (n := node(x)) is not None:
            add(n.up, ENTITIES)
    return figures


def difference(after: Figures, before: Figures) -> Figures:
    """after - before, without the places where nothing changed."""
    out: Figures = {}
    for place in after.keys() | before.keys():
        a, b = after.get(place), before.get(place)
        diff = [(a[i] if a else 0) - (b[i] if b else 0) for i in range(len(MEASURES))]
        if any(diff):
            out[place] = diff
    return out


def add_figures(into: Figures, more: Figures) -> None:
    for place, values in more.items():
        row = into.setdefault(place, [0] * len(MEASURES))
        for i, v in enumerate(values):
            row[i] += v


def rows_of(figures: Figures) -> list[dict[str, Any]]:
    return [
        {"id": place, **dict(zip(MEASURES, values, strict=True))} for place, values in sorted(figures.items())
    ]


def apply(tx: ManagedTransaction, delta: Figures) -> None:
    """Add a change to the tallies, in the caller's transaction: one statement per batch."""
    rows = rows_of({p: v for p, v in delta.items() if any(v)})
    for chunk in chunks(rows, BATCH):
        tx.run(APPLY, rows=chunk).consume()


def apply_types(tx: ManagedTransaction, delta: Counter[str]) -> None:
    """Add a change to the counts per relationship type, in the caller's transaction."""
    if rows := [{"type": t, "n": n} for t, n in sorted(delta.items()) if n]:
        tx.run(APPLY_TYPES, rows=rows).consume()


class Tracker:
    """The tallies' change in one write transaction: `before` ahead of the writes, `after`
    once they are done (then the change is written, in the same transaction)."""

    def __init__(self, tx: ManagedTransaction) -> None:
        self.tx = tx
        self._touched: set[str] = set()
        self.there: set[str] = set()
        """The touched nodes found in the graph before the writes (a writer need not look for the
        others again: loaders.writer CREATE_NEW_ENTITIES)."""
        self._items = Items()
        self._before: Figures = {}
        self.extra: Figures = {}
        """A change the writer worked out itself (the divisions' first load), written with ours."""
        self.extra_types: Counter[str] = Counter()
        self._types_before: Counter[str] = Counter()
        self.people = PersonTracker(tx)
        """The figures kept per person (loaders.person_villages), changed by the same nodes."""
        self.industries = industry_tally.IndustryTracker(tx)
        """The figures kept per industry (loaders.industry_tally), from the villages found here."""

    def before(
        self,
        touched: Iterable[str],
        *,
        moved: Iterable[str] = (),
        linking: Iterable[tuple[str, str]] = (),
        deleting: Iterable[str] = (),
    ) -> None:
        """touched: the nodes the transaction writes or deletes and both ends of the relationships
        it writes or deletes; moved: nodes whose LOCATED_IN edges (out of them) or id may change;
        linking: LOCATED_IN edges it writes (those not there yet move their start); deleting:
        nodes it may delete with their relationships (their neighbours are touched and moved).

        Only what is in the graph is read: a touched node not found is one the transaction
        creates, which counts nowhere yet, has nothing below it and no relationships (a bulk
        load's transaction creates most of what it touches)."""
        moved = set(moved)
        self._touched = set(touched) | moved | {start for start, _ in linking}
        doomed = sorted(set(deleting))
        if doomed:
            around = {i for r in self.tx.run(NEIGHBOURS, ids=doomed) for i in r["ids"]}
            self._touched |= around | set(doomed)
            moved |= around
        known: dict[str, Node | None] = {}
        items, there = self._affected(self._touched, known)
        self.there = there
        pairs = sorted(p for p in set(linking) if p[0] in there)
        if pairs:
            linked = {(r["start"], r["end"]) for r in self.tx.run(LINKED, pairs=[list(p) for p in pairs])}
            moved |= {start for start, end in pairs if (start, end) not in linked}
        below: set[str] = set()
        for chunk in chunks(sorted(moved & there), BATCH):
            below |= {r["id"] for r in self.tx.run(DESCENDANTS, ids=chunk)}
        below -= self._touched
        self._items = items | self._affected(below, known)[0]
        self._items.entities = there | below
        self._involved(self._items)
        self._before = contributions(self.tx, self._items, known)
        self._types_before = self._out_types(there)
        self.people.before(self._touched)
        self.industries.before(self._items.villages, there)

    def _out_types(self, ids: set[str]) -> Counter[str]:
        counts: Counter[str] = Counter()
        for chunk in chunks(sorted(ids), BATCH):
            for r in self.tx.run(OUT_TYPES, ids=chunk):
                counts[r["type"]] += r["n"]
        return counts

    def _affected(
        self, ids: set[str], known: dict[str, Node | None], handles: dict[str, str] | None = None
    ) -> tuple[Items, set[str]]:
        """The villages, projects and enterprises these nodes' changes may change (but the
        enterprises the projects involve), and which of the nodes are in the graph; the nodes
        themselves into `known`. `handles`: the nodes' handles in this transaction, where known."""
        items, found = Items(), set()
        handles = handles or {}
        handled = sorted(handles[i] for i in ids if i in handles)
        unhandled = sorted(i for i in ids if i not in handles)
        for query, keys in ((AFFECTED_HANDLED, handled), (AFFECTED, unhandled)):
            for chunk in chunks(keys, BATCH):
                for r in self.tx.run(query, ids=chunk):
                    found.add(r["id"])
                    known[r["id"]] = _node(r)
                    items.villages.update(r["villages"])
                    items.projects.update(r["projects_affected"])
                    items.enterprises.update(r["enterprises"])
        for i in ids - found:
            known[i] = None
        return items, found

    def _involved(self, items: Items) -> None:
        for chunk in chunks(sorted(items.projects), BATCH):
            for r in self.tx.run(INVOLVED, ids=chunk):
                items.enterprises.update(r["enterprises"])

    def after(self, settled: Iterable[str] = (), handles: dict[str, str] | None = None) -> None:
        """Read the contributions again and write the change.

        Only the touched nodes are read for what they affect: what lies below a moved node now
        lay below it or below a touched node before (the first new LOCATED_IN on its way up
        starts at a touched node), and what the others affect changes only through a touched
        node (the module's rules), so `before` found both.

        settled: nodes whose outgoing relationships the writer counted itself into `extra_types`,
        all of them as they are now (nodes new to the graph in this transaction: whatever they
        started before, if they were there, is gone), so they are not read for relationship types;
        a bulk load's transaction creates most of what it touches.

        handles: the touched nodes' handles in this transaction (loaders.writer), where known:
        found by them, not by id."""
        known: dict[str, Node | None] = {}
        items, _ = self._affected(self._touched, known, handles)
        items.entities = set(self._touched)
        self._involved(items)
        delta = difference(contributions(self.tx, self._items | items, known), self._before)
        add_figures(delta, self.extra)
        apply(self.tx, delta)
        self.industries.after(items.villages, self._touched)
        types = self.extra_types.copy()
        types.update(self._out_types(self._touched - set(settled)))
        types.subtract(self._types_before)
        apply_types(self.tx, types)
        self.people.after()


def track_sync(tx: ManagedTransaction, group: Sequence[SourceFacts], plans: Sequence[SourcePlan]) -> Tracker:
    """A tracker for the curated loader's sync of these sources (loaders.writer), started.

    Only what the plans say may change is touched: an entity or relation new to its source (it
    may be new to the graph), a stale one, an orphan that may be deleted. A relation or entity
    whose properties alone change changes no figure, and a reload that changes nothing touches
    nothing."""
    touched: set[str] = set()
    linking: list[tuple[str, str]] = []
    moved: set[str] = set()
    orphans: list[str] = []
    for f, p in zip(group, plans, strict=True):
        touched.update(p.entities.added, p.quantities.added, p.stale_entity_ids)
        added = set(p.relations.added)
        for key in f.relations:
            if " ".join(key) in added:
                touched.update(key[1:])
                if key[0] == "LOCATED_IN":
                    linking.append((key[1], key[2]))
        for rel_type, start, end in p.stale_relations:
            touched.update((start, end))
            if rel_type == "LOCATED_IN":
                moved.add(start)
        orphans += p.orphaned
        touched.add(f.source_id)  # its MENTIONS start there
    tracker = Tracker(tx)
    tracker.before(touched, moved=moved, linking=linking, deleting=orphans)
    return tracker


def track_link(tx: ManagedTransaction, rows: Sequence[dict[str, Any]]) -> Tracker:
    """A tracker for `loaders.regions.link_curated`, started: each row's division node (`old`)
    may be renamed to the curated id or merged into the curated node and deleted, and the
    curated node gains its edge to its official parent."""
    olds = [r["old"] for r in rows]
    tracker = Tracker(tx)
    tracker.before(
        [*(r["id"] for r in rows), *olds, *(r["parent"] for r in rows if r["parent"])],
        moved=olds,
        linking=[(r["id"], r["parent"]) for r in rows if r["parent"]],
        deleting=olds,
    )
    return tracker


OUT_EDGES = f"""
UNWIND $ids AS id
MATCH (x:Entity {{id: id}})
RETURN x.id AS id, CASE WHEN {_any("x", LEVEL_LABELS)} THEN true ELSE false END AS place,
       [(x)-[:LOCATED_IN]->(c) | c.id] AS out
"""


class DivisionTally:
    """The tallies' change for each batch of official division rows (loaders.regions.RegionWriter).

    A division created by a first load (the `fresh` path, 665,271 rows nationally) is a new
    place hanging from its parent by one new edge, with nothing below it yet: it adds 1 to
    `entities` of every place above it, and a village 1 to `villages` of every place above it.
    Those deltas are worked out here from the parents' chains, not read back per row in Cypher.
    The chains of the divisions this writer created are kept in memory (their one edge is the
    list's, which nothing else writes); others are read from the graph, in the batch's
    transaction. Every other row (a curated place, a reload) goes through a Tracker, and only if
    its edge to its parent is not there yet: a row whose node and edge exist
    changes properties only, which no figure depends on."""

    def __init__(self) -> None:
        self._out: dict[str, str | None] = {}  # a non-village division created here -> its parent

    def before(self, tx: ManagedTransaction, rows: Sequence[dict[str, Any]], fresh: bool) -> Tracker:
        """Start the batch's tracker, ahead of its writes; `fresh`: the rows but curated places
        are new (RegionWriter's first load)."""
        new = [r for r in rows if fresh and not r["curated"]]
        pairs = [(r["id"], r["parent"]) for r in rows if r["parent"] and not (fresh and not r["curated"])]
        if pairs:
            there = {(r["start"], r["end"]) for r in tx.run(LINKED, pairs=[list(p) for p in pairs])}
            pairs = [p for p in pairs if p not in there]
        tracker = Tracker(tx)
        tracker.before({i for pair in pairs for i in pair}, moved=[start for start, _ in pairs])
        above = self._above(tx, {r["parent"] for r in new if r["parent"]})
        for r in new:
            if r["label"] != "Village":
                self._out[r["id"]] = r["parent"]
            places = {r["parent"], *above[r["parent"]]} if r["parent"] else set()
            tracker.extra_types["LOCATED_IN"] += bool(r["parent"])
            add_figures(tracker.extra, {c: _one(ENTITIES) for c in places})
            if r["label"] == "Village":
                add_figures(tracker.extra, {c: _one(VILLAGES) for c in places})
        return tracker

    def _above(self, tx: ManagedTransaction, starts: set[str]) -> dict[str, set[str]]:
        """The places each start lies in within HOPS - 1 hops (a new child is one hop below)."""
        out: dict[str, tuple[bool, tuple[str, ...]]] = {}
        frontier = set(starts)
        for _ in range(HOPS):
            need = sorted(frontier - out.keys())
            for x in need:
                if x in self._out:
                    parent = self._out[x]
                    out[x] = (True, (parent,) if parent else ())
            for chunk in chunks([x for x in need if x not in out], BATCH):
                for r in tx.run(OUT_EDGES, ids=chunk):
                    out[r["id"]] = (r["place"], tuple(r["out"]))
            frontier = {p for x in frontier if x in out for p in out[x][1]}
        result: dict[str, set[str]] = {}
        for start in starts:
            found: set[str] = set()
            layer = {start}
            for _ in range(HOPS - 1):
                layer = {p for x in layer if x in out for p in out[x][1]}
                found |= {p for p in layer if p in out and out[p][0]}
            result[start] = found
        return result


def _one(measure: int) -> list[int]:
    values = [0] * len(MEASURES)
    values[measure] = 1
    return values


# -- the recount --------------------------------------------------------------------------------


def recount(driver: Driver, settings: Settings) -> tuple[Figures, dict[str, int]]:
    """Every place's figures (every item's contributions, in batches) and the relationships per
    type, counted from the facts."""
    ids: dict[str, list[str]] = {"villages": [], "projects": [], "enterprises": [], "entities": []}
    types: Counter[str] = Counter()
    figures: Figures = {}
    with session(driver, settings) as s:
        for r in pages(s, ALL_ENTITIES, PAGE):
            if r["kind"]:
                ids[r["kind"]].append(r["id"])
            if "LOCATED_IN" in r["out"]:
                ids["entities"].append(r["id"])
            types.update(r["out"])
        for kind, kind_ids in ids.items():
            for chunk in chunks(kind_ids, BATCH):
                items = Items(**{kind: set(chunk)})
                add_figures(figures, s.execute_read(contributions, items))
    return {p: v for p, v in figures.items() if any(v)}, dict(types)


def read_type_tallies(driver: Driver, settings: Settings) -> dict[str, int]:
    with session(driver, settings) as s:
        return {r["type"]: r["n"] for r in s.run(READ_TYPE_TALLIES)}


def read_tallies(driver: Driver, settings: Settings) -> Figures:
    with session(driver, settings) as s:
        return {r["id"]: list(r["figures"]) for r in pages(s, READ_TALLIES, PAGE)}


def differences(kept: Figures, counted: Figures) -> list[tuple[str, str, int, int]]:
    """(place, measure, kept, counted) wherever the tallies and a recount disagree."""
    out = []
    zero = [0] * len(MEASURES)
    for place in sorted(kept.keys() | counted.keys()):
        k, c = kept.get(place, zero), counted.get(place, zero)
        out += [(place, m, k[i], c[i]) for i, m in enumerate(MEASURES) if k[i] != c[i]]
    return out


def check(driver: Driver, settings: Settings) -> list[tuple[str, str, int, int]]:
    """Every difference between what is kept and a recount: (place, measure, kept, counted),
    ("relationships", type, kept, counted) for the counts per relationship type, and those of the
    figures kept per person (loaders.person_villages.check) and per industry
    (loaders.industry_tally.differences)."""
    figures, counted = recount(driver, settings)
    out = differences(read_tallies(driver, settings), figures)
    kept = read_type_tallies(driver, settings)
    for t in sorted(kept.keys() | counted.keys()):
        if kept.get(t, 0) != counted.get(t, 0):
            out.append(("relationships", t, kept.get(t, 0), counted.get(t, 0)))
    return out + person_villages.check(driver, settings) + industry_tally.check(driver, settings)


def rebuild(driver: Driver, settings: Settings) -> int:
    """Replace the tallies, and the figures kept per person and per industry, with a recount (a
    graph loaded before they existed, or imported with neo4j-admin); return the places tallied."""
    counted, types = recount(driver, settings)
    replace_all(driver, settings, counted, types)
    person_villages.rebuild(driver, settings)
    industry_tally.rebuild(driver, settings)
    return len(counted)


def replace_all(driver: Driver, settings: Settings, figures: Figures, types: dict[str, int]) -> None:
    """Make these the figures kept, every other tally gone (a recount's, or figures read before a
    benchmark's writes were undone). Written place by place in batches: a place's figures are
    right as soon as its batch commits."""
    stale = sorted(read_tallies(driver, settings).keys() - figures.keys())
    rows = rows_of(figures)
    gone = sorted(read_type_tallies(driver, settings).keys() - types.keys())
    with session(driver, settings, write=True) as s:
        s.execute_write(
            _run, REPLACE_TYPES, {"rows": [{"type": t, "n": n} for t, n in sorted(types.items())]}
        )
        s.execute_write(_run, DELETE_TYPE_TALLIES, {"types": gone})
        for chunk in chunks(rows, BATCH):
            s.execute_write(_run, REPLACE, {"rows": chunk})
        for chunk in chunks(stale, BATCH):
            s.execute_write(_run, DELETE_TALLIES, {"ids": chunk})


def _run(tx: ManagedTransaction, query: str, params: dict[str, Any]) -> None:
    tx.run(query, params).consume()
