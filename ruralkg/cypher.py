"""Ad hoc Cypher for analysts: guarded, timed and bounded, handed back as a DataFrame together
with the nodes and relationships it holds, ready to draw.

Read-only unless asked: the query runs through the API's own runner (`queries.analyst`): the
guard, a READ session, a transaction that is rolled back, never committed, and the same bounds
in rows and bytes. The local server runs writes even in READ sessions, so the guard is what
protects the data there; the rollback is a second line. A write (`write=True`) runs in a WRITE
session and is committed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from neo4j import Driver
from neo4j.exceptions import DriverError, Neo4jError, ServiceUnavailable, SessionExpired
from neo4j.graph import Node, Path, Relationship
from pydantic import ValidationError

from graph.connection import GraphUnavailable, connect
from graph.model import ENTITY_LABEL
from graph.settings import Settings, get_settings
from graph.text import HIDDEN_PROPS
from queries import analyst
from queries.analyst import Cut, CypherFailed, CypherRequest
from queries.catalog import is_timeout, plain
from queries.models import edge_from
from queries.readonly import WriteRefused
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
    truncated: bool = False  # the answer was cut (`cut`: rows or bytes); the frame holds the first rows
    limit: int = DEFAULT_LIMIT
    counters: dict[str, int] = field(default_factory=dict)  # what a write changed, when the server says
    cut: Cut | None = None
    max_bytes: int = 0


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


def run_cypher(
    cypher: str,
    params: Mapping[str, Any] | None = None,
    *,
    limit: int = DEFAULT_LIMIT,
    write: bool = False,
    settings: Settings | None = None,
    driver: Driver | None = None,
) -> CypherResult:
    """Run one query and return at most `limit` rows (and RURALKG_MAX_ANSWER_BYTES) as a
    DataFrame, with the graph they hold. The query runs through the API's runner
    (`queries.analyst.run_cypher`): the same guard, bounds and rollback as `POST /cypher`.

    Raises the readable errors of `ruralkg.errors`: a write without `write=True`, the server's
    message for a bad query, a timeout, an unreachable graph.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"the row limit must be between 1 and {MAX_LIMIT}, not {limit}")
    settings = settings or get_settings()
    try:
        req = CypherRequest(query=cypher, params=dict(params or {}))
        driver = driver or connect(settings)
        answer = analyst.run_cypher(
            driver, settings, req, timeout=settings.query_timeout, cap=limit, write=write, keep_records=True
        )
    except WriteRefused as exc:
        raise WriteNotAllowed(
            f"{exc}. Nothing was sent to the graph.\n"
            "Queries are read-only by default; to change the graph, run the cell as `%%cypher --write`."
        ) from None
    except ValidationError as exc:
        raise CypherError(str(exc)) from None
    except CypherFailed as exc:
        raise CypherError(exc.server_message, exc.code) from None
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
    frame = pd.DataFrame([[cell(v) for v in row] for row in answer.records], columns=answer.columns)
    return CypherResult(
        frame=frame,
        graph=graph_of(answer.records),
        truncated=answer.cut is not None,
        limit=limit,
        counters=answer.counters,
        cut=answer.cut,
        max_bytes=answer.max_bytes,
    )
