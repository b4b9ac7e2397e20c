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

from graph.divisions import DIVISION_CODE, full_code, short_code
from graph.divisions import GAZETTEER_SOURCE_ID as SOURCE_ID
from queries.catalog import Entry, NotFound, Params, Rows, fixed, register
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
        min_length=2,
        max_length=12,
        pattern=DIVISION_CODE,
        description="a division code: 350925 or 350925000000, 350925104209 ...",
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
    entities: int = Field(description="every entity in it (with a LOCATED_IN path to it), itself left out")


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
# Each place's figures are kept on its tally (loaders.tally: "inside(D)" = D itself and every
# entity with a LOCATED_IN*1..6 path to D), written with the facts they count, so a province
# costs one node where counting walked its every village (6.3 s at national size). A place
# without a tally holds nothing counted; a village's tally leaves the village itself out.
_COVERAGE = f"""
OPTIONAL MATCH (t:Tally {{id: c.id}})
RETURN {_region_ref("c")} AS region,
  CASE WHEN c:Village THEN 1 ELSE 0 END + coalesce(t.villages, 0) AS villages,
  coalesce(t.in_alliance, 0) AS villages_in_alliance,
  coalesce(t.dispatched, 0) AS villages_with_dispatched, coalesce(t.projects, 0) AS projects,
  coalesce(t.enterprises, 0) AS enterprises, coalesce(t.entities, 0) AS entities
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

# -- coverage-map -----------------------------------------------------------------------------


class MapParams(Params):
    pass


class CountyCoverage(BaseModel):
    county: RegionRef
    province: str | None = Field(description="the name of the province it lies in")
    villages_in_alliance: int = Field(description="its villages in an alliance, directly or by a branch")
    villages_with_dispatched: int = Field(description="its villages a person or group is dispatched to")


class CoverageMap(BaseModel):
    items: list[CountyCoverage] = Field(description="every county with a covered village, by id")


# Each county's covered villages are kept on its tally (loaders.tally: `in_alliance` and
# `dispatched`, over every village with a LOCATED_IN*1..6 path to it, by the rules
# region-coverage counts with), written in the transaction of the facts: one node per county,
# where counting from every alliance and every dispatched person took 36-41 s nationally. A
# county without a tally holds nothing covered.
COVERAGE_MAP_COUNTIES = f"""
MATCH (c:County)
MATCH (t:Tally {{id: c.id}})
WITH c, coalesce(t.in_alliance, 0) AS alliance, coalesce(t.dispatched, 0) AS dispatched
WHERE alliance > 0 OR dispatched > 0
RETURN {_region_ref("c")} AS county, [(c)-[:LOCATED_IN*1..2]->(p:Province) | p.name][0] AS province,
       alliance AS villages_in_alliance, dispatched AS villages_with_dispatched
"""


def _map_shape(p: MapParams, rows: Rows) -> CoverageMap:
    return CoverageMap(
        items=[
            CountyCoverage(**{**r, "county": RegionRef(**r["county"])})
            for r in sorted(rows["counties"], key=lambda r: r["county"]["id"])
        ]
    )


COVERAGE_MAP = register(
    Entry(
        name="coverage-map",
        summary_zh="有覆盖的各县:加入联盟的村数、有派驻人员的村数(覆盖地图所用)",
        summary_en=(
            "Every county with a covered village: its villages in an alliance and its villages with a "
            "dispatched person or group (what the coverage map draws)"
        ),
        params=MapParams,
        result=CoverageMap,
        cypher=fixed(counties=COVERAGE_MAP_COUNTIES),
        shape=_map_shape,
    )
)
