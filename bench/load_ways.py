"""The baselines the loader's throughput is measured against, writing the same graph as it.

Both write exactly what the loader writes for the same sources (tests/test_bench.py compares
the three graphs node by node and relationship by relationship, and the figures kept per place
and per relationship type): the Source nodes, every entity with its properties and the
properties the loader derives (aliases, sources, search keys), a MENTIONS from its source with
the evidence, every relation with its sources and evidence, and each transaction's change to
the figures kept (loaders.tally: `Tally` per place, `TypeTally` per relationship type). They do
none of the loader's other work: no reading of what a source held before, no removal of stale
facts, no plan, no reading back of what a transaction wrote for the figures, no data version.

- raw ceiling (`load_raw`): the fastest way the server takes these rows, knowing the whole
  sample in advance. Every derived property is worked out in Python before the first
  statement, and each transaction's change to the figures from its rows (`Figuring`), as the
  divisions' first load works out its own; each id is looked up once on the unique `Entity.id`
  index, and every node is found after that by the handle a statement returned for it (as the
  loader does: loaders.writer's node handles); new nodes and their relationships are CREATEd
  (no MERGE); the loader's transaction and statement sizes (GROUP_ROWS rows of sources per
  transaction, BULK_BATCH rows per statement).
- naive (`load_naive`): the same statements, one row per transaction, each with its row's
  change to the figures.

Both write on the official divisions: every relation has an end the sample creates, so none can
exist yet (one between two nodes that were there before is refused, as is a sample naming a node
that was there before and is not a division: `Figuring` could not work out their figures).
"""

from __future__ import annotations

import functools
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import neo4j
from neo4j import Driver, ManagedTransaction

from graph.divisions import LEVEL_LABELS
from graph.model import RELATIONSHIPS, SYNTHETIC
from graph.settings import Settings
from loaders.facts import SourceFacts, set_props
from loaders.industry_tally import IndustryTracker
from loaders.person_villages import PersonTracker
from loaders.synthetic import BULK_BATCH, GROUP_ROWS
from loaders.tally import Figures, Items, Node, apply, apply_types, difference, figures_of, read_nodes
from loaders.writer import MENTION_NEW_HANDLED, _derived

# Each id is looked up on the index once (RAW_KNOWN), or not at all for a node the way creates:
# every statement that creates a node returns its handle (elementId), and the later statements
# find their nodes by handle (a seek; loaders.writer's node handles), as the loader does.
RAW_SOURCES = """
UNWIND $rows AS row
CREATE (s:Entity:Source)
SET s = row.props, s.date = CASE WHEN row.date IS NULL THEN null ELSE date(row.date) END
RETURN collect([s.id, elementId(s)]) AS nodes
"""
RAW_KNOWN = """
UNWIND $ids AS id
MATCH (n:Entity {id: id})
RETURN n.id AS id, n.official_name AS official_name, n.code AS code, elementId(n) AS node
"""
RAW_CREATE_NODES = """
UNWIND $rows AS row
MATCH (s) WHERE elementId(s) = row.src
CREATE (n:Entity:{label})
SET n = row.props
CREATE (s)-[:MENTIONS {{evidence: row.evidence, aliases: row.aliases}}]->(n)
RETURN collect([n.id, elementId(n)]) AS nodes
"""
RAW_CREATE_RELATIONS = """
UNWIND $rows AS row
MATCH (a) WHERE elementId(a) = row.a
MATCH (b) WHERE elementId(b) = row.b
CREATE (a)-[r:{type}]->(b)
SET r = row.props
"""
# The handles a statement's rows need, from the ids they name: (row key, handle key).
_SOURCE = (("source", "src"),)
_MENTION = (("id", "node"), ("source", "src"))
_ENDS = (("start", "a"), ("end", "b"))


@dataclass(frozen=True)
class Written:
    """What a row writes, as the figures kept per place see it: a node new to the graph (id,
    label), a relationship (type, start, end), or both (a new node and its MENTIONS)."""

    node: tuple[str, str] | None = None
    edge: tuple[str, str, str] | None = None


