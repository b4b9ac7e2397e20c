"""Reading the whole test graph back, to compare states and check what a load wrote."""

from __future__ import annotations

from typing import Any

from neo4j import Driver

from graph.settings import Settings

NODES = "MATCH (n:Entity) RETURN n.id AS id, labels(n) AS labels, n {.*} AS props"
EDGES = "MATCH (a:Entity)-[r]->(b:Entity) RETURN a.id AS start, type(r) AS type, b.id AS end, r {.*} AS props"


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return str(value) if hasattr(value, "iso_format") else value


def snapshot(driver: Driver, settings: Settings) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """Every node and relationship with all its properties, in a comparable, ordered form."""
    db = settings.neo4j_database
    nodes = sorted(
        (r["id"], tuple(sorted(r["labels"])), _freeze(r["props"]))
        for r in driver.execute_query(NODES, database_=db).records
    )
    edges = sorted(
        (r["start"], r["type"], r["end"], _freeze(r["props"]))
        for r in driver.execute_query(EDGES, database_=db).records
    )
    return tuple(nodes), tuple(edges)


def nodes_by_id(driver: Driver, settings: Settings) -> dict[str, dict[str, Any]]:
    records = driver.execute_query(NODES, database_=settings.neo4j_database).records
    return {r["id"]: {"labels": set(r["labels"]), **r["props"]} for r in records}


def edges_by_key(driver: Driver, settings: Settings) -> dict[tuple[str, str, str], dict[str, Any]]:
    records = driver.execute_query(EDGES, database_=settings.neo4j_database).records
    return {(r["type"], r["start"], r["end"]): r["props"] for r in records}


def mentions(driver: Driver, settings: Settings) -> dict[tuple[str, str], dict[str, Any]]:
    q = "MATCH (s:Source)-[m:MENTIONS]->(n:Entity) RETURN s.id AS s, n.id AS n, m {.*} AS props"
    return {
        (r["s"], r["n"]): r["props"]
        for r in driver.execute_query(q, database_=settings.neo4j_database).records
    }


def fingerprint(driver: Driver, settings: Settings) -> tuple[int, int, str]:
    """Node count, relationship count and a checksum over every node and relationship."""
    import hashlib

    nodes, edges = snapshot(driver, settings)
    db = settings.neo4j_database
    all_nodes = driver.execute_query("MATCH (n) RETURN count(n) AS c", database_=db).records[0]["c"]
    all_edges = driver.execute_query("MATCH ()-[r]->() RETURN count(r) AS c", database_=db).records[0]["c"]
    return all_nodes, all_edges, hashlib.sha256(repr((nodes, edges)).encode()).hexdigest()
