"""Exploring the network: search, one entity with its provenance, neighbourhoods, paths."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from graph.model import ENTITY_LABEL
from graph.schema import BROAD_LABELS
from graph.text import HIDDEN_PROPS, SEARCH_SEPARATOR, fold, pinyin
from graph.vocabulary import SHARED_LABELS
from queries.catalog import Entry, FollowUp, NotFound, Params, Rows, fixed, register
from queries.models import (
    DOMAIN_TYPES,
    SHARED_PREFIXES,
    SHARED_TYPES,
    Edge,
    Label,
    Labels,
    Page,
    Paged,
    Ref,
    RelTypes,
    SourceQuote,
    edge,
    edge_from,
    label_of,
    page,
    ref,
    source_ref,
)

# -- search -----------------------------------------------------------------------------------


SEARCH_CAP = 500
"""Matches of one key ranked exactly; a key that more entities match makes the query broad.
Ranking 和平's 994 matches took 8-13 ms of the server's CPU (under load); 500 halves the rows."""


class SearchParams(Paged):
    # Python's regex engine, so that `\s` in the declared pattern means what it does in `fold`.
    model_config = ConfigDict(regex_engine="python-re")

    q: str = Field(
        min_length=1,
        max_length=100,
        # Something to search for: a character that folding does not remove (whitespace, the
        # key's separator `|` and its full-width form).
        pattern=r"[^\s|｜]",
        description="name, alias or pinyin; simplified or traditional",
    )
    label: Label | None = Field(None, description="only entities with this label")
    limit: int = Field(20, ge=1, le=100)

    @field_validator("q")
    @classmethod
    def _searchable(cls, v: str) -> str:
        if not fold(v):
            raise ValueError("the query has no searchable characters")
        return v


class SearchHit(Ref):
    aliases: list[str] = Field(default_factory=list)
    match: str = Field(
        description=(
            "name: the name exactly; exact: an alias, pinyin or initials exactly; prefix; partial; "
            "place: it lies in (or its person serves) a county or township the query names"
        )
    )
    code: str | None = Field(None, description="the official 12-digit division code, for a division")
    path: list[str] = Field(
        default_factory=list, description="the regions it lies in, province first (村 in 镇 in 县 ...)"
    )


class SearchPage(Page[SearchHit]):
    total_exact: bool = Field(
        True, description=f"false: `total` is a lower bound (a key matched more than {SEARCH_CAP:,})"
    )
    broad: bool = Field(
        False,
        description=(
            f"true: a key (name, pinyin, initials or code) matched more than {SEARCH_CAP:,} entities; "
            "of those only the provinces, cities and counties are listed. Type more to reach the rest"
        ),
    )


# rank -> how the query matched: the name exactly; another name, a pinyin reading or the
# initials exactly; the start of one of them; anywhere.
_RANKS = ("name", "exact", "prefix", "prefix", "partial", "place")
_PLACE_RANK = 5
_REGION_RANK = {"Province": 0, "City": 1, "County": 2, "Township": 3, "Village": 4}
# Each kind of key is one statement, answered through one index the same way on both servers
# (the local server uses an index only for a statement's leading MATCH: the keys as
# CALL { ... UNION ... } took 2-6 s there). The curated entities of the cases (`search_scope`)
# match anywhere in any of their names; every entity (the 665,000 official divisions and bulk
# data included) by the start of its name, pinyin, initials or division code. A key leaves out
# what the keys before it found, so the counts add up to distinct entities. A key is read up
# to SEARCH_CAP + 1 matches in the index's own order, which only decides whether it is broad:
# a narrow key's matches are all ranked, so the order (rank, name length, id) never depends on
# the server. Ranking the 50,000 names that start with "h" took 270 ms and their exact count
# 800 ms on the national graph; a broad key instead lists its provinces, cities and counties
# (label indexes), and the total becomes a lower bound. The keys return ids and sort keys
# only; the page's hits are read in one last statement.
_KEYS = {
    "curated": "{v}.search_scope = 'curated' AND {v}.search CONTAINS $q",
    "name": "{v}.key_name STARTS WITH $q",
    "pinyin": "{v}.key_pinyin STARTS WITH $q",
    "initials": "{v}.key_initials STARTS WITH $q",
    "code": "{v}.code STARTS WITH $q",
}
# A key that matched is part of a search key, so the rank is 0-3 there, 4 only for curated
# entities (a match inside a name).
_RANK = """CASE WHEN n.search CONTAINS $exact
    THEN CASE WHEN n.search STARTS WITH $exact THEN 0 ELSE 1 END
    ELSE CASE WHEN n.search STARTS WITH $prefix THEN 2 WHEN n.search CONTAINS $prefix THEN 3 ELSE 4 END
    END"""
# One row per match kept, each with the key's `total` and `broad`; one row with no id when the
# key keeps none (nulls sort last), so the counts always come back. Whether a key is broad is
# decided before the earlier keys' matches are left out: a key whose first matches are all
# left out ("h" by initials, after pinyin) would otherwise scan every match to fill the probe.
# Every key (and the places the query names) is one part of a single UNION ALL,
# each part named by its `key` column: each part's leading MATCH is still its own index seek
# on both servers, and the keys cost one round trip instead of one each (two to five
# statements of about a millisecond apiece, most of it the statement's fixed cost).
SEARCH_KEY = """
MATCH (n:{match}) WHERE {key}
WITH n LIMIT $probe
WITH collect(n) AS found
WITH size(found) > $cap AS broad, found
WITH broad, CASE WHEN broad THEN [] ELSE [x IN found WHERE {keep}] END AS kept
UNWIND CASE WHEN size(kept) = 0 THEN [null] ELSE kept END AS n
WITH broad, size(kept) AS total, n, CASE WHEN n IS NULL THEN null ELSE {rank} END AS rank
ORDER BY rank, size(n.name), n.id
LIMIT $end
RETURN '{name}' AS key, broad, total, n.id AS id, rank, size(n.name) AS size
"""
SEARCH_REGION_LABEL = """
MATCH (n:{match}) WHERE {key} AND {keep}
WITH n, {rank} AS rank
ORDER BY rank, size(n.name), n.id
LIMIT $end
RETURN '{name}' AS key, null AS total, n.id AS id, rank, size(n.name) AS size
"""
SEARCH_PAGE = f"""
UNWIND $page AS id
MATCH (n:Entity {{id: id}})
RETURN {ref("n")} AS hit, n.aliases AS aliases, n.code AS code,
       [(n)-[:LOCATED_IN*1..6]->(r) | r {{.id, .name, label: {label_of("r")}}}] AS regions
