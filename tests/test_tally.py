"""The figures kept per place (loaders.tally) equal a recount after every kind of write.

Two recounts: `loaders.tally.recount` (every item's contributions, what `ruralkg tally check`
runs) and REFERENCE below, region-coverage's and overview's own definitions counted for every
place at once the way those entries counted them on each request before the tallies existed.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml
from neo4j import Driver

from graph.divisions import LEVEL_LABELS
from graph.model import RELATIONSHIPS, SYNTHETIC, SourceRecord
from graph.settings import Settings
from loaders import industry_tally, person_villages, tally
from loaders.facts import RELATION_PROPS, EntityFact, RelationFact, SourceFacts
from loaders.load import collect_facts, curated_cases, load
from loaders.regions import load_regions, resolve_cases
from loaders.synthetic import Selection, SynthSpec, load_divisions, load_overlay, select
from loaders.tally import (
    MEASURES,
    Figures,
    check,
    differences,
    read_tallies,
    read_type_tallies,
    rebuild,
    recount,
    replace_all,
)
from loaders.writer import SourceWriter

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "cases"
ZHOUNING = "350925"

_PLACE = " OR ".join(f"c:{label}" for label in LEVEL_LABELS)
_HOLDERS = " OR ".join(f"x:{label}" for label in RELATIONSHIPS["HAS_PROJECT"][0])
_BASES = " OR ".join(f"x:{label}" for label in RELATIONSHIPS["BASED_IN"][1])
# region-coverage's five figures as it counted them per request (inside(c): c and everything with
# a LOCATED_IN*1..6 path to it), and overview's `entities`, for every place; a village's tally
# leaves the village itself out of `villages` (region-coverage adds it back).
REFERENCE = f"""
MATCH (c:Entity) WHERE {_PLACE}
OPTIONAL MATCH (c)<-[:LOCATED_IN*1..6]-(x:Entity)
WITH c, collect(DISTINCT x) AS below
WITH c, size(below) AS entities, below + [c] AS inside
WITH c, entities, inside, [v IN inside WHERE v:Village] AS villages
WITH c, entities, inside, villages,
  [x IN inside WHERE x:Project]
    + COLLECT {{ UNWIND [x IN inside WHERE {_HOLDERS}] AS x MATCH (x)-[:HAS_PROJECT]->(p:Project) RETURN p }}
    + COLLECT {{
        UNWIND [x IN inside WHERE {_BASES}] AS x
        MATCH (x)<-[:BASED_IN]-(:Branch)-[:LEADS]->(p:Project) RETURN p
      }} AS found
WITH c, entities, inside, villages, COLLECT {{ UNWIND found AS p WITH DISTINCT p RETURN p }} AS projects
WITH c, entities, villages, projects,
  [x IN inside WHERE x:Enterprise]
    + COLLECT {{ UNWIND projects AS p MATCH (p)-[:INVOLVES]->(e:Enterprise) RETURN e }} AS enterprises
RETURN c.id AS id, [
  size(villages) - CASE WHEN c:Village THEN 1 ELSE 0 END,
  size([v IN villages WHERE size([(v)<-[:HAS_MEMBER]-(:Alliance) | 1]) > 0
        OR size([(v)<-[:BASED_IN]-(:Branch)<-[:HAS_MEMBER]-(:Alliance) | 1]) > 0]),
  size([v IN villages WHERE size([(v)<-[:DISPATCHED_TO]-(:Entity) | 1]) > 0]),
  size(projects),
  COUNT {{ UNWIND enterprises AS e WITH DISTINCT e RETURN e }},
  entities] AS figures
