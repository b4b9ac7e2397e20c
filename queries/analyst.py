"""Analyst Cypher: any read query, checked before it is sent, bounded in time, rows and bytes.

The one runner for ad hoc Cypher: `POST /cypher` (and the console that calls it), `ruralkg
cypher`, and the notebooks' `%%cypher`. The text passes `assert_read_only` (a tokenizer with
allow-lists) before anything reaches the graph. It then runs in a READ transaction that is
always rolled back, never committed: Neo4j refuses writes in it, and on the local server, which
would run a write in a READ session, anything that got past the check would still be thrown
away. Only a notebook cell that says `--write` skips the check and commits.

Size: records are counted as they stream in, in rows and in the bytes of their JSON form, and
reading stops at the row cap or at RURALKG_MAX_ANSWER_BYTES, whichever comes first; `cut` says
which. The driver fetches a few records at a time, so the process holds at most the bound plus
one small batch (one record larger than the bound is received whole, then dropped).

Time: the transaction carries the timeout (Neo4j stops the query itself), and the caller's
deadline (`asyncio.timeout` in the API) closes the connection when it passes. The local
server ignores driver timeouts; its server-wide `arcadedb.command.timeout` (set from
RURALKG_QUERY_TIMEOUT) is what stops a query there, so the API also caps how many analyst
queries run at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import neo4j
from neo4j.exceptions import ClientError, DatabaseError
from neo4j.graph import Node, Path, Relationship
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticSerializationError, to_json

from graph.connection import session as open_session
from graph.settings import Settings
from queries.catalog import has_lone_surrogate, is_timeout, plain
from queries.readonly import assert_read_only

MAX_QUERY_CHARS = 20_000
MAX_PARAMS = 100


# Records the driver pulls from the server at a time for an ad hoc query (its default is
# 1000): what the process holds beyond the bound while it counts.
FETCH_SIZE = 50
# Nesting an answer may have: a value built by `reduce(l = [], i IN range(1, 5000) | [l])`
# would otherwise recurse through every conversion.
MAX_VALUE_DEPTH = 64
Cut = Literal["rows", "bytes"]


class CypherFailed(ValueError):
    """The graph refused the query (syntax, types, an unknown function ...): the caller's to fix."""

    def __init__(self, message: str, code: str | None = None, server_message: str | None = None) -> None:
        super().__init__(message)
        self.code, self.server_message = code, server_message or message


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
    truncated: bool = Field(description="true when the answer was cut: more rows than the cap, or bytes")
    cut: Cut | None = Field(
        None, description="what cut the answer: `rows` (the row cap) or `bytes` (RURALKG_MAX_ANSWER_BYTES)"
    )
    row_cap: int
    max_bytes: int = Field(description="the answer's rows hold at most this many bytes of JSON")
    timeout_seconds: float


class TooDeep(ValueError):
    pass


def value(v: Any, depth: int = 0) -> Any:
    """A result value as JSON: graph objects by their `id` property and sorted properties,
    never by the servers' internal ids (their formats differ)."""
    if depth > MAX_VALUE_DEPTH:
        raise TooDeep(f"a value nests deeper than {MAX_VALUE_DEPTH} levels")
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
        return {k: value(v[k], depth + 1) for k in sorted(v)}
    if isinstance(v, list | tuple):
        return [value(x, depth + 1) for x in v]
    return plain(v)


