"""The catalog machinery: named, parameterised, read-only queries with typed parameters and results.

An entry is a name, a one-line description in Chinese and English, a pydantic parameter model,
the Cypher statements it runs (parameters bound, never formatted in; only allow-listed labels,
relationship types and validated integers are formatted into the text), and a function that
shapes the rows into its pydantic result model. The same entry runs from the API (async), the
CLI and notebooks (sync), in one read transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Generic, TypeVar

import neo4j
from neo4j import AsyncManagedTransaction, ManagedTransaction
from pydantic import BaseModel, ConfigDict, field_validator
from pydantic_core import to_json

from graph.settings import Settings
from queries.readonly import assert_read_only

P = TypeVar("P", bound=BaseModel)
R = TypeVar("R", bound=BaseModel)
Rows = dict[str, list[dict[str, Any]]]
FollowUp = tuple[Mapping[str, str], dict[str, Any]]


def has_lone_surrogate(value: Any) -> bool:
    """True if a string in `value` holds a lone UTF-16 surrogate (valid JSON, but not text:
    it cannot be encoded to send to the graph)."""
    # A stack, not recursion: a value nested a thousand deep must not end in RecursionError.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if any("\ud800" <= ch <= "\udfff" for ch in item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


@lru_cache(maxsize=4096)
def _read_only(text: str) -> str:
    """The guard's verdict on a statement, once per text: an entry's texts are few (fixed, or
    formatted from allow-listed names and bounded integers), and tokenizing one took 2-6 ms,
    a fifth of the API's CPU per /search. A refusal raises and is not cached."""
    return assert_read_only(text)


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _text_only(cls, value: Any) -> Any:
        if has_lone_surrogate(value):
            raise ValueError("holds a lone surrogate (\\ud800-\\udfff), which is not text")
        return value


class UnknownQuery(KeyError):
    pass


class NotFound(LookupError):
    """A parameter names an entity the graph does not hold."""


@dataclass(frozen=True)
class Entry(Generic[P, R]):
    name: str
    summary_zh: str
    summary_en: str
    params: type[P]
    result: type[R]
    cypher: Callable[[P], Mapping[str, str]]
    shape: Callable[[P, Rows], R]
    bind: Callable[[P], dict[str, Any]] | None = None
    # Statements that depend on the rows so far, with parameters of their own, run after them in
    # the same transaction until it returns none (search: the region labels for a key that was
    # too broad, then the details of the page's hits).
    then: Callable[[P, Rows], FollowUp] | None = None

    def statements(self, params: P) -> dict[str, str]:
        return {name: _read_only(text) for name, text in self.cypher(params).items()}

    def follow_ups(self, params: P, rows: Rows) -> FollowUp:
        more, extra = self.then(params, rows) if self.then else ({}, {})
        return {name: _read_only(text) for name, text in more.items()}, extra

    def parameters(self, params: P) -> dict[str, Any]:
        return self.bind(params) if self.bind else params.model_dump(mode="json")

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "summary": {"zh": self.summary_zh, "en": self.summary_en},
            "parameters": self.params.model_json_schema(),
            "result": self.result.__name__,
        }


CATALOG: dict[str, Entry[Any, Any]] = {}


def register(entry: Entry[P, R]) -> Entry[P, R]:
    if entry.name in CATALOG:
        raise ValueError(f"query {entry.name!r} is registered twice")
    CATALOG[entry.name] = entry
    return entry


def fixed(**statements: str) -> Callable[[Any], Mapping[str, str]]:
    """Statements that do not depend on the parameters (the usual case); `Entry.statements`
    checks them, like every other statement, before they are sent."""
    return lambda params: statements


def params_from_strings(model: type[P], values: Mapping[str, list[str]]) -> P:
    """Parameters given as text (a query string, `--param k=v`): list fields take every value
    given (their validators split commas), other fields the last; pydantic converts the types."""
    data: dict[str, Any] = {}
    for key, given in values.items():
        field = model.model_fields.get(key)
        is_list = field is not None and "list[" in str(field.annotation)
        data[key] = list(given) if is_list else given[-1]
    return model.model_validate(data)


def get_entry(name: str) -> Entry[Any, Any]:
    try:
        return CATALOG[name]
    except KeyError:
        raise UnknownQuery(name) from None