"""


def reference(driver: Driver, settings: Settings) -> Figures:
    records = driver.execute_query(REFERENCE, database_=settings.neo4j_database).records
    return {r["id"]: list(r["figures"]) for r in records if any(r["figures"])}


# Each person's and group's distinct villages as multi-village-people and shared-experts counted
# them per request before they were kept (loaders.person_villages): multi-village-people's ties
# of a Person or Group (any relationship to a village, a post in a branch: its villages, a post
# in, dispatch to, support or advice of an alliance: its member villages and its member branches'
# villages), and, for whoever is dispatched somewhere, the villages it serves (dispatched to,
# supports or advises the village or an alliance of it; leads, supports or advises its project).
_ALLIANCE_TIES = "HOLDS_POST|DISPATCHED_TO|SUPPORTS|ADVISES"
PEOPLE_REFERENCE = f"""
MATCH (h:Entity) WHERE h:Person OR h:Group
WITH h,
  [(h)-->(v:Village) | v.id] + [(h)-[:HOLDS_POST]->(:Branch)-[:BASED_IN]->(v:Village) | v.id]
  + [(h)-[:{_ALLIANCE_TIES}]->(:Alliance)-[:HAS_MEMBER]->(v:Village) | v.id]
  + [(h)-[:{_ALLIANCE_TIES}]->(:Alliance)-[:HAS_MEMBER]->(:Branch)-[:BASED_IN]->(v:Village) | v.id] AS multi,
  [(h)-[:DISPATCHED_TO|SUPPORTS|ADVISES]->(v:Village) | v.id]
  + [(h)-[:LEADS|SUPPORTS|ADVISES]->(:Project)<-[:HAS_PROJECT]-(v:Village) | v.id]
  + [(h)-[:DISPATCHED_TO|SUPPORTS|ADVISES]->(:Alliance)-[:HAS_MEMBER]->(v:Village) | v.id]
  + [(h)-[:DISPATCHED_TO|SUPPORTS|ADVISES]->(:Alliance)-[:HAS_MEMBER]->(:Branch)-[:BASED_IN]->(v:Village)
     | v.id] AS shared
RETURN h.id AS id, COUNT {{ UNWIND multi AS v WITH DISTINCT v RETURN v }} AS multi,
  CASE WHEN EXISTS {{ (h)-[:DISPATCHED_TO]->(:Entity) }}
    THEN COUNT {{ UNWIND shared AS v WITH DISTINCT v RETURN v }} ELSE 0 END AS shared
"""


def people_reference(driver: Driver, settings: Settings) -> dict[str, tuple[int, int]]:
    records = driver.execute_query(PEOPLE_REFERENCE, database_=settings.neo4j_database).records
    return {r["id"]: (r["multi"], r["shared"]) for r in records if max(r["multi"], r["shared"]) >= 2}


# industry-clusters' figures as it counted them per request, for every industry: its villages
# (directly, or holding a project in it), their provinces and their alliances (queries.analysis's
# one rule); counted and cut in Python below.
INDUSTRY_REFERENCE = """
MATCH (i:Industry)
WITH i, [(i)<-[:IN_INDUSTRY]-(v:Village) | v]
  + [(i)<-[:IN_INDUSTRY]-(:Project)<-[:HAS_PROJECT]-(v:Village) | v] AS found
UNWIND found AS v
WITH i, collect(DISTINCT v) AS villages
RETURN i.id AS id, [v IN villages | v.id] AS villages,
  [v IN villages | [(v)-[:LOCATED_IN*1..6]->(p:Province) | p.id]] AS provinces,
  [v IN villages | [(v)<-[:HAS_MEMBER]-(a:Alliance) | a.id]
    + [(v)<-[:BASED_IN]-(:Branch)<-[:HAS_MEMBER]-(a:Alliance) | a.id]] AS alliances
