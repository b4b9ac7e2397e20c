"""The schema applies twice without error and really constrains ids."""

from __future__ import annotations

import pytest
from neo4j import Driver
from neo4j.exceptions import ConstraintError

from graph.model import LABELS
from graph.schema import apply_schema, schema_statements
from graph.settings import Settings


def test_every_label_has_an_id_constraint_and_name_index() -> None:
    text = "\n".join(schema_statements())
    for label in ("Entity", *LABELS):
        assert f"FOR (n:{label}) REQUIRE n.id IS UNIQUE" in text
        assert f"FOR (n:{label}) ON (n.name)" in text


def test_apply_twice(clean_graph: Driver, graph_settings: Settings) -> None:
    assert apply_schema(clean_graph, graph_settings) == len(schema_statements())
    assert apply_schema(clean_graph, graph_settings) == len(schema_statements())


def test_ids_are_unique_across_labels(clean_graph: Driver, graph_settings: Settings) -> None:
    db = graph_settings.neo4j_database
    clean_graph.execute_query("CREATE (:Entity:Village {id: 'village:a.b', name: '芹溪村'})", database_=db)
    with pytest.raises(ConstraintError):
        clean_graph.execute_query("CREATE (:Entity:Industry {id: 'village:a.b', name: 'x'})", database_=db)
    with pytest.raises(ConstraintError):
        clean_graph.execute_query("CREATE (:Village {id: 'village:a.b', name: 'y'})", database_=db)
