"""The official divisions: one division by code, and how a division's parts are covered.

A division is any Province ... Village node with an official `code` (loaders.regions); curated
places that resolved to one carry its code too. Children are read along the official
LOCATED_IN edges (those the division list states), so a village the articles scope to a county
is counted once, in its township; a curated place the list does not hold is a child of the
place the article puts it in.
"""

from __future__ import annotations

import itertools
from typing import Any

from pydantic import BaseModel, Field, field_validator

from graph.divisions import GAZETTEER_SOURCE_ID as SOURCE_ID
from graph.divisions import full_code, short_code
from graph.model import RELATIONSHIPS
from queries.catalog import Entry, NotFound, Params, Rows, register
from queries.models import label_of

_PLACE = "(x:Province OR x:City OR x:County OR x:Township OR x:Village)"
_LEVEL = {"Province": 1, "City": 2, "County": 3, "Township": 4, "Village": 5}
HOPS = 6  # as analysis.REGION_HOPS: village -> ... -> province, with a project below


def _code(value: str) -> str:
    """A division code in its stored 12-digit form; ValueError if it is not one."""
    return full_code(short_code(value))


class RegionRef(BaseModel):
    id: str
    label: str
    name: str
    code: str | None = None


def _region_ref(var: str) -> str:
    return f"{var} {{.id, .name, .code, label: {label_of(var)}}}"


# -- region -----------------------------------------------------------------------------------


class RegionParams(Params):
    code: str = Field(
        min_length=2, max_length=12, description="a division code: 350925 or 350925000000, 350925104209 ..."
    )

    @field_validator("code")
    @classmethod
    def _division_code(cls, v: str) -> str:
        return _code(v.strip())


class Region(RegionRef):
    official_name: str | None = None
    level: int | None = Field(None, description="1 province, 2 city, 3 county, 4 township, 5 village")
    curated: bool = Field(description="a source article names it (it has a curated id)")
    path: list[RegionRef] = Field(description="the divisions it lies in, province first")
    children: dict[str, int] = Field(description="its child divisions by label")


REGION_NODE = f"""
MATCH (d:Entity {{code: $code}})
RETURN {_region_ref("d")} AS region, d.official_name AS official_name, d.level AS level,
       EXISTS {{ (:Source)-[:MENTIONS]->(d) }} AS curated,
       [(d)-[:LOCATED_IN*1..{HOPS}]->(r) WHERE r.code IS NOT NULL | {_region_ref("r")}] AS path,
       COLLECT {{
         MATCH (d)<-[l:LOCATED_IN]-(c:Entity) WHERE $source IN l.sources
         RETURN {label_of("c")} AS label
       }} AS children
"""


def _region_shape(p: RegionParams, rows: Rows) -> Region:
    if not rows["region"]:
        raise NotFound(f"no division with code {p.code}")
    r = rows["region"][0]
    path = {x["id"]: RegionRef(**x) for x in r["path"]}
    return Region(
        **r["region"],
        official_name=r["official_name"],
        level=r["level"],
        curated=r["curated"],
        path=sorted(path.values(), key=lambda x: (_LEVEL.get(x.label, 9), x.id)),
        children={k: len(list(g)) for k, g in itertools.groupby(sorted(r["children"]))},
    )


REGION = register(
    Entry(
        name="region",
        summary_zh="按统计用区划代码查一个行政区划:名称、层级、上级路径、下级数量",
        summary_en="One official division by its code: names, level, the divisions above it, its children",
        params=RegionParams,
        result=Region,
        cypher=lambda p: {"region": REGION_NODE},
        bind=lambda p: {"code": p.code, "source": SOURCE_ID},
        shape=_region_shape,
    )
)

# -- region-coverage --------------------------------------------------------------------------


class CoverageParams(Params):
    division: str = Field(
        min_length=2,
        max_length=200,
        description="a division's id (county:fujian.zhouning, township:cn.350925101) or code (350925)",
    )


class Coverage(RegionRef):
    villages: int = Field(description="villages (村委会, 居委会, and villages the articles add) in it")
    villages_in_alliance: int = Field(description="of those, members of an alliance, directly or by a branch")
    villages_with_dispatched: int = Field(description="of those, villages a person or group is dispatched to")
    projects: int = Field(description="projects of it, of anything in it, or led by a branch based in it")
    enterprises: int = Field(description="enterprises in it, or involved in those projects")


class RegionCoverage(BaseModel):
    division: Coverage = Field(description="the division itself, all its parts together")
    total: int = Field(description="how many child divisions it has")
    items: list[Coverage] = Field(description="its child divisions, by code (places the list lacks last)")


