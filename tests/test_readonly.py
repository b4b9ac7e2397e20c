"""The read-only guard, and that every catalog entry passes it."""

from __future__ import annotations

import pytest

from queries import CATALOG
from queries.readonly import WriteRefused, assert_read_only


@pytest.mark.parametrize(
    "cypher",
    [
        "CREATE (n:Village {id: 'x'})",
        "MATCH (n) DETACH DELETE n",
        "MATCH (n) SET n.name = 'x'",
        "MATCH (n) REMOVE n.name",
        "MERGE (n:Village {id: 'x'})",
        "DROP CONSTRAINT entity_id_unique",
        "LOAD CSV FROM 'file:///x' AS row RETURN row",
        "MATCH (n) CALL { WITH n DELETE n } IN TRANSACTIONS",
        "CALL apoc.periodic.iterate('', '', {})",
        "match (n) foreach (x in [1] | create (:A))",
    ],
)
def test_writes_are_refused(cypher: str) -> None:
    with pytest.raises(WriteRefused):
        assert_read_only(cypher)


@pytest.mark.parametrize(
    "cypher",
    [
        "MATCH (n:Village) WHERE n.name = 'CREATE a village' RETURN n",
        "MATCH (n) RETURN n.offset AS x SKIP $offset LIMIT $limit // DELETE nothing",
        "MATCH (n:`SET`) RETURN n",
    ],
)
def test_reads_pass(cypher: str) -> None:
    assert assert_read_only(cypher) == cypher


SAMPLE_PARAMS = {
    "search": {"q": "芹溪", "label": "Village"},
    "entity": {"id": "village:a.b"},
    "neighborhood": {"id": "village:a.b", "depth": 3},
    "path": {"source": "village:a.b", "target": "village:a.c"},
    "alliance-tree": {"id": "alliance:a.b"},
    "village-profile": {"id": "village:a.b"},
    "region": {"code": "350925"},
    "region-coverage": {"division": "350925"},
}


def test_every_catalog_statement_is_read_only() -> None:
    for name, entry in CATALOG.items():
        params = entry.params.model_validate(SAMPLE_PARAMS.get(name, {}))
        for text in entry.statements(params).values():
            assert assert_read_only(text) == text
