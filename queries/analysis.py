"""The analysts' questions: shared experts, alliance trees, village profiles, reach, clusters ..."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from graph.model import LABEL_PREFIXES, LABELS, RELATIONSHIPS, DispatchRole, SourceKind
from graph.rules import (
    ALLIANCE_VILLAGE_PATHS,
    DIRECT_TIES,
    MULTI,
    PEOPLE_BY_VILLAGES,
    PERSON_VILLAGES,
    PROJECT_TIES,
    SERVED_VILLAGES,
    SHARED,
    alliance_villages,
    rank_prefix,
)
from graph.text import HIDDEN_PROPS
from loaders.industry_tally import FIRST as CLUSTER_LIST_BOUND
from queries.catalog import Entry, FollowUp, NotFound, Params, Rows, fixed, register
from queries.models import Page, Paged, Ref, SourceQuote, SourceRef, page, ref, refs, source_ref

# The longest LOCATED_IN chain: project -> village -> township -> county -> city -> province,
# with a hop to spare. Bounded, so a mistaken cycle in the data cannot run away.
REGION_HOPS = 6
IN_REGIONS = f"LOCATED_IN*1..{REGION_HOPS}"
IN_PROVINCE = "EXISTS {{ ({v})-[:" + IN_REGIONS + "]->(:Province {{id: $province}}) }}"


def _province_of(var: str) -> str:
    return f"[({var})-[:{IN_REGIONS}]->(pr:Province) | {ref('pr')}][0]"


def _alliances_of(var: str) -> str:
    """Refs of the alliances a village belongs to, by the one rule."""
    return " + ".join(f"[({var}){back}(a:Alliance) | {ref('a')}]" for _, back in ALLIANCE_VILLAGE_PATHS)


# -- villages per person (shared-experts, multi-village-people) ------------------------------


def _kept_counts(rule: str) -> str:
    """How many people have each count of at least `$min_villages` (a few hundred rows at most)."""
    return f"""
