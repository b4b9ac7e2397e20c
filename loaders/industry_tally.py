"""Figures kept per industry, so that industry-clusters reads one node per industry instead of
walking every village of it (the largest industry has 170,045 villages nationally, and counting
its provinces through LOCATED_IN from each of them took minutes: docs/benchmarks/national-clusters.md).

An industry's villages are those IN_INDUSTRY with it directly or through a project they
HAS_PROJECT (the entry's rule). Its tally is one node outside the Entity model,
`(:IndustryTally {id: <industry id>, villages, provinces, alliances, first})`: how many villages,
how many distinct provinces they lie in (LOCATED_IN*1..6) and alliances they belong to (the one
rule of graph.rules: HAS_MEMBER directly or through a member branch BASED_IN them), and the ids of
its first FIRST villages by id (the entry's bounded list).

A distinct count cannot be kept by adding per-village deltas alone, so each (industry, province)
and (industry, alliance) pair that has villages keeps how many: `(:IndustryShare {id: "<industry>
<province or alliance>", n})`. A pair whose `n` rises from 0 adds one to its industry's count, one
that falls to 0 takes one off (and is deleted), so both counts follow from deltas.

Kept like loaders.tally's figures, in the transaction of the facts, by loaders.tally.Tracker's
hooks: a village's figures depend on its industries (its own IN_INDUSTRY, its HAS_PROJECT and
those projects' IN_INDUSTRY), its LOCATED_IN chain and its alliances. The Tracker's villages
(those whose own edges, chain or alliances a write may change: its module's rules) are all of
them but the villages holding a touched project (a project's IN_INDUSTRY changed), which are
found here. `first` changes with the villages entering and leaving: a village left among the
first ones, with more villages beyond them, is replaced by a read of the graph (rare: nothing but
a prune or an edit takes a village out of an industry)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from neo4j import Driver, ManagedTransaction

from graph.connection import session
from graph.rules import ALLIANCE_VILLAGE_PATHS
from graph.settings import Settings
from loaders.facts import chunks, pages

FIRST = 10
"""The villages of an industry kept in `first`: industry-clusters' list bound."""
BATCH = 2000  # as loaders.tally.BATCH: ids per statement when villages are read
PAGE = 20_000  # as loaders.tally.PAGE: nodes per statement when the recount walks a label
HOPS = 6  # as loaders.tally.HOPS

MEASURES = ("villages", "provinces", "alliances")

_PLACES = f"""
UNWIND $ids AS id
MATCH (v:Entity {{id: id}})
WHERE v:Village
RETURN v.id AS id,
  [(v)-[:LOCATED_IN*1..{HOPS}]->(p:Province) | p.id] AS provinces,
  {" + ".join(f"[(v){back}(a:Alliance) | a.id]" for _, back in ALLIANCE_VILLAGE_PATHS)} AS alliances"""