"""

# -- search: the places a query names ---------------------------------------------------------
# A query that is the name of a county or township, whole or without its suffix (周宁, 周宁县,
# zhouning, 周寧), also finds the curated entities that lie in it and the people who serve them.
# Each candidate name is one equality lookup on a search key's index (UNWIND, then MATCH by the
# property: an index lookup on both servers), so the cost does not grow with the graph; at
# most PLACES divisions are opened, each by walking LOCATED_IN down at most three levels (a
# county's townships and villages and what lies in them); only the curated entities among them
# are kept, and a page of them read. Cities and provinces are not opened: their contents are the size of a
# county's times 10 to 100.
PLACES = 3
PLACE_LABELS = ("County", "Township")
PLACE_SUFFIXES = (
    "", "县", "市", "区", "旗", "镇", "乡", "街道", "自治县", "自治旗", "林区", "特区", "民族乡",
    "土家族乡", "苗族乡", "回族乡", "畲族乡", "彝族乡", "瑶族乡", "壮族乡", "满族乡", "蒙古族乡",
)  # fmt: skip
_PLACE_PINYIN_SUFFIXES = tuple(dict.fromkeys(fold(pinyin(s)) for s in PLACE_SUFFIXES))
SEARCH_PLACE = """
UNWIND $place_keys AS k
MATCH (d:Entity {{{key}: k}})
WHERE {labels}
RETURN DISTINCT '{name}' AS key, null AS broad, null AS total, d.id AS id, null AS rank, null AS size
ORDER BY id
LIMIT $places
"""
SEARCH_PLACE_CONTENTS = """
UNWIND $place_ids AS pid
MATCH (:Entity {{id: pid}})<-[:LOCATED_IN*1..3]-(w:Entity)
WITH collect(DISTINCT w) AS within
WITH within, COLLECT {{
  UNWIND within AS x
  MATCH (x)<-[:DISPATCHED_TO|HOLDS_POST|ADVISES]-(p:Person)
  RETURN DISTINCT p
}} AS people
UNWIND within + people AS n
WITH DISTINCT n
WHERE n.search_scope = 'curated' AND NOT n.search CONTAINS $q{label}
WITH n ORDER BY size(n.name), n.id
WITH collect(n) AS found
UNWIND CASE WHEN size(found) = 0 THEN [null] ELSE found[0..$end] END AS n
RETURN 'place.contents' AS key, size(found) AS total, n.id AS id,
       CASE WHEN n IS NULL THEN null ELSE {rank} END AS rank, size(n.name) AS size