_DIVISION = """
CALL {
    MATCH (d:Entity {id: $division}) RETURN d
    UNION
    MATCH (d:Entity {code: $code}) RETURN d
}
WITH d WHERE d:Province OR d:City OR d:County OR d:Township OR d:Village
"""
# What lies in each `c`: everything reached by LOCATED_IN, and c itself. Every pattern starts at
# a bound node: the local server expands from a pattern's first node. Per place, as few patterns
# as the answer allows: the local server pays about 10 us for an EXISTS {} and a few for a
# pattern comprehension, times every village of a province (6,706 in Guangxi at scale 0.1), so
# a village's alliance and dispatch checks are comprehensions, and a project's holders are only
# the labels that may hold one. Projects and enterprises are counted distinct here: sent as ids
# (13,282 enterprises and 22k lists, mostly empty, in that province) the driver spent more time
# decoding them than the server spent finding them.
_HOLDERS = " OR ".join(f"x:{label}" for label in RELATIONSHIPS["HAS_PROJECT"][0])
_BASES = " OR ".join(f"x:{label}" for label in RELATIONSHIPS["BASED_IN"][1])
_COVERAGE = f"""
OPTIONAL MATCH (c)<-[:LOCATED_IN*1..{HOPS}]-(x:Entity)
WITH c, collect(DISTINCT x) + [c] AS inside
WITH c, inside, [v IN inside WHERE v:Village] AS villages
WITH c, inside, villages,
  [x IN inside WHERE x:Project]
    + COLLECT {{ UNWIND [x IN inside WHERE {_HOLDERS}] AS x MATCH (x)-[:HAS_PROJECT]->(p:Project) RETURN p }}
    + COLLECT {{
        UNWIND [x IN inside WHERE {_BASES}] AS x
        MATCH (x)<-[:BASED_IN]-(:Branch)-[:LEADS]->(p:Project) RETURN p
      }} AS found
WITH c, inside, villages, COLLECT {{ UNWIND found AS p WITH DISTINCT p RETURN p }} AS projects
WITH c, villages, projects,
  [x IN inside WHERE x:Enterprise]
    + COLLECT {{ UNWIND projects AS p MATCH (p)-[:INVOLVES]->(e:Enterprise) RETURN e }} AS enterprises
RETURN {_region_ref("c")} AS region,
  size(villages) AS villages,
  size([v IN villages WHERE size([(v)<-[:HAS_MEMBER]-(:Alliance) | 1]) > 0
        OR size([(v)<-[:BASED_IN]-(:Branch)<-[:HAS_MEMBER]-(:Alliance) | 1]) > 0]) AS villages_in_alliance,
  size([v IN villages WHERE size([(v)<-[:DISPATCHED_TO]-(:Entity) | 1]) > 0]) AS villages_with_dispatched,
  size(projects) AS projects,
  COUNT {{ UNWIND enterprises AS e WITH DISTINCT e RETURN e }} AS enterprises
"""
COVERAGE_DIVISION = _DIVISION + "WITH d AS c" + _COVERAGE
COVERAGE_CHILDREN = (
    _DIVISION
    + f"""
MATCH (d)<-[l:LOCATED_IN]-(x:Entity)
WHERE {_PLACE} AND ($source IN l.sources OR x.code IS NULL)
WITH DISTINCT x AS c
"""
    + _COVERAGE
)


def _coverage(r: dict[str, Any]) -> Coverage:
    return Coverage(**r["region"], **{k: v for k, v in r.items() if k != "region"})


def _coverage_shape(p: CoverageParams, rows: Rows) -> RegionCoverage:
    if not rows["division"]:
        raise NotFound(f"no division with id or code {p.division!r}")
    children = sorted(
        (_coverage(r) for r in rows["children"]), key=lambda c: (c.code is None, c.code or "", c.id)
    )
    return RegionCoverage(division=_coverage(rows["division"][0]), total=len(children), items=children)


def _coverage_bind(p: CoverageParams) -> dict[str, Any]:
    try:
        code = _code(p.division.strip())
    except ValueError:
        code = ""  # not a code: matched as an id only
    return {"division": p.division, "code": code, "source": SOURCE_ID}


REGION_COVERAGE = register(
    Entry(
        name="region-coverage",
        summary_zh="某行政区划的各下级区划:村数、加入联盟的村数、有派驻人员的村数、相关项目与企业数",
        summary_en=(
            "A division's child divisions: villages, villages in an alliance, villages with a dispatched "
            "person, projects and enterprises tied to them"
        ),
        params=CoverageParams,
        result=RegionCoverage,
        cypher=lambda p: {"division": COVERAGE_DIVISION, "children": COVERAGE_CHILDREN},
        bind=_coverage_bind,
        shape=_coverage_shape,
    )
)