# A village's industries cost the most here: each industry's node is read for its id, and a shared
# industry's node is large nationally (it lists every source that mentions it), about 4 ms a
# village at scale 1 under load. The recount reads them from the industries' side instead.
VILLAGE_FACTS = f"""{_PLACES},
  [(v)-[:IN_INDUSTRY]->(i:Industry) | i.id]
    + [(v)-[:HAS_PROJECT]->(:Project)-[:IN_INDUSTRY]->(i:Industry) | i.id] AS industries
"""
VILLAGE_PLACES = _PLACES + "\n"
# The villages holding these nodes, where they are projects: a project's IN_INDUSTRY changes
# its holders' industries (a change to HAS_PROJECT itself has the village among the touched).
HOLDERS = """
UNWIND $ids AS id
MATCH (p:Entity {id: id})<-[:HAS_PROJECT]-(v:Village)
WHERE p:Project
RETURN DISTINCT v.id AS id
"""
# A pair's count changes; `now` tells whether it rose from 0 or fell to it (the node is written,
# so locked, before its value is read back: no concurrent change is lost on Neo4j).
APPLY_SHARES = """
UNWIND $rows AS row
MERGE (s:IndustryShare {id: row.id})
SET s.n = coalesce(s.n, 0) + row.n
RETURN s.id AS id, s.n AS now
"""
DELETE_SHARES = "UNWIND $ids AS id MATCH (s:IndustryShare {id: id}) DELETE s"
APPLY_COUNTS = """
UNWIND $rows AS row
MERGE (t:IndustryTally {id: row.id})
SET t.villages = coalesce(t.villages, 0) + row.villages,
    t.provinces = coalesce(t.provinces, 0) + row.provinces,
    t.alliances = coalesce(t.alliances, 0) + row.alliances
RETURN t.id AS id, t.villages AS villages, coalesce(t.first, []) AS first
"""
SET_FIRST = "UNWIND $rows AS row MATCH (t:IndustryTally {id: row.id}) SET t.first = row.first"
DELETE_EMPTY = "UNWIND $ids AS id MATCH (t:IndustryTally {id: id}) WHERE t.villages = 0 DELETE t"
# An industry's first villages by id, read from the graph (written from the industry: the local
# server expands a pattern from its first node).
FIRST_OF = """
MATCH (i:Entity {id: $industry})
UNWIND [(i)<-[:IN_INDUSTRY]-(v:Village) | v.id]
  + [(i)<-[:IN_INDUSTRY]-(:Project)<-[:HAS_PROJECT]-(v:Village) | v.id] AS id
WITH DISTINCT id ORDER BY id LIMIT $n
RETURN id
"""
# The recount's villages: those of each industry (20 nationally), rather than a walk of every
# village of the graph (most have none).
INDUSTRIES = "MATCH (i:Industry) RETURN i.id AS id ORDER BY id"
VILLAGES_OF = """
MATCH (i:Entity {id: $industry})
UNWIND [(i)<-[:IN_INDUSTRY]-(v:Village) | v.id]
  + [(i)<-[:IN_INDUSTRY]-(:Project)<-[:HAS_PROJECT]-(v:Village) | v.id] AS id
RETURN id
"""
READ_COUNTS = (
    "MATCH (t:IndustryTally) RETURN t.id AS id, t.villages AS villages, t.provinces AS provinces,"
    " t.alliances AS alliances, t.first AS first"
)
READ_SHARES = """
MATCH (s:IndustryShare) WHERE s.id > $after
WITH s ORDER BY s.id LIMIT $n
RETURN s.id AS id, s.n AS n
"""
REPLACE_COUNTS = """
UNWIND $rows AS row
MERGE (t:IndustryTally {id: row.id})
SET t.villages = row.villages, t.provinces = row.provinces, t.alliances = row.alliances,
    t.first = row.first
"""
REPLACE_SHARES = "UNWIND $rows AS row MERGE (s:IndustryShare {id: row.id}) SET s.n = row.n"
DELETE_COUNTS = "UNWIND $ids AS id MATCH (t:IndustryTally {id: id}) DELETE t"


@dataclass(frozen=True)
class Village:
    """What a village adds to the figures depends on: VILLAGE_FACTS' columns, distinct."""

    industries: frozenset[str]
    provinces: frozenset[str]
    alliances: frozenset[str]


def read_villages(tx: ManagedTransaction, ids: Iterable[str]) -> dict[str, Village]:
    """The villages among these ids as the graph stands in this transaction (others: absent)."""
    out: dict[str, Village] = {}
    for chunk in chunks(sorted(set(ids)), BATCH):
        for r in tx.run(VILLAGE_FACTS, ids=chunk):
            out[r["id"]] = Village(
                frozenset(r["industries"]), frozenset(r["provinces"]), frozenset(r["alliances"])
            )
    return out


def shares_of(villages: Iterable[Village]) -> Counter[str]:
    """Each (industry, province or alliance) pair's villages among these, keyed "<industry> <other>"."""
    out: Counter[str] = Counter()
    for v in villages:
        for i in v.industries:
            out.update(f"{i} {x}" for x in v.provinces | v.alliances)
    return out


def _measure(share: str) -> str:
    """The count a pair counts in: provinces or alliances (by the other end's label, in its id)."""
    return "provinces" if share.split(" ", 1)[1].startswith("province:") else "alliances"


def first_of(tx: ManagedTransaction, industry: str) -> list[str]:
    return [r["id"] for r in tx.run(FIRST_OF, industry=industry, n=FIRST)]