"""


def _place_keys(text: str) -> dict[str, list[str]]:
    """The whole names a query may stand for, by search key: itself and itself + a suffix."""
    q = fold(text)
    if q.isdigit() or len(q) < 2:
        return {}
    if q.isascii():
        return {"key_pinyin": [q + s for s in _PLACE_PINYIN_SUFFIXES]} if len(q) >= 4 else {}
    return {"key_name": [q + s for s in PLACE_SUFFIXES]}


def _key_rows(rows: Rows) -> dict[str, list[dict[str, Any]]]:
    """The rows of the first two steps by the part they came from: a key, `place:<key>`,
    `<key>.regions` or `place.contents`."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows["keys"] + rows.get("more", []):
        out.setdefault(r["key"], []).append(r)
    return out


def _place_ids(rows: Rows) -> list[str]:
    found = {r["id"] for name, rs in _key_rows(rows).items() if name.startswith("place:") for r in rs}
    return sorted(found)[:PLACES]


@lru_cache(maxsize=1024)
def _keys(text: str) -> tuple[str, ...]:
    """The keys that can match this query once folded (each step of a search asks; folding is
    done once): codes are digits; pinyin and initials Latin letters; curated names and official
    names anything."""
    q = fold(text)
    if q.isdigit():
        return ("curated", "code")
    if q.isascii():
        # one letter starts a name's initials exactly when it starts its pinyin
        return ("curated", "name", "pinyin") + (("initials",) if len(q) > 1 else ())
    return ("curated", "name")


def _earlier(keys: tuple[str, ...], key: str, v: str) -> list[str]:
    """Conditions that leave out what the keys before this one match."""
    return [f"NOT coalesce({_KEYS[k].format(v=v)}, false)" for k in keys[: keys.index(key)]]


def _search_cypher(p: SearchParams) -> dict[str, str]:
    # The small region labels have indexes of their own; any other label is kept from the
    # key's matches, so a label that few of them carry cannot make the scan long.
    own_index = p.label in BROAD_LABELS
    match = p.label if own_index else ENTITY_LABEL
    label = [f"x:{p.label}"] if p.label and not own_index else []
    keys = _keys(p.q)
    places = [
        SEARCH_PLACE.format(name=f"place:{key}", key=key, labels=" OR ".join(f"d:{x}" for x in PLACE_LABELS))
        for key in _place_keys(p.q)
    ]
    parts = [
        SEARCH_KEY.format(
            name=key,
            match=match,
            key=_KEYS[key].format(v="n"),
            keep=" AND ".join(["true", *_earlier(keys, key, "x"), *label]),
            rank=_RANK,
        )
        for key in keys
    ]
    return {"keys": "UNION ALL".join(parts + places)}


