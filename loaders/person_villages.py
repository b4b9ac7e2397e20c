"""Figures kept per person: how many distinct villages each person or group serves, by the rules
of shared-experts and multi-village-people, so that both entries read their ranking and total
from what is kept instead of walking all 696,300 people of the national graph on every call
(9-17 s). The nodes and keys are described where the entries read them (graph.rules).

Per person or group h, two counts of distinct village ids:

- `multi`: multi-village-people's rule (MULTI_VILLAGE_IDS), for a Person or Group;
- `shared`: shared-experts' rule (SERVED_VILLAGES), for an entity dispatched somewhere
  (DISPATCHED_TO), 0 for any other.

They are kept like the figures per place (loaders.tally), in the transaction of the facts they
count: the Tracker of every write transaction hands this module its touched nodes T (every node
written or deleted, both ends of every relationship written or deleted, the neighbours of the
nodes deleted), before the writes and after them. h's counts depend on h's outgoing
relationships, on the villages a branch h holds a post in is BASED_IN, on the member villages
and branches of an alliance h is tied to (and those branches' BASED_IN), and on the villages that
hold a project h leads, supports or advises (HAS_PROJECT). Every change to one of those puts a
node in T whose people are found from it: h itself, a branch (its post holders, and the people
of the alliances it is a member of), an alliance (its people) or a project (its people). The
people found from T before the writes and after them are counted again after them; what is kept
for them is replaced, and the numbers of people per count change by the difference.

`recount` counts every person and group from the facts: `ruralkg tally rebuild` writes it,
`ruralkg tally check` and the tests compare it with what is kept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from neo4j import Driver, ManagedTransaction

from graph.connection import session
from graph.model import RELATIONSHIPS
from graph.rules import (
    ALLIANCE_TIE_TYPES,
    DIRECT_TIES,
    MULTI,
    MULTI_VILLAGE_IDS,
    PEOPLE_BY_VILLAGES,
    PERSON_VILLAGES,
    PROJECT_TIES,
    SERVED_VILLAGES,
    SHARED,
    rank_key,
)
from graph.settings import Settings
from loaders.facts import chunks, pages

RULES = (MULTI, SHARED)
PEOPLE = RELATIONSHIPS["DISPATCHED_TO"][0]
"""Person and Group, the starts of DISPATCHED_TO: multi-village-people counts them, and
shared-experts the dispatched, so only they are counted."""
BATCH = 2000
PAGE = 20_000
"""People per statement when a recount walks them all: one label read in pages by id, as the
place recount pages (loaders.tally.PAGE), so that each statement ends within the server's
command timeout."""

Counts = dict[str, tuple[int, int]]
"""Person id -> (multi, shared), for the people with a count of 2 or more."""


def _distinct(ids: str) -> str:
    """The number of distinct values of a list (no APOC: a value is kept when it is new)."""
    return f"size(reduce(s = [], i IN {ids} | CASE WHEN i IN s THEN s ELSE s + i END))"


_IS_PERSON = " OR ".join(f"h:{label}" for label in PEOPLE)
_COUNTS = f"""h.id AS id,
  CASE WHEN {_IS_PERSON} THEN {_distinct(MULTI_VILLAGE_IDS)} ELSE 0 END AS multi,
  CASE WHEN EXISTS {{ (h)-[:DISPATCHED_TO]->(:Entity) }}
    THEN {_distinct(f"[v IN {SERVED_VILLAGES} | v.id]")} ELSE 0 END AS shared"""
# Both rules name the person `h` (multi-village-people) or `p` (shared-experts).
COUNT = f"""
UNWIND $ids AS id
MATCH (h:Entity {{id: id}})
WITH h, h AS p
RETURN {_COUNTS}
"""
# The people whose counts a change to these nodes can change (the module's rules).
AFFECTED = f"""
UNWIND $ids AS id
MATCH (x:Entity {{id: id}})
RETURN CASE WHEN {_IS_PERSON.replace("h:", "x:")} THEN [x.id] ELSE [] END
  + CASE WHEN x:Branch THEN [(x)<-[:HOLDS_POST]-(h) | h.id]
      + [(x)<-[:HAS_MEMBER]-(:Alliance)<-[:{"|".join(ALLIANCE_TIE_TYPES)}]-(h) | h.id] ELSE [] END
  + CASE WHEN x:Alliance THEN [(x)<-[:{"|".join(ALLIANCE_TIE_TYPES)}]-(h) | h.id] ELSE [] END
  + CASE WHEN x:Project THEN [(x)<-[:{PROJECT_TIES}]-(h) | h.id] ELSE [] END AS people
