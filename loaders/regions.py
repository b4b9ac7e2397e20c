"""Loading the official divisions: streamed rows, batched `UNWIND` writes, one node per place.

`division_rows` turns a stream of divisions into graph rows and `RegionWriter.write` writes any
such stream in batches (one transaction each: the batch's nodes, then their LOCATED_IN to the
parent), so a national overlay can feed its own rows through the same writer. Parents come
before children in the stream, so every edge finds both ends.

A division a curated place resolved to is written under the curated id (the node the articles'
facts hang on) and keeps its curated name; it gains the official `code`, `official_name` and
`level`. Every other division gets `<prefix>:cn.<code>`. `link_curated` keeps this true when
the curated data changes after the divisions were loaded: a place that newly resolves takes
over its division's node (renamed, or merged into the curated node with its LOCATED_IN edges).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import groupby, islice
from typing import Any

from neo4j import Driver, ManagedTransaction
from neo4j.exceptions import ConstraintError

from graph.connection import session
from graph.divisions import full_code
from graph.schema import apply_schema
from graph.settings import Settings
from loaders.casefile import CaseError, CaseFile
from loaders.gazetteer import (
    KEYS_FILE,
    SOURCE_ID,
    SOURCE_PROPS,
    Division,
    Place,
    Resolution,
    count_divisions,
    division_keys,
    places_of,
    read_divisions,
    resolve,
)
from loaders.tally import DivisionTally, track_link
from loaders.writer import SourceWriter, merge_relations

REGION_BATCH = 5000
"""Rows per transaction: the size the issue's measurements used on both servers."""

MERGE_GAZETTEER_SOURCE = "MERGE (s:Entity:Source {id: $source}) SET s += $props"
HAS_GAZETTEER = "MATCH (s:Source {id: $source}) RETURN count(s) AS n"
# Labels come only from the five division labels (Division.label). Not one MERGE: ArcadeDB
# 26.10 looks a two-label MERGE pattern up by scanning the label (2,000 villages took 6 s
# into an empty graph and 22 s once 4,000 were there), while MATCH on Entity.id uses the index.
CREATE_DIVISIONS = """
UNWIND $rows AS row
OPTIONAL MATCH (known:Entity {{id: row.id}})
WITH row WHERE known IS NULL
CREATE (n:Entity:{label} {{id: row.id, name: row.name, search: row.search, pinyin: row.pinyin,
    sources: [$source], code: row.code, official_name: row.name, level: row.level,
    key_name: row.key_name, key_pinyin: row.key_pinyin, key_initials: row.key_initials,
    division: row.division}})
RETURN n.id AS id
"""
UPDATE_DIVISIONS = """
UNWIND $rows AS row
MATCH (n:Entity {id: row.id})
SET n.code = row.code, n.official_name = row.name, n.level = row.level,
    n.key_name = row.key_name, n.key_pinyin = row.key_pinyin, n.key_initials = row.key_initials
FOREACH (_ IN CASE WHEN row.curated THEN [] ELSE [1] END |
    SET n.name = row.name, n.search = row.search, n.pinyin = row.pinyin, n.sources = [$source],
        n.division = row.division)
"""
MERGE_LOCATED_IN = merge_relations("LOCATED_IN")
# A curated place that newly resolves: its division's node, loaded under the division id,
# becomes the curated node (renamed when the curated node is not there yet, else merged into it).
# Patterns start at the node found by id: the local server expands from the first node of a
# pattern, and `(c:Entity)-[..]->(old {id: ..})` scans every node (out of memory, nationally).
RENAME_TWINS = """
UNWIND $rows AS row
MATCH (old:Entity {id: row.old})
WHERE NOT EXISTS { MATCH (:Entity {id: row.id}) }
SET old.id = row.id
"""
MOVE_TWIN_EDGES = """
UNWIND $rows AS row
MATCH (old:Entity {id: row.old})<-[r:LOCATED_IN]-(c:Entity)
MATCH (new:Entity {id: row.id})
MERGE (c)-[moved:LOCATED_IN]->(new)
SET moved.sources = coalesce(moved.sources, r.sources), moved.evidence = coalesce(moved.evidence, r.evidence)
"""
DELETE_TWINS = """
UNWIND $rows AS row
MATCH (old:Entity {id: row.old})
MATCH (:Entity {id: row.id})
DETACH DELETE old
"""
MARK_CURATED = """
UNWIND $rows AS row
MATCH (n:Entity {id: row.id})
SET n.code = row.code, n.official_name = row.name, n.level = row.level,
    n.key_name = row.key_name, n.key_pinyin = row.key_pinyin, n.key_initials = row.key_initials
"""