def _broad(p: SearchParams, rows: Rows) -> list[str]:
    by_key = _key_rows(rows)
    return [k for k in _keys(p.q) if by_key.get(k) and by_key[k][0]["broad"]]


def _ranked(p: SearchParams, rows: Rows) -> list[dict[str, Any]]:
    """Every listed match, best first (the keys' matches are distinct); what lies in a named
    place after them (never a key's match: the place's statement leaves those out)."""
    found = [r for rs in rows.values() for r in rs if r.get("id") and r.get("rank") is not None]
    return sorted(found, key=lambda r: (r["rank"], r["size"], r["id"]))


def _search_then(p: SearchParams, rows: Rows) -> FollowUp:
    """Step 2, one statement of UNION ALL parts: for each broad key (only without a label: a
    region label of its own is never broad, any other leaves the regions out), its matches
    among the provinces, cities and counties, one part per label for its index; and what lies
    in the places the query names. Step 3: the page's hits."""
    keys = _keys(p.q)
    if "more" not in rows:
        parts = [
            SEARCH_REGION_LABEL.format(
                name=f"{key}.regions",
                match=label,
                key=_KEYS[key].format(v="n"),
                keep=" AND ".join(["true", *_earlier(keys, key, "n")]),
                rank=_RANK,
            )
            for key in (_broad(p, rows) if p.label is None else [])
            for label in BROAD_LABELS
        ]
        place_ids = _place_ids(rows)
        if place_ids:
            label = f" AND n:{p.label}" if p.label else ""
            parts.append(SEARCH_PLACE_CONTENTS.format(label=label, rank=_PLACE_RANK))
        if parts:
            return {"more": "UNION ALL".join(parts)}, {"place_ids": place_ids}
    if "page" in rows:
        return {}, {}
    page_ids = [r["id"] for r in _ranked(p, rows)[p.offset : p.offset + p.limit]]
    return {"page": SEARCH_PAGE}, {"page": page_ids}


def region_path(regions: list[dict[str, Any]]) -> list[str]:
    """Names of the distinct regions, province first (ties by id)."""
    unique = {r["id"]: r for r in regions if r.get("label") in _REGION_RANK}
    return [r["name"] for r in sorted(unique.values(), key=lambda r: (_REGION_RANK[r["label"]], r["id"]))]


def _search_shape(p: SearchParams, rows: Rows) -> SearchPage:
    broad = _broad(p, rows)
    by_key = _key_rows(rows)
    total = sum(
        by_key[k][0]["total"] for k in (*_keys(p.q), "place.contents") if by_key.get(k) and k not in broad
    )
    ranked = {r["id"]: r for r in _ranked(p, rows)[p.offset : p.offset + p.limit]}
    order = {hit_id: i for i, hit_id in enumerate(ranked)}
    hits = sorted(rows["page"], key=lambda r: order[r["hit"]["id"]])
    items = [
        SearchHit(
            **r["hit"],
            aliases=r["aliases"] or [],
            match=_RANKS[ranked[r["hit"]["id"]]["rank"]],
            code=r["code"],
            path=region_path(r["regions"]),
        )
        for r in hits
    ]
    return SearchPage(
        total=total + SEARCH_CAP * len(broad) if p.label is None else total,
        total_exact=not broad,
        broad=bool(broad),
        limit=p.limit,
        offset=p.offset,
        items=items,
    )


