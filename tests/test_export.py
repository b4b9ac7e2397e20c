"""`ruralkg export --format neo4j-admin`: the headers neo4j-admin reads, and every node and
relationship of the curated graph in the files, with its properties."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from neo4j import Driver

from graph.export import ARRAY_DELIMITER, export_neo4j_admin
from graph.settings import Settings

TYPES = {"string", "long", "double", "boolean", "date", "datetime"}


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def _check_typed(columns: list[str]) -> None:
    for column in columns:
        name, _, kind = column.partition(":")
        assert name and kind.removesuffix("[]") in TYPES, column


def test_export_has_every_node_and_relationship(
    curated_graph: Driver, graph_settings: Settings, tmp_path: Path
) -> None:
    report = export_neo4j_admin(curated_graph, graph_settings, tmp_path)
    graph_nodes = {
        r["id"]: (sorted(r["labels"]), r["name"])
        for r in curated_graph.execute_query(
            # the data version's node (graph/version.py) belongs to the service, not the data; the
            # tallies (loaders/tally.py, loaders/person_villages.py, loaders/industry_tally.py) are
            # recounted after an import (`ruralkg tally rebuild`)
            "MATCH (n) WHERE NOT (n:DataVersion OR n:Tally OR n:TypeTally OR n:PersonVillages"
            " OR n:PeopleByVillages OR n:IndustryTally OR n:IndustryShare) "
            "RETURN n.id AS id, labels(n) AS labels, n.name AS name"
        ).records
    }
    graph_rels = Counter(
        (r["a"], r["b"], r["t"])
        for r in curated_graph.execute_query(
            "MATCH (a)-[r]->(b) RETURN a.id AS a, b.id AS b, type(r) AS t"
        ).records
    )
    assert graph_nodes and graph_rels

    exported_nodes: dict[str, tuple[list[str], str]] = {}
    for kind, path in report.files:
        header, rows = _read(path)
        if kind == "nodes":
            assert header[:2] == ["id:ID", ":LABEL"]
            _check_typed(header[2:])
            name = header.index("name:string")
            for row in rows:
                assert row[0] not in exported_nodes, f"{row[0]} exported twice"
                exported_nodes[row[0]] = (row[1].split(ARRAY_DELIMITER), row[name])
        else:
            assert header[:3] == [":START_ID", ":END_ID", ":TYPE"]
            _check_typed(header[3:])
            if path.stem != "MENTIONS":  # a MENTIONS holds one source's quote and aliases
                assert "sources:string[]" in header and "evidence:string[]" in header
    assert exported_nodes == graph_nodes

    exported_rels: Counter[tuple[str, str, str]] = Counter()
    for kind, path in report.files:
        if kind == "relationships":
            exported_rels.update((row[0], row[1], row[2]) for row in _read(path)[1])
    assert exported_rels == graph_rels
    assert sum(report.nodes.values()) == len(graph_nodes)
    assert sum(report.relationships.values()) == sum(graph_rels.values())

    # the import command names every file, with the options the files need
    command = report.command()
    assert command.startswith("neo4j-admin database import full neo4j ")
    assert "--array-delimiter=U+001F" in command and "--id-type=string" in command
    assert all(f"--{kind}={path}" in command for kind, path in report.files)


def test_export_types_and_arrays(curated_graph: Driver, graph_settings: Settings, tmp_path: Path) -> None:
    report = export_neo4j_admin(curated_graph, graph_settings, tmp_path)
    header, rows = _read(tmp_path / "nodes" / "Source.csv")
    assert "date:date" in header
    header, rows = _read(tmp_path / "nodes" / "Quantity.csv")
    assert "value:double" in header and "year:long" in header
    header, rows = _read(tmp_path / "relationships" / "DISPATCHED_TO.csv")
    evidence = header.index("evidence:string[]")
    sources = header.index("sources:string[]")
    record = curated_graph.execute_query(
        "MATCH (a)-[r:DISPATCHED_TO]->(b) WHERE a.id = $a AND b.id = $b "
        "RETURN r.evidence AS e, r.sources AS s",
        a=rows[0][0],
        b=rows[0][1],
    ).records[0]
    assert rows[0][evidence].split(ARRAY_DELIMITER) == record["e"]
    assert rows[0][sources].split(ARRAY_DELIMITER) == record["s"]
    assert report.relationships["DISPATCHED_TO"] == len(rows)