# A first load (no division of the scope in the graph yet, or a resumed one): every row that
# is not a curated place is new, so its node and its edge to the parent (CREATE_LOCATED_IN)
# are created, not merged: no lookup of the row itself. Two statements, not one with a MATCH
# after the CREATE: measured faster on the local server (5.9 s against 8.9 s for Fujian's
# 18,760 rows). A node that exists after all breaks the id constraint; that batch is then
# written the idempotent way (RegionWriter._flush).
CREATE_FRESH = """
UNWIND $rows AS row
CREATE (n:Entity:{label} {{id: row.id, name: row.name, search: row.search, pinyin: row.pinyin,
    sources: [$source], code: row.code, official_name: row.name, level: row.level,
    key_name: row.key_name, key_pinyin: row.key_pinyin, key_initials: row.key_initials,
    division: row.division}})
"""
# A node created in this batch has no edge yet: created, not merged.
CREATE_LOCATED_IN = """
UNWIND $rows AS row
MATCH (a:Entity {id: row.start})
MATCH (b:Entity {id: row.end})
CREATE (a)-[:LOCATED_IN {sources: [row.source], evidence: [row.evidence]}]->(b)
"""
# How far a load of the divisions has come, written in the transaction of each batch so that
# it is exact after a kill: one node outside the Entity model (no catalog query, export or
# dump sees it), read by /health, `ruralkg regions status` and a resumed load.
PROGRESS_ID = "divisions"
SET_PROGRESS = """
MERGE (p:LoadProgress {id: $id})
SET p.within = $within, p.total = $total, p.done = $done, p.mode = $mode, p.state = $state
"""
READ_PROGRESS = """
MATCH (p:LoadProgress {id: $id})
RETURN p.within AS within, p.total AS total, p.done AS done, p.mode AS mode, p.state AS state
"""

OnRows = Callable[[int], None]


@dataclass(frozen=True)
class LoadProgress:
    """A load of the divisions: its scope (code prefixes, none for the country), rows written of
    the total, `create` (a first load) or `merge` (over divisions already there), and its state:
    `loading` (running, or killed: the next load resumes it) or `done`."""

    within: tuple[str, ...]
    total: int
    done: int
    mode: str
    state: str

    def tx_params(self) -> dict[str, Any]:
        return {"id": PROGRESS_ID, "within": list(self.within), "total": self.total, "done": self.done,
                "mode": self.mode, "state": self.state}  # fmt: skip


def read_progress(driver: Driver, settings: Settings) -> LoadProgress | None:
    with session(driver, settings) as s:
        record = s.run(READ_PROGRESS, id=PROGRESS_ID).single()
    if record is None:
        return None
    return LoadProgress(
        tuple(record["within"] or ()), int(record["total"] or 0), int(record["done"] or 0),
        str(record["mode"]), str(record["state"]),
    )  # fmt: skip


def _set_progress(driver: Driver, settings: Settings, progress: LoadProgress) -> None:
    with session(driver, settings, write=True) as s:
        s.execute_write(lambda tx: tx.run(SET_PROGRESS, progress.tx_params()).consume())