def _people(tx: ManagedTransaction, written: Iterable[Written]) -> PersonTracker:
    """The figures kept per person (loaders.person_villages) for these rows' writes, started
    ahead of them: they are read back from the graph, as the loader's are (its Tracker tells the
    same nodes: each new node, both ends of each relationship)."""
    touched = {i for w in written for i in ((w.node[0],) if w.node else ()) + (w.edge[1:] if w.edge else ())}
    people = PersonTracker(tx)
    people.before(touched)
    return people


@dataclass
class Statement:
    """One statement of a transaction: its text and its rows (`$rows`; `$ids`, the rows' ids,
    for the lookup), and what each row writes."""

    query: str
    rows: list[dict[str, Any]]
    reads_known: bool = False
    written: list[Written] = field(default_factory=list)
    handled: tuple[tuple[str, str], ...] = ()
    """The rows' node handles, added from the way's handles when the statement runs."""


@dataclass
class Change:
    """A transaction's change to the figures kept per place and per relationship type, and what
    the figures kept per industry need to read theirs (loaders.industry_tally: those are read
    back from the graph around the writes, as the loader's Tracker reads them, not worked out in
    Python): the villages the change may change and the nodes it touches."""

    figures: Figures
    types: Counter[str]
    villages: set[str]
    touched: set[str]

    def start(self, tx: ManagedTransaction) -> IndustryTracker:
        """Ahead of the transaction's writes."""
        industries = IndustryTracker(tx)
        industries.before(self.villages, self.touched)
        return industries

    def write(self, tx: ManagedTransaction, industries: IndustryTracker) -> None:
        apply(tx, self.figures)
        apply_types(tx, self.types)
        industries.after(self.villages, self.touched)


_KINDS = {"Village": "v", "Project": "p", "Enterprise": "e"}
_HOLDERS = frozenset(RELATIONSHIPS["HAS_PROJECT"][0])
_BASES = frozenset(RELATIONSHIPS["BASED_IN"][1])