MATCH (t:{PEOPLE_BY_VILLAGES}) WHERE t.rule = '{rule}' AND t.villages >= $min_villages
RETURN t.villages AS villages, t.people AS people
"""


def _kept_bound(rule: str) -> str:
    """Any `$first` (`$skip` + limit) keys of the counts the page holds (`$keys_from` to
    `$keys_below`, a closed range: the local server reads an open one as a scan of the label),
    and the largest: the keys up to it hold the page and what ranks before it within those
    counts, whichever keys a server returns (as enterprise-reach's bound). Without ORDER BY the
    local server reads `$first` index entries in key order and stops (a count can hold 35,020
    people at scale 1: sorting them all took 0.3-0.8 s)."""
    return f"""
MATCH (c:{PERSON_VILLAGES}) WHERE c.{rule}_key >= $keys_from AND c.{rule}_key < $keys_below
WITH c.{rule}_key AS key LIMIT $first
RETURN max(key) AS upto
"""


def _kept_ranked(rule: str) -> str:
    """The ids of the page's people, ranked (count descending, then id), from the keys up to the
    bound (a parameter: a bound from a variable is no index range on the local server). Nothing
    else in the statement: a MATCH after it made the local server plan the range as a scan of
    the label (0.9 s at scale 1, against 1.5 ms)."""
    return f"""
MATCH (c:{PERSON_VILLAGES}) WHERE c.{rule}_key >= $keys_from AND c.{rule}_key <= $upto
WITH c ORDER BY c.{rule} DESC, c.id SKIP $skip LIMIT $limit
RETURN c.id AS id
"""


# The page's people (`$ids`, ranked), each bound to `{var}` through the Entity.id index.
_KEPT_PAGE = """
UNWIND $ids AS id
MATCH ({var}:Entity {{id: id}})
"""


def _kept_window(p: Paged, counts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The keys of the counts from the page's first person's down to its last one's, and how
    many people of the first count rank before the page, from the people per count; None for a
    page past the end. The page reads those counts' people alone: what ranks before it within
    its first count, and itself."""
    above, first, skip, last = 0, 0, 0, 0
    for n, people in sorted(((r["villages"], r["people"]) for r in counts), reverse=True):
        if not first and above + people > p.offset:
            first, skip = n, p.offset - above
        above += people
        last = n
        if first and above >= p.offset + p.limit:
            break
    if not first:
        return None
    return {
        "keys_from": rank_prefix(first),
        "keys_below": rank_prefix(last - 1),
        "skip": skip,
        "first": skip + p.limit,
    }


def _kept_bind(p: Paged, min_villages: int) -> dict[str, Any]:
    return p.model_dump(mode="json") | {"min_villages": min_villages}


def _kept_then(rule: str, page_statement: str) -> Callable[[Paged, Rows], FollowUp]:
    """After the people per count, a bound on the keys of the counts the page holds (none past
    the end), the page's ids up to it, then the page's people by id. (A follow-up's parameters
    last for its own round: the window is worked out again for the ids.)"""

    def then(p: Paged, rows: Rows) -> FollowUp:
        if "rows" in rows or (window := _kept_window(p, rows["counts"])) is None:
            return {}, {}
        if "ranked" in rows:
            return {"rows": page_statement}, {"ids": [r["id"] for r in rows["ranked"]]}
        if "upto" in rows:
            return {"ranked": _kept_ranked(rule)}, window | {"upto": rows["upto"][0]["upto"]}
        return {"upto": _kept_bound(rule)}, window

    return then


def _kept_total(rows: Rows) -> list[dict[str, Any]]:
    """The total, as `page` reads it: the people of every count asked for."""
    return [{"total": sum(r["people"] for r in rows["counts"])}]


# -- shared-experts ---------------------------------------------------------------------------


class SharedExpertsParams(Paged):
    village: str | None = Field(
        None, max_length=200, description="only people and groups tied to this village (its id)"
    )
    role: DispatchRole | None = Field(None, description="only people and groups dispatched in this role")
    province: str | None = Field(
        None, max_length=200, description="only villages in this province (its id, e.g. province:fujian)"
    )


class Dispatch(BaseModel):
    role: str
    level: str | None = None
    to: Ref


class VillageTie(Ref):
    tie: str = Field(
        description="the relationship from the person or group: DISPATCHED_TO, SUPPORTS or ADVISES to the "
        "village, LEADS, SUPPORTS or ADVISES to a project the village has, or DISPATCHED_TO, SUPPORTS or "
        "ADVISES to an alliance the village belongs to (`via` names the project or alliance)"
    )
    role: str | None = None
    via: Ref | None = Field(None, description="the project or alliance, for a tie through one")


class SharedExpert(BaseModel):
    person: Ref = Field(description="the person or group: `label` is Person or Group")
    dispatches: list[Dispatch]
    villages: list[VillageTie] = Field(description="each village once, by its closest tie")


_ALL_DISPATCHED = """
MATCH (p:Entity)-[d:DISPATCHED_TO]->(:Entity)
WHERE $role IS NULL OR d.role = $role
WITH DISTINCT p
"""
# For one village, only the people tied to it: the local server plans a pattern from its first
# node, so starting at every dispatched person cost a scan of them all per call.
_TIED_TO_VILLAGE = (
    """
MATCH (v0:Village {id: $village})
CALL (v0) {"""
    + f"""
    MATCH (v0)<-[:{DIRECT_TIES}]-(p) RETURN p
    UNION
    MATCH (v0)-[:HAS_PROJECT]->(:Project)<-[:{PROJECT_TIES}]-(p) RETURN p"""
    + "".join(
        f"""
    UNION
    MATCH (v0){back}(:Alliance)<-[:{DIRECT_TIES}]-(p) RETURN p"""
        for _, back in ALLIANCE_VILLAGE_PATHS
    )
    + """
}
WITH DISTINCT p
WHERE EXISTS { MATCH (p)-[d:DISPATCHED_TO]->(:Entity) WHERE $role IS NULL OR d.role = $role }
"""
)
_SERVED = f"""
WITH p, {SERVED_VILLAGES} AS served
UNWIND served AS v
WITH p, v
WHERE $province IS NULL OR {IN_PROVINCE.format(v="v")}
WITH p, collect(DISTINCT v.id) AS villages
WHERE size(villages) > 1 AND ($village IS NULL OR $village IN villages)
"""
_SHARED_EXPERTS_RANKED = """
WITH p, villages ORDER BY size(villages) DESC, p.id
WITH collect(p) AS people, collect(villages) AS served
"""
# One person or group of the page (`p`, the ids of the `villages` it serves) and its ties.
_SHARED_EXPERT = f"""{ref("p")} AS person,
       [(p)-[d:DISPATCHED_TO]->(x) | d {{.role, .level, to: {ref("x")}}}] AS dispatches,
       [(p)-[t:{DIRECT_TIES}]->(v:Village) WHERE v.id IN villages
          | {ref("v", tie="type(t)", role="t.role", via="null")}]
       + [(p)-[t:{PROJECT_TIES}]->(x:Project)<-[:HAS_PROJECT]-(v:Village) WHERE v.id IN villages
          | {ref("v", tie="type(t)", role="t.role", via=ref("x"))}]
       + reduce(ts = [], l IN [(p)-[t:{DIRECT_TIES}]->(a:Alliance)
          | [v IN {alliance_villages("a")} WHERE v.id IN villages
             | {ref("v", tie="type(t)", role="t.role", via=ref("a"))}]] | ts + l) AS villages
"""
# The page and the total in one statement: the walk above is the cost, and a second statement
# for the count ran it again (at scale 1, two statements of about 4.5 ms each through the
# driver). Each row carries the total; a page past the end has no row, and only then is the
# count asked for alone (SHARED_EXPERTS_TOTAL). `collect` keeps the ORDER BY's order on both
# servers (as `path` relies on), so the page is the same as SKIP/LIMIT gave.
SHARED_EXPERTS_PAGE = (
    _SHARED_EXPERTS_RANKED
    + """UNWIND range($offset, size(people) - 1)[0..$limit] AS i
WITH size(people) AS total, people[i] AS p, served[i] AS villages
RETURN total, """
    + _SHARED_EXPERT
)


def _tie_rank(tie: VillageTie) -> tuple[int, str, str]:
    """Closest first: dispatched to the village, another direct tie, through a project, through
    an alliance; then by type and the project or alliance."""
    through = 0 if tie.via is None else (1 if tie.via.label == "Project" else 2)
    return (through * 2 + (tie.tie != "DISPATCHED_TO"), tie.tie, tie.via.id if tie.via else "")


def closest_ties(ties: list[VillageTie]) -> list[VillageTie]:
    """Each village once (issue 20: 首章村 came twice, by dispatch and through its tea project)."""
    best: dict[str, VillageTie] = {}
    for tie in sorted(ties, key=_tie_rank):
        best.setdefault(tie.id, tie)
    return [best[k] for k in sorted(best)]


SHARED_EXPERTS_TOTAL = "RETURN count(p) AS total"
# Unfiltered, the ranking and the total are the kept counts: the page's people alone are walked
# for the villages they serve and their ties.
SHARED_EXPERTS_KEPT = (
    _KEPT_PAGE.format(var="p")
    + _SERVED
    + _SHARED_EXPERTS_RANKED
    + """UNWIND range(0, size(people) - 1) AS i
WITH people[i] AS p, served[i] AS villages
RETURN """
    + _SHARED_EXPERT
)
_shared_experts_kept_then = _kept_then(SHARED, SHARED_EXPERTS_KEPT)


def _unfiltered(p: SharedExpertsParams) -> bool:
    return p.village is None and p.role is None and p.province is None


def _shared_experts_body(p: SharedExpertsParams) -> str:
    return (_ALL_DISPATCHED if p.village is None else _TIED_TO_VILLAGE) + _SERVED


def _shared_experts_statements(p: SharedExpertsParams) -> dict[str, str]:
    if _unfiltered(p):
        return {"counts": _kept_counts(SHARED)}
    return {"rows": _shared_experts_body(p) + SHARED_EXPERTS_PAGE}


def _shared_experts_then(p: SharedExpertsParams, rows: Rows) -> FollowUp:
    """Unfiltered, the page up to the bound; filtered, the count alone, only for a page past the
    end (its statement returned no row)."""
    if _unfiltered(p):
        return _shared_experts_kept_then(p, rows)
    if rows["rows"] or p.offset == 0 or "total" in rows:
        return {}, {}
    return {"total": _shared_experts_body(p) + SHARED_EXPERTS_TOTAL}, {}


def _shared_experts_shape(p: SharedExpertsParams, rows: Rows) -> Page[SharedExpert]:
    items = [
        SharedExpert(
            person=Ref(**r["person"]),
            dispatches=sorted((Dispatch(**d) for d in r["dispatches"]), key=lambda d: (d.to.id, d.role)),
            villages=closest_ties([VillageTie(**v) for v in r["villages"]]),
        )
        for r in rows.get("rows", [])
    ]
    if _unfiltered(p):
        return page(p, _kept_total(rows), items)
    # the page's rows carry the total, or past the end the count alone
    return page(p, rows["rows"][:1] or rows.get("total", []), items)


register(
    Entry(
        name="shared-experts",
        summary_zh="共享同一下派人员或人员群体(第一书记、科技特派员、农技专家等)的村庄,附角色",
        summary_en="Villages sharing a dispatched person or group (first secretary, agri-tech experts ...), "
        "with roles",
        params=SharedExpertsParams,
        result=Page[SharedExpert],
        cypher=_shared_experts_statements,
        bind=lambda p: _kept_bind(p, 2),
        shape=_shared_experts_shape,
        then=_shared_experts_then,
    )
)

# -- dispatches -------------------------------------------------------------------------------


class DispatchParams(Paged):
    role: DispatchRole | None = Field(None, description="only dispatches in this role")
    province: str | None = Field(None, max_length=200, description="only into this province (its id)")


class DispatchOut(BaseModel):
    person: Ref = Field(description="the person or group: `label` is Person or Group")
    size: int | None = Field(None, description="a group's size, where the article counts it")
    role: str
    level: str | None = None
    to: Ref
    county: Ref | None = Field(None, description="the county the place, project or alliance lies in")


# The unfiltered total is the count of DISPATCHED_TO relationships the loaders keep
# (loaders.tally, exact: every DISPATCHED_TO joins two entities); counting them here read every
# entity of the graph (24-26 s at scale 1). A filtered total still walks the dispatches.
DISPATCH_TOTAL_KEPT = (
    "OPTIONAL MATCH (t:TypeTally {id: 'DISPATCHED_TO'}) RETURN coalesce(t.count, 0) AS total"
)
DISPATCH_FILTER = f"($role IS NULL OR d.role = $role) AND ($province IS NULL OR {IN_PROVINCE.format(v='x')})"
DISPATCH_BODY = f"""
MATCH (p:Entity)-[d:DISPATCHED_TO]->(x:Entity)
WHERE {DISPATCH_FILTER}
"""
# The page without sorting every dispatch: `ORDER BY p.id, x.id SKIP LIMIT` over all of them read
# every entity and sorted the 1.3 M dispatches of the national graph (7-19 s). The page is read
# label by label, each label's part from a window of its people up to a bound, as enterprise-reach
# reads its page (ENTERPRISE_UPTO_BOUND).
#
# Who may be dispatched (graph.model), in the order of their ids: every id is its label's prefix,
# a colon and more (graph.model checks each), so two labels' ids never interleave (where one
# prefix runs out, its colon meets a letter of the other, and the colon sorts first): every
# group's id comes before every person's, and the page is the groups' dispatches, then the people's.
DISPATCHERS: tuple[str, ...] = tuple(
    sorted(RELATIONSHIPS["DISPATCHED_TO"][0], key=lambda label: LABEL_PREFIXES[label] + ":")
)


def _dispatch_upto(label: str) -> str:
    """A bound on the ids of the label's people that holds its first `$first` dispatches.

    Any `$first` of the label's dispatches give it: at least `$first` dispatches come from people
    whose id is at or below the largest of theirs, and every other dispatch of the label sorts after
    all of those, so the people up to the bound hold the label's first `$first` in (p.id, x.id)
    order. When fewer match, the LIMIT is not reached, `found` is their exact count and the bound
    holds them all. The LIMIT has no ORDER BY on purpose: whichever dispatches a server returns,
    the page read up to the bound is the same; only its cost depends on which (index order, as the
    local server reads `p.id >= ''` here, gives the tightest bound: 10-30 ms at scale 1)."""
    return f"""
MATCH (p:{label})-[d:DISPATCHED_TO]->(x:Entity)
WHERE p.id >= '' AND {DISPATCH_FILTER}
WITH p.id AS id LIMIT $first
RETURN '{label}' AS label, max(id) AS upto, count(id) AS found
"""


DISPATCH_UPTO = "UNION ALL".join(_dispatch_upto(label) for label in DISPATCHERS)


def _dispatch_part(label: str) -> str:
    """The label's share of the page, sorted within its window. The bound comes as a parameter of
    its own statement: from a variable in the same statement it is no index range on the local
    server, and neither is a range inside `CALL {}` (it read every person: 5 s and more)."""
    key = LABEL_PREFIXES[label]
    return f"""
MATCH (p:{label})-[d:DISPATCHED_TO]->(x:Entity)
WHERE p.id <= ${key}_upto AND {DISPATCH_FILTER}
WITH p, d, x ORDER BY p.id, x.id SKIP ${key}_skip LIMIT ${key}_take
RETURN {ref("p")} AS person, p.size AS size, d.role AS role, d.level AS level, {ref("x")} AS to,
  CASE WHEN x:County THEN {ref("x")}
       ELSE [(x)-[:{IN_REGIONS}]->(c:County) | {ref("c")}][0] END AS county
"""


def _dispatch_statements(p: DispatchParams) -> dict[str, str]:
    """The bounds first (the page follows, `_dispatch_page`), and the total: the kept count when
    nothing is filtered."""
    total = (
        DISPATCH_TOTAL_KEPT
        if p.role is None and p.province is None
        else DISPATCH_BODY + "RETURN count(d) AS total"
    )
    return {"upto": DISPATCH_UPTO, "total": total}


def _dispatch_page(p: DispatchParams, rows: Rows) -> FollowUp:
    """The page, once: label by label in id order, the dispatches of `offset`..`offset + limit`
    that are the label's. Below `$first`, `found` is the label's exact count; at `$first` it is at
    least what is left of the page (what is left to skip and to take never adds up to more), so a
    label is passed over only when all its dispatches come before the page, and no part is read
    for a page past the end."""
    if "rows" in rows:
        return {}, {}
    # A label none of whose dispatches match has no row: `label` is a grouping key.
    bounds = {r["label"]: r for r in rows["upto"]}
    skip, want = p.offset, p.limit
    parts: list[str] = []
    values: dict[str, Any] = {}
    for label in DISPATCHERS:
        found = bounds[label]["found"] if label in bounds else 0
        if want == 0:
            break
        if skip >= found:
            skip -= found
            continue
        take, key = min(want, found - skip), LABEL_PREFIXES[label]
        parts.append(_dispatch_part(label))
        values |= {f"{key}_upto": bounds[label]["upto"], f"{key}_skip": skip, f"{key}_take": take}
        skip, want = 0, want - take
    return ({"rows": "UNION ALL".join(parts)}, values) if parts else ({}, {})


register(
    Entry(
        name="dispatches",
        summary_zh="所有下派:人员或人员群体、角色、层级、派往何处及所在县",
        summary_en="Every dispatch: the person or group, role, level, where to, and its county",
        params=DispatchParams,
        result=Page[DispatchOut],
        cypher=_dispatch_statements,
        bind=lambda p: p.model_dump(mode="json") | {"first": p.offset + p.limit},
        then=_dispatch_page,
        # Sorted again, as the parts were: a UNION ALL promises no order between its parts (ids
        # are ASCII, ordered alike here and on both servers; ties keep the order they came in).
        shape=lambda p, rows: page(
            p,
            rows["total"],
            [
                DispatchOut(**r)
                for r in sorted(rows.get("rows", []), key=lambda r: (r["person"]["id"], r["to"]["id"]))
            ],
        ),
    )
)

# -- alliance-tree ----------------------------------------------------------------------------


class AllianceParams(Params):
    id: str = Field(min_length=3, max_length=200, description="the alliance's id")


class Kinded(Ref):
    kind: str | None = None


class Member(Kinded):
    role: str | None = Field(None, description="the part it plays: 龙头, 运营, 书记 ...")


class ProjectNode(Kinded):
    enterprises: list[Member]


class VillageNode(Ref):
    projects: list[ProjectNode]


class BranchNode(Member):
    based_in: list[Ref]
    villages: list[VillageNode]
    projects: list[ProjectNode] = Field(description="projects the branch leads")


class Post(Member):
    status: str | None = Field(None, description="the post's qualifier: 拟任 (proposed), 兼任")


class AllianceTree(Kinded):
    villages: list[Ref] = Field(
        description="its member villages: directly, or through a member branch based in them"
    )
    branches: list[BranchNode]
    members: list[Member] = Field(description="members other than branches (villages, enterprises ...)")
    projects: list[ProjectNode] = Field(description="projects the alliance holds or leads itself")
    people: list[Post] = Field(description="people and groups holding posts in the alliance, with their role")


def _project(var: str) -> str:
    return (
        f"{var} {{.id, .name, .kind, label: 'Project', "
        f"enterprises: [({var})-[i:INVOLVES]->(e:Enterprise) | e {{.id, .name, .kind, label: 'Enterprise', "
        "role: i.role}]}"
    )


ALLIANCE_TREE = f"""
MATCH (a:Alliance {{id: $id}})
RETURN a {{.id, .name, .kind, label: 'Alliance',
  villages: [v IN {alliance_villages("a")} | {ref("v")}],
  branches: [(a)-[m:HAS_MEMBER]->(b:Branch) | b {{.id, .name, .kind, label: 'Branch', role: m.role,
    based_in: [(b)-[:BASED_IN]->(x) WHERE NOT x:Village | {ref("x")}],
    villages: [(b)-[:BASED_IN]->(v:Village) | v {{.id, .name, label: 'Village',
      projects: [(v)-[:HAS_PROJECT]->(p:Project) | {_project("p")}]}}],
    projects: [(b)-[:LEADS]->(p:Project) | {_project("p")}]}}],
  members: [(a)-[m:HAS_MEMBER]->(x) WHERE NOT x:Branch | {ref("x", kind="x.kind", role="m.role")}],
  projects: [(a)-[:HAS_PROJECT|LEADS]->(p:Project) | {_project("p")}],
  people: [(a)<-[r:HOLDS_POST]-(h) | {ref("h", role="r.role", status="r.status")}]
}} AS tree
"""


def _sorted_projects(items: list[dict[str, Any]]) -> list[ProjectNode]:
    unique = {p["id"]: p for p in items}
    return [
        ProjectNode(**{**p, "enterprises": sorted(p["enterprises"], key=lambda e: e["id"])})
        for _, p in sorted(unique.items())
    ]


def _alliance_shape(p: AllianceParams, rows: Rows) -> AllianceTree:
    if not rows["tree"]:
        raise NotFound(f"no alliance with id {p.id!r}")
    t = rows["tree"][0]["tree"]
    branches = [
        BranchNode(
            **{k: b[k] for k in ("id", "name", "label", "kind", "role")},
            based_in=refs(b["based_in"]),
            villages=[
                VillageNode(
                    id=v["id"], name=v["name"], label=v["label"], projects=_sorted_projects(v["projects"])
                )
                for v in sorted(b["villages"], key=lambda v: v["id"])
            ],
            projects=_sorted_projects(b["projects"]),
        )
        for b in sorted(t["branches"], key=lambda b: b["id"])
    ]
    return AllianceTree(
        id=t["id"],
        name=t["name"],
        label="Alliance",
        kind=t.get("kind"),
        villages=refs(t["villages"]),
        branches=branches,
        members=sorted((Member(**m) for m in t["members"]), key=lambda m: m.id),
        projects=_sorted_projects(t["projects"]),
        people=sorted((Post(**h) for h in t["people"]), key=lambda h: (h.id, h.role or "")),
    )


register(
    Entry(
        name="alliance-tree",
        summary_zh="党建联盟的树:支部、支部所在村、村的项目、项目背后的企业与合作社",
        summary_en="An alliance as a tree: branches, their villages, those villages' projects, enterprises",
        params=AllianceParams,
        result=AllianceTree,
        cypher=fixed(tree=ALLIANCE_TREE),
        shape=_alliance_shape,
    )
)

# -- village-profile --------------------------------------------------------------------------


class VillageParams(Params):
    id: str = Field(min_length=3, max_length=200, description="the village's id")


class PersonTie(Ref):
    tie: str
    role: str | None = None
    level: str | None = None
    via: Ref | None = Field(None, description="the branch or alliance the post is in, for HOLDS_POST")


class QuantityOut(BaseModel):
    id: str
    of: Ref = Field(description="what it measures: the village, or an alliance it belongs to")
    measure: str
    value: float | None = Field(None, description="absent for a range")
    min: float | None = Field(None, description="a range's lower end")
    max: float | None = Field(None, description="a range's upper end")
    unit: str
    year: int | None = None
    year_stated: bool | None = Field(None, description="false: the article gives no year; `year` is its own")
    qualifier: str = Field(description="exact, over, about, under or range")


class VillageProfile(Ref):
    properties: dict[str, Any]
    regions: list[Ref] = Field(description="township, county, city, province, nearest first")
    alliances: list[Ref]
    branches: list[Ref]
    projects: list[Ref]
    enterprises: list[Ref]
    people: list[PersonTie]
    industries: list[Ref]
    practices: list[Ref]
    quantities: list[QuantityOut] = Field(
        description="figures of the village and of its alliances, by measure, then year (a figure over time)"
    )
    sources: list[SourceQuote]


def _posts_via(path: str, via: str, types: str = "HOLDS_POST") -> str:
    """People and groups holding a post in (or dispatched to, supporting, advising: `types`) what
    `path` reaches from the village (its branches, alliances)."""
    person = ref("h", tie="type(t)", role="t.role", level="t.level", via=ref(via))
    return f"[{path} | [({via})<-[t:{types}]-(h) WHERE h:Person OR h:Group | {person}]]"


def _quantity(var: str, of: str) -> str:
    return (
        f"{var} {{.id, .measure, .value, .min, .max, .unit, .year, .year_stated, .qualifier, of: {ref(of)}}}"
    )


def quantity_order(q: QuantityOut) -> tuple[str, int, str]:
    """A figure over time: by measure, then year, then id."""
    return (q.measure, q.year or 0, q.id)


_PERSON_TIE = ref("h", tie="type(t)", role="t.role", level="t.level")
# Posts in, dispatches to, support and advice of the village's alliances; their member
# enterprises (who serves the village through the alliance); their figures.
_ALLIANCE_PEOPLE = " + ".join(
    _posts_via(f"(v){back}(b:Alliance)", "b", f"HOLDS_POST|{DIRECT_TIES}")
    for _, back in ALLIANCE_VILLAGE_PATHS
)
_ALLIANCE_ENTERPRISES = " + ".join(
    f"[(v){back}(a:Alliance) | [(a)-[:HAS_MEMBER]->(e:Enterprise) | {ref('e')}]]"
    for _, back in ALLIANCE_VILLAGE_PATHS
)
_ALLIANCE_QUANTITIES = " + ".join(
    f"[(v){back}(a:Alliance) | [(a)-[:HAS_QUANTITY]->(q:Quantity) | {_quantity('q', 'a')}]]"
    for _, back in ALLIANCE_VILLAGE_PATHS
)
_REGION_ORDER = {"Village": 0, "Township": 1, "County": 2, "City": 3, "Province": 4}
# Every pattern starts at the village: the local server expands a pattern comprehension from
# its first node, and `[(b:Branch)-[:BASED_IN]->(v) | ...]` and its like (people, enterprises,
# sources) scanned every branch, person ... of the graph: 1.6 s of a 1.6 s profile at scale 0.1.
VILLAGE_PROFILE = f"""
MATCH (v:Village {{id: $id}})
OPTIONAL MATCH (v)-[:{IN_REGIONS}]->(r)
WITH v, collect(DISTINCT {ref("r")}) AS regions
RETURN v {{.*}} AS props, regions,
  {_alliances_of("v")} AS alliances,
  [(v)<-[:BASED_IN]-(b:Branch) | {ref("b")}] AS branches,
  [(v)-[:HAS_PROJECT]->(p:Project) | {ref("p")}]
    + [(v)<-[:BASED_IN]-(b:Branch) | [(b)-[:LEADS]->(p:Project) | {ref("p")}]] AS project_lists,
  [(v)-[:HAS_PROJECT]->(:Project)-[:INVOLVES]->(e:Enterprise) | {ref("e")}]
    + [(v)-[:HAS_PROJECT]->(:Project)<-[:LEADS|FOUNDED]-(e:Enterprise) | {ref("e")}]
    + [(v)<-[:LOCATED_IN|SUPPORTS|HAS_MEMBER]-(e:Enterprise) | {ref("e")}]
    + [(v)<-[:BASED_IN]-(b:Branch) | [(b)-[:LEADS]->(:Project)-[:INVOLVES]->(e:Enterprise) | {ref("e")}]]
    + {_ALLIANCE_ENTERPRISES} AS enterprise_lists,
  [(v)<-[t]-(h) WHERE h:Person OR h:Group | {_PERSON_TIE}] AS people,
  {_posts_via("(v)<-[:BASED_IN]-(b:Branch)", "b")} AS branch_people,
  {_ALLIANCE_PEOPLE} AS alliance_people,
  [(v)-[:IN_INDUSTRY]->(i:Industry) | {ref("i")}] AS industries,
  [(v)-[:USES_PRACTICE]->(x:Practice) | {ref("x")}] AS practices,
  [(v)-[:HAS_QUANTITY]->(q:Quantity) | {_quantity("q", "v")}]
    + {_ALLIANCE_QUANTITIES} AS quantity_lists,
  [(v)<-[m:MENTIONS]-(s:Source) | {source_ref("s", quote="m.evidence")}]
    AS sources
"""


def _flatten(items: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, list):
            out.extend(_flatten(item))
        elif item:
            out.append(item)
    return out


def _village_shape(p: VillageParams, rows: Rows) -> VillageProfile:
    if not rows["village"]:
        raise NotFound(f"no village with id {p.id!r}")
    r = rows["village"][0]
    props = r["props"]
    people = [*r["people"], *_flatten(r["branch_people"]), *_flatten(r["alliance_people"])]
    return VillageProfile(
        id=p.id,
        label="Village",
        name=props["name"],
        properties={k: v for k, v in props.items() if k not in HIDDEN_PROPS},
        regions=sorted(refs(r["regions"]), key=lambda x: _REGION_ORDER.get(x.label, 9)),
        alliances=refs(r["alliances"]),
        branches=refs(r["branches"]),
        projects=refs(_flatten(r["project_lists"])),
        enterprises=refs(_flatten(r["enterprise_lists"])),
        people=sorted(
            {(x["id"], x["tie"], x.get("role")): PersonTie(**x) for x in people}.values(),
            key=lambda x: (x.id, x.tie, x.role or ""),
        ),
        industries=refs(r["industries"]),
        practices=refs(r["practices"]),
        quantities=sorted(
            {q["id"]: QuantityOut(**q) for q in _flatten(r["quantity_lists"])}.values(), key=quantity_order
        ),
        sources=sorted((SourceQuote(**s) for s in r["sources"]), key=lambda s: s.id),
    )


register(
    Entry(
        name="village-profile",
        summary_zh="村庄档案:所属行政区、联盟、支部、项目、企业、人员、数量指标与出处",
        summary_en="A village: regions, alliances, branches, projects, enterprises, people, numbers, sources",
        params=VillageParams,
        result=VillageProfile,
        cypher=fixed(village=VILLAGE_PROFILE),
        shape=_village_shape,
    )
)

# -- enterprise-reach -------------------------------------------------------------------------


class EnterpriseParams(Paged):
    id: str | None = Field(None, max_length=200, description="only this enterprise or cooperative")
    kind: str | None = Field(
        None, max_length=50, description="company, cooperative, cooperative-union, collective, other"
    )


class EnterpriseReach(BaseModel):
    enterprise: Kinded
    projects: list[Ref]
    villages: list[Ref]
    alliances: list[Ref]


# The enterprises asked for. An id is matched through the Enterprise.id index; `$id IS NULL OR
# e.id = $id` read all 1,086,506 enterprises of the national graph whatever the id.
ENTERPRISE_BY_ID = """
MATCH (e:Enterprise {id: $id})
WHERE $kind IS NULL OR e.kind = $kind
"""
# Only a kind's total walks the label (with no filter the total is the label's count, below).
ENTERPRISE_OF_KIND = """
MATCH (e:Enterprise)
WHERE e.kind = $kind
"""
# A page of all enterprises without sorting them all: the local server sorts every enterprise for
# `ORDER BY e.id SKIP LIMIT` (4-10 s nationally), even when it reads them through the id index.
# Any `$first` (offset + limit) enterprises give an upper bound: at least `$first` ids are at or
# below the largest of them, so the enterprises up to it hold the first `$first` in id order. The
# LIMIT has no ORDER BY on purpose: whichever enterprises a server returns, the bound's page and
# `found` (the smaller of `$first` and the matches) are the same, so both servers answer alike;
# only the cost depends on which (index order, as both read here, gives the tightest bound). The
# bound goes in as a parameter in a second statement: a bound from a variable is not an index
# range on the local server (it read every enterprise again).
ENTERPRISE_UPTO_BOUND = """
MATCH (e:Enterprise)
WHERE e.id >= '' AND ($kind IS NULL OR e.kind = $kind)
WITH e.id AS id LIMIT $first
RETURN max(id) AS upto, count(id) AS found
"""
ENTERPRISE_UPTO = """
MATCH (e:Enterprise)
WHERE e.id <= $upto AND ($kind IS NULL OR e.kind = $kind)
"""
# With no filter the total is the label's count, which the local server keeps (0.5-4 ms against
# 1.4-1.6 s for the filtered count, which reads every enterprise): the count must be the
# statement's one column (docs/servers.md).
ENTERPRISE_COUNT = "MATCH (e:Enterprise) RETURN count(e) AS total"
# What an enterprise or cooperative serves: the projects it is involved in, leads or founded, and
# the villages holding them or whose branch leads them; the villages it is located in, supports or
# has as members (a union's villages); and the villages of the alliances it is a member of.
ENTERPRISE_REACH = f"""
WITH e ORDER BY e.id SKIP $offset LIMIT $limit
WITH e, [(e)<-[:INVOLVES]-(p:Project) | p] + [(e)-[:LEADS|FOUNDED]->(p:Project) | p] AS ps
WITH e, ps,
  reduce(vs = [], p IN ps | vs + [(p)<-[:HAS_PROJECT]-(v:Village) | v]
    + [(p)<-[:LEADS]-(:Branch)-[:BASED_IN]->(v:Village) | v])
  + [(e)-[:LOCATED_IN|SUPPORTS|HAS_MEMBER]->(v:Village) | v]
  + reduce(vs = [], a IN [(e)<-[:HAS_MEMBER]-(a:Alliance) | a] | vs + {alliance_villages("a")}) AS vs
RETURN {ref("e", kind="e.kind")} AS enterprise,
  [p IN ps | {ref("p")}] AS projects,
  [v IN vs | {ref("v")}] AS villages,
  [p IN ps | [(p)<-[:HAS_PROJECT|LEADS]-(a:Alliance) | {ref("a")}]]
    + [v IN vs | {_alliances_of("v")}]
    + [(e)<-[:HAS_MEMBER]-(a:Alliance) | {ref("a")}]
    + [(e)<-[:BASED_IN]-(:Branch)<-[:HAS_MEMBER]-(a:Alliance) | {ref("a")}]
    + [(e)-[:SUPPORTS]->(a:Alliance) | {ref("a")}] AS alliances
"""


def _enterprise_statements(p: EnterpriseParams) -> dict[str, str]:
    """The page (or, with no id, its bound first) and its total, each starting from the index or
    count that serves the filters given."""
    if p.id is not None:
        return {
            "rows": ENTERPRISE_BY_ID + ENTERPRISE_REACH,
            "total": ENTERPRISE_BY_ID + "RETURN count(e) AS total",
        }
    total = ENTERPRISE_COUNT if p.kind is None else ENTERPRISE_OF_KIND + "RETURN count(e) AS total"
    return {"upto": ENTERPRISE_UPTO_BOUND, "total": total}


def _enterprise_page(p: EnterpriseParams, rows: Rows) -> FollowUp:
    """The page up to the bound the first statement found, once; none when `offset` or fewer
    enterprises match (a page past the end would otherwise sort them all)."""
    if "rows" in rows or rows["upto"][0]["found"] <= p.offset:
        return {}, {}
    return {"rows": ENTERPRISE_UPTO + ENTERPRISE_REACH}, {"upto": rows["upto"][0]["upto"]}


register(
    Entry(
        name="enterprise-reach",
        summary_zh="企业与合作社所触及的项目、村庄和党建联盟",
        summary_en="Enterprises and cooperatives with the projects, villages and alliances they touch",
        params=EnterpriseParams,
        result=Page[EnterpriseReach],
        cypher=_enterprise_statements,
        bind=lambda p: p.model_dump(mode="json") | {"first": p.offset + p.limit},
        then=_enterprise_page,
        shape=lambda p, rows: page(
            p,
            rows["total"],
            [
                EnterpriseReach(
                    enterprise=Kinded(**r["enterprise"]),
                    projects=refs(r["projects"]),
                    villages=refs(r["villages"]),
                    alliances=refs(_flatten(r["alliances"])),
                )
                for r in rows.get("rows", [])
            ],
        ),
    )
)

# -- multi-village-people ---------------------------------------------------------------------


class MultiVillageParams(Paged):
    min_villages: int = Field(2, ge=2, le=1000, description="people tied to at least this many villages")


class MultiVillagePerson(BaseModel):
    person: Ref = Field(description="the person or group: `label` is Person or Group")
    villages: list[PersonTie]


def _through_alliances(types: str) -> str:
    """Ties of `h` to the villages of the alliances it has a `types` relationship with (one rule)."""
    tie = ref("x", tie="type(t)", role="t.role", level="t.level", via=ref("a"))
    return (
        f"reduce(acc = [], l IN [(h)-[t:{types}]->(a:Alliance) | [x IN {alliance_villages('a')} | {tie}]]"
        " | acc + l)"
    )


# Direct ties (dispatched to, supports, advises, holds a post in a village), posts in a branch
# (its villages), and posts in, dispatches to, support or advice of an alliance (its villages).
MULTI_VILLAGE_TIES = f"""
  [(h)-[t]->(v:Village) | {ref("v", tie="type(t)", role="t.role", level="t.level")}]
  + [(h)-[t:HOLDS_POST]->(b:Branch)-[:BASED_IN]->(v:Village)
      | {ref("v", tie="type(t)", role="t.role", via=ref("b"))}]
  + {_through_alliances(f"HOLDS_POST|{DIRECT_TIES}")}"""
# The ranking and the total are the kept counts (counting them here was a walk of all 696,300
# people at scale 1, 9-10 s); only the page's people are read, for their ties.
MULTI_VILLAGE = (
    _KEPT_PAGE.format(var="h")
    + f"""RETURN h.id AS id, {ref("h")} AS person, {MULTI_VILLAGE_TIES.strip()} AS ties
"""
)


def _multi_village_shape(p: MultiVillageParams, rows: Rows) -> Page[MultiVillagePerson]:
    items = []
    rank = {r["id"]: i for i, r in enumerate(rows.get("ranked", []))}
    for r in sorted(rows.get("rows", []), key=lambda r: rank[r["id"]]):
        ties = {
            (t["id"], t["tie"], t.get("role"), (t.get("via") or {}).get("id")): PersonTie(**t)
            for t in r["ties"]
        }
        items.append(
            MultiVillagePerson(
                person=Ref(**r["person"]),
                villages=sorted(ties.values(), key=lambda t: (t.id, t.tie, t.via.id if t.via else "")),
            )
        )
    return page(p, _kept_total(rows), items)


register(
    Entry(
        name="multi-village-people",
        summary_zh="与两个及以上村庄有联系的人员或人员群体(派驻、帮扶、指导或在联盟/支部任职)",
        summary_en="People and groups tied to more than one village: dispatched, supporting, advising or "
        "holding a post",
        params=MultiVillageParams,
        result=Page[MultiVillagePerson],
        cypher=fixed(counts=_kept_counts(MULTI)),
        bind=lambda p: _kept_bind(p, p.min_villages),
        then=_kept_then(MULTI, MULTI_VILLAGE),
        shape=_multi_village_shape,
    )
)

# -- industry-clusters ------------------------------------------------------------------------


class IndustryParams(Paged):
    industry: str | None = Field(None, max_length=200, description="only this industry (its id)")
    min_villages: int = Field(2, ge=2, le=1000, description="clusters of at least this many villages")


class ClusterVillage(Ref):
    via: str = Field(description="direct, or project: through a project of the village in that industry")
    province: Ref | None = None
    alliances: list[Ref]


# A cluster lists its first CLUSTER_LIST_BOUND villages by id, with the counts of all beside them:
# nationally the largest industry has 170,045 villages. The counts and the first villages' ids are
# the ones the loaders keep per industry (loaders/industry_tally.py), so a page reads one node per
# industry and one per village listed.


class IndustryCluster(BaseModel):
    industry: Ref
    villages: list[ClusterVillage] = Field(
        description="the villages in the industry, directly or through a project, "
        f"the first {CLUSTER_LIST_BOUND} by id"
    )
    villages_total: int = Field(description="how many villages are in the industry")
    provinces: int = Field(description="the distinct provinces all its villages lie in")
    alliances: int = Field(description="the distinct alliances all its villages belong to")


INDUSTRY_BODY = """
MATCH (t:IndustryTally)
WHERE t.villages >= $min_villages AND ($industry IS NULL OR t.id = $industry)
"""
# A listed village: `via` tests for an edge to the industry's node itself, bound above, since
# reading an industry's id loads the node, which lists every source that mentions it (~2,850
# nationally): a page took 1.0-1.6 s so, 0.15 s this way (docs/benchmarks/national-clusters.md).
_CLUSTER_VILLAGE = ref(
    "v",
    via="CASE WHEN EXISTS { (v)-[:IN_INDUSTRY]->(i) } THEN 'direct' ELSE 'project' END",
    province=_province_of("v"),
    alliances=_alliances_of("v"),
)
INDUSTRY_CLUSTERS = (
    INDUSTRY_BODY
    + f"""WITH t ORDER BY t.villages DESC, t.id SKIP $offset LIMIT $limit
MATCH (i:Entity {{id: t.id}})
RETURN {ref("i")} AS industry, t.villages AS villages_total, t.provinces AS provinces,
       t.alliances AS alliances,
       COLLECT {{ UNWIND t.first AS vid MATCH (v:Entity {{id: vid}}) RETURN {_CLUSTER_VILLAGE} AS village }}
         AS villages"""
)


def _clusters_shape(p: IndustryParams, rows: Rows) -> Page[IndustryCluster]:
    clusters = [
        IndustryCluster(
            industry=Ref(**r["industry"]),
            villages=[
                ClusterVillage(
                    **{k: v[k] for k in ("id", "name", "label", "via")},
                    province=Ref(**v["province"]) if v.get("province") else None,
                    alliances=refs(v["alliances"]),
                )
                for v in sorted(r["villages"], key=lambda v: v["id"])
            ],
            villages_total=r["villages_total"],
            provinces=r["provinces"],
            alliances=r["alliances"],
        )
        for r in rows["clusters"]
    ]
    clusters.sort(key=lambda c: (-c.villages_total, c.industry.id))  # the page's order, as it was read
    return page(p, rows["total"], clusters)


register(
    Entry(
        name="industry-clusters",
        summary_zh="同一产业的村庄群,跨联盟、跨省份",
        summary_en="Villages that share an industry, across alliances and provinces",
        params=IndustryParams,
        result=Page[IndustryCluster],
        cypher=fixed(clusters=INDUSTRY_CLUSTERS, total=INDUSTRY_BODY + "RETURN count(t) AS total"),
        shape=_clusters_shape,
    )
)

# -- practices --------------------------------------------------------------------------------


class PracticeParams(Paged):
    id: str | None = Field(None, max_length=200, description="only this practice")
    kind: str | None = Field(None, max_length=50, description="mechanism, model, campaign or policy")
    concepts: bool = Field(
        False, description="only the shared practice concepts (docs/shared-vocabulary.md), each with its uses"
    )


# Each list a practice carries is its first PRACTICE_LIST_BOUND by id, with the count of all beside
# it: nationally one practice has 119,865 users (every alliance), and one page of them all was
# more than RURALKG_MAX_ANSWER_BYTES. A page of 500 practices with every list full stays near 3 MB.
PRACTICE_LIST_BOUND = 10
_FIRST = f"the first {PRACTICE_LIST_BOUND} by id"


class PracticeUse(BaseModel):
    practice: Kinded
    description: str | None = None
    users: list[Ref] = Field(description=_FIRST)
    users_total: int
    founders: list[Ref] = Field(description=_FIRST)
    founders_total: int
    concepts: list[Ref] = Field(
        description=f"the shared concepts it is an instance of (INSTANCE_OF), {_FIRST}"
    )
    concepts_total: int
    instances: list[Ref] = Field(description=f"the local practices that are instances of it, {_FIRST}")
    instances_total: int
    part_of: list[Ref] = Field(description=f"the umbrella practices it is part of, {_FIRST}")
    part_of_total: int
    parts: list[Ref] = Field(description=f"its parts, {_FIRST}")
    parts_total: int
    counties: list[Ref] = Field(
        description=(
            "counties where it or an instance of it is used or founded (the user, or where it lies), "
            + _FIRST
        )
    )
    counties_total: int
    alliances: list[Ref] = Field(description=f"alliances that use it or an instance of it, {_FIRST}")
    alliances_total: int
    sources: list[str]


PRACTICE_BODY = """
MATCH (x:Practice)
WHERE ($id IS NULL OR x.id = $id) AND ($kind IS NULL OR x.kind = $kind)
  AND (NOT $concepts OR NOT x.id CONTAINS '.')
"""
# Who uses a practice: its users and founders, and those of its instances (for a concept).
_ADOPTERS = (
    "[(x)<-[:USES_PRACTICE|FOUNDED]-(u) | u]"
    " + [(x)<-[:INSTANCE_OF]-(:Practice)<-[:USES_PRACTICE|FOUNDED]-(u) | u]"
)
# Each list as a subquery that returns its distinct refs in id order, bounded, and one that
# counts them all (name: the match, binding `n`, from the practice `x` or the adopters).
_PRACTICE_LISTS = {
    "users": "MATCH (x)<-[:USES_PRACTICE]-(n)",
    "founders": "MATCH (x)<-[:FOUNDED]-(n)",
    "concepts": "MATCH (x)-[:INSTANCE_OF]->(n)",
    "instances": "MATCH (x)<-[:INSTANCE_OF]-(n)",
    "part_of": "MATCH (x)-[:PART_OF]->(n:Practice)",
    "parts": "MATCH (x)<-[:PART_OF]-(n:Practice)",
    # *0..: an adopter that is a county counts as itself.
    "counties": f"UNWIND adopters AS u MATCH (u)-[:LOCATED_IN*0..{REGION_HOPS}]->(n:County)",
    "alliances": "UNWIND adopters AS n WITH n WHERE n:Alliance",
}
PRACTICES = (
    PRACTICE_BODY
    + f"""
WITH x ORDER BY x.id SKIP $offset LIMIT $limit
WITH x, {_ADOPTERS} AS adopters
RETURN {ref("x", kind="x.kind")} AS practice, x.description AS description, x.sources AS sources"""
    + "".join(
        f""",
  COLLECT {{ {m} WITH DISTINCT n
    RETURN {ref("n")} AS n ORDER BY n.id LIMIT {PRACTICE_LIST_BOUND} }} AS {name},
  COUNT {{ {m} RETURN DISTINCT n }} AS {name}_total"""
        for name, m in _PRACTICE_LISTS.items()
    )
)

register(
    Entry(
        name="practices",
        summary_zh="有名称的工作机制与模式(如“1+5+10+N”、一周一例会)、所属概念、组成部分及其使用者和所在县",
        summary_en="Named mechanisms and models (e.g. 1+5+10+N), their concepts and parts, who uses them "
        "and where",
        params=PracticeParams,
        result=Page[PracticeUse],
        cypher=fixed(rows=PRACTICES, total=PRACTICE_BODY + "RETURN count(x) AS total"),
        shape=lambda p, rows: page(
            p,
            rows["total"],
            [
                PracticeUse(
                    practice=Kinded(**r["practice"]),
                    description=r["description"],
                    sources=sorted(r["sources"] or []),
                    **{name: refs(r[name]) for name in _PRACTICE_LISTS},
                    **{f"{name}_total": r[f"{name}_total"] for name in _PRACTICE_LISTS},
                )
                for r in rows["rows"]
            ],
        ),
    )
)

# -- figures ----------------------------------------------------------------------------------


class FigureParams(Paged):
    measure: str | None = Field(
        None, max_length=100, description="only measures containing this text (集体经济, 收入 ...)"
    )
    of: str | None = Field(None, max_length=200, description="only figures of this entity (its id)")
    year_from: int | None = Field(None, ge=1949, le=2100, description="only figures for this year or later")
    year_to: int | None = Field(None, ge=1949, le=2100, description="only figures for this year or earlier")


class Figure(QuantityOut):
    county: Ref | None = Field(None, description="the county of what it measures")
    sources: list[str]


# Written from the quantity: the local server expands a pattern from its first node, and
# `(s:Entity)-[:HAS_QUANTITY]->(q)` read every entity (3.99 M at scale 1, 3.6-4.3 s per call) to
# find the quantities, which only case files write (none in the synthetic overlay).
FIGURE_BODY = """
MATCH (q:Quantity)<-[:HAS_QUANTITY]-(s:Entity)
WHERE ($measure IS NULL OR q.measure CONTAINS $measure) AND ($of IS NULL OR s.id = $of)
  AND ($year_from IS NULL OR q.year >= $year_from) AND ($year_to IS NULL OR q.year <= $year_to)
"""
FIGURES = (
    FIGURE_BODY
    + f"""
WITH s, q ORDER BY q.year, q.id SKIP $offset LIMIT $limit
RETURN {_quantity("q", "s")} AS figure, q.sources AS sources,
  CASE WHEN s:County THEN {ref("s")}
       ELSE [(s)-[:{IN_REGIONS}]->(c:County) | {ref("c")}][0] END AS county
"""
)

register(
    Entry(
        name="figures",
        summary_zh="数量指标及其年份(如集体经济收入),可按指标、对象和年份筛选,按年份排列",
        summary_en="Figures with their year (e.g. collective income), by measure, subject and year: "
        "a figure over time",
        params=FigureParams,
        result=Page[Figure],
        cypher=fixed(rows=FIGURES, total=FIGURE_BODY + "RETURN count(q) AS total"),
        shape=lambda p, rows: page(
            p,
            rows["total"],
            [
                Figure(**r["figure"], county=r["county"], sources=sorted(r["sources"] or []))
                for r in rows["rows"]
            ],
        ),
    )
)

# -- overview ---------------------------------------------------------------------------------


class OverviewParams(Params):
    pass


class RegionCount(Ref):
    villages: int
    entities: int


class Overview(BaseModel):
    labels: dict[str, int]
    relationships: dict[str, int]
    provinces: list[RegionCount]
    source_kinds: dict[str, int] = Field(
        description="how many sources of each kind (article, reference, synthetic, fixture); the sources "
        "themselves: the `sources` entry"
    )


# The overview is bounded by the model, not by the data: labels, relationship types, provinces
# and source kinds. Each county (2,975 nationally) and each source (one per county at scale 1)
# made it a 6,000-row answer over a second at national size; a county's figures are in
# region-coverage of the division above it, the sources are paged by `sources`.
#
# One count per label: both servers answer `MATCH (n:Label) RETURN count(n)` from what they
# keep per label (Neo4j's count store; the local server's type count), where grouping every
# node by its label reads them all (3.4 s for 150,000 nodes on the local server). Each in a
# subquery of its own: the local server counts `(n:Village)` in 1.4 ms as the whole statement's
# one column, and reads every village (490 ms nationally) when the label's name is returned
# beside the count. Every node carries Entity and one label of graph.model (a label with no
# node counts 0 and is left out).
OVERVIEW_LABELS = "\nUNION ALL\n".join(
    f"CALL {{ MATCH (n:{label}) RETURN count(n) AS n }} RETURN '{label}' AS key, n AS count"
    for label in LABELS
)
# Relationships per type are kept by the loaders (loaders.tally): the local server counts
# `()-[r:TYPE]->()` by reading every node (about 1 s a type nationally) and grouping every
# relationship by its type took 3.4 s there.
OVERVIEW_TYPES = "MATCH (t:TypeTally) RETURN t.id AS key, t.count AS count"
# Each province's villages and entities (the distinct entities with a LOCATED_IN*1..6 path to
# it) are kept on its tally (loaders.tally), written with the facts: counting them here grouped
# every entity under every region (9.7-45 s nationally).
OVERVIEW_PROVINCES = """
MATCH (r:Province)
OPTIONAL MATCH (t:Tally {id: r.id})
RETURN r {.id, .name, label: 'Province',
  villages: coalesce(t.villages, 0), entities: coalesce(t.entities, 0)} AS region
ORDER BY region.id
"""
OVERVIEW_SOURCE_KINDS = "MATCH (s:Source) RETURN s.kind AS key, count(s) AS count"


def _counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        if r["count"]:
            counts[r["key"]] += r["count"]
    return dict(sorted(counts.items()))


register(
    Entry(
        name="overview",
        summary_zh="图谱概览:各标签与关系类型的数量、各省各县的村庄数、资料来源",
        summary_en="Counts by label and relationship type, by province and county, and the sources",
        params=OverviewParams,
        result=Overview,
        cypher=fixed(
            labels=OVERVIEW_LABELS,
            types=OVERVIEW_TYPES,
            provinces=OVERVIEW_PROVINCES,
            source_kinds=OVERVIEW_SOURCE_KINDS,
        ),
        shape=lambda p, rows: Overview(
            labels=_counts(rows["labels"]),
            relationships=_counts(rows["types"]),
            provinces=[RegionCount(**r["region"]) for r in rows["provinces"]],
            source_kinds=_counts(rows["source_kinds"]),
        ),
    )
)

# -- sources ----------------------------------------------------------------------------------


class SourcesParams(Paged):
    kind: SourceKind | None = Field(None, description="only sources of this kind")


class SourceSummary(SourceRef):
    kind: str
    entities: int = Field(description="the entities it mentions")


SOURCE_BODY = """
MATCH (s:Source)
WHERE $kind IS NULL OR s.kind = $kind
"""
# The mentions are counted for the page's sources only: nationally every county has a source of
# its own, and counting them all is counting every entity.
SOURCES = (
    SOURCE_BODY
    + f"""
WITH s ORDER BY s.id SKIP $offset LIMIT $limit
RETURN {source_ref("s", kind="s.kind", entities="COUNT { (s)-[:MENTIONS]->() }")} AS source
"""
)

register(
    Entry(
        name="sources",
        summary_zh="资料来源(文章、参考资料等)及各自提及的实体数,可按类别筛选,按编号排列",
        summary_en="The sources (articles, reference data ...) with the entities each mentions, by kind",
        params=SourcesParams,
        result=Page[SourceSummary],
        cypher=fixed(rows=SOURCES, total=SOURCE_BODY + "RETURN count(s) AS total"),
        shape=lambda p, rows: page(p, rows["total"], [SourceSummary(**r["source"]) for r in rows["rows"]]),
    )
)