"""
# shared-experts reaches an alliance's villages by DIRECT_TIES, multi-village-people by
# ALLIANCE_TIE_TYPES; AFFECTED follows the latter from an alliance, so it must hold the former.
assert set(DIRECT_TIES.split("|")) <= set(ALLIANCE_TIE_TYPES)
READ = f"""
UNWIND $ids AS id
MATCH (c:{PERSON_VILLAGES} {{id: id}})
RETURN c.id AS id, c.{MULTI} AS multi, c.{SHARED} AS shared
"""
WRITE = f"""
UNWIND $rows AS row
MERGE (c:{PERSON_VILLAGES} {{id: row.id}})
SET c.{MULTI} = row.multi, c.{MULTI}_key = row.multi_key,
  c.{SHARED} = row.shared, c.{SHARED}_key = row.shared_key
"""
DELETE = f"UNWIND $ids AS id MATCH (c:{PERSON_VILLAGES} {{id: id}}) DELETE c"
APPLY_TOTALS = f"""
UNWIND $rows AS row
MERGE (t:{PEOPLE_BY_VILLAGES} {{id: row.id}})
SET t.rule = row.rule, t.villages = row.villages, t.people = coalesce(t.people, 0) + row.people
WITH t WHERE t.people = 0
DELETE t
"""
READ_TOTALS = (
    f"MATCH (t:{PEOPLE_BY_VILLAGES}) RETURN t.rule AS rule, t.villages AS villages, t.people AS people"
)
DELETE_TOTALS = f"MATCH (t:{PEOPLE_BY_VILLAGES}) DELETE t"
# Paged by id as loaders.tally pages (the local server plans an open range as a scan of the label).
READ_ALL = f"""
MATCH (c:{PERSON_VILLAGES}) WHERE c.id > $after
WITH c ORDER BY c.id LIMIT $n
RETURN c.id AS id, c.{MULTI} AS multi, c.{SHARED} AS shared, c.{MULTI}_key AS multi_key,
  c.{SHARED}_key AS shared_key
"""
_COUNT_ALL = """
MATCH (h:{label}) WHERE h.id > $after
WITH h ORDER BY h.id LIMIT $n
WITH h, h AS p
RETURN {counts}
"""


def _kept(counts: tuple[int, int]) -> bool:
    return max(counts) >= 2


def _row(person: str, counts: tuple[int, int]) -> dict[str, Any]:
    """A person's node: both counts, and a ranking key for each count of 2 or more."""
    row: dict[str, Any] = {"id": person}
    for rule, n in zip(RULES, counts, strict=True):
        row[rule] = n
        row[f"{rule}_key"] = rank_key(n, person) if n >= 2 else None
    return row


def totals_of(counts: Iterable[tuple[int, int]]) -> Counter[tuple[str, int]]:
    """(rule, count) -> people, for the counts of 2 or more."""
    out: Counter[tuple[str, int]] = Counter()
    for pair in counts:
        for rule, n in zip(RULES, pair, strict=True):
            if n >= 2:
                out[(rule, n)] += 1
    return out


def _apply_totals(tx: ManagedTransaction, delta: Counter[tuple[str, int]]) -> None:
    rows = [
        {"id": f"{rule} {n}", "rule": rule, "villages": n, "people": d}
        for (rule, n), d in sorted(delta.items())
        if d
    ]
    for chunk in chunks(rows, BATCH):
        tx.run(APPLY_TOTALS, rows=chunk).consume()


def affected(tx: ManagedTransaction, touched: Iterable[str]) -> set[str]:
    """The people whose counts a change to these nodes can change, as the graph stands."""
    out: set[str] = set()
    for chunk in chunks(sorted(set(touched)), BATCH):
        for r in tx.run(AFFECTED, ids=chunk):
            out.update(r["people"])
    return out


def count(tx: ManagedTransaction, people: Iterable[str]) -> dict[str, tuple[int, int]]:
    """These people's counts as the graph stands in this transaction (those not in it: absent)."""
    out: dict[str, tuple[int, int]] = {}
    for chunk in chunks(sorted(set(people)), BATCH):
        for r in tx.run(COUNT, ids=chunk):
            out[r["id"]] = (r["multi"], r["shared"])
    return out


