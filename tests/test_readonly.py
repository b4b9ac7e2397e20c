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
        "INSERT (n:Village {id: 'x'})",
        "CALL `db.createLabel`('X')",
        "CALL db.createLabel('X')",
        "RETURN apoc.cypher.runFirstColumnSingle('CREATE (n) RETURN n', {})",
        "MATCH (n) RETURN n; MATCH (m) DELETE m",
        "MATCH (n) DETACH\u00a0DELETE n",
        "MATCH (n) \uff24\uff25\uff2c\uff25\uff34\uff25 n",
        "MATCH (n) CRE\u200bATE (m)",
        "SHOW DATABASES",
        "USE system MATCH (n) RETURN n",
        "MATCH (n) RETURN n UNION CREATE (m) RETURN m AS n",
        "MATCH (n) RETURN 'unclosed",
        "MATCH (n) RETURN n /* unclosed",
        "MATCH (n) RETURN n // fine\nSET n.x = 1",
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
        "MATCH (n) WHERE n.name = 'it\\'s; DELETE' RETURN n.set AS s, `CREATE` AS c;",
        "CALL db.labels() YIELD label RETURN label ORDER BY label",
        "MATCH (v:Village) CALL (v) { MATCH (v)<-[:DISPATCHED_TO]-(p) RETURN count(p) AS n } RETURN v.id, n",
        "MATCH (a) RETURN a.id AS id UNION ALL MATCH (b) RETURN b.id AS id",
        "EXPLAIN MATCH (n) RETURN n",
        "RETURN date.truncate('month', date('2022-08-15')) AS d, duration.between(date(), date()) AS x",
        "OPTIONAL MATCH (n)-[r*1..3]-(m) WHERE n.id STARTS WITH $p RETURN count(*) AS c",
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


@pytest.mark.parametrize(
    "cypher",
    [
        "MATCH (n) WITH n LIMIT 1SET n.x = true",
        "MATCH (n) WITH n LIMIT 1e0SET n.x = true",
        "MATCH (n) WITH n LIMIT $1SET n.x = true",
        "MATCH (n) WITH n LIMIT 0x1SET n.x = true",
        "MATCH (n) WITH n LIMIT 0o1SET n.x = true",
        "MATCH (n) WITH n LIMIT 1.5DELETE n",
        "MATCH (n) WITH n SKIP 1_000CREATE (:X)",
    ],
)
def test_a_number_running_into_a_word_is_refused(cypher: str) -> None:
    # The servers read `1SET` as a number and a keyword: the guard must not see one token.
    with pytest.raises(WriteRefused):
        assert_read_only(cypher)


@pytest.mark.parametrize(
    "cypher",
    [
        "RETURN 1e5 AS a, 1.5e-3 AS b, 0x1F AS c, 0o17 AS d, 1_000 AS e, .5 AS f, $1 AS g",
        "UNWIND range(1, 10) AS i RETURN i LIMIT 5",
        "MATCH (n)-[*1..3]-(m) RETURN count(*) AS c",
    ],
)
def test_numbers_still_read(cypher: str) -> None:
    assert assert_read_only(cypher) == cypher