def apply(tx: ManagedTransaction, before: dict[str, Village], after: dict[str, Village]) -> None:
    """Write the change from these villages' facts before a write to their facts after it."""
    entering: dict[str, set[str]] = {}
    leaving: dict[str, set[str]] = {}
    for vid in before.keys() | after.keys():
        was = before[vid].industries if vid in before else frozenset()
        now = after[vid].industries if vid in after else frozenset()
        for i in now - was:
            entering.setdefault(i, set()).add(vid)
        for i in was - now:
            leaving.setdefault(i, set()).add(vid)
    shares = shares_of(after.values())
    shares.subtract(shares_of(before.values()))
    counts: dict[str, Counter[str]] = {}
    for i in entering.keys() | leaving.keys():
        counts.setdefault(i, Counter())["villages"] = len(entering.get(i, ())) - len(leaving.get(i, ()))
    rows = [{"id": s, "n": n} for s, n in sorted(shares.items()) if n]
    empty: list[str] = []
    for chunk in chunks(rows, BATCH):
        delta = {row["id"]: row["n"] for row in chunk}
        for r in tx.run(APPLY_SHARES, rows=chunk):
            was = r["now"] - delta[r["id"]]
            step = (r["now"] > 0) - (was > 0)
            if step:
                counts.setdefault(r["id"].split(" ", 1)[0], Counter())[_measure(r["id"])] += step
            if r["now"] == 0:
                empty.append(r["id"])
    for chunk in chunks(empty, BATCH):
        tx.run(DELETE_SHARES, ids=chunk).consume()
    if not counts:
        return
    rows = [{"id": i, **{m: c[m] for m in MEASURES}} for i, c in sorted(counts.items())]
    firsts = []
    for r in tx.run(APPLY_COUNTS, rows=rows):
        i, old = r["id"], list(r["first"])
        gone = leaving.get(i, set())
        total_before = r["villages"] - counts[i]["villages"]
        if gone & set(old) and total_before > len(old):
            first = None  # one of the first left, and the next ones are not kept: read them
        else:
            first = sorted((set(old) - gone) | entering.get(i, set()))[:FIRST]
        firsts.append((i, first))
    settled = [{"id": i, "first": f if f is not None else first_of(tx, i)} for i, f in firsts]
    tx.run(SET_FIRST, rows=settled).consume()
    tx.run(DELETE_EMPTY, ids=sorted(counts)).consume()


@dataclass
class IndustryTracker:
    """The industries' change in one write transaction, driven by loaders.tally.Tracker: `before`
    with the villages it found ahead of the writes, `after` with those it finds after them."""

    tx: ManagedTransaction
    _villages: set[str] = field(default_factory=set)
    _before: dict[str, Village] = field(default_factory=dict)

    def _with_holders(self, villages: Iterable[str], touched: Iterable[str]) -> set[str]:
        found = set(villages)
        for chunk in chunks(sorted(set(touched)), BATCH):
            found.update(r["id"] for r in self.tx.run(HOLDERS, ids=chunk))
        return found

    def before(self, villages: Iterable[str], touched: Iterable[str]) -> None:
        self._villages = self._with_holders(villages, touched)
        self._before = read_villages(self.tx, self._villages)

    def after(self, villages: Iterable[str], touched: Iterable[str]) -> None:
        now = self._villages | self._with_holders(villages, touched)
        apply(self.tx, self._before, read_villages(self.tx, now))


# -- the recount --------------------------------------------------------------------------------


@dataclass
class Kept:
    """Every industry's figures (MEASURES' order) and first villages, and every pair's count."""

    counts: dict[str, list[int]] = field(default_factory=dict)
    first: dict[str, list[str]] = field(default_factory=dict)
    shares: dict[str, int] = field(default_factory=dict)


def _read_places(tx: ManagedTransaction, ids: list[str]) -> list[tuple[str, list[str], list[str]]]:
    return [(r["id"], r["provinces"], r["alliances"]) for r in tx.run(VILLAGE_PLACES, ids=ids)]