class PersonTracker:
    """The change to the figures kept per person in one write transaction (loaders.tally.Tracker
    calls it with the nodes it was told of)."""

    def __init__(self, tx: ManagedTransaction) -> None:
        self.tx = tx
        self._touched: set[str] = set()
        self._people: set[str] = set()

    def before(self, touched: Iterable[str]) -> None:
        """The people the touched nodes reach before the writes (one a write cuts off from them
        may lose villages)."""
        self._touched = set(touched)
        self._people = affected(self.tx, self._touched)

    def after(self) -> None:
        """Count the people the touched nodes reached before or reach now again, and write what
        changed."""
        people = self._people | affected(self.tx, self._touched)
        if not people:
            return
        counted = {i: c for i, c in count(self.tx, people).items() if _kept(c)}
        kept: dict[str, tuple[int, int]] = {}
        for chunk in chunks(sorted(people), BATCH):
            for r in self.tx.run(READ, ids=chunk):
                kept[r["id"]] = (r["multi"], r["shared"])
        rows = [_row(i, c) for i, c in sorted(counted.items()) if kept.get(i) != c]
        for chunk in chunks(rows, BATCH):
            self.tx.run(WRITE, rows=chunk).consume()
        gone = sorted(kept.keys() - counted.keys())
        for chunk in chunks(gone, BATCH):
            self.tx.run(DELETE, ids=chunk).consume()
        delta = totals_of(counted.values())
        delta.subtract(totals_of(kept.values()))
        _apply_totals(self.tx, delta)


# -- the recount --------------------------------------------------------------------------------


def recount(driver: Driver, settings: Settings) -> Counts:
    """Every person's and group's counts from the facts, label by label (only people start the
    relationships either rule follows)."""
    out: Counts = {}
    with session(driver, settings) as s:
        for label in PEOPLE:
            for r in pages(s, _COUNT_ALL.format(label=label, counts=_COUNTS), PAGE):
                if _kept(pair := (r["multi"], r["shared"])):
                    out[r["id"]] = pair
    return out


def read_kept(driver: Driver, settings: Settings) -> tuple[Counts, Counter[tuple[str, int]], list[str]]:
    """The counts kept per person, the people per count kept, and the people whose ranking keys
    are not their counts'."""
    people: Counts = {}
    wrong_keys = []
    with session(driver, settings) as s:
        for r in pages(s, READ_ALL, PAGE):
            people[r["id"]] = pair = (r["multi"], r["shared"])
            row = _row(r["id"], pair)
            if any(r[f"{rule}_key"] != row[f"{rule}_key"] for rule in RULES):
                wrong_keys.append(r["id"])
        totals = Counter({(r["rule"], r["villages"]): r["people"] for r in s.run(READ_TOTALS)})
    return people, totals, wrong_keys


def check(driver: Driver, settings: Settings) -> list[tuple[str, str, int, int]]:
    """(person, rule, kept, counted) wherever the kept counts and a recount disagree, (person,
    "ranking key", 0, 1) for a key that is not its counts', and ("people with <n> villages", rule,
    kept, counted) for the people per count."""
    counted = recount(driver, settings)
    kept, totals, wrong_keys = read_kept(driver, settings)
    out = []
    for person in sorted(kept.keys() | counted.keys()):
        k, c = kept.get(person, (0, 0)), counted.get(person, (0, 0))
        out += [(person, rule, k[i], c[i]) for i, rule in enumerate(RULES) if k[i] != c[i]]
    out += [(person, "ranking key", 0, 1) for person in wrong_keys]
    want = totals_of(counted.values())
    for key in sorted(totals.keys() | want.keys()):
        if totals.get(key, 0) != want.get(key, 0):
            out.append((f"people with {key[1]} villages", key[0], totals.get(key, 0), want.get(key, 0)))
    return out


def rebuild(driver: Driver, settings: Settings) -> int:
    """Replace the kept counts with a recount; return the people kept."""
    counted = recount(driver, settings)
    replace_all(driver, settings, counted)
    return len(counted)


def replace_all(driver: Driver, settings: Settings, counts: Counts) -> None:
    """Make these the counts kept (every other person's gone) and the people per count theirs."""
    kept, _, wrong_keys = read_kept(driver, settings)
    rows = [_row(i, c) for i, c in sorted(counts.items()) if kept.get(i) != c or i in wrong_keys]
    with session(driver, settings, write=True) as s:
        for chunk in chunks(rows, BATCH):
            s.execute_write(_run, WRITE, {"rows": chunk})
        for chunk in chunks(sorted(kept.keys() - counts.keys()), BATCH):
            s.execute_write(_run, DELETE, {"ids": chunk})

        def totals(tx: ManagedTransaction) -> None:
            tx.run(DELETE_TOTALS).consume()
            _apply_totals(tx, totals_of(counts.values()))

        s.execute_write(totals)


def _run(tx: ManagedTransaction, query: str, params: dict[str, Any]) -> None:
    tx.run(query, params).consume()