def _search_bind(p: SearchParams) -> dict[str, Any]:
    q = fold(p.q)
    return {
        "q": q,
        "exact": f"{SEARCH_SEPARATOR}{q}{SEARCH_SEPARATOR}",
        "prefix": f"{SEARCH_SEPARATOR}{q}",
        "end": p.offset + p.limit,
        "probe": SEARCH_CAP + 1,
        "cap": SEARCH_CAP,
        "places": PLACES,
        "place_keys": next(iter(_place_keys(p.q).values()), []),
    }


SEARCH = register(
    Entry(
        name="search",
        summary_zh="按名称、别名、拼音或区划代码(简体或繁体)查找实体与行政区划,按匹配程度排序,附所属行政区",
        summary_en=(
            "Find entities and official divisions by name, alias, pinyin or division code, simplified "
            "or traditional, best matches first, each with the regions it lies in"
        ),
        params=SearchParams,
        result=SearchPage,
        cypher=_search_cypher,
        bind=_search_bind,
        shape=_search_shape,
        then=_search_then,
    )
)

# -- one entity -------------------------------------------------------------------------------


class RelationshipPage(Paged):
    limit: int = Field(200, ge=1, le=1000, description="at most this many relationships")


class EntityParams(RelationshipPage):
    id: str = Field(
        min_length=3, max_length=200, description="the entity's id, e.g. village:fujian.zhouning.lidun.qinxi"
    )


class Relationship(Edge):
    direction: str = Field(description="out: this entity is the start; in: it is the end")
    other: Ref


class EntityDetail(Ref):
    properties: dict[str, Any]
    provenance: list[SourceQuote]
    relationships: Page[Relationship] = Field(description="ordered by type, then the other end's id")


ENTITY_NODE = f"MATCH (n:Entity {{id: $id}}) RETURN n {{.*}} AS props, {label_of('n')} AS label"
ENTITY_PROVENANCE = f"""
MATCH (s:Source)-[m:MENTIONS]->(:Entity {{id: $id}})
RETURN {source_ref("s", quote="m.evidence")} AS source
ORDER BY source.id
"""
ENTITY_RELATIONSHIPS_BODY = """
MATCH (n:Entity {id: $id})-[r]-(o:Entity)
WHERE type(r) <> 'MENTIONS'
"""
ENTITY_RELATIONSHIPS = (
    ENTITY_RELATIONSHIPS_BODY
    + f"""
RETURN {edge("r", "startNode(r).id", "endNode(r).id")} AS edge, {ref("o")} AS other
ORDER BY edge.type, other.id, edge.start
SKIP $offset LIMIT $limit
"""
)


def _entity_shape(p: EntityParams, rows: Rows) -> EntityDetail:
    if not rows["node"]:
        raise NotFound(f"no entity with id {p.id!r}")
    props = rows["node"][0]["props"]
    return EntityDetail(
        id=p.id,
        label=rows["node"][0]["label"],
        name=props.get("name", p.id),
        properties={k: v for k, v in props.items() if k not in HIDDEN_PROPS},
        provenance=[SourceQuote(**r["source"]) for r in rows["provenance"]],
        relationships=page(
            p,
            rows["relationships_total"],
            [
                Relationship(
                    **edge_from(r["edge"]).model_dump(),
                    direction="out" if r["edge"]["start"] == p.id else "in",
                    other=Ref(**r["other"]),
                )
                for r in rows["relationships"]
            ],
        ),
    )


ENTITY = register(
    Entry(
        name="entity",
        summary_zh="一个实体:属性、全部关系(含另一端)及其出处与证据",
        summary_en="One entity: properties, every relationship with its other end, and where each came from",
        params=EntityParams,
        result=EntityDetail,
        cypher=fixed(
            node=ENTITY_NODE,
            provenance=ENTITY_PROVENANCE,
            relationships=ENTITY_RELATIONSHIPS,
            relationships_total=ENTITY_RELATIONSHIPS_BODY + "RETURN count(r) AS total",
        ),
        shape=_entity_shape,
    )
)

# -- neighbourhood ----------------------------------------------------------------------------


