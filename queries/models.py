"""Result and parameter building blocks shared by the catalog's entries."""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from annotated_types import MaxLen
from pydantic import BaseModel, BeforeValidator, Field

from graph.model import ENTITY_LABEL, GENERATED_RELATIONSHIPS, LABEL_PREFIXES, LABELS, RELATIONSHIPS
from graph.vocabulary import SHARED_LABELS
from queries.catalog import Params

T = TypeVar("T")

Label = Literal[
    "Source", "Province", "City", "County", "Township", "Village", "Alliance", "Branch", "Project",
    "Enterprise", "Organization", "Person", "Group", "Industry", "Practice", "Quantity",
]  # fmt: skip
RelType = Literal[
    "LOCATED_IN", "HAS_MEMBER", "BASED_IN", "HAS_PROJECT", "LEADS", "INVOLVES", "DISPATCHED_TO",
    "HOLDS_POST", "ADVISES", "IN_INDUSTRY", "USES_PRACTICE", "SUPPORTS", "FOUNDED", "EVOLVED_FROM",
    "PART_OF", "INSTANCE_OF", "INTRODUCED", "COMMEMORATES", "LEARNED_FROM", "MENTIONS",
    "HAS_QUANTITY",
]  # fmt: skip
assert set(Label.__args__) == set(LABELS)  # type: ignore[attr-defined]
assert set(RelType.__args__) == set(RELATIONSHIPS) | set(GENERATED_RELATIONSHIPS)  # type: ignore[attr-defined]


def _split_commas(value: Any) -> Any:
    """`labels=Village,Project` and `labels=Village&labels=Project` mean the same."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        return [part.strip() for item in value for part in str(item).split(",") if part.strip()]
    return value


# Bounded: more items than there are labels or types can only be repeats.
Labels = Annotated[list[Label], BeforeValidator(_split_commas), MaxLen(32)]
RelTypes = Annotated[list[RelType], BeforeValidator(_split_commas), MaxLen(32)]

# Relationships between the things analysts study; provenance (MENTIONS) and numbers
# (HAS_QUANTITY) are left out of traversals unless asked for, or every entity of an article
# would be two hops from every other through its Source node.
DOMAIN_TYPES: tuple[str, ...] = tuple(RELATIONSHIPS)
SHARED_TYPES: tuple[str, ...] = tuple(
    t for t, (_, ends) in RELATIONSHIPS.items() if set(ends) <= set(SHARED_LABELS)
)
"""Types that only say an entity has an industry or practice of the shared vocabulary."""
SHARED_PREFIXES: frozenset[str] = frozenset(LABEL_PREFIXES[label] for label in SHARED_LABELS)


def label_of(var: str) -> str:
    """Cypher for a node's own label (every node also carries Entity)."""
    return f"[l IN labels({var}) WHERE l <> '{ENTITY_LABEL}'][0]"


def ref(var: str, **extra: str) -> str:
    """Cypher map projection of a node as a Ref, with extra keys (name: Cypher expression)."""
    more = "".join(f", {k}: {v}" for k, v in extra.items())
    return f"{var} {{.id, .name, label: {label_of(var)}{more}}}"


class Ref(BaseModel):
    id: str
    label: str
    name: str


class SourceRef(Ref):
    publisher: str | None = None
    date: str | None = None
    url: str | None = None


class SourceQuote(SourceRef):
    quote: str = Field(description="the evidence: what the source says")


def source_ref(var: str, **extra: str) -> str:
    """Cypher map projection of a Source node as a SourceRef, with extra keys."""
    return ref(var, publisher=f"{var}.publisher", date=f"{var}.date", url=f"{var}.url", **extra)


class Evidence(BaseModel):
    source: str
    quote: str


class Edge(BaseModel):
    type: str
    start: str
    end: str
    properties: dict[str, Any] = Field(default_factory=dict)
    evidence: list[Evidence] = Field(default_factory=list)


EDGE_KEYS = ("type", "start", "end")


def edge(var: str, start: str, end: str) -> str:
    """Cypher map projection of a relationship with its type and end ids.

    A map projection, never a map literal holding one: ArcadeDB 26.10 returns a literal
    such as {type: type(r), props: r {.*}} as the inner projection alone.
    """
    return f"{var} {{.*, type: type({var}), start: {start}, end: {end}}}"


def edge_from(row: dict[str, Any]) -> Edge:
    """An Edge from a projection made by `edge()`; sources and evidence are parallel lists."""
    props = {k: v for k, v in row.items() if k not in EDGE_KEYS}
    sources, quotes = props.pop("sources", None) or [], props.pop("evidence", None) or []
    if isinstance(quotes, str):  # a MENTIONS edge: one quote, from the source it starts at
        sources, quotes = [row["start"]], [quotes]
    return Edge(
        type=row["type"],
        start=row["start"],
        end=row["end"],
        properties=props,
        evidence=[Evidence(source=s, quote=q) for s, q in zip(sources, quotes, strict=False)],
    )


class Page(BaseModel, Generic[T]):
    total: int
    limit: int
    offset: int
    items: list[T]


MAX_OFFSET = 10_000_000


class Paged(Params):
    limit: int = Field(50, ge=1, le=500, description="at most this many items")
    # The local server reads SKIP as a 32-bit integer (2^31 and up fail, 2^32 wraps to 0);
    # no list we hold comes near this bound.
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="skip this many items first")


def page(params: Paged, total_rows: list[dict[str, Any]], items: list[T]) -> Page[T]:
    total = total_rows[0]["total"] if total_rows else 0
    return Page[Any](total=total, limit=params.limit, offset=params.offset, items=items)


def refs(rows: list[dict[str, Any]] | None) -> list[Ref]:
    """Distinct refs, ordered by id (Cypher collections come in no fixed order)."""
    unique = {r["id"]: r for r in rows or [] if r and r.get("id")}
    return [Ref(**unique[k]) for k in sorted(unique)]
