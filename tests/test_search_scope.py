"""Search over bulk data: a synthetic county's entities are found by the start of their names
(the prefix keys every entity carries), not by the anywhere-scan kept for the curated sources."""

from __future__ import annotations

from typing import Any

import pytest
from neo4j import Driver

from graph.connection import session
from graph.settings import Settings
from graph.text import fold, initials, pinyin
from loaders.synthetic import SynthSpec, load_divisions, load_overlay, select
from queries import explore, run

SPEC = SynthSpec(seed=3, scale=0.0002)


@pytest.fixture(scope="module")
def overlay(curated_graph: Driver, graph_settings: Settings) -> list[dict[str, Any]]:
    """The curated data plus one synthetic county; its entities as stored."""
    selection = select(SPEC)
    load_divisions(curated_graph, graph_settings, selection, {})
    load_overlay(curated_graph, graph_settings, SPEC, selection)
    records = curated_graph.execute_query(
        "MATCH (s:Source {kind: 'synthetic'})-[:MENTIONS]->(n:Entity) WHERE n.code IS NULL "
        "RETURN DISTINCT n.id AS id, n.name AS name, n.search_scope AS scope, n.key_name AS key_name, "
        "n.key_pinyin AS key_pinyin, n.key_initials AS key_initials, "
        "COUNT { (o:Source)-[:MENTIONS]->(n) WHERE coalesce(o.kind, '') <> 'synthetic' } AS curated "
        "ORDER BY id",
        database_=graph_settings.neo4j_database,
    ).records
    return [r.data() for r in records]


def _search(driver: Driver, settings: Settings, **params: Any) -> explore.SearchPage:
    with session(driver, settings) as s:
        return run(s, settings, explore.SEARCH, explore.SearchParams(**params))


def test_synthetic_entities_carry_prefix_keys_and_stay_out_of_the_curated_scan(
    overlay: list[dict[str, Any]],
) -> None:
    own = [n for n in overlay if n["curated"] == 0]
    assert len(own) > 50
    for n in own:
        assert n["scope"] is None, n
        assert (n["key_name"], n["key_pinyin"], n["key_initials"]) == (
            fold(n["name"]),
            fold(pinyin(n["name"])),
            fold(initials(n["name"])),
        ), n
    # shared vocabulary (industries, practices) named by a curated source as well stays curated
    assert all(n["scope"] == "curated" for n in overlay if n["curated"] > 0)


def test_a_synthetic_entity_is_found_by_its_name_start_not_inside_it(
    overlay: list[dict[str, Any]], curated_graph: Driver, graph_settings: Settings
) -> None:
    branch = next(n for n in overlay if n["id"].startswith("branch:") and n["curated"] == 0)
    by_name = _search(curated_graph, graph_settings, q=branch["name"], limit=100)
    assert branch["id"] in [h.id for h in by_name.items]
    assert next(h for h in by_name.items if h.id == branch["id"]).match == "name"
    by_pinyin = _search(curated_graph, graph_settings, q=branch["key_pinyin"], limit=100)
    assert branch["id"] in [h.id for h in by_pinyin.items]
    inside = branch["name"][2:]  # "中共" cut off: a match inside the name
    by_inside = _search(curated_graph, graph_settings, q=inside, limit=100)
    assert branch["id"] not in [h.id for h in by_inside.items]