Depth = Annotated[int, Field(ge=1, le=3, description="hops from the entity, 1 to 3")]
ThroughShared = Annotated[
    bool,
    Field(
        description=(
            f"also walk on through the shared vocabulary ({', '.join(SHARED_LABELS)}): by default they are "
            "reached but not crossed, since one industry joins every village that has it"
        )
    ),
]


class NeighborhoodQuery(Params):
    depth: Depth = 1
    labels: Labels | None = Field(None, description="only nodes with one of these labels (all by default)")
    types: RelTypes | None = Field(
        None, description="only these relationship types (default: all but MENTIONS and HAS_QUANTITY)"
    )
    limit: int = Field(100, ge=1, le=2000, description="node cap; nearest nodes are kept")
    through_shared: ThroughShared = False


class NeighborhoodParams(NeighborhoodQuery):
    id: str = Field(min_length=3, max_length=200, description="the entity at the centre")


class Node(Ref):
    distance: int = 0


class Cut(BaseModel):
    nodes: int = Field(description="nodes within reach that the cap left out")
    by_label: dict[str, int] = Field(default_factory=dict)


class Network(BaseModel):
    center: Ref
    nodes: list[Node]
    edges: list[Edge]
    truncated: bool
    total_nodes: int
    cut: Cut


# The centre comes back with the nodes (one statement, not two: a round trip is about half a
# millisecond of fixed cost on the local server, and several under load); null when no entity
# has the id. The aggregation gives its one row even when nothing matched; should a server give
# none, the centre is looked up alone.
NEIGHBORHOOD_CENTER = f"MATCH (n:Entity {{id: $id}}) RETURN {ref('n')} AS center"
# Breadth first, one layer per hop (depth is a validated integer 1..3, the one value formatted
# into the text): layer k holds the nodes one step from layer k-1, and a node's distance is the
# first layer it is in. A variable-length pattern filtered on its inner nodes still walked every
# path through a shared industry on the local server (200-380 ms where the layers take 4-20);
# a layer leaves the shared vocabulary out of the next one's starting points before it steps.
# The centre is always stepped from, whatever its label. The edges among the kept nodes start
# from each of them as collected: scanning every relationship in the graph for ends in the list
# took most of a 500-node view's time (bench/views.py), and finding each again by id a third of
# a depth-2 answer's.
_NEIGHBORHOOD_STEP = (
    "MATCH (f)-[r]-(m:Entity) WHERE type(r) IN $types"
    " AND ($labels IS NULL OR any(l IN labels(m) WHERE l IN $labels)) RETURN m"
)
_NEIGHBORHOOD_LAYER = """
WITH *, COLLECT {{
  UNWIND d{before} AS f
  WITH DISTINCT f
  WHERE $through_shared OR NOT ({shared})
  {step}
}} AS d{layer}"""
NEIGHBORHOOD = """
MATCH (f:Entity {{id: $id}})
WITH COLLECT {{ {step} }} AS d1{layers}
UNWIND range(1, {depth}) AS distance
UNWIND [{all_layers}][distance - 1] AS m
WITH m, min(distance) AS distance
WHERE m.id <> $id
ORDER BY distance, m.id
WITH collect({ref}) AS reached, collect(m) AS nodes
WITH reached, nodes, COLLECT {{ MATCH (c:Entity {{id: $id}}) RETURN c }} AS centre
WITH reached, nodes[0..$limit] + centre AS kept_nodes, centre[0] AS c
RETURN {center} AS center, size(reached) AS total, reached[0..$limit] AS kept,
       [x IN reached[$limit..] | x.label] AS cut_labels,
       COLLECT {{
         UNWIND kept_nodes AS a
         MATCH (a)-[r]->(b:Entity)
         WHERE b IN kept_nodes AND type(r) IN $types
         RETURN {edge} AS edge
       }} AS edges
"""


