"""Several sources in one transaction (the bulk path): the same graph as one source at a time,
and a refused source still named, with the ones before it loaded."""

from __future__ import annotations

from dataclasses import replace

import pytest
from neo4j import Driver

from graph.settings import Settings
from loaders.facts import SourceFacts
from loaders.load import SourceFailed, SourceLoadError, sync_sources
from loaders.synthetic import Selection, SynthSpec, cases, facts_of_case, load_divisions, select
from loaders.writer import SourceWriter
from tests.graphdump import nodes_by_id, snapshot

SPEC = SynthSpec(seed=7, scale=0.001)


@pytest.fixture(scope="module")
def three_counties() -> Selection:
    chosen = select(SPEC)
    counties = chosen.counties[:3]
    return Selection(counties, 0, {c[:2] for c in counties} | {c[:4] for c in counties})


@pytest.fixture
def divisions(clean_graph: Driver, graph_settings: Settings, three_counties: Selection) -> Driver:
    load_divisions(clean_graph, graph_settings, three_counties, {})
    return clean_graph


def _facts(selection: Selection) -> list[SourceFacts]:
    return [facts_of_case(raw) for raw in cases(SPEC, selection)]


def _edited(facts: SourceFacts) -> SourceFacts:
    """The source stating less: a third of its entities (and their relations) gone, and one
    relation's evidence changed."""
    drop = set(list(facts.entities)[::3])
    relations = {k: r for k, r in facts.relations.items() if r.start not in drop and r.end not in drop}
    first = next(iter(relations))
    relations[first] = replace(relations[first], evidence=relations[first].evidence + "（修订）")
    return SourceFacts(
        facts.source,
        facts.source_id,
        {i: e for i, e in facts.entities.items() if i not in drop},
        relations,
    )


def _sync(driver: Driver, settings: Settings, facts: list[SourceFacts], group_rows: int) -> None:
    writer = SourceWriter(driver, settings, batch_size=97)  # several statements per kind
    for _ in sync_sources(writer, facts, group_rows=group_rows):
        pass


def test_grouped_sync_gives_the_graph_of_one_source_at_a_time(
    divisions: Driver, graph_settings: Settings, three_counties: Selection
) -> None:
    facts = _facts(three_counties)
    shared = set(facts[0].entities) & set(facts[1].entities)
    assert shared, "counties share vocabulary entities: several sources state one node"
    before = snapshot(divisions, graph_settings)
    edited = [facts[0], _edited(facts[1]), facts[2]]

    _sync(divisions, graph_settings, facts, group_rows=0)
    alone_first = snapshot(divisions, graph_settings)
    _sync(divisions, graph_settings, edited, group_rows=0)
    alone_edited = snapshot(divisions, graph_settings)

    divisions.execute_query("MATCH (n) DETACH DELETE n", database_=graph_settings.neo4j_database)
    load_divisions(divisions, graph_settings, three_counties, {})
    assert snapshot(divisions, graph_settings) == before
    _sync(divisions, graph_settings, facts, group_rows=10**9)  # all in one transaction
    assert snapshot(divisions, graph_settings) == alone_first
    _sync(divisions, graph_settings, edited, group_rows=10**9)
    assert snapshot(divisions, graph_settings) == alone_edited
    _sync(divisions, graph_settings, edited, group_rows=10**9)  # a rerun changes nothing
    assert snapshot(divisions, graph_settings) == alone_edited


class _NoSuchDay:
    """A date the graph refuses (`date('2023-02-30')`), past the case file's validation."""

    def isoformat(self) -> str:
        return "2023-02-30"


def test_a_source_refused_in_a_group_is_named_and_those_before_it_loaded(
    divisions: Driver, graph_settings: Settings, three_counties: Selection
) -> None:
    facts = _facts(three_counties)
    bad = facts[1].source
    assert bad is not None
    facts[1] = replace(facts[1], source=bad.model_copy(update={"date": _NoSuchDay()}))
    writer = SourceWriter(divisions, graph_settings)
    loaded = []
    with pytest.raises(SourceFailed) as info:
        for plan in sync_sources(writer, facts, group_rows=10**9):
            loaded.append(plan.source_id)
    assert info.value.source_id == facts[1].source_id
    assert loaded == [facts[0].source_id], "the group was refused, then synced one by one"
    error = SourceLoadError(info.value.source_id, info.value.cause, [], loaded_ids=loaded)
    assert "nothing of it was written" in str(error) and facts[0].source_id in str(error)
    nodes = nodes_by_id(divisions, graph_settings)
    assert facts[0].source_id in nodes
    assert facts[1].source_id not in nodes and facts[2].source_id not in nodes
    assert all(i in nodes for i in facts[0].entities)
    branches = [i for i, e in facts[1].entities.items() if e.label == "Branch"]
    assert branches and not [i for i in branches if i in nodes], "nothing of the refused source"