class Figuring:
    """The figures kept per place (loaders.tally), worked out in Python from the rows the ways
    write, as the divisions' first load works out its own (loaders.tally.DivisionTally) instead
    of reading back what a transaction wrote, as the loader's Tracker must.

    Each row's nodes and relationships are recorded as it is planned, those since the last
    `change` being the transaction's; the change is what `loaders.tally.figures_of` gives the
    items they affect (the module's rules, applied to the recorded relationships) after them
    less before them. A node that was in the graph before is read once (its places, whether it
    is in an alliance or dispatched to: tally's CONTRIBUTIONS). The ways write on the official
    divisions, so every such node must be a place (whose figures then change only through the
    relationships recorded here), start no LOCATED_IN (which would move what lies below it in
    the graph) and no relationship may join two of them (theirs, or a change the ways do not
    make): anything else is refused. The recorded chains of places are as short as the
    sample's (a node one hop below a division), well within tally.HOPS."""

    def __init__(self) -> None:
        self.labels: dict[str, str] = {}
        self.there: dict[str, Node | None] = {}  # nodes in the graph before the ways wrote, as read
        self.ends: defaultdict[tuple[str, str], set[str]] = defaultdict(set)  # (type, start) -> ends
        self.starts: defaultdict[tuple[str, str], set[str]] = defaultdict(set)  # (type, end) -> starts
        self.new_nodes: set[str] = set()  # recorded since the last change
        self.new_edges: set[tuple[str, str, str]] = set()
        self.types: Counter[str] = Counter()

    def read(self, tx: ManagedTransaction, ids: Sequence[str], labels: dict[str, str]) -> None:
        """Read the nodes the sample names that were in the graph before it."""
        read_nodes(tx, ids, self.there)
        for i in ids:
            if (node := self.there[i]) is None or not node.place:
                raise ValueError(f"{i}: the raw ways write on the official divisions, not on a {labels[i]}")
            self.labels[i] = labels[i]

    def record(self, written: Written) -> None:
        if written.node:
            node_id, label = written.node
            self.labels[node_id] = label
            self.new_nodes.add(node_id)
        if written.edge:
            rel_type, start, end = written.edge
            self.types[rel_type] += 1
            if rel_type == "MENTIONS":  # no figure counts a mention
                return
            if start in self.there and (end in self.there or rel_type == "LOCATED_IN"):
                raise ValueError(f"{written.edge}: the raw ways do not change the official divisions")
            self.ends[(rel_type, start)].add(end)
            self.starts[(rel_type, end)].add(start)
            self.new_edges.add(written.edge)

    def change(self) -> Change:
        """The change of what was recorded since the last call (which then counts as written)."""
        items = self._affected()
        after = figures_of(items, functools.cache(lambda i: self._node(i, before=False)))
        before = figures_of(items, functools.cache(lambda i: self._node(i, before=True)))
        touched = self.new_nodes | {i for _, a, b in self.new_edges for i in (a, b)}
        change = Change(difference(after, before), self.types, items.villages, touched)
        self.new_nodes, self.new_edges, self.types = set(), set(), Counter()
        return change

    def _out(self, rel_type: str, x: str, before: bool) -> set[str]:
        ends = self.ends.get((rel_type, x), set())
        return {e for e in ends if (rel_type, x, e) not in self.new_edges} if before else ends

    def _in(self, rel_type: str, x: str, before: bool) -> set[str]:
        starts = self.starts.get((rel_type, x), set())
        return {s for s in starts if (rel_type, s, x) not in self.new_edges} if before else starts

    def _labelled(self, ids: set[str], *labels: str) -> set[str]:
        return {i for i in ids if self.labels[i] in labels}

    def _in_alliance(self, village: str, before: bool) -> bool:
        return bool(self._labelled(self._in("HAS_MEMBER", village, before), "Alliance")) or any(
            self._labelled(self._in("HAS_MEMBER", b, before), "Alliance")
            for b in self._labelled(self._in("BASED_IN", village, before), "Branch")
        )

    def _node(self, x: str, before: bool) -> Node | None:
        """x's facts as CONTRIBUTIONS reads them, before or after the recorded change."""
        if x in self.there:
            node = self.there[x]
            if node is None or node.kind != "v":
                return node
            return replace(
                node,
                in_alliance=node.in_alliance or self._in_alliance(x, before),
                dispatched=node.dispatched or bool(self._in("DISPATCHED_TO", x, before)),
            )
        if x not in self.labels or (before and x in self.new_nodes):
            return None
        label = self.labels[x]
        kind = _KINDS.get(label, "")
        up: set[str] = set()
        for end in self._out("LOCATED_IN", x, before):
            if (parent := self._node(end, before)) is not None:
                up |= parent.reach
        roots: tuple[str, ...] = ()
        if kind == "p":
            holders = {h for h in self._in("HAS_PROJECT", x, before) if self.labels[h] in _HOLDERS}
            leaders = self._labelled(self._in("LEADS", x, before), "Branch")
            bases = {
                b for br in leaders for b in self._out("BASED_IN", br, before) if self.labels[b] in _BASES
            }
            roots = (*holders, *bases)
        involving = self._labelled(self._in("INVOLVES", x, before), "Project") if kind == "e" else set()
        return Node(
            x, kind, label in LEVEL_LABELS, frozenset(up),
            kind == "v" and self._in_alliance(x, before),
            kind == "v" and bool(self._in("DISPATCHED_TO", x, before)),
            roots, tuple(involving),
        )  # fmt: skip

    def _affected(self) -> Items:
        """The items whose figures the recorded change may change (loaders.tally's rules)."""
        touched = set(self.new_nodes) | {i for _, a, b in self.new_edges for i in (a, b)}
        moved = {a for t, a, _ in self.new_edges if t == "LOCATED_IN"}
        while moved:  # what lies below a node that moved moves with it
            moved = {d for m in moved for d in self._in("LOCATED_IN", m, False)} - touched
            touched |= moved
        items = Items(entities=touched)
        for x in touched:
            label = self.labels[x]
            if label == "Village":
                items.villages.add(x)
            elif label == "Project":
                items.projects.add(x)
            elif label == "Enterprise":
                items.enterprises.add(x)
            elif label == "Branch":
                items.villages |= self._labelled(self._out("BASED_IN", x, False), "Village")
                items.projects |= self._labelled(self._out("LEADS", x, False), "Project")
            if label == "Alliance":
                items.villages |= self._labelled(self._out("HAS_MEMBER", x, False), "Village")
            items.projects |= self._labelled(self._out("HAS_PROJECT", x, False), "Project")
            for b in self._labelled(self._in("BASED_IN", x, False), "Branch"):
                items.projects |= self._labelled(self._out("LEADS", b, False), "Project")
        for p in items.projects:
            items.enterprises |= self._labelled(self._out("INVOLVES", p, False), "Enterprise")
        return items