def _neighborhood_cypher(depth: int) -> str:
    shared = " OR ".join(f"f:{label}" for label in SHARED_LABELS)
    layers = "".join(
        _NEIGHBORHOOD_LAYER.format(before=k - 1, layer=k, shared=shared, step=_NEIGHBORHOOD_STEP)
        for k in range(2, depth + 1)
    )
    return NEIGHBORHOOD.format(
        step=_NEIGHBORHOOD_STEP,
        layers=layers,
        depth=depth,
        all_layers=", ".join(f"d{k}" for k in range(1, depth + 1)),
        ref=ref("m", distance="distance"),
        center=ref("c"),
        edge=edge("r", "a.id", "b.id"),
    )


def _neighborhood_bind(p: NeighborhoodParams) -> dict[str, Any]:
    return {
        "id": p.id,
        "types": list(p.types or DOMAIN_TYPES),
        "labels": p.labels,
        "limit": p.limit,
        "through_shared": p.through_shared,
    }


def _neighborhood_then(p: NeighborhoodParams, rows: Rows) -> FollowUp:
    if rows["nodes"] or "center" in rows:
        return {}, {}
    return {"center": NEIGHBORHOOD_CENTER}, {}


def _neighborhood_shape(p: NeighborhoodParams, rows: Rows) -> Network:
    found = rows["nodes"] or rows["center"]
    if not found or not found[0]["center"]:
        raise NotFound(f"no entity with id {p.id!r}")
    empty: dict[str, Any] = {"total": 0, "kept": [], "cut_labels": [], "edges": []}
    result = rows["nodes"][0] if rows["nodes"] else empty
    by_label: dict[str, int] = {}
    for label in result["cut_labels"]:
        by_label[label] = by_label.get(label, 0) + 1
    edges = sorted((edge_from(e) for e in result["edges"]), key=lambda e: (e.type, e.start, e.end))
    return Network(
        center=Ref(**found[0]["center"]),
        nodes=[Node(**k) for k in result["kept"]],
        edges=edges,
        truncated=result["total"] > p.limit,
        total_nodes=result["total"],
        cut=Cut(nodes=max(0, result["total"] - p.limit), by_label=by_label),
    )


NEIGHBORHOOD_ENTRY = register(
    Entry(
        name="neighborhood",
        summary_zh="某实体 1-3 跳以内的全部节点和关系,可按标签和关系类型过滤,有节点上限",
        summary_en="Everything within 1-3 hops of an entity, filtered by label and relationship type, capped",
        params=NeighborhoodParams,
        result=Network,
        cypher=lambda p: {"nodes": _neighborhood_cypher(p.depth)},
        bind=_neighborhood_bind,
        shape=_neighborhood_shape,
        then=_neighborhood_then,
    )
)

# -- paths ------------------------------------------------------------------------------------


JoinThroughShared = Annotated[
    bool,
    Field(
        description=(
            "also join entities through an industry or practice they have in common "
            f"({', '.join(SHARED_TYPES)}): one industry joins every village that has it"
        )
    ),
]


PATH_DEPTH_MAX = 8
"""芹溪村 and 寒岩村 (two provinces apart) meet 7 steps apart, through an industry they share."""


class PathParams(Params):
    source: str = Field(min_length=3, max_length=200, description="id of one end")
    target: str = Field(min_length=3, max_length=200, description="id of the other end")
    max_depth: int = Field(4, ge=1, le=PATH_DEPTH_MAX, description="longest path considered")
    types: RelTypes | None = Field(
        None,
        description=(
            "relationship types a path may use (default: all but MENTIONS and HAS_QUANTITY, and "
            f"{' and '.join(SHARED_TYPES)} unless through_shared or an end is an industry or practice)"
        ),
    )
    limit: int = Field(10, ge=1, le=50, description="at most this many shortest paths")
    through_shared: JoinThroughShared = False

    def allowed_types(self) -> tuple[str, ...]:
        """The types given, or the default: without the shared vocabulary's own types unless
        asked or an end is part of that vocabulary (ids name their label by their prefix)."""
        if self.types:
            return tuple(self.types)
        ends = {end.split(":", 1)[0] for end in (self.source, self.target)}
        if self.through_shared or ends & SHARED_PREFIXES:
            return DOMAIN_TYPES
        return tuple(t for t in DOMAIN_TYPES if t not in SHARED_TYPES)