"""


def industry_reference(driver: Driver, settings: Settings) -> dict[str, tuple[list[int], list[str]]]:
    """Industry -> (villages, provinces, alliances), its first industry_tally.FIRST villages."""
    out = {}
    for r in driver.execute_query(INDUSTRY_REFERENCE, database_=settings.neo4j_database).records:
        counts = [len(set(r["villages"])), len({p for ps in r["provinces"] for p in ps})]
        counts.append(len({a for alliances in r["alliances"] for a in alliances}))
        out[r["id"]] = (counts, sorted(r["villages"])[: industry_tally.FIRST])
    return out


def assert_kept(driver: Driver, settings: Settings) -> Figures:
    """The tallies and the figures kept per person and per industry equal both recounts; returns the tallies
    (non-vacuous: some of every measure)."""
    kept = read_tallies(driver, settings)
    assert check(driver, settings) == []
    assert differences(kept, reference(driver, settings)) == []
    people, totals, wrong_keys = person_villages.read_kept(driver, settings)
    assert people == people_reference(driver, settings) and wrong_keys == []
    assert totals == person_villages.totals_of(people.values())
    industries = industry_tally.read(driver, settings)
    assert {i: (c, industries.first[i]) for i, c in industries.counts.items()} == industry_reference(
        driver, settings
    )
    return kept


def assert_people_kept(driver: Driver, settings: Settings) -> None:
    """Non-vacuous: people of 2 villages or more by each rule."""
    people = person_villages.read_kept(driver, settings)[0]
    for rule in (0, 1):
        assert any(pair[rule] >= 2 for pair in people.values())


def _nonzero(kept: Figures) -> set[str]:
    return {m for i, m in enumerate(MEASURES) if any(v[i] for v in kept.values())}


def _copy(tmp_path: Path, *dirs: Path) -> Path:
    target = tmp_path / "cases"
    for i, d in enumerate(dirs):
        shutil.copytree(d, target / str(i))
    return target


def _edit(path: Path, edit: Any) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(doc)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _files_with(root: Path, rel_type: str, to_label: str) -> list[tuple[Path, dict[str, Any]]]:
    """(file, relation) for each relation of the type whose end is an entity of that label."""
    found = []
    for path in sorted(root.rglob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        labels = {e["id"]: e["label"] for e in doc.get("entities", [])}
        for r in doc.get("relations", []):
            if r["type"] == rel_type and labels.get(r["to"]) == to_label:
                found.append((path, r))
    return found


def test_curated_load_reload_edit_and_prune(
    clean_graph: Driver, graph_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an industry keeps its first 2 villages, so that the data's clusters (up to 5 villages) have
    # more beyond them, and a village leaving them makes the loader read the next one
    monkeypatch.setattr(industry_tally, "FIRST", 2)
    root = _copy(tmp_path, REPO / "data", FIXTURES)
    settings = graph_settings.model_copy(update={"cases_dir": root})
    load(clean_graph, settings, collect_facts(settings))
    kept = assert_kept(clean_graph, settings)
    assert _nonzero(kept) == set(MEASURES)
    assert_people_kept(clean_graph, settings)
    industries = industry_tally.read(clean_graph, settings)
    assert any(c[0] > 2 and c[1] > 0 and c[2] > 0 for c in industries.counts.values())

    load(clean_graph, settings, collect_facts(settings))  # nothing changed
    assert read_tallies(clean_graph, settings) == kept

    # a village leaves an alliance, a project moves to another village
    (path, member), *_ = _files_with(root, "HAS_MEMBER", "Village")
    _edit(path, lambda doc: doc["relations"].remove(member))
    moves = [
        (p, r) for p, r in _files_with(root, "LOCATED_IN", "Village") if r["from"].startswith("project:")
    ]
    path, located = moves[0]
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    villages = [e["id"] for e in doc["entities"] if e["label"] == "Village" and e["id"] != located["to"]]

    def move(doc: dict[str, Any]) -> None:
        for r in doc["relations"]:
            if r == located:
                r["to"] = villages[0]

    _edit(path, move)
    # the first village of an industry with more than 2 leaves it (it holds no project in it)
    by_project = (
        "MATCH (v:Entity {id: $v})-[:HAS_PROJECT]->(:Project)-[:IN_INDUSTRY]->(i:Entity {id: $i}) RETURN v"
    )

    def first_to_leave(rel: dict[str, Any]) -> bool:
        first = industries.first.get(rel["to"])
        if not first or rel["from"] != first[0] or industries.counts[rel["to"]][0] <= 2:
            return False
        return not clean_graph.execute_query(
            by_project, v=rel["from"], i=rel["to"], database_=settings.neo4j_database
        ).records

    leaving = [(p, r) for p, r in _files_with(root, "IN_INDUSTRY", "Industry") if first_to_leave(r)]
    path, left = leaving[0]
    _edit(path, lambda doc: doc["relations"].remove(left))
    load(clean_graph, settings, collect_facts(settings))
    assert assert_kept(clean_graph, settings) != kept
    first = industry_tally.read(clean_graph, settings).first[left["to"]]
    assert left["from"] not in first and len(first) == 2

    # a source removed from the folder, then pruned
    removed = max(root.rglob("*.yaml"), key=lambda p: p.stat().st_size)
    removed.unlink()
    load(clean_graph, settings, collect_facts(settings, driver=clean_graph, prune=True))
    assert_kept(clean_graph, settings)


@pytest.fixture
def data_settings(graph_settings: Settings) -> Settings:
    return graph_settings.model_copy(update={"cases_dir": REPO / "data"})


def test_divisions_before_and_after_the_curated_data(
    clean_graph: Driver, data_settings: Settings, tmp_path: Path
) -> None:
    """Divisions first (no curated place yet), then the articles: the curated places take over
    their divisions' nodes (link_curated's renames and merges), then a reload of the divisions."""
    settings = data_settings
    only_reference = tmp_path / "data"
    (only_reference / "reference").mkdir(parents=True)
    shutil.copy(REPO / "data" / "reference" / "regions.yaml", only_reference / "reference" / "regions.yaml")
    early = settings.model_copy(update={"cases_dir": only_reference})
    load(clean_graph, early, collect_facts(early))
    load_regions(clean_graph, early, resolve_cases(curated_cases(early)), within=[ZHOUNING], batch_size=40)
    kept = assert_kept(clean_graph, settings)
    assert kept["city:fujian.ningde"][0] > 100

    load(clean_graph, settings, collect_facts(settings))  # link_curated: twins renamed or merged
    kept = assert_kept(clean_graph, settings)
    assert _nonzero(kept) == set(MEASURES)
    load_regions(clean_graph, settings, resolve_cases(curated_cases(settings)), within=[ZHOUNING])
    assert read_tallies(clean_graph, settings) == kept


def test_divisions_after_the_curated_data_and_resumed(clean_graph: Driver, data_settings: Settings) -> None:
    settings = data_settings
    load(clean_graph, settings, collect_facts(settings))
    resolution = resolve_cases(curated_cases(settings))

    def stop_after_three(n: int, seen: list[int] = []) -> None:  # noqa: B006
        seen.append(n)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        load_regions(
            clean_graph, settings, resolution, within=[ZHOUNING], batch_size=20, on_rows=stop_after_three
        )
    assert_kept(clean_graph, settings)
    load_regions(clean_graph, settings, resolution, within=[ZHOUNING], batch_size=20)  # resumed
    kept = assert_kept(clean_graph, settings)
    assert _nonzero(kept) == set(MEASURES)


def test_a_synthetic_overlay(clean_graph: Driver, data_settings: Settings) -> None:
    settings = data_settings
    load(clean_graph, settings, collect_facts(settings))
    spec = SynthSpec(seed=7, scale=0.001)
    chosen = select(spec)
    two = Selection(
        chosen.counties[:2], 0, {c[:2] for c in chosen.counties[:2]} | {c[:4] for c in chosen.counties[:2]}
    )
    load_divisions(clean_graph, settings, two, {})
    assert_kept(clean_graph, settings)
    load_overlay(clean_graph, settings, spec, two)
    kept = assert_kept(clean_graph, settings)
    assert _nonzero(kept) == set(MEASURES)
    assert_people_kept(clean_graph, settings)
    people = person_villages.read_kept(clean_graph, settings)
    # The recount and the read walk the graph in pages: cut into many, they find the same.
    whole = recount(clean_graph, settings)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tally, "PAGE", 97)
        patch.setattr(person_villages, "PAGE", 97)
        assert read_tallies(clean_graph, settings) == kept
        assert recount(clean_graph, settings) == whole
        assert check(clean_graph, settings) == []
        assert person_villages.read_kept(clean_graph, settings) == people

    # `ruralkg tally rebuild` from nothing kept: the same figures
    replace_all(clean_graph, settings, {}, {})
    person_villages.replace_all(clean_graph, settings, {})
    assert read_tallies(clean_graph, settings) == {} and read_type_tallies(clean_graph, settings) == {}
    assert person_villages.read_kept(clean_graph, settings) == ({}, {}, [])
    assert rebuild(clean_graph, settings) == len(kept)
    assert assert_kept(clean_graph, settings) == kept
    assert person_villages.read_kept(clean_graph, settings) == people


def test_a_divisions_load_beside_a_curated_load(clean_graph: Driver, data_settings: Settings) -> None:
    """`make run`: the divisions load in the background while the cases load; both change the
    tallies of the same places (Fujian, Ningde, Zhouning) and neither change is lost."""
    settings = data_settings.model_copy(update={"cases_dir": REPO / "data"})
    both = [REPO / "data", FIXTURES]
    resolution = resolve_cases(curated_cases(settings, both))
    errors: list[BaseException] = []

    def divisions() -> None:
        try:
            load_regions(clean_graph, settings, resolution, within=[ZHOUNING], batch_size=10)
        except BaseException as exc:  # reported by the test's thread
            errors.append(exc)

    background = threading.Thread(target=divisions)
    background.start()
    for paths in ([REPO / "data"], both):
        load(clean_graph, settings, collect_facts(settings, paths))
    background.join()
    assert errors == []
    kept = assert_kept(clean_graph, settings)
    assert _nonzero(kept) == set(MEASURES)


def _facts(source: str, entities: dict[str, str], relations: list[tuple[str, str, str]]) -> SourceFacts:
    """A source stating these entities (id -> label) and relations (type, start, end)."""
    record = SourceRecord(id=source, kind=SYNTHETIC, title="测试来源", publisher="测试")
    facts = SourceFacts(record, source)
    for i, label in entities.items():
        facts.entities[i] = EntityFact(i, label, {"name": i.split(".")[-1]}, "证据", ())
    for t, a, b in relations:
        rel = RelationFact(t, a, b, dict.fromkeys(RELATION_PROPS), "证据")
        facts.relations[rel.key] = rel
    return facts


def test_relationship_counts_of_grouped_syncs(clean_graph: Driver, graph_settings: Settings) -> None:
    """The counts per relationship type the writer works out itself for the nodes a transaction
    creates (SourceWriter._sync, Tracker.after's `settled`) in the cases where a relation's
    statement may or may not create it: two sources of one group stating the same relation from
    a node the group creates (the second merges the first's), a relation to an entity its
    source does not declare, an orphan deleted and created again in the same transaction."""
    writer = SourceWriter(clean_graph, graph_settings)
    village, project, firm = "village:t.v", "project:t.p", "enterprise:t.e"
    places = {village: "Village"}
    writer.sync_many([_facts("source:t.0", places, [])])
    writer.sync_many(
        [
            _facts("source:t.a", {**places, project: "Project"}, [("LOCATED_IN", project, village)]),
            _facts(
                "source:t.b",
                {**places, project: "Project", firm: "Enterprise"},
                [("LOCATED_IN", project, village), ("INVOLVES", project, firm)],
            ),
            # names entities it does not declare (the loader's checks would refuse them): one in
            # the graph, one not
            _facts(
                "source:t.c",
                {firm: "Enterprise"},
                [("LOCATED_IN", firm, village), ("LOCATED_IN", firm, "village:t.none")],
            ),
        ]
    )
    assert check(clean_graph, graph_settings) == []
    assert read_type_tallies(clean_graph, graph_settings) == {"MENTIONS": 7, "LOCATED_IN": 2, "INVOLVES": 1}
    # source a drops the project (b still names it), c drops the enterprise (b names it too);
    # then b drops both and a new source d states the enterprise again in the same group
    writer.sync_many([_facts("source:t.a", places, []), _facts("source:t.c", {}, [])])
    assert check(clean_graph, graph_settings) == []
    writer.sync_many(
        [
            _facts("source:t.b", places, []),
            _facts("source:t.d", {**places, firm: "Enterprise"}, [("LOCATED_IN", firm, village)]),
        ]
    )
    assert check(clean_graph, graph_settings) == []
    assert read_type_tallies(clean_graph, graph_settings) == {"MENTIONS": 5, "LOCATED_IN": 1}


def test_people_counts_follow_their_facts(clean_graph: Driver, graph_settings: Settings) -> None:
    """The figures kept per person change with a person's own ties, with the villages a branch
    is BASED_IN and an alliance's members (for everyone tied to them), with the villages holding a
    project, and go when the person does (its source removed)."""
    writer = SourceWriter(clean_graph, graph_settings)
    v1, v2, v3, v4 = (f"village:t.v{i}" for i in range(1, 5))
    branch, alliance, project = "branch:t.b", "alliance:t.a", "project:t.p"
    person, group = "person:t.h", "group:t.g"
    places = {v: "Village" for v in (v1, v2, v3, v4)}
    org = {**places, branch: "Branch", alliance: "Alliance", project: "Project"}
    structure = [("BASED_IN", branch, v1), ("HAS_MEMBER", alliance, v2), ("HAS_MEMBER", alliance, branch),
                 ("HAS_PROJECT", v3, project)]  # fmt: skip
    ties = [("HOLDS_POST", person, branch), ("DISPATCHED_TO", person, v4), ("SUPPORTS", person, alliance),
            ("ADVISES", group, project), ("DISPATCHED_TO", group, v1)]  # fmt: skip
    people = {**org, person: "Person", group: "Group"}

    def kept() -> dict[str, tuple[int, int]]:
        assert check(clean_graph, graph_settings) == []
        counts, totals, wrong_keys = person_villages.read_kept(clean_graph, graph_settings)
        assert counts == people_reference(clean_graph, graph_settings) and wrong_keys == []
        assert totals == person_villages.totals_of(counts.values())
        return counts

    writer.sync_many([_facts("source:t.org", org, structure), _facts("source:t.people", people, ties)])
    # the person: v1 (branch), v4, v2 and v1 (alliance); serves v4, v2, v1. The group: v1; v1, v3.
    assert kept() == {person: (3, 3), group: (1, 2)}
    # the branch moves to v4: the person reaches v4 by it (and the alliance), v2
    moved = [("BASED_IN", branch, v4), *structure[1:]]
    writer.sync_many([_facts("source:t.org", org, moved)])
    assert kept() == {person: (2, 2), group: (1, 2)}
    # v2 leaves the alliance, the project loses its village: below 2 villages, nobody is kept
    writer.sync_many([_facts("source:t.org", org, [moved[0], moved[2]])])
    assert kept() == {}
    # v2 joins again and the person advises v3: the person alone
    writer.sync_many([_facts("source:t.org", org, moved[:3])])
    writer.sync_many([_facts("source:t.people", people, [*ties, ("ADVISES", person, v3)])])
    assert kept() == {person: (3, 3)}
    # the people's source removed: the person and the group are deleted with their ties
    writer.sync_many([SourceFacts(None, "source:t.people")])
    assert kept() == {}