def curated_places(cases: Iterable[CaseFile]) -> list[Place]:
    """The curated provinces ... villages, each once (aliases from every file), with parents and
    the names of what they belong to (the alliances of a village, by the one rule, and the areas
    it is PART_OF), for the candidates of a village the official list lacks."""
    entities: dict[str, tuple[str, str, str, tuple[str, ...]]] = {}
    located_in: set[tuple[str, str]] = set()
    relations: set[tuple[str, str, str]] = set()
    for case in cases:
        for e in case.entities:
            aliases = set(e.aliases) | set(entities[e.id][3] if e.id in entities else ())
            entities[e.id] = (e.id, e.label, e.name, tuple(sorted(aliases)))
        located_in |= {(r.from_, r.to) for r in case.relations if r.type == "LOCATED_IN"}
        relations |= {r.key for r in case.relations}
    names = {pid: name for pid, _, name, _ in entities.values()}
    labels = {pid: label for pid, label, _, _ in entities.values()}
    branch_of = {
        start: end for t, start, end in relations if t == "BASED_IN" and labels.get(end) == "Village"
    }
    related: dict[str, set[str]] = {}
    for t, start, end in relations:
        if t == "HAS_MEMBER" and labels.get(start) == "Alliance":
            village = end if labels.get(end) == "Village" else branch_of.get(end)
            if village:
                related.setdefault(village, set()).add(names[start])
        elif t == "PART_OF" and labels.get(start) == "Village":
            related.setdefault(start, set()).add(names[end])
    return places_of(
        sorted(entities.values()), located_in, {pid: tuple(sorted(ns)) for pid, ns in related.items()}
    )


def resolve_cases(cases: Iterable[CaseFile]) -> Resolution:
    return resolve(curated_places(cases))


def parent_errors(cases: Sequence[CaseFile], resolution: Resolution) -> list[CaseError]:
    """Villages a file hangs from their county although the official list names their township:
    after the divisions load such a village would have two parents (the county and the township)."""
    labels = {e.id: e.label for case in cases for e in case.entities}
    errors: list[CaseError] = []
    for case in cases:
        for r in case.relations:
            division = resolution.places.get(r.from_)
            if (
                r.type != "LOCATED_IN"
                or labels.get(r.from_) != "Village"
                or labels.get(r.to) != "County"
                or division is None
                or division.parent is None
            ):
                continue
            township = resolution.ids_by_code.get(division.parent, f"township:cn.{division.parent}")
            errors.append(
                CaseError(
                    case.path,
                    case.lines.get(("relations", r.key)),
                    f"relation LOCATED_IN {r.from_} -> {r.to}",
                    "to",
                    f"the official list places {division} in township {division.parent} ({township}): "
                    "the village is LOCATED_IN its township, which is LOCATED_IN the county",
                )
            )
    return errors


def division_kind(d: Division) -> str | None:
    """The `division` attribute graph.model uses for counties, townships and villages."""
    name = d.name
    if d.label == "Village":
        return "社区" if name.endswith(("居委会", "居民委员会", "社区")) else "行政村"
    if d.label == "Township":
        for suffix in ("街道", "民族乡", "镇", "乡"):
            if name.endswith(suffix) or (suffix == "民族乡" and name.endswith("族乡")):
                return suffix
        return None
    if d.label == "County":
        if name.endswith("自治县"):
            return "自治县"
        return {"县": "县", "区": "区", "市": "县级市"}.get(name[-1])
    return None


def division_row(d: Division, ids: dict[str, str]) -> dict[str, Any]:
    """One division as the row CREATE_DIVISIONS, UPDATE_DIVISIONS and MERGE_LOCATED_IN take."""
    search, pinyin, key_name, key_pinyin, key_initials = d.keys or division_keys(d.code, d.name)
    return {
        "id": ids.get(d.code) or d.id,
        "curated": d.code in ids,
        "label": d.label,
        "code": full_code(d.code),
        "name": d.name,
        "level": d.level,
        "division": division_kind(d),
        "search": search,
        "pinyin": pinyin,
        "key_name": key_name,
        "key_pinyin": key_pinyin,
        "key_initials": key_initials,
        "parent": (ids.get(d.parent) or Division(d.parent, "").id) if d.parent else None,
        # the official row itself: its code names its parent
        "evidence": f"{d.name}({d.code})",
    }