@dataclass
class Answer:
    """What a query returned, within its bounds: the rows as JSON-ready dicts and, when asked,
    the driver's records themselves (a notebook draws their nodes and relationships)."""

    columns: list[str]
    cap: int
    max_bytes: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    records: list[list[Any]] = field(default_factory=list)
    size: int = 0  # bytes of the rows' JSON
    cut: Cut | None = None
    counters: dict[str, int] = field(default_factory=dict)

    def take(self, record: neo4j.Record, keep: bool) -> bool:
        """Add one record; False once a bound is reached (the record is not kept)."""
        if len(self.rows) >= self.cap:
            self.cut = "rows"
            return False
        try:
            row = {k: value(record[k]) for k in self.columns}
            size = len(to_json(row)) + 1  # the comma between rows
        except (TooDeep, PydanticSerializationError, RecursionError) as exc:
            raise CypherFailed(f"the answer cannot be sent: {exc}") from None
        if self.size + size > self.max_bytes:
            self.cut = "bytes"
            return False
        self.rows.append(row)
        self.size += size
        if keep:
            self.records.append(record.values())
        return True

    def result(self, timeout: float) -> CypherResult:
        return CypherResult(
            columns=self.columns,
            rows=self.rows,
            row_count=len(self.rows),
            truncated=self.cut is not None,
            cut=self.cut,
            row_cap=self.cap,
            max_bytes=self.max_bytes,
            timeout_seconds=timeout,
        )


def _failed(exc: neo4j.exceptions.Neo4jError) -> CypherFailed:
    message = exc.message or str(exc)
    return CypherFailed(
        f"the graph refused the query: {exc.code or type(exc).__name__}: {message}", exc.code, message
    )


_COUNTERS = (
    "nodes_created", "nodes_deleted", "relationships_created", "relationships_deleted", "properties_set",
    "labels_added", "labels_removed", "indexes_added", "indexes_removed", "constraints_added",
    "constraints_removed",
)  # fmt: skip


def _changes(counters: neo4j.SummaryCounters) -> dict[str, int]:
    return {name: n for name in _COUNTERS if (n := getattr(counters, name, 0))}


async def run_cypher_async(
    driver: neo4j.AsyncDriver,
    settings: Settings,
    req: CypherRequest,
    *,
    timeout: float,
    cap: int,
    max_bytes: int | None = None,
) -> Answer:
    """Run the checked query; the caller bounds it in time (asyncio.timeout)."""
    text = assert_read_only(req.query)
    async with driver.session(
        database=settings.neo4j_database, default_access_mode=neo4j.READ_ACCESS, fetch_size=FETCH_SIZE
    ) as session:
        tx = await session.begin_transaction(timeout=timeout, metadata={"app": "ruralkg-cypher"})
        try:
            result = await tx.run(text, req.params)
            answer = Answer(list(result.keys()), cap, max_bytes or settings.max_answer_bytes)
            async for record in result:
                if not answer.take(record, keep=False):
                    break
        except (ClientError, DatabaseError) as exc:
            if is_timeout(exc):
                raise
            raise _failed(exc) from None
        # Rolled back, never committed. On errors the session's close rolls back; on
        # cancellation (the deadline) the driver kills the connection without waiting on it.
        await tx.rollback()
    return answer


def run_cypher(
    driver: neo4j.Driver,
    settings: Settings,
    req: CypherRequest,
    *,
    timeout: float,
    cap: int,
    max_bytes: int | None = None,
    write: bool = False,
    keep_records: bool = False,
) -> Answer:
    """The same for the shell and notebooks (the driver's timeout; the server's on the local one).

    `write=True` (a notebook cell's `--write`) skips the read-only check, runs in a WRITE
    session and commits; `keep_records` keeps the driver's values for drawing."""
    text = req.query if write else assert_read_only(req.query)
    with open_session(driver, settings, write=write, fetch_size=FETCH_SIZE) as session:
        tx = session.begin_transaction(timeout=timeout, metadata={"app": "ruralkg-cypher"})
        try:
            result = tx.run(text, req.params)
            answer = Answer(list(result.keys()), cap, max_bytes or settings.max_answer_bytes)
            for record in result:
                if not answer.take(record, keep=keep_records):
                    break
            if write:
                answer.counters = _changes(result.consume().counters)
                tx.commit()
            else:
                tx.rollback()
        except (ClientError, DatabaseError) as exc:
            if is_timeout(exc):
                raise
            raise _failed(exc) from None
        finally:
            if not tx.closed():
                tx.close()
    return answer
