"""The analyst endpoint, POST /cypher and `ruralkg cypher`: keys, limits, and that nothing
it is sent can write or administer, checked against the graph's counts and checksum."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
from neo4j import Driver
from pydantic import SecretStr

from graph.model import LABELS
from graph.schema import TALLY_LABELS
from graph.settings import Settings
from tests.conftest import problem_of, serve_api
from tests.graphdump import fingerprint

KEY = "test-key-" + "x" * 24
OTHER_KEY = "second-key-" + "y" * 24

# Every write clause, GQL forms, LOAD CSV, admin and APOC-style procedures, FOREACH,
# subqueries, several statements, comments, odd casing, Unicode spaces and backticks.
ATTEMPTS = [
    "CREATE (n:Village {id: 'village:x.y'})",
    "MATCH (n:Village) SET n.name = 'renamed'",
    "MATCH (n:Village) SET n:Hacked",
    "MATCH (n:Village) REMOVE n.name",
    "MATCH (n:Village) DELETE n",
    "MATCH (n) DETACH DELETE n",
    "MATCH (n) NODETACH DELETE n",
    "MERGE (n:Village {id: 'village:x.y'})",
    "MATCH (a:Village), (b:Village) CREATE (a)-[:HACKED]->(b)",
    "INSERT (n:Village {id: 'village:x.y'})",
    "MATCH (n:Village) INSERT (n)-[:HACKED]->(:X)",
    "LOAD CSV FROM 'file:///etc/passwd' AS row RETURN row",
    "LOAD CSV WITH HEADERS FROM 'http://127.0.0.1/x.csv' AS row CREATE (:X {v: row.a})",
    "MATCH (n) FOREACH (x IN [1] | CREATE (:X))",
    "MATCH (n) CALL { WITH n DELETE n } IN TRANSACTIONS",
    "MATCH (n) CALL (n) { SET n.x = 1 } RETURN n",
    "CALL db.createLabel('X')",
    "CALL `db.createLabel`('X')",
    "CALL `db`.`createLabel`('X')",
    "CALL dbms.killQueries(['1'])",
    "CALL apoc.create.node(['X'], {})",
    "RETURN apoc.cypher.runFirstColumnSingle('CREATE (n) RETURN n', {})",
    "CALL apoc.periodic.iterate('MATCH (n) RETURN n', 'DELETE n', {})",
    "CREATE INDEX x IF NOT EXISTS FOR (n:X) ON (n.y)",
    "DROP CONSTRAINT entity_id_unique IF EXISTS",
    "CREATE CONSTRAINT x IF NOT EXISTS FOR (n:X) REQUIRE n.id IS UNIQUE",
    "SHOW DATABASES",
    "SHOW USERS",
    "CREATE DATABASE other",
    "ALTER USER neo4j SET PASSWORD 'x'",
    "GRANT ROLE admin TO neo4j",
    "STOP DATABASE neo4j",
    "TERMINATE TRANSACTIONS 'neo4j-transaction-1'",
    "USE system MATCH (n) RETURN n",
    "MATCH (n) RETURN n; CREATE (:X)",
    "MATCH (n) RETURN n;\nMATCH (m) DETACH DELETE m",
    "MATCH (n) RETURN n // harmless\nCREATE (:X)",
    "/* a comment */ CREATE (:X)",
    "MATCH (n) /* RETURN */ DELETE n",
    "match (n) detach delete n",
    "mErGe (:X)",
    "MATCH (n) DETACH\u00a0DELETE n",
    "MATCH (n)\u2003SET n.x = 1",
    "MATCH (n) ＤＥＬＥＴＥ n",
    "MATCH (n) DEL\u200bETE n",
    "MATCH (n:Village) WITH n CREATE (:X)",
    "UNWIND [1, 2] AS x CREATE (:X {v: x})",
    "MATCH (n) RETURN n UNION CREATE (x:X) RETURN x AS n",
    "EXPLAIN CREATE (:X)",
    "CYPHER 5 CREATE (:X)",
    "USING PERIODIC COMMIT LOAD CSV FROM 'x' AS r CREATE (:X)",
    "MATCH (n) WHERE n.name = 'x' OR 1=1 CREATE (:X)",
    "RETURN 'unterminated",
    "MATCH (n) RETURN n /* unclosed",
]


@pytest.fixture(scope="module")
def cypher_url(graph_settings: Settings, curated_graph: Driver) -> Iterator[str]:
    settings = graph_settings.model_copy(
        update={
            "api_keys": [SecretStr(KEY), SecretStr(OTHER_KEY)],
            "cypher_timeout": 2.0,
            "cypher_row_cap": 5,
        }
    )
    with serve_api(settings) as url:
        yield url


@pytest.fixture(scope="module")
def client(cypher_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=cypher_url, timeout=30, headers={"X-API-Key": KEY}) as c:
        yield c


def test_reads_answer_with_rows(client: httpx.Client) -> None:
    body = client.post(
        "/cypher",
        json={
            "query": "MATCH (v:Village {id: $id}) RETURN v.name AS name, v AS node",
            "params": {"id": "village:fujian.zhouning.lidun.qinxi"},
        },
    ).json()
    assert body["columns"] == ["name", "node"] and body["rows"][0]["name"] == "芹溪村"
    node = body["rows"][0]["node"]
    assert node["labels"] == ["Entity", "Village"]
    assert list(node["properties"]) == sorted(node["properties"]), "property maps with sorted keys"
    assert body["truncated"] is False and body["row_count"] == 1


def test_schema_procedures_are_allowed(client: httpx.Client) -> None:
    body = client.post("/cypher", json={"query": "CALL db.labels() YIELD label RETURN label"}).json()
    # more labels than this module's cap of 5 rows: the first 5, the cut reported
    assert body["row_count"] == 5 and body["truncated"] is True
    # the service's own nodes outside the model: the data version and the tallies
    assert {r["label"] for r in body["rows"]} <= {"Entity", *LABELS, "DataVersion", *TALLY_LABELS}


def test_row_cap_is_reported(client: httpx.Client) -> None:
    body = client.post("/cypher", json={"query": "MATCH (n:Entity) RETURN n.id AS id ORDER BY id"}).json()
    assert body["row_count"] == 5 and body["truncated"] is True and body["row_cap"] == 5


def test_timeout_is_a_504_within_the_deadline(client: httpx.Client) -> None:
    # A cross product large enough to run for minutes; the API gives up at 2 s (and the local
    # server stops it at its command timeout, RURALKG_CYPHER_TIMEOUT's default of 5 s).
    slow = "UNWIND range(1, 5000000) AS x UNWIND range(1, 1000) AS y RETURN count(*) AS c"
    resp = client.post("/cypher", json={"query": slow})
    body = problem_of(resp, 504)
    assert "2 s" in str(body["detail"])
    assert resp.elapsed.total_seconds() < 2 + 1.5
    assert client.post("/cypher", json={"query": "RETURN 1 AS one"}).json()["rows"] == [{"one": 1}]


def test_keys(cypher_url: str) -> None:
    with httpx.Client(base_url=cypher_url, timeout=30) as c:
        query = {"query": "RETURN 1 AS one"}
        problem_of(c.post("/cypher", json=query), 401)
        problem_of(c.post("/cypher", json=query, headers={"X-API-Key": KEY[:-1]}), 401)
        problem_of(c.post("/cypher", json=query, headers={"X-API-Key": "ключ".encode()}), 401)
        for key in (KEY, OTHER_KEY):
            assert c.post("/cypher", json=query, headers={"X-API-Key": key}).status_code == 200
        # read routes stay open without a key
        assert c.get("/search", params={"q": "芹溪"}).status_code == 200


def test_closed_without_configured_keys(api_url: str) -> None:
    with httpx.Client(base_url=api_url, timeout=30) as c:
        body = problem_of(c.post("/cypher", json={"query": "RETURN 1"}, headers={"X-API-Key": KEY}), 403)
        assert "RURALKG_API_KEYS" in str(body["detail"])


def test_read_routes_closed_by_setting(graph_settings: Settings, curated_graph: Driver) -> None:
    settings = graph_settings.model_copy(update={"api_keys": [SecretStr(KEY)], "read_requires_key": True})
    with serve_api(settings) as url, httpx.Client(base_url=url, timeout=30) as c:
        problem_of(c.get("/search", params={"q": "芹溪"}), 401)
        assert c.get("/search", params={"q": "芹溪"}, headers={"X-API-Key": KEY}).status_code == 200
        # the pages show the same data, so they close with the read routes
        problem_of(c.get("/view/entities/village:fujian.zhouning.lidun.qinxi"), 401)
        page = c.get("/view/entities/village:fujian.zhouning.lidun.qinxi", headers={"X-API-Key": KEY})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert c.get("/health").status_code == 200


def test_write_and_admin_attempts_are_refused_and_the_graph_is_unchanged(
    client: httpx.Client, curated_graph: Driver, graph_settings: Settings
) -> None:
    assert len(ATTEMPTS) >= 30
    before = fingerprint(curated_graph, graph_settings)
    for query in ATTEMPTS:
        resp = client.post("/cypher", json={"query": query})
        body = problem_of(resp, 400)
        assert body["title"] == "Query refused", (query, body)
    assert fingerprint(curated_graph, graph_settings) == before


def test_keys_and_parameter_values_stay_out_of_the_log(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client.post(
        "/cypher",
        json={"query": "RETURN $secret AS s", "params": {"secret": "parameter-value-9f3"}},
    )
    assert "parameter-value-9f3" not in caplog.text
    assert KEY not in caplog.text
    assert any(getattr(r, "param_names", None) == ["secret"] for r in caplog.records)


def test_cli_cypher(graph_settings: Settings, curated_graph: Driver) -> None:
    from tests.test_cli_load import run_cli

    ok = run_cli(
        graph_settings,
        "cypher",
        "MATCH (v:Village {id: $id}) RETURN v.name AS name",
        "-p",
        "id=village:fujian.zhouning.lidun.qinxi",
        "-f",
        "csv",
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.split() == ["name", "芹溪村"]
    refused = run_cli(graph_settings, "cypher", "MATCH (n) DETACH DELETE n")
    assert refused.returncode == 2 and "DETACH" in refused.stderr
    capped = run_cli(graph_settings, "cypher", "MATCH (n:Village) RETURN n.id AS id", "--row-cap", "2")
    assert capped.returncode == 0 and "row cap of 2" in capped.stderr


# Rows of about 4 KB each (a string of 4,096 x), numbered.
WIDE_ROWS = "UNWIND range(1, 100) AS i RETURN i, reduce(s = 'x', j IN range(1, 12) | s + s) AS s"
BOUND = 64 * 1024


def test_answers_are_cut_at_the_byte_bound(graph_settings: Settings, curated_graph: Driver) -> None:
    settings = graph_settings.model_copy(
        update={"api_keys": [SecretStr(KEY)], "cypher_row_cap": 1000, "max_answer_bytes": BOUND}
    )
    with serve_api(settings) as url, httpx.Client(base_url=url, timeout=30, headers={"X-API-Key": KEY}) as c:
        resp = c.post("/cypher", json={"query": WIDE_ROWS})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["truncated"] and body["cut"] == "bytes" and body["max_bytes"] == BOUND
        assert 10 <= body["row_count"] < 100 and [r["i"] for r in body["rows"]] == list(
            range(1, body["row_count"] + 1)
        )
        assert len(resp.content) <= BOUND + 1024
        # one value larger than the bound: no row at all, said so
        huge = c.post("/cypher", json={"query": "RETURN reduce(s = 'x', j IN range(1, 17) | s + s) AS s"})
        assert huge.status_code == 200 and huge.json()["rows"] == [] and huge.json()["cut"] == "bytes"
        assert len(huge.content) < 1024
        # the row cap still cuts first when the rows are small
        small = c.post("/cypher", json={"query": "UNWIND range(1, 2000) AS i RETURN i"}).json()
        assert small["cut"] == "rows" and small["row_count"] == 1000
        # a catalog answer past the bound is refused whole, saying what to do
        tight = settings.model_copy(update={"max_answer_bytes": 1024})
    with serve_api(tight) as url, httpx.Client(base_url=url, timeout=30) as c:
        body = problem_of(c.get("/entities/village:fujian.zhouning.lidun.qinxi"), 400)
        assert body["title"] == "Answer too large" and "RURALKG_MAX_ANSWER_BYTES" in str(body["detail"])


def test_notebook_and_cli_share_the_runner_and_its_bound(
    graph_settings: Settings, curated_graph: Driver
) -> None:
    from ruralkg.cypher import run_cypher
    from tests.test_cli_load import run_cli

    settings = graph_settings.model_copy(update={"max_answer_bytes": BOUND})
    result = run_cypher(WIDE_ROWS, settings=settings, driver=curated_graph)
    assert result.truncated and result.cut == "bytes" and 10 <= len(result.frame) < 100
    assert list(result.frame["i"]) == list(range(1, len(result.frame) + 1))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RURALKG_MAX_ANSWER_BYTES", str(BOUND))
        cut = run_cli(graph_settings, "cypher", WIDE_ROWS, "--row-cap", "1000", "-f", "csv")
    assert cut.returncode == 0, cut.stderr
    assert "RURALKG_MAX_ANSWER_BYTES" in cut.stderr and 10 < len(cut.stdout.splitlines()) < 101