def division_rows(divisions: Iterable[Division], ids: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Rows for a stream of divisions, one at a time (parents first)."""
    for d in divisions:
        yield division_row(d, ids)


def _parent_edges(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """MERGE_LOCATED_IN rows: each division's official edge to its parent."""
    return [
        {"start": r["id"], "end": r["parent"], "props": {}, "evidence": r["evidence"], "source": SOURCE_ID}
        for r in rows
        if r["parent"]
    ]


@dataclass
class RegionReport:
    rows: int = 0
    by_label: dict[str, int] = field(default_factory=dict)
    resolution: Resolution = field(default_factory=Resolution)


class RegionWriter:
    """Writes division rows (from the official file or any other stream) in batches."""

    def __init__(
        self,
        driver: Driver,
        settings: Settings,
        *,
        batch_size: int = REGION_BATCH,
        on_rows: OnRows | None = None,
    ) -> None:
        self.driver, self.settings, self.batch_size = driver, settings, batch_size
        self.on_rows = on_rows or (lambda n: None)
        self.tally = DivisionTally()

    def ensure_source(self) -> None:
        with session(self.driver, self.settings, write=True) as s:
            s.run(MERGE_GAZETTEER_SOURCE, source=SOURCE_ID, props=SOURCE_PROPS).consume()

    @staticmethod
    def _write_batch(
        tx: ManagedTransaction,
        label: str,
        rows: Sequence[dict[str, Any]],
        fresh: bool,
        progress: LoadProgress | None,
        tally: DivisionTally,
    ) -> None:
        assert label in ("Province", "City", "County", "Township", "Village")
        tracker = tally.before(tx, rows, fresh)  # the figures kept per place, in this transaction
        # a curated place's node is there when its case was loaded: looked up, created if not
        lookup = [r for r in rows if r["curated"]] if fresh else list(rows)
        created = {
            r["id"] for r in tx.run(CREATE_DIVISIONS.format(label=label), rows=lookup, source=SOURCE_ID)
        }
        if fresh:
            new = [r for r in rows if not r["curated"]]
            tx.run(CREATE_FRESH.format(label=label), rows=new, source=SOURCE_ID).consume()
            created |= {r["id"] for r in new}
        if edges := _parent_edges(r for r in rows if r["id"] in created):
            tx.run(CREATE_LOCATED_IN, rows=edges).consume()
        known = [r for r in rows if r["id"] not in created]
        if known:  # a reload, or curated places: bring them up to date
            tx.run(UPDATE_DIVISIONS, rows=known, source=SOURCE_ID).consume()
            if edges := _parent_edges(known):
                tx.run(MERGE_LOCATED_IN, rows=edges).consume()
        tracker.after()
        if progress is not None:
            tx.run(SET_PROGRESS, progress.tx_params()).consume()

    def write(
        self,
        rows: Iterable[dict[str, Any]],
        *,
        fresh: bool = False,
        progress: LoadProgress | None = None,
    ) -> dict[str, int]:
        """Write a stream of rows, one transaction per batch of one label; return rows per label.

        `fresh`: none of the rows but curated places is in the graph yet (RegionWriter's first
        load). `progress`: the load these rows continue, recorded with each batch. The next
        batch's rows (pinyin and search keys, the costly part in Python) are built in a thread
        while the server writes the last one."""
        counts: dict[str, int] = {}
        with session(self.driver, self.settings, write=True) as s, ThreadPoolExecutor(1) as pool:
            batches = _batches(rows, self.batch_size)
            upcoming = pool.submit(next, batches, None)
            while (item := upcoming.result()) is not None:
                upcoming = pool.submit(next, batches, None)
                label, batch = item
                if progress is not None:
                    progress = replace(progress, done=progress.done + len(batch))
                self._flush(s, label, batch, counts, fresh, progress)
        return counts

    def _flush(
        self,
        s: Any,
        label: str,
        batch: list[dict[str, Any]],
        counts: dict[str, int],
        fresh: bool,
        progress: LoadProgress | None,
    ) -> None:
        try:
            s.execute_write(self._write_batch, label, batch, fresh, progress, self.tally)
        except ConstraintError:
            if not fresh:
                raise
            # a division of the batch was in the graph after all: the batch was rolled back
            s.execute_write(self._write_batch, label, batch, False, progress, self.tally)
        counts[label] = counts.get(label, 0) + len(batch)
        self.on_rows(len(batch))


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(label, rows) batches of one label each, at most `size` rows."""
    for label, group in groupby(rows, key=lambda r: str(r["label"])):
        batch: list[dict[str, Any]] = []
        for row in group:
            batch.append(row)
            if len(batch) == size:
                yield label, batch
                batch = []
        if batch:
            yield label, batch


def has_gazetteer(driver: Driver, settings: Settings) -> bool:
    with session(driver, settings) as s:
        record = s.run(HAS_GAZETTEER, source=SOURCE_ID).single()
        return bool(record and record["n"])


def link_curated(driver: Driver, settings: Settings, resolution: Resolution) -> None:
    """Give every resolved curated place its division: one node, the code, the official parent.

    Safe to run any time: a division node loaded before its curated place resolved is renamed
    to (or merged into) the curated node; parents not loaded yet are simply not linked.
    """
    ids = resolution.ids_by_code
    rows = sorted(
        (division_row(d, ids) | {"old": d.id} for d in resolution.places.values()),
        key=lambda r: (r["level"], r["code"]),
    )
    if not rows:
        return

    def work(tx: ManagedTransaction) -> None:
        tracker = track_link(tx, rows)  # the figures kept per place, in this transaction
        for query in (RENAME_TWINS, MOVE_TWIN_EDGES, DELETE_TWINS, MARK_CURATED):
            tx.run(query, rows=rows).consume()
        tx.run(MERGE_LOCATED_IN, rows=_parent_edges(rows)).consume()
        tracker.after()
        # curated search keys and sources now include the official name, code and the list
        SourceWriter(driver, settings).refresh_derived(tx, [r["id"] for r in rows])

    with session(driver, settings, write=True) as s:
        s.execute_write(work)


def load_regions(
    driver: Driver,
    settings: Settings,
    resolution: Resolution,
    *,
    within: Sequence[str] = (),
    batch_size: int = REGION_BATCH,
    on_rows: OnRows | None = None,
    on_start: Callable[[LoadProgress], None] | None = None,
) -> RegionReport:
    """Load every division (or those under the `within` code prefixes, with their ancestors),
    idempotently.

    Into a graph without the divisions, rows are created, not merged (CREATE_FRESH); a load
    killed half-way resumes after its last committed batch, in the mode it ran in. Over
    divisions already loaded (a reload, a wider or narrower scope) every row is merged.
    `on_start` hears the plan (rows already done of the total) before the first batch."""
    scope = tuple(sorted(set(within)))
    apply_schema(driver, settings)
    before = read_progress(driver, settings)
    if before is not None and before.state == "loading" and before.within == scope:
        progress = before  # resumed: the batches up to `done` are in
    else:
        fresh = before is None and not has_gazetteer(driver, settings)
        progress = LoadProgress(scope, count_divisions(scope), 0, "create" if fresh else "merge", "loading")
    if on_start is not None:
        on_start(progress)
    writer = RegionWriter(driver, settings, batch_size=batch_size, on_rows=on_rows)
    writer.ensure_source()
    _set_progress(driver, settings, progress)
    link_curated(driver, settings, resolution)  # first: no division loaded twice under two ids
    divisions = islice(read_divisions(scope, keys=KEYS_FILE), progress.done, None)
    counts = writer.write(
        division_rows(divisions, resolution.ids_by_code), fresh=progress.mode == "create", progress=progress
    )
    link_curated(driver, settings, resolution)  # the curated places' keys, now that parents exist
    _set_progress(driver, settings, replace(progress, done=progress.total, state="done"))
    return RegionReport(sum(counts.values()), counts, resolution)


def needs_load(driver: Driver, settings: Settings, within: Sequence[str] = ()) -> bool:
    """Whether the divisions under `within` (none: the country) still have to be loaded: never
    loaded, a load cut short, or only a narrower scope done. A graph holding the official list
    without a record of its load (an import made with neo4j-admin) has them."""
    progress = read_progress(driver, settings)
    if progress is None:
        return not has_gazetteer(driver, settings)
    if progress.state != "done":
        return True
    if not progress.within:
        return False
    return not within or not all(any(w.startswith(p) for p in progress.within) for w in within)