@dataclass
class _Sample:
    """What the whole sample states, worked out before anything is written."""

    mentions: dict[str, list[tuple[str, Sequence[str], str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    names: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
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
                out.labels[e.id] = e.label
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
        self.figuring = Figuring()
        self.handles: dict[str, str] = {}  # id -> the node's handle, from the statements run

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

    def learn(self, found: Sequence[dict[str, Any]], asked: Sequence[str]) -> list[str]:
        """Take in the lookup's answer; the ids asked that were there before."""
        for r in found:
            self.known[r["id"]] = (r["official_name"], r["code"])
            self.handles[r["id"]] = r["node"]
        self.created.update(i for i in asked if i not in self.known)
        return [r["id"] for r in found]

    def _derived(self, entity_id: str) -> dict[str, Any]:
        official, code = self.known.get(entity_id, (None, None))
        derived = _derived(self.whole.names[entity_id], self.whole.mentions[entity_id], official, code)
        if code:  # the division's own search keys stay, as the loader keeps them
            for key in ("key_name", "key_pinyin", "key_initials"):
                derived.pop(key)
        return derived

    def entities(self, group: Sequence[SourceFacts], fresh: set[str]) -> list[Statement]:
        """New nodes (created with their first mention), then every other mention."""
        by_label: dict[str, Statement] = {}
        mentions = Statement(MENTION_NEW_HANDLED, [], handled=_MENTION)
        for f in group:
            for e in f.entities.values():
                row = {"id": e.id, "source": f.source_id, "evidence": e.evidence, "aliases": list(e.aliases)}
                mention = ("MENTIONS", f.source_id, e.id)
                if e.id in fresh:
                    fresh.discard(e.id)
                    props = {**set_props(e.props), **set_props(self._derived(e.id)), "id": e.id}
                    out = by_label.setdefault(
                        e.label, Statement(RAW_CREATE_NODES.format(label=e.label), [], handled=_SOURCE)
                    )
                    out.rows.append({**row, "props": props})
                    out.written.append(Written((e.id, e.label), mention))
                else:
                    mentions.rows.append({**row, "props": {**e.props, **self._derived(e.id)}})
                    mentions.written.append(Written(edge=mention))
        return [*by_label.values(), mentions]

    def relations(self, group: Sequence[SourceFacts]) -> list[Statement]:
        """Each relation once, at its first statement, with every source of the sample stating
        it. An end of each is new (Figuring refuses one between two nodes there before), so the
        relation cannot exist yet: CREATEd."""
        by_type: dict[str, Statement] = {}
        for f in group:
            for r in f.relations.values():
                if r.key in self.written:
                    continue
                self.written.add(r.key)
                stated = self.whole.relations[r.key]
                props = {
                    **set_props(r.props),
                    "sources": [s for s, _ in stated],
                    "evidence": [e for _, e in stated],
                }
                out = by_type.setdefault(
                    r.type, Statement(RAW_CREATE_RELATIONS.format(type=r.type), [], handled=_ENDS)
                )
                out.rows.append({"start": r.start, "end": r.end, "props": props})
                out.written.append(Written(edge=r.key))
        return list(by_type.values())


def script_session(driver: Driver, settings: Settings) -> neo4j.Session:
    """A write session as a script outside our code opens one: no data version to keep."""
    return driver.session(database=settings.neo4j_database, default_access_mode=neo4j.WRITE_ACCESS)


def _run(
    tx: ManagedTransaction, statement: Statement, batch: int, handles: dict[str, str]
) -> list[dict[str, Any]]:
    """Run the statement in batches; the records it returns (but the node handles, taken in)."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(statement.rows), batch):
        chunk = statement.rows[start : start + batch]
        if statement.handled:
            chunk = [{**r, **{h: handles[r[k]] for k, h in statement.handled}} for r in chunk]
        params = {"ids": [r["id"] for r in chunk]} if statement.reads_known else {"rows": chunk}
        for r in tx.run(statement.query, params):
            data = r.data()
            if "nodes" in data:
                handles.update(data["nodes"])
            else:
                found.append(data)
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
                handles = planner.handles
                _run(tx, planner.sources(group), batch, handles)
                lookup = planner.lookup(group)
                asked = [r["id"] for r in lookup.rows]
                there = planner.learn(_run(tx, lookup, batch, handles), asked)
                planner.figuring.read(tx, there, planner.whole.labels)
                statements = [
                    *planner.entities(group, set(asked) - planner.known.keys()),
                    *planner.relations(group),
                ]
                for statement in statements:
                    for written in statement.written:
                        planner.figuring.record(written)
                change = planner.figuring.change()  # in Python, from the rows
                people = _people(tx, [w for statement in statements for w in statement.written])
                industries = change.start(tx)
                for statement in statements:
                    _run(tx, statement, batch, handles)
                change.write(tx, industries)
                people.after()

            s.execute_write(work)


def load_naive(
    driver: Driver, settings: Settings, sample: Sequence[SourceFacts], seconds: float | None = None
) -> int:
    """The same statements one row per transaction, each with its change to the figures kept
    per place, until the rows (or the seconds) run out; the rows (entities and relations)
    written."""
    deadline = time.monotonic() + seconds if seconds is not None else None
    planner = Planner(sample)
    figuring = planner.figuring
    done = 0

    def one(
        statement: Statement,
        row: dict[str, Any],
        change: Change | None = None,
        written: Written | None = None,
    ) -> Callable[[ManagedTransaction], list[dict[str, Any]]]:
        def work(tx: ManagedTransaction) -> list[dict[str, Any]]:
            people = _people(tx, [written]) if written is not None else None
            industries = change.start(tx) if change is not None else None
            single = Statement(statement.query, [row], statement.reads_known, handled=statement.handled)
            found = _run(tx, single, 1, planner.handles)
            if change is not None and industries is not None:
                change.write(tx, industries)
            if people is not None:
                people.after()
            return found

        return work

    with script_session(driver, settings) as s:
        for group in _groups(sample, 1):  # one source at a time
            source = planner.sources(group)
            s.execute_write(one(source, source.rows[0]))
            lookup = planner.lookup(group)
            asked = [r["id"] for r in lookup.rows]
            found = [x for row in lookup.rows for x in s.execute_read(one(lookup, row))]
            for i in planner.learn(found, asked):
                s.execute_read(figuring.read, [i], planner.whole.labels)
            new = set(asked) - planner.known.keys()
            for statement in [*planner.entities(group, new), *planner.relations(group)]:
                for row, written in zip(statement.rows, statement.written, strict=True):
                    figuring.record(written)
                    s.execute_write(one(statement, row, figuring.change(), written))
                    done += 1
                    if deadline is not None and time.monotonic() > deadline:
                        return done
    return done
