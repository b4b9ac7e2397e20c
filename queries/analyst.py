"""Analyst Cypher: any read query, checked before it is sent, bounded in time and rows.

The text passes `assert_read_only` (a tokenizer with allow-lists) before anything reaches the
graph. It then runs in a READ transaction that is always rolled back, never committed: Neo4j
refuses writes in it, and on the local server, which would run a write in a READ session,
anything that got past the check would still be thrown away.

Time: the transaction carries the timeout (Neo4j stops the query itself), and the caller's
deadline (`asyncio.wait_for` in the API) closes the connection when it passes. The local
server ignores driver timeouts; its server-wide `arcadedb.command.timeout` (set from
RURALKG_QUERY_TIMEOUT) is what stops a query there, so the API also caps how many analyst
queries run at once.
"""

from __future__ import annotations

from typing import Any

import neo4j
from neo4j.exceptions import ClientError, DatabaseError
from neo4j.graph import Node, Path, Relationship
from pydantic import BaseModel, ConfigDict, Field, field_validator

from queries.catalog import has_lone_surrogate, is_timeout, plain
from queries.readonly import assert_read_only

MAX_QUERY_CHARS = 20_000
MAX_PARAMS = 100


class CypherFailed(ValueError):
    """The graph refused the query (syntax, types, an unknown function ...): the caller's to fix."""


class CypherRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(
        min_length=1,
        max_length=MAX_QUERY_CHARS,
        description="one read-only Cypher statement",
        examples=["MATCH (v:Village) RETURN v.id AS id, v.name AS name ORDER BY id LIMIT 5"],
    )
    params: dict[str, Any] = Field(
        default_factory=dict, max_length=MAX_PARAMS, description="query parameters, by name ($name)"
    )

    @field_validator("query", "params")
    @classmethod
    def _text_only(cls, value: Any) -> Any:
        if has_lone_surrogate(value):
            raise ValueError("holds a lone surrogate (\\ud800-\\udfff), which is not text")
        return value


class CypherResult(BaseModel):
    columns: list[str]
    rows: list[dict[str, Any]]
    row_count: int = Field(description="rows returned here")
    truncated: bool = Field(description="true when the query had more rows than the row cap")
    row_cap: int
    timeout_seconds: float


def value(v: Any) -> Any:
    """A result value as JSON: graph objects by their `id` property and sorted properties,
    never by the servers' internal ids (their formats differ)."""
    if isinstance(v, Node):
        return {"labels": sorted(v.labels), "properties": plain(dict(v))}
    if isinstance(v, Relationship):
        start, end = v.start_node, v.end_node
        return {
            "type": v.type,
            "start": start.get("id") if start is not None else None,
            "end": end.get("id") if end is not None else None,
            "properties": plain(dict(v)),
        }
    if isinstance(v, Path):
        return {"nodes": [value(n) for n in v.nodes], "relationships": [value(r) for r in v.relationships]}
    if isinstance(v, dict):
        return {k: value(v[k]) for k in sorted(v)}
    if isinstance(v, list | tuple):
        return [value(x) for x in v]
    return plain(v)


def _failed(exc: neo4j.exceptions.Neo4jError) -> CypherFailed:
    return CypherFailed(
        f"the graph refused the query: {exc.code or type(exc).__name__}: {exc.message or exc}"
    )


def _result(columns: list[str], records: list[Any], cap: int, timeout: float) -> CypherResult:
    rows = [{k: value(r[k]) for k in columns} for r in records[:cap]]
    return CypherResult(
        columns=columns,
        rows=rows,
        row_count=len(rows),
        truncated=len(records) > cap,
        row_cap=cap,
        timeout_seconds=timeout,
    )


async def run_cypher_async(
    driver: neo4j.AsyncDriver, database: str | None, req: CypherRequest, *, timeout: float, cap: int
) -> CypherResult:
    """Run the checked query; the caller bounds it in time (asyncio.wait_for)."""
    text = assert_read_only(req.query)
    async with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS) as session:
        tx = await session.begin_transaction(timeout=timeout, metadata={"app": "ruralkg-cypher"})
        try:
            result = await tx.run(text, req.params)
            columns = list(result.keys())
            records = []
            async for record in result:
                records.append(record)
                if len(records) > cap:
                    break
        except (ClientError, DatabaseError) as exc:
            if is_timeout(exc):
                raise
            raise _failed(exc) from None
        # Rolled back, never committed. On errors the session's close rolls back; on
        # cancellation (the deadline) the driver kills the connection without waiting on it.
        await tx.rollback()
    return _result(columns, records, cap, timeout)


def run_cypher(
    driver: neo4j.Driver, database: str | None, req: CypherRequest, *, timeout: float, cap: int
) -> CypherResult:
    """The same for the shell and notebooks (the driver's timeout; the server's on the local one)."""
    text = assert_read_only(req.query)
    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS) as session:
        tx = session.begin_transaction(timeout=timeout, metadata={"app": "ruralkg-cypher"})
        try:
            result = tx.run(text, req.params)
            columns = list(result.keys())
            records = []
            for record in result:
                records.append(record)
                if len(records) > cap:
                    break
        except (ClientError, DatabaseError) as exc:
            if is_timeout(exc):
                raise
            raise _failed(exc) from None
        tx.rollback()
    return _result(columns, records, cap, timeout)