def recount(driver: Driver, settings: Settings) -> Kept:
    """The figures counted from the facts: each industry's villages, then their provinces and
    alliances in batches (their industries are known from the first step)."""
    members: dict[str, list[str]] = {}
    industries_of: dict[str, set[str]] = {}
    facts: dict[str, Village] = {}
    with session(driver, settings) as s:
        for industry in [r["id"] for r in s.run(INDUSTRIES)]:
            found = sorted({r["id"] for r in s.run(VILLAGES_OF, industry=industry)})
            if found:
                members[industry] = found
            for v in found:
                industries_of.setdefault(v, set()).add(industry)
        for chunk in chunks(sorted(industries_of), BATCH):
            for vid, provinces, alliances in s.execute_read(_read_places, chunk):
                facts[vid] = Village(
                    frozenset(industries_of[vid]), frozenset(provinces), frozenset(alliances)
                )
    shares = shares_of(facts.values())
    pairs = Counter((s.split(" ", 1)[0], _measure(s)) for s in shares)
    out = Kept(shares=dict(shares))
    for i, villages in members.items():
        out.counts[i] = [len(villages), pairs[i, "provinces"], pairs[i, "alliances"]]
        out.first[i] = villages[:FIRST]
    return out


def read(driver: Driver, settings: Settings) -> Kept:
    out = Kept()
    with session(driver, settings) as s:
        for r in s.run(READ_COUNTS):
            out.counts[r["id"]] = [r[m] for m in MEASURES]
            out.first[r["id"]] = list(r["first"] or [])
        out.shares = {r["id"]: r["n"] for r in pages(s, READ_SHARES, PAGE)}
    return out


def differences(kept: Kept, counted: Kept) -> list[tuple[str, str, int, int]]:
    """(industry or pair, measure, kept, counted) wherever they disagree; a village kept among an
    industry's first or counted there but not both shows as `first <village>`, 1 or 0."""
    out: list[tuple[str, str, int, int]] = []
    zero = [0] * len(MEASURES)
    for i in sorted(kept.counts.keys() | counted.counts.keys()):
        k, c = kept.counts.get(i, zero), counted.counts.get(i, zero)
        out += [(i, m, k[n], c[n]) for n, m in enumerate(MEASURES) if k[n] != c[n]]
        k_first, c_first = set(kept.first.get(i, [])), set(counted.first.get(i, []))
        out += [(i, f"first {v}", int(v in k_first), int(v in c_first)) for v in sorted(k_first ^ c_first)]
    for s in sorted(kept.shares.keys() | counted.shares.keys()):
        if kept.shares.get(s, 0) != counted.shares.get(s, 0):
            out.append((s, "n", kept.shares.get(s, 0), counted.shares.get(s, 0)))
    return out


def check(driver: Driver, settings: Settings) -> list[tuple[str, str, int, int]]:
    return differences(read(driver, settings), recount(driver, settings))


def rebuild(driver: Driver, settings: Settings) -> int:
    """Replace the figures with a recount; return the industries tallied."""
    counted = recount(driver, settings)
    replace_all(driver, settings, counted)
    return len(counted.counts)


def replace_all(driver: Driver, settings: Settings, figures: Kept) -> None:
    """Make these the figures kept, every other industry's and pair's gone."""
    kept = read(driver, settings)
    rows = [
        {"id": i, **dict(zip(MEASURES, c, strict=True)), "first": figures.first[i]}
        for i, c in sorted(figures.counts.items())
    ]
    shares = [{"id": s, "n": n} for s, n in sorted(figures.shares.items())]
    with session(driver, settings, write=True) as s:
        s.execute_write(_run, REPLACE_COUNTS, {"rows": rows})
        s.execute_write(_run, DELETE_COUNTS, {"ids": sorted(kept.counts.keys() - figures.counts.keys())})
        for chunk in chunks(shares, BATCH):
            s.execute_write(_run, REPLACE_SHARES, {"rows": chunk})
        for chunk in chunks(sorted(kept.shares.keys() - figures.shares.keys()), BATCH):
            s.execute_write(_run, DELETE_SHARES, {"ids": chunk})


def _run(tx: ManagedTransaction, query: str, params: dict[str, Any]) -> None:
    tx.run(query, params).consume()
