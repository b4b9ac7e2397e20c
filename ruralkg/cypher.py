"""Ad hoc Cypher for analysts: guarded, timed and bounded, handed back as a DataFrame together
with the nodes and relationships it holds, ready to draw.

Read-only unless asked: the query passes the API's guard (`queries.readonly.assert_read_only`)
and runs in a READ session, in a transaction that is rolled back, never committed. The local
server runs writes even in READ sessions, so the guard is what protects the data there; the
rollback is a second line. A write (`write=True`) runs in a WRITE session and is committed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import pandas as pd
from neo4j import Driver, SummaryCounters
from neo4j.exceptions import DriverError, Neo4jError, ServiceUnavailable, SessionExpired
from neo4j.graph import Node, Path, Relationship

from graph.connection import GraphUnavailable, connect, session
from graph.model import ENTITY_LABEL
from graph.settings import Settings, get_settings
from graph.text import HIDDEN_PROPS
from queries.catalog import is_timeout, plain
from queries.models import edge_from
from queries.readonly import WriteRefused, assert_read_only
from ruralkg.errors import CypherError, GraphUnreachable, QueryTimedOut, WriteNotAllowed

DEFAULT_LIMIT = 1000
MAX_LIMIT = 100_000

# A literal or comment (skipped: `$x` inside '...' is text), a $parameter (plain or
# backquoted), or a backquoted name (skipped).
_PARAMETER = re.compile(
    r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|//[^\n]*|/\*.*?\*/"
    r"|\$(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|`(?P<quoted>[^`]+)`)"
    r"|`[^`]*`",
    re.DOTALL,
)


def referenced_parameters(cypher: str) -> list[str]:
    """The $parameters a query uses, in order of first use, each once."""
    names = (m.group("name") or m.group("quoted") for m in _PARAMETER.finditer(cypher))
    return list(dict.fromkeys(n for n in names if n))


@dataclass(frozen=True)
class GraphData:
    """Nodes and relationships found in a result, shaped like the `neighborhood` entry's
    network: nodes as {id, label, name}, edges as {type, start, end, properties, evidence}."""

    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.nodes)


@dataclass(frozen=True)
class CypherResult:
    frame: pd.DataFrame
    graph: GraphData
    truncated: bool = False  # the query had more rows than the limit; the frame holds the first ones
    limit: int = DEFAULT_LIMIT
    counters: dict[str, int] = field(default_factory=dict)  # what a write changed, when the server says


def own_label(node: Node) -> str:
    """The node's label besides Entity (the catalog's `label_of`), Entity when it has no other."""
    return next((label for label in sorted(node.labels) if label != ENTITY_LABEL), ENTITY_LABEL)


def _node_id(node: Node) -> str:
    # Our ids when the node has one; a node made by hand without one is still drawn.
    return str(node.get("id") or node.element_id)


def _node_cell(node: Node) -> dict[str, Any]:
    props = {k: plain(v) for k, v in sorted(node.items()) if k not in HIDDEN_PROPS}
    return {"id": _node_id(node), "label": own_label(node), **props}


def _relationship_cell(rel: Relationship) -> dict[str, Any]:
    start, end = rel.start_node, rel.end_node
    return {
        "type": rel.type,
        "start": _node_id(start) if start is not None else None,
        "end": _node_id(end) if end is not None else None,
        **{k: plain(v) for k, v in sorted(rel.items())},
    }


def cell(value: Any) -> Any:
    """A driver value as plain Python for a DataFrame: nodes and relationships as dicts of
    their properties (with id, label or type), paths as their nodes and relationships."""
    if isinstance(value, Node):
        return _node_cell(value)
    if isinstance(value, Relationship):
        return _relationship_cell(value)
    if isinstance(value, Path):
        return {
            "nodes": [_node_cell(n) for n in value.nodes],
            "relationships": [_relationship_cell(r) for r in value.relationships],
        }
    if isinstance(value, list | tuple):
        return [cell(v) for v in value]
    if isinstance(value, dict):
        return {k: cell(v) for k, v in value.items()}
    return plain(value)


def _elements(value: Any, nodes: dict[str, Node], rels: dict[str, Relationship]) -> None:
    if isinstance(value, Node):
        nodes.setdefault(value.element_id, value)
    elif isinstance(value, Relationship):
        rels.setdefault(value.element_id, value)
        for end in (value.start_node, value.end_node):
            if end is not None:
                nodes.setdefault(end.element_id, end)
    elif isinstance(value, Path):
        for n in value.nodes:
            nodes.setdefault(n.element_id, n)
        for r in value.relationships:
            _elements(r, nodes, rels)
    elif isinstance(value, list | tuple):
        for v in value:
            _elements(v, nodes, rels)
    elif isinstance(value, dict):
        for v in value.values():
            _elements(v, nodes, rels)


def graph_of(rows: Iterable[Iterable[Any]]) -> GraphData:
    """Every node, relationship and path in the rows, each once, in order of appearance."""
    nodes: dict[str, Node] = {}
    rels: dict[str, Relationship] = {}
    for row in rows:
        for value in row:
            _elements(value, nodes, rels)
    out_nodes = [
        {
            "id": _node_id(n),
            "label": own_label(n),
            "name": str(n.get("name") or n.get("measure") or _node_id(n)),
        }
        for n in nodes.values()
    ]
    edges = [
        edge_from(
            {
                **{k: plain(v) for k, v in r.items()},
                "type": r.type,
                "start": _node_id(r.start_node),
                "end": _node_id(r.end_node),
            }
        ).model_dump()
        for r in rels.values()
        if r.start_node is not None and r.end_node is not None
    ]
    return GraphData(nodes=out_nodes, edges=edges)


_COUNTERS = (
    "nodes_created", "nodes_deleted", "relationships_created", "relationships_deleted", "properties_set",
    "labels_added", "labels_removed", "indexes_added", "indexes_removed", "constraints_added",
    "constraints_removed",
)  # fmt: skip


def _changes(counters: SummaryCounters) -> dict[str, int]:
    return {name: n for name in _COUNTERS if (n := getattr(counters, name, 0))}


def run_cypher(
    cypher: str,
    params: Mapping[str, Any] | None = None,
    *,
    limit: int = DEFAULT_LIMIT,
    write: bool = False,
    settings: Settings | None = None,
    driver: Driver | None = None,
) -> CypherResult:
    """Run one query and return at most `limit` rows as a DataFrame, with the graph they hold.

    Raises the readable errors of `ruralkg.errors`: a write without `write=True`, the server's
    message for a bad query, a timeout, an unreachable graph.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"the row limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if not write:
        try:
            assert_read_only(cypher)
        except WriteRefused as exc:
            raise WriteNotAllowed(
                f"{exc}. Nothing was sent to the graph.\n"
                "Queries are read-only by default; to change the graph, run the cell as `%%cypher --write`."
            ) from None
    settings = settings or get_settings()
    try:
        driver = driver or connect(settings)
        with (
            session(driver, settings, write=write) as s,
            s.begin_transaction(timeout=settings.query_timeout) as tx,
        ):
            result = tx.run(cypher, dict(params or {}))
            keys = list(result.keys())
            records = [record.values() for record in islice(result, limit + 1)]
            counters = _changes(result.consume().counters)
            if write:
                tx.commit()
            else:
                tx.rollback()
    except GraphUnavailable as exc:
        raise GraphUnreachable(str(exc)) from None
    except (ServiceUnavailable, SessionExpired) as exc:
        raise GraphUnreachable(f"the graph connection failed: {exc}") from None
    except Neo4jError as exc:
        message = exc.message or str(exc)
        if is_timeout(exc):
            allowed = f"RURALKG_QUERY_TIMEOUT ({settings.query_timeout:g} s)"
            raise QueryTimedOut(f"{message}\nThe query ran longer than {allowed} allows.", exc.code) from None
        raise CypherError(message, exc.code) from None
    except DriverError as exc:
        raise CypherError(str(exc)) from None
    truncated = len(records) > limit
    records = records[:limit]
    frame = pd.DataFrame([[cell(v) for v in row] for row in records], columns=keys)
    return CypherResult(
        frame=frame, graph=graph_of(records), truncated=truncated, limit=limit, counters=counters
    )