def is_timeout(exc: neo4j.exceptions.Neo4jError) -> bool:
    """The server stopped the query for running too long. Neo4j says so in its code
    (`...TransactionTimedOut...`), the local server only in its message, in its own words."""
    text = f"{exc.code or ''} {exc.message or ''}".lower()
    return "timeout" in text or "timed out" in text


def plain(value: Any) -> Any:
    """Driver values as JSON-ready Python: temporal values as ISO strings, points as maps."""
    if isinstance(value, dict):
        # Sorted: servers return property maps in their own key order; answers must not differ.
        return {k: plain(value[k]) for k in sorted(value)}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "iso_format"):
        return value.iso_format()
    if isinstance(value, neo4j.spatial.Point):
        return {"srid": value.srid, "coordinates": list(value)}
    return value


def exported(value: Any) -> Any:
    """A driver value as `plain(Record.data()'s value)` gives it, in one pass: nodes as their
    properties, relationships and paths as Record.data() lists them, the rest as `plain`.
    Record.data() walks every value through ABC isinstance checks: 0.21 ms of CPU per /search at
    scale 0.1, 0.06 ms here, where the common values (maps, lists, text, numbers) come first."""
    if isinstance(value, dict):
        return {k: exported(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [exported(v) for v in value]
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, neo4j.graph.Node):
        return exported(dict(value))
    if isinstance(value, neo4j.graph.Relationship):
        return [
            exported(dict(value.start_node or {})),
            type(value).__name__,
            exported(dict(value.end_node or {})),
        ]
    if isinstance(value, neo4j.graph.Path):
        steps = zip(value.relationships, value.nodes[1:], strict=True)
        return [
            exported(dict(value.start_node)),
            *(x for r, n in steps for x in (type(r).__name__, exported(dict(n)))),
        ]
    return plain(value)


class AnswerTooLarge(ValueError):
    """A catalog answer grew past RURALKG_MAX_ANSWER_BYTES while its rows were read: refused
    whole (a typed answer cut in the middle would say something false), with what to do."""


class _Budget:
    """Bytes of JSON the rows read so far hold, refused past the bound as they stream in."""

    def __init__(self, entry: str, limit: int) -> None:
        self.entry, self.limit, self.used = entry, limit, 0

    def row(self, record: neo4j.Record) -> dict[str, Any]:
        row = {key: exported(v) for key, v in sorted(zip(record.keys(), record, strict=True))}
        self.used += len(to_json(row)) + 1
        if self.used > self.limit:
            raise AnswerTooLarge(
                f"the answer of {self.entry!r} grew past RURALKG_MAX_ANSWER_BYTES ({self.limit} bytes); "
                "ask for less (a smaller limit or page, a narrower filter)"
            )
        return row


def run(session: neo4j.Session, settings: Settings, entry: Entry[P, R], params: P) -> R:
    statements, bound = entry.statements(params), entry.parameters(params)

    # The driver's timeout binds on Neo4j; the local server enforces its own (settings).
    @neo4j.unit_of_work(timeout=settings.query_timeout)
    def work(tx: ManagedTransaction) -> Rows:
        budget = _Budget(entry.name, settings.max_answer_bytes)

        def fetch(named: Mapping[str, str], values: dict[str, Any]) -> Rows:
            return {name: [budget.row(r) for r in tx.run(text, values)] for name, text in named.items()}

        rows = fetch(statements, bound)
        while (more := entry.follow_ups(params, rows))[0]:
            rows |= fetch(more[0], bound | more[1])
        return rows

    return entry.shape(params, session.execute_read(work))


async def run_async(session: neo4j.AsyncSession, settings: Settings, entry: Entry[P, R], params: P) -> R:
    statements, bound = entry.statements(params), entry.parameters(params)

    @neo4j.unit_of_work(timeout=settings.query_timeout)
    async def work(tx: AsyncManagedTransaction) -> Rows:
        budget = _Budget(entry.name, settings.max_answer_bytes)

        async def fetch(named: Mapping[str, str], values: dict[str, Any]) -> Rows:
            rows: Rows = {}
            for name, text in named.items():
                result = await tx.run(text, values)
                rows[name] = [budget.row(r) async for r in result]
            return rows

        rows = await fetch(statements, bound)
        while (more := entry.follow_ups(params, rows))[0]:
            rows |= await fetch(more[0], bound | more[1])
        return rows

    return entry.shape(params, await session.execute_read(work))


class QueryTimedOut(TimeoutError):
    """A query ran past its deadline; the driver closed its connection."""