class Path(BaseModel):
    length: int
    nodes: list[Ref]
    edges: list[Edge]


class Paths(BaseModel):
    source: Ref
    target: Ref
    total: int = Field(description="how many shortest paths there are")
    truncated: bool = Field(description="true when the limit left some out")
    paths: list[Path] = Field(description="the first `limit` of them, ordered by the ids along each path")


PATH_ENDS = f"MATCH (n:Entity) WHERE n.id IN [$source, $target] RETURN {ref('n')} AS node"
# Relationship types come from the allow-list and max_depth is a validated integer.
PATHS_MATCH = """
MATCH (a:Entity {{id: $source}}), (b:Entity {{id: $target}})
MATCH p = allShortestPaths((a)-[:{types}*..{depth}]-(b))
"""
# The limit keeps the first paths in a stable order (node ids along the path, then the
# relationship types), so every server and every reload picks the same ones. Ids hold no
# space, so the key orders like the list of ids it is made of. One statement gives the page and
# the total: the search for the shortest paths is the cost, and a second statement for the
# count ran it again. Each row of the page carries the total (no row: no path). The maps are
# built after the UNWIND: the local server gave nulls for map projections inside a
# comprehension over the collected paths. By default the search leaves out the types that tie
# an entity to its industries and practices: through 茶叶, 31,000 villages are two hops from
# one, and between two villages of a county at scale 0.1 allShortestPaths took 1.5-2.4 s on the
# local server with them, 7 ms without.
PATHS = """
WITH p, reduce(k = '', x IN nodes(p) | k + x.id + ' ')
        + reduce(k = '', r IN relationships(p) | k + type(r) + ' ') AS key
ORDER BY key
WITH collect(p) AS found
UNWIND found[0..$limit] AS p
RETURN size(found) AS total, [n IN nodes(p) | {ref}] AS nodes, [r IN relationships(p) | {edge}] AS edges
"""


def _paths_shape(p: PathParams, rows: Rows) -> Paths:
    ends = {r["node"]["id"]: Ref(**r["node"]) for r in rows["ends"]}
    for end in (p.source, p.target):
        if end not in ends:
            raise NotFound(f"no entity with id {end!r}")
    paths = [
        Path(
            length=len(r["edges"]),
            nodes=[Ref(**n) for n in r["nodes"]],
            edges=[edge_from(e) for e in r["edges"]],
        )
        for r in rows.get("paths", [])
    ]
    if p.source == p.target:  # from an entity to itself: the path of no step (no search needed)
        paths = [Path(length=0, nodes=[ends[p.source]], edges=[])]
    total = len(paths) if p.source == p.target else rows["paths"][0]["total"] if rows["paths"] else 0
    return Paths(
        source=ends[p.source], target=ends[p.target], total=total, truncated=total > len(paths), paths=paths
    )


PATH = register(
    Entry(
        name="path",
        summary_zh="两个实体之间的最短联系路径(节点与关系链)",
        summary_en="The shortest connections between two entities, as chains of nodes and relationships",
        params=PathParams,
        result=Paths,
        cypher=lambda p: {
            "ends": PATH_ENDS,
            **(
                {}
                if p.source == p.target
                else {
                    "paths": PATHS_MATCH.format(types="|".join(p.allowed_types()), depth=p.max_depth)
                    + PATHS.format(ref=ref("n"), edge=edge("r", "startNode(r).id", "endNode(r).id"))
                }
            ),
        },
        shape=_paths_shape,
    )
)
