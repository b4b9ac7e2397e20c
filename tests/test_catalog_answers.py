"""Every catalog entry, through the live HTTP API, against exact answers derived from data/
and the fixture cases (tests/fixtures/cases/).

The expectations come from tests/expected.py, which reads the YAML with plain yaml.safe_load
and restates each entry's definition in Python; nothing here is computed from the queries' own
output. Each answer is compared whole: ids, nesting, counts and totals, and order wherever the
entry defines one. The fixtures are made up so that the plausible wrong answers differ from
the right one (tests/test_fixtures.py counts the cases whose answer is empty).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, get_args

import httpx
import pytest
from neo4j import Driver

from graph.connection import session
from graph.model import DispatchRole
from graph.settings import Settings
from graph.text import fold
from queries import analysis, explore, run
from queries.catalog import exported, get_entry
from tests import expected as x

G = x.with_fixtures()
ENTRIES = {
    "shared-experts", "alliance-tree", "village-profile", "neighborhood", "path", "enterprise-reach",
    "multi-village-people", "industry-clusters", "practices", "overview", "search", "entity",
    "dispatches", "figures", "sources",
    "region", "region-coverage",  # answered over the official divisions: tests/test_regions.py
    "coverage-map",
}  # fmt: skip

QINXI = "village:fujian.zhouning.lidun.qinxi"
JITOU = "village:fujian.zhouning.lidun.jitou"
SHOUZHANG = "village:fujian.zhouning.makeng.shouzhang"
HANYAN = "village:zhejiang.tiantai.longxi.hanyan"
HANSHAN_ALLIANCE = "alliance:zhejiang.tiantai.longxi.hanshan"
ZHOUNING = "county:fujian.zhouning"
CHEN_JIANFU = "person:fujian.zhouning.chen-jianfu"
ZHU_JUNPING = "person:fujian.zhouning.zhu-junping"
LIU_QIAN = "person:fujian.zhouning.liu-qian"
CHI_LIBO = "person:shanxi.fenyang.chi-libo"
TOURISM_COMPANY = "enterprise:fujian.zhouning.lidun.louping.tourism-company"
YUNSHE = "village:guizhou.jiangkou.yunshe"
ZHOUNING_SOURCE = "source:2022-08-15.zhouning"

VILLAGES = G.ids("Village")
ALLIANCES = G.ids("Alliance")
PROVINCES = G.ids("Province")
ENTERPRISES = G.ids("Enterprise")
INDUSTRIES = G.ids("Industry")
PRACTICES = G.ids("Practice")
DISPATCH_ROLES = get_args(DispatchRole)
FIXTURE_SOURCES = {s for s in G.ids("Source") if G.nodes[s].attributes["kind"] == "fixture"}


def made_up(label: str) -> list[str]:
    """The ids of this label that a fixture case names."""
    return [i for i in G.ids(label) if FIXTURE_SOURCES & set(G.nodes[i].sources)]


# The fixtures' cast (tests/fixtures/cases/songling-bochuan.yaml).
TAOYUAN = "village:dongshi.songling.qingmu.taoyuan"
MEILING = "village:dongshi.songling.qingmu.meiling"
FENGQIAO = "village:xishi.bochuan.hongxi.fengqiao"
ZHANG_YI = "person:dongshi.songling.zhang-yi"
HEXI = "alliance:xishi.bochuan.hongxi.hexi"


@pytest.fixture(scope="module")
def client(fixture_graph: Driver, api_url: str) -> Iterator[httpx.Client]:
    """The session's API over the curated data and the fixtures."""
    with httpx.Client(base_url=api_url, timeout=60) as c:
        yield c


def get(client: httpx.Client, path: str, params: Any = None) -> Any:
    resp = client.get(path, params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def query(client: httpx.Client, name: str, params: Any = None) -> Any:
    return get(client, f"/queries/{name}", params)


def test_the_catalog_holds_exactly_the_entries_tested_here(client: httpx.Client) -> None:
    assert {e["name"] for e in get(client, "/queries")} == ENTRIES


def test_the_expected_graph_is_the_loaded_graph(client: httpx.Client) -> None:
    """Guards every expectation below: the model of data/ counts what the graph holds."""
    body = query(client, "overview")
    assert body["labels"] == x.overview(G)["labels"]
    assert body["relationships"] == x.overview(G)["relationships"]
    assert sum(body["labels"].values()) == len(G.nodes)
    assert sum(body["relationships"].values()) == len(G.edges)


# -- shared-experts ---------------------------------------------------------------------------

SHARED_EXPERT_FILTERS: list[dict[str, Any]] = [
    {},
    *({"role": role} for role in DISPATCH_ROLES),
    # the fixtures' villages (each tied to a dispatched person but 杏坡, whose one is tied to it
    # alone) and three curated ones: 芹溪 with one person of its own, 首章 and 升阳 shared
    *({"village": v} for v in made_up("Village")),
    {"village": QINXI},
    {"village": SHOUZHANG},
    {"village": "village:fujian.zhouning.shengyang"},
    *({"province": p} for p in PROVINCES),
    {"role": "第一书记", "province": "province:fujian", "village": SHOUZHANG},
    {"role": "科技特派员", "village": "village:fujian.zhouning.shengyang"},
    {"role": "第一书记", "province": "province:zhejiang"},
    {"role": "科技特派员", "province": "province:dongshi"},
    {"role": "第一书记", "village": MEILING},
    {"village": TAOYUAN, "province": "province:dongshi"},
    {"limit": 1},
    {"limit": 1, "offset": 1},
    {"offset": 2},
    # pages that cut inside a run of people with as many villages (4, 3, then 2)
    {"limit": 2, "offset": 1},
    {"limit": 1, "offset": 3},
    {"limit": 2, "offset": 6},
    {"role": "科技特派员", "limit": 1, "offset": 1},
    # songling-groups.yaml: groups in the run of 4 (ahead of the people by id), and across runs
    {"limit": 3, "offset": 4},
    {"limit": 2, "offset": 9},
    {"offset": 100},  # past the end
    {"role": "人才", "province": "province:xishi"},
    {"role": "农技专家", "village": "village:dongshi.songling.qingmu.lizhuang"},
]


@pytest.mark.parametrize("params", SHARED_EXPERT_FILTERS, ids=str)
def test_shared_experts(client: httpx.Client, params: dict[str, Any]) -> None:
    assert query(client, "shared-experts", params) == x.shared_experts(G, **params)


def test_shared_experts_expectations_are_not_vacuous() -> None:
    everyone = x.shared_experts(G)
    assert everyone["total"] >= 2
    assert 0 < x.shared_experts(G, role="第一书记")["total"] < everyone["total"]
    assert x.shared_experts(G, village=QINXI)["total"] == 0, "陈建福 ties 芹溪村 alone"
    # issue 18: 天台's talent team is dispatched to 寒山片区's alliance, so serves its villages
    (team,) = x.shared_experts(G, province="province:zhejiang")["items"]
    assert team["person"]["label"] == "Group" and {v["via"]["id"] for v in team["villages"]} == {
        HANSHAN_ALLIANCE
    }


# -- alliance-tree ----------------------------------------------------------------------------


@pytest.mark.parametrize("alliance", ALLIANCES)
def test_alliance_tree(client: httpx.Client, alliance: str) -> None:
    assert query(client, "alliance-tree", {"id": alliance}) == x.alliance_tree(G, alliance)


def test_alliance_tree_reaches_enterprises_through_branch_villages(client: httpx.Client) -> None:
    tree = query(client, "alliance-tree", {"id": "alliance:fujian.zhouning.lidun.qinxi-jitou-louping"})
    chain = {
        (b["id"], v["id"], p["id"], e["id"])
        for b in tree["branches"]
        for v in b["villages"]
        for p in v["projects"]
        for e in p["enterprises"]
    }
    assert chain == {
        (
            "branch:fujian.zhouning.lidun.louping.party-branch",
            "village:fujian.zhouning.lidun.louping",
            "project:fujian.zhouning.lidun.louping.agri-tourism",
            TOURISM_COMPANY,
        )
    }


def test_alliance_tree_of_a_non_alliance_is_404(client: httpx.Client) -> None:
    assert client.get("/queries/alliance-tree", params={"id": QINXI}).status_code == 404


# -- village-profile --------------------------------------------------------------------------


@pytest.mark.parametrize("village", VILLAGES)
def test_village_profile(client: httpx.Client, village: str) -> None:
    assert query(client, "village-profile", {"id": village}) == x.village_profile(G, village)


def test_village_profile_of_a_non_village_is_404(client: httpx.Client) -> None:
    assert client.get("/queries/village-profile", params={"id": ZHOUNING}).status_code == 404


# -- neighborhood -----------------------------------------------------------------------------

NEIGHBORHOODS: list[tuple[str, dict[str, Any]]] = [
    (QINXI, {"depth": 1}),
    (QINXI, {"depth": 2}),
    (QINXI, {"depth": 3}),
    (QINXI, {"depth": 3, "limit": 1000}),
    (QINXI, {"depth": 2, "labels": ["Village", "Branch", "Alliance", "Project"]}),
    (QINXI, {"depth": 3, "labels": ["Village", "Branch", "Alliance"]}),
    (QINXI, {"depth": 2, "types": ["BASED_IN", "HAS_MEMBER", "HAS_PROJECT", "LEADS", "INVOLVES"]}),
    (QINXI, {"depth": 3, "types": ["LOCATED_IN"]}),
    (QINXI, {"depth": 2, "labels": ["Person", "Project"], "types": ["HAS_PROJECT", "LEADS"]}),
    (QINXI, {"depth": 1, "limit": 3}),
    (QINXI, {"depth": 2, "limit": 7}),
    (QINXI, {"depth": 3, "limit": 25}),
    (QINXI, {"depth": 3, "labels": ["Village", "Person", "Organization", "Project"], "limit": 4}),
    (HANSHAN_ALLIANCE, {"depth": 1}),
    (HANSHAN_ALLIANCE, {"depth": 2, "limit": 10}),
    (HANSHAN_ALLIANCE, {"depth": 2, "labels": ["Village", "Branch", "Township"]}),
    (ZHOUNING, {"depth": 1, "types": ["HAS_QUANTITY"]}),
    (ZHOUNING, {"depth": 1, "types": ["HAS_QUANTITY", "LOCATED_IN"], "limit": 5}),
    (CHI_LIBO, {"depth": 3, "types": ["HOLDS_POST", "HAS_MEMBER", "BASED_IN"]}),
    ("industry:tea", {"depth": 2, "labels": ["Village", "Enterprise", "Township"], "limit": 6}),
    (YUNSHE, {"depth": 2}),
    (YUNSHE, {"depth": 2, "through_shared": True}),
    (YUNSHE, {"depth": 3, "through_shared": True, "limit": 40}),
    ("industry:tea", {"depth": 2, "through_shared": True, "limit": 50}),
    (TAOYUAN, {"depth": 2, "limit": 12}),
    (ZHANG_YI, {"depth": 2, "types": ["DISPATCHED_TO", "SUPPORTS", "ADVISES", "LEADS", "HAS_PROJECT"]}),
    ("group:dongshi.songling.agri-tech-team", {"depth": 2, "limit": 8}),
]


def _neighborhood_of(center: str, params: dict[str, Any]) -> dict[str, Any]:
    """The expected answer for a case: the entry's defaults where the case leaves a parameter out."""
    return x.neighborhood(
        G,
        center,
        depth=params["depth"],
        labels=params.get("labels"),
        types=params.get("types"),
        limit=params.get("limit", 100),
        through_shared=params.get("through_shared", False),
    )


def _neighborhood_id(case: tuple[str, dict[str, Any]]) -> str:
    return f"{case[0]} {case[1]}"


@pytest.mark.parametrize("case", NEIGHBORHOODS, ids=_neighborhood_id)
def test_neighborhood(client: httpx.Client, case: tuple[str, dict[str, Any]]) -> None:
    center, params = case
    want = _neighborhood_of(center, params)
    query_string = {k: ",".join(v) if isinstance(v, list) else v for k, v in params.items()}
    got = get(client, f"/entities/{center}/neighborhood", query_string)
    assert got["center"] == want["center"]
    assert got["total_nodes"] == want["total_nodes"]
    assert got["truncated"] == want["truncated"]
    assert got["cut"] == want["cut"]
    assert got["nodes"] == want["nodes"], "kept: nearest first, then by id"
    assert got["edges"] == want["edges"]
    assert query(client, "neighborhood", {"id": center, **query_string}) == got


def test_neighborhood_cases_cover_truncation_and_filters() -> None:
    answers = [_neighborhood_of(c, p) for c, p in NEIGHBORHOODS]
    assert any(a["truncated"] for a in answers) and any(not a["truncated"] for a in answers)
    assert all(a["nodes"] for a in answers)
    assert any(len(a["cut"]["by_label"]) > 1 for a in answers)
    # 云舍 shares industries with villages it has no other tie to within two hops
    crossed = x.neighborhood(G, YUNSHE, depth=2, through_shared=True)
    assert crossed["total_nodes"] > x.neighborhood(G, YUNSHE, depth=2)["total_nodes"]


def test_neighborhood_over_mentions_reaches_every_declared_entity(client: httpx.Client) -> None:
    want = x.neighborhood(G, ZHOUNING_SOURCE, depth=1, types=["MENTIONS"], limit=1000)
    got = get(client, f"/entities/{ZHOUNING_SOURCE}/neighborhood", {"types": "MENTIONS", "limit": 1000})
    assert got["nodes"] == want["nodes"]
    assert got["total_nodes"] == len(G.out(ZHOUNING_SOURCE, "MENTIONS")) and not got["truncated"]
    keys = [(e["type"], e["start"], e["end"]) for e in got["edges"]]
    assert keys == [(e["type"], e["start"], e["end"]) for e in want["edges"]]


def test_neighborhood_over_mentions_keeps_each_quote(client: httpx.Client) -> None:
    got = get(client, f"/entities/{ZHOUNING_SOURCE}/neighborhood", {"types": "MENTIONS", "limit": 1000})
    want = x.neighborhood(G, ZHOUNING_SOURCE, depth=1, types=["MENTIONS"], limit=1000)
    assert [e["evidence"] for e in got["edges"]] == [e["evidence"] for e in want["edges"]]


# -- path -------------------------------------------------------------------------------------

PATHS: list[tuple[str, str, dict[str, Any]]] = [
    (QINXI, JITOU, {}),
    (QINXI, SHOUZHANG, {}),
    (CHEN_JIANFU, TOURISM_COMPANY, {}),
    (ZHU_JUNPING, LIU_QIAN, {}),
    (HANYAN, "enterprise:zhejiang.tiantai.huading-guoji-lvxingshe", {}),
    (QINXI, "province:fujian", {"types": ["LOCATED_IN"]}),
    (CHI_LIBO, "village:shanxi.fenyang.yudaohe.guchi", {}),
    (QINXI, "village:shanxi.fenyang.yudaohe.guchi", {"max_depth": 6}),
    (QINXI, "industry:tea", {"max_depth": 5}),
    (QINXI, SHOUZHANG, {"max_depth": 1}),
    (QINXI, "village:shanxi.fenyang.yudaohe.guchi", {"max_depth": 3}),
    (QINXI, "province:fujian", {"types": ["BASED_IN", "HAS_MEMBER"], "max_depth": 6}),
    # more shortest paths than the limit: the first ones in the stable order, and the count
    (CHEN_JIANFU, TOURISM_COMPANY, {"limit": 1}),
    (QINXI, "village:shanxi.fenyang.yudaohe.guchi", {"max_depth": 6, "limit": 2}),
    # through an industry or practice in common only when asked (or an end is one)
    (QINXI, JITOU, {"through_shared": True}),
    (QINXI, "village:shanxi.fenyang.yudaohe.guchi", {"max_depth": 6, "through_shared": True}),
    (YUNSHE, HANYAN, {"max_depth": 6}),
    (YUNSHE, HANYAN, {"max_depth": 6, "through_shared": True}),
    ("practice:joint-village-party-building", QINXI, {}),
    (TAOYUAN, FENGQIAO, {}),
    (ZHANG_YI, HEXI, {"max_depth": 6, "limit": 2}),
    (MEILING, FENGQIAO, {"through_shared": True}),
    ("group:xishi.bochuan.talent-team", FENGQIAO, {}),
]


def _path_types(source: str, target: str, params: dict[str, Any]) -> tuple[str, ...]:
    return x.path_types(
        G, source, target, types=params.get("types"), through_shared=params.get("through_shared", False)
    )


def _path_id(case: tuple[str, str, dict[str, Any]]) -> str:
    return f"{case[0]} {case[1]} {case[2]}"


@pytest.mark.parametrize("case", PATHS, ids=_path_id)
def test_path(client: httpx.Client, case: tuple[str, str, dict[str, Any]]) -> None:
    source, target, params = case
    types = _path_types(source, target, params)
    want = x.paths(G, source, target, max_depth=params.get("max_depth", 4), types=types)
    query_string = {"source": source, "target": target}
    query_string |= {k: ",".join(v) if isinstance(v, list) else v for k, v in params.items()}
    got = get(client, "/paths", query_string)
    assert got["source"] == G.ref(source) and got["target"] == G.ref(target)
    limit = params.get("limit", 10)
    assert got["total"] == len(want) and got["truncated"] == (len(want) > limit)
    assert got["paths"] == want[:limit], "the first paths in order of node ids, then types"
    actual = got["paths"]
    for p in actual:
        assert p["length"] == len(p["edges"]) == len(p["nodes"]) - 1
    assert query(client, "path", query_string) == got


def test_path_cases_cover_found_and_not_found() -> None:
    found = [
        x.shortest_paths(G, s, t, max_depth=p.get("max_depth", 4), types=_path_types(s, t, p))
        for s, t, p in PATHS
    ]
    crossing = [f for f, (_, _, p) in zip(found, PATHS, strict=True) if p.get("through_shared")]
    assert any(
        any(G.label(n) in ("Industry", "Practice") for nodes, _ in f for n in nodes[1:-1]) for f in crossing
    ), "a pair joined through an industry or practice when asked"
    assert sum(1 for f in found if not f) >= 2, "pairs with no path within max_depth"
    assert any(len(f) > 1 for f in found), "pairs with several shortest paths"
    assert any(len(f) > p.get("limit", 10) for f, (_, _, p) in zip(found, PATHS, strict=True)), (
        "pairs with more shortest paths than the limit"
    )


# -- enterprise-reach -------------------------------------------------------------------------

ENTERPRISE_KINDS = sorted({G.nodes[e].kind for e in ENTERPRISES})
ENTERPRISE_FILTERS: list[dict[str, Any]] = [
    {},
    *({"id": e} for e in ENTERPRISES),
    *({"kind": k} for k in ENTERPRISE_KINDS),
    {"kind": "other"},
    {"id": TOURISM_COMPANY, "kind": "cooperative"},
    {"id": TOURISM_COMPANY, "kind": G.nodes[TOURISM_COMPANY].kind},
    {"limit": 3, "offset": 2},
    {"limit": 4, "offset": 8},
    # pages at and past the end: the page statement is skipped, the total still given
    {"offset": 20},
    {"kind": "company", "offset": 40},
]


@pytest.mark.parametrize("params", ENTERPRISE_FILTERS, ids=str)
def test_enterprise_reach(client: httpx.Client, params: dict[str, Any]) -> None:
    assert query(client, "enterprise-reach", params) == x.enterprise_reach(G, **params)


# The page's bound taken from the largest matching id, as a server that returned other rows
# under the bound statement's LIMIT (no ORDER BY) might give: the page must not change.
WIDEST_ENTERPRISE_BOUND = """
MATCH (e:Enterprise)
WHERE $kind IS NULL OR e.kind = $kind
WITH max(e.id) AS upto, count(e) AS n
RETURN upto, CASE WHEN n < $first THEN n ELSE $first END AS found
"""


@pytest.mark.parametrize(
    "params", [p for p in ENTERPRISE_FILTERS if "id" not in p and p.get("offset", 0) < 20], ids=str
)
def test_enterprise_reach_page_whatever_the_bound(
    fixture_graph: Driver, graph_settings: Settings, monkeypatch: pytest.MonkeyPatch, params: dict[str, Any]
) -> None:
    monkeypatch.setattr(analysis, "ENTERPRISE_UPTO_BOUND", WIDEST_ENTERPRISE_BOUND)
    entry = get_entry("enterprise-reach")
    with session(fixture_graph, graph_settings) as s:
        got = run(s, graph_settings, entry, entry.params(**params))
    assert got.model_dump(mode="json") == x.enterprise_reach(G, **params)


# -- multi-village-people ---------------------------------------------------------------------

MULTI_VILLAGE: list[dict[str, Any]] = [
    {},
    {"min_villages": 3},
    {"min_villages": 4},
    {"min_villages": 5},
    {"limit": 1, "offset": 1},
    {"min_villages": 3, "limit": 2, "offset": 2},
    # pages that cut inside the runs of people with as many villages (3, then 2)
    {"min_villages": 3, "limit": 2, "offset": 1},
    {"limit": 3, "offset": 4},
    {"min_villages": 3, "limit": 3, "offset": 6},
    {"limit": 2, "offset": 11},
    # past the end: one row with no person carries the total
    {"offset": 16},
    {"min_villages": 3, "offset": 500},
    {"min_villages": 1000},  # nobody
]


@pytest.mark.parametrize("params", MULTI_VILLAGE, ids=str)
def test_multi_village_people(client: httpx.Client, params: dict[str, Any]) -> None:
    assert query(client, "multi-village-people", params) == x.multi_village_people(G, **params)


def _widest_kept_bound(rule: str) -> str:
    """The largest key of the page's counts, as a server that returned other keys under the bound
    statement's LIMIT (no ORDER BY) might give."""
    return f"""
MATCH (c:PersonVillages) WHERE c.{rule}_key >= $keys_from AND c.{rule}_key < $keys_below
RETURN max(c.{rule}_key) AS upto
"""


# Pages that start or end inside a run of one count, or span several.
KEPT_PAGES: list[tuple[str, dict[str, Any]]] = [
    *(("shared-experts", p) for p in SHARED_EXPERT_FILTERS if set(p) <= {"limit", "offset"}),
    *(("multi-village-people", p) for p in MULTI_VILLAGE if set(p) <= {"limit", "offset", "min_villages"}),
]


@pytest.mark.parametrize(("entry", "params"), KEPT_PAGES, ids=str)
def test_shared_experts_and_multi_village_people_whatever_the_bound(
    fixture_graph: Driver,
    graph_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    entry: str,
    params: dict[str, Any],
) -> None:
    monkeypatch.setattr(analysis, "_kept_bound", _widest_kept_bound)
    got = get_entry(entry)
    with session(fixture_graph, graph_settings) as s:
        answer = run(s, graph_settings, got, got.params(**params)).model_dump(mode="json")
    oracle = x.shared_experts if entry == "shared-experts" else x.multi_village_people
    assert answer == oracle(G, **params)


def test_multi_village_people_counts_alliance_posts() -> None:
    people = {i["person"]["id"]: i for i in x.multi_village_people(G)["items"]}
    assert {t["via"]["id"] for t in people[CHI_LIBO]["villages"]} == {
        "alliance:shanxi.fenyang.yudaohe.wanbaoshan"
    }
    assert x.multi_village_people(G, min_villages=4)["total"] < x.multi_village_people(G)["total"]


# -- industry-clusters ------------------------------------------------------------------------

INDUSTRY_FILTERS: list[dict[str, Any]] = [
    {},
    {"min_villages": 3},
    {"min_villages": 5},
    {"min_villages": 1000},
    # the fixtures' industries (桃子 has one village: no cluster) and two curated ones
    *({"industry": i} for i in made_up("Industry")),
    {"industry": "industry:rural-tourism"},
    {"industry": "industry:rabbit-farming"},
    {"industry": "industry:tea", "min_villages": 4},
    {"industry": "industry:dongshi.honey", "min_villages": 3},
    {"limit": 2, "offset": 1},
    # pages that cut inside runs of clusters as large (5 villages, then 3)
    {"limit": 2, "offset": 3},
    {"limit": 1, "offset": 7},
]


@pytest.mark.parametrize("params", INDUSTRY_FILTERS, ids=str)
def test_industry_clusters(client: httpx.Client, params: dict[str, Any]) -> None:
    assert query(client, "industry-clusters", params) == x.industry_clusters(G, **params)


def test_industry_clusters_cross_provinces_and_use_projects() -> None:
    clusters = x.industry_clusters(G)["items"]
    assert any(c["provinces"] > 1 for c in clusters)
    assert any(v["via"] == "project" for c in clusters for v in c["villages"])


# -- practices --------------------------------------------------------------------------------

PRACTICE_FILTERS: list[dict[str, Any]] = [
    {},
    {"limit": 500},
    {"limit": 10, "offset": 40},
    {"limit": 10, "offset": len(PRACTICES) - 4},
    {"offset": len(PRACTICES) + 5},
    *({"kind": k} for k in ("mechanism", "model", "campaign", "policy")),
    {"kind": "mechanism", "limit": 5, "offset": 5},
    {"id": "practice:joint-village-party-building"},
    {"id": PRACTICES[-1], "kind": "nonsense"},
    {"concepts": True},
    {"concepts": True, "kind": "mechanism"},
    {"concepts": True, "limit": 2, "offset": 3},
]


@pytest.mark.parametrize("params", PRACTICE_FILTERS, ids=str)
def test_practices(client: httpx.Client, params: dict[str, Any]) -> None:
    assert query(client, "practices", params) == x.practices(G, **params)


@pytest.mark.parametrize("practice", PRACTICES)
def test_each_practice(client: httpx.Client, practice: str) -> None:
    assert query(client, "practices", {"id": practice}) == x.practices(G, id=practice)


def test_practice_concepts_are_not_vacuous() -> None:
    concepts = x.practices(G, concepts=True)["items"]
    assert concepts and all("." not in c["practice"]["id"].split(":", 1)[1] for c in concepts)
    assert sum(1 for c in concepts if c["instances"]) >= 4
    assert any(len(c["counties"]) >= 3 for c in concepts)
    assert any(p["parts"] for p in x.practices(G, limit=500)["items"])


# -- dispatches -------------------------------------------------------------------------------

DISPATCH_FILTERS: list[dict[str, Any]] = [
    {},
    *({"role": role} for role in DISPATCH_ROLES),
    *({"province": p} for p in PROVINCES),
    {"role": "第一书记", "province": "province:hunan"},
    {"limit": 2, "offset": 3},
    # songling-groups.yaml: pages that cut inside a group's or a person's run of dispatches
    {"province": "province:dongshi", "limit": 3, "offset": 1},
    {"province": "province:dongshi", "offset": 8},
    {"role": "农技专家", "limit": 2, "offset": 1},
    {"role": "人才", "province": "province:xishi"},
    # the page is read label by label, groups (whose ids all come first) then people, each up to a
    # bound: pages inside a group's run (agri-tech-team's two), across the last group and the first
    # person, exactly the groups, exactly the people, inside a person's run (zhao-si's two, zhou-qi's
    # two at the very end), at and past the end (no page statement, the total still given)
    {"limit": 1, "offset": 1},
    {"limit": 2, "offset": 11},
    {"limit": 5, "offset": 10},
    {"limit": 12},
    {"limit": 500, "offset": 12},
    {"limit": 1, "offset": 12},
    {"limit": 1, "offset": 17},
    {"limit": 3, "offset": 24},
    {"offset": 25},
    {"offset": 1000},
    {"province": "province:dongshi", "limit": 2, "offset": 2},
    {"province": "province:dongshi", "offset": 40},
    {"role": "农技专家", "limit": 2, "offset": 2},
    {"role": "第一书记", "limit": 3, "offset": 4},
]


@pytest.mark.parametrize("params", DISPATCH_FILTERS, ids=str)
def test_dispatches(client: httpx.Client, params: dict[str, Any]) -> None:
    assert query(client, "dispatches", params) == x.dispatches(G, **params)


# Pages whose bounds differ (a label with at least `offset + limit` dispatches): the groups' first
# two are agri-tech-team's (tightest) or any two (loosest: hanshan-talent-team's); 东试省's first
# four or five people's end at zhang-yi or zhao-si (two dispatches), or at zheng-jiu.
DISPATCH_BOUNDS: list[dict[str, Any]] = [
    {},
    {"limit": 1, "offset": 1},
    {"limit": 2, "offset": 11},
    {"limit": 3, "offset": 24},
    {"province": "province:dongshi", "limit": 3, "offset": 1},
    {"province": "province:dongshi", "limit": 2, "offset": 3},
    {"role": "农技专家", "limit": 2, "offset": 1},
]


@pytest.mark.parametrize("loose", [False, True], ids=["tightest", "loosest"])
@pytest.mark.parametrize("params", DISPATCH_BOUNDS, ids=str)
def test_dispatches_whatever_dispatches_the_bound_saw(
    fixture_graph: Driver, graph_settings: Settings, params: dict[str, Any], loose: bool
) -> None:
    """The bound's LIMIT has no ORDER BY: a server may return any `offset + limit` of a label's
    dispatches. The page read up to the bound the first ones give (what both servers return here)
    and up to the one the last ones give (the label's largest id) is the same, the right one."""
    entry = get_entry("dispatches")
    p = entry.params(**params)
    every = x.dispatches(G, **{**params, "limit": 500, "offset": 0})
    first = p.offset + p.limit
    bounds = []
    for label in analysis.DISPATCHERS:
        ids = [d["person"]["id"] for d in every["items"] if d["person"]["label"] == label]
        if ids:
            upto = ids[-1] if loose else ids[min(first, len(ids)) - 1]
            bounds.append({"label": label, "upto": upto, "found": min(first, len(ids))})
    statements, values = entry.follow_ups(p, {"upto": bounds})
    with session(fixture_graph, graph_settings) as s:
        rows = {
            name: [{k: exported(v) for k, v in r.items()} for r in s.run(text, entry.parameters(p) | values)]
            for name, text in statements.items()
        }
    got = entry.shape(p, {"total": [{"total": every["total"]}], **rows})
    assert got.model_dump(mode="json") == x.dispatches(G, **params)


# -- figures ----------------------------------------------------------------------------------

FIGURE_FILTERS: list[dict[str, Any]] = [
    {},
    {"limit": 500},
    {"measure": "集体经济"},
    {"measure": "收入", "year_from": 2020},
    {"year_to": 2019},
    {"year_from": 2021, "year_to": 2021},
    {"of": "alliance:zhejiang.tiantai.longxi.hanshan"},
    {"of": ZHOUNING, "measure": "村"},
    {"limit": 5, "offset": 10},
    # songling-groups.yaml: a run of one year that pages cut into, the article's own year
    # (year_stated false), a group's size, a county's own figure
    {"year_from": 2023},
    {"year_from": 2023, "limit": 2, "offset": 1},
    {"year_from": 2024, "year_to": 2024},
    {"measure": "集体经济", "year_from": 2022, "limit": 3, "offset": 2},
    {"of": "group:dongshi.songling.agri-tech-team"},
    {"of": "county:xishi.bochuan"},
]


@pytest.mark.parametrize("params", FIGURE_FILTERS, ids=str)
def test_figures(client: httpx.Client, params: dict[str, Any]) -> None:
    assert query(client, "figures", params) == x.figures(G, **params)


# -- overview ---------------------------------------------------------------------------------


def test_overview_labels_and_relationship_types(client: httpx.Client) -> None:
    body, want = query(client, "overview"), x.overview(G)
    assert body["labels"] == want["labels"]
    assert body["relationships"] == want["relationships"]
    assert body["relationships"]["MENTIONS"] == sum(len(n.mentions) for n in G.nodes.values())
    assert body["relationships"]["HAS_QUANTITY"] == len(G.ids("Quantity"))


def test_overview_source_kinds(client: httpx.Client) -> None:
    got = query(client, "overview")["source_kinds"]
    assert got == x.overview(G)["source_kinds"]
    assert got["article"] >= 5 and got["fixture"] >= 1


def test_overview_is_bounded_by_the_model() -> None:
    """Nothing in it grows with the data but the provinces: no county, no source listed."""
    assert set(x.overview(G)) == {"labels", "relationships", "provinces", "source_kinds"}


def test_overview_province_villages(client: httpx.Client) -> None:
    got = [{k: v for k, v in r.items() if k != "entities"} for r in query(client, "overview")["provinces"]]
    want = [
        {k: v for k, v in r.items() if k != "entities"} for r in x.overview(G, any_depth=True)["provinces"]
    ]
    assert got == want


def test_overview_province_entities(client: httpx.Client) -> None:
    assert query(client, "overview")["provinces"] == x.overview(G, any_depth=True)["provinces"]


# -- sources ----------------------------------------------------------------------------------

SOURCE_FILTERS: list[dict[str, Any]] = [
    {},
    {"kind": "article"},
    {"kind": "fixture"},
    {"kind": "reference"},
    {"limit": 2},
    {"limit": 3, "offset": 2},
    {"kind": "article", "limit": 1, "offset": 1},
]


@pytest.mark.parametrize("params", SOURCE_FILTERS, ids=str)
def test_sources(client: httpx.Client, params: dict[str, Any]) -> None:
    assert query(client, "sources", params) == x.sources(G, **params)


def test_sources_count_their_mentions() -> None:
    counts = {s["id"]: s["entities"] for s in x.sources(G, limit=500)["items"]}
    assert counts[ZHOUNING_SOURCE] > 10 and len(set(counts.values())) > 3


def test_coverage_map(client: httpx.Client) -> None:
    assert query(client, "coverage-map") == x.coverage_map(G)


# -- search -----------------------------------------------------------------------------------

SEARCHES: list[dict[str, Any]] = [
    {"q": "寒巖"},
    {"q": "寒岩村"},
    {"q": "寒巖村", "label": "Village"},
    {"q": "hanyan"},
    {"q": "han yan cun"},
    {"q": "HanYan"},
    {"q": "hyc"},
    {"q": "芹溪"},
    {"q": "qinxi"},
    {"q": "ｑｉｎｘｉ"},
    {"q": "qx"},
    {"q": "天臺"},
    {"q": "龍溪鄉"},
    {"q": "联村"},
    {"q": "联村", "label": "Alliance"},
    {"q": "联村", "label": "Practice"},
    {"q": "dang jian", "label": "Practice", "limit": 3, "offset": 2},
    {"q": "茶"},
    {"q": "cha", "label": "Industry"},
    {"q": "村", "label": "Village", "limit": 5},
    {"q": "村", "label": "Village", "limit": 5, "offset": 20},
    {"q": "党建", "limit": 100},
    {"q": "dangjian", "limit": 7, "offset": 7},
    {"q": "周宁"},
    {"q": "周宁", "label": "Alliance"},
    {"q": "周宁县", "label": "Person", "limit": 2, "offset": 1},
    {"q": "zhouning"},
    {"q": "longxi", "label": "Village"},
    {"q": "zn", "label": "County"},
    {"q": "第一书记"},
    {"q": "联建村数", "label": "Quantity"},
    {"q": "乡村振兴", "label": "Source"},
    {"q": "xyz-no-such-name"},
    # what lies in 青木镇: four people named in two characters, a page that cuts among them
    {"q": "青木", "limit": 2},
    {"q": "qingmu", "limit": 3, "offset": 1},
    # two townships named 白沙 (one in each made-up province)
    {"q": "白沙"},
    # 钱五 is dispatched to 松岭县 itself, not to anything in it: not among what lies in it
    {"q": "松岭"},
]


@pytest.mark.parametrize("params", SEARCHES, ids=str)
def test_search(client: httpx.Client, params: dict[str, Any]) -> None:
    want = x.search(G, **params)
    assert get(client, "/search", params) == want
    assert query(client, "search", params) == want


@pytest.mark.parametrize("q", ["周宁", "周宁县", "zhouning", "周寧"])
def test_search_names_a_place_and_finds_what_lies_in_it(client: httpx.Client, q: str) -> None:
    body = get(client, "/search", {"q": q, "limit": 100})
    assert body["items"][0]["id"] == "county:fujian.zhouning"
    inside = {h["id"]: h for h in body["items"] if h["match"] == "place"}
    assert {QINXI, "alliance:fujian.zhouning.limen.xinnong-fumin"} <= inside.keys()
    assert inside[QINXI]["path"] == ["福建省", "宁德市", "周宁县", "李墩镇"]
    assert any(h["label"] == "Person" for h in inside.values())
    alliances = get(client, "/search", {"q": q, "label": "Alliance"})["items"]
    assert {h["id"] for h in alliances} == {
        "alliance:fujian.zhouning.limen.xinnong-fumin",
        "alliance:fujian.zhouning.lidun.qinxi-jitou-louping",
    }


def test_search_traditional_input_finds_the_simplified_name_first(client: httpx.Client) -> None:
    body = get(client, "/search", {"q": "寒巖"})
    assert body["items"][0]["id"] == HANYAN and body["items"][0]["name"] == "寒岩村"
    assert body["items"][0]["match"] == "exact"


def test_search_hit_set_is_every_node_whose_key_contains_the_query() -> None:
    for params in SEARCHES:
        q, label = params["q"], params.get("label")
        hits = {h["id"] for h in x.search_hits(G, q, label=label)}
        keys = {n.id for n in G.nodes.values() if fold(q) in n.search and label in (None, n.label)}
        assert hits == keys
    assert x.search(G, "村", label="Village", limit=5)["total"] == len(VILLAGES)
    assert {h["id"] for h in x.search_hits(G, "hyc")} >= {HANYAN}
    assert {h["id"] for h in x.search_hits(G, "qx")} >= {QINXI}


# Search keys by hand: the hits written out from the names and aliases in the fixture file
# (simplified and traditional input, pinyin, initials), not computed with graph.text.
FENGQIAO_BRANCH = "branch:xishi.bochuan.hongxi.fengqiao.party-branch"
FENGQIAO_LOTUS = "project:xishi.bochuan.hongxi.fengqiao.lotus-pond"
FENGQIAO_TEA = "project:xishi.bochuan.hongxi.fengqiao.tea-garden"
FRUIT_COMPANY = "enterprise:dongshi.songling.qingmu.taoyuan-fruit-company"
FRUIT_COOPERATIVE = "enterprise:dongshi.songling.qingmu.taoyuan-fruit-cooperative"
# the fixture articles' titles hold 东试省 ... 西试省 and 桃园村 inside: partial matches, last
FIXTURE_ARTICLE = "source:2024-01-01.songling-bochuan-fixture"
FOLLOWUP_ARTICLE = "source:2024-02-01.songling-followup-fixture"
SEARCH_BY_HAND: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
    # traditional input, folded: the name itself, then two names that start with it (shorter first)
    ({"q": "楓橋村"}, [(FENGQIAO, "name"), (FENGQIAO_BRANCH, "prefix"), (FENGQIAO_LOTUS, "prefix")]),
    # pinyin: the alias 枫桥 read exactly; three names whose reading starts with it
    ({"q": "fengqiao"}, [(FENGQIAO, "exact"), (FENGQIAO_TEA, "prefix"), (FENGQIAO_BRANCH, "prefix"),
                         (FENGQIAO_LOTUS, "prefix")]),
    # initials: f q c of 枫桥村 exactly; 枫桥茶园 (fqcy) starts with them too
    ({"q": "fqc"}, [(FENGQIAO, "exact"), (FENGQIAO_TEA, "prefix"), (FENGQIAO_BRANCH, "prefix"),
                    (FENGQIAO_LOTUS, "prefix")]),
    ({"q": "柳灣"}, [("village:xishi.bochuan.hongxi.liuwan", "prefix"),
                    ("branch:xishi.bochuan.hongxi.liuwan.party-branch", "prefix")]),
    # 桃源: the start of the cooperative's name ranks before the start of the village's alias
    ({"q": "桃源"}, [(FRUIT_COOPERATIVE, "prefix"), (TAOYUAN, "prefix")]),
    ({"q": "taoyuan"}, [(TAOYUAN, "exact"), (FRUIT_COMPANY, "prefix"), (FRUIT_COOPERATIVE, "prefix"),
                        (FOLLOWUP_ARTICLE, "partial")]),
    ({"q": "東試"}, [("province:dongshi", "exact"), (FIXTURE_ARTICLE, "partial")]),
    ({"q": "张一"}, [(ZHANG_YI, "name")]),
    ({"q": "ZhangYi", "label": "Person"}, [(ZHANG_YI, "exact")]),
    ({"q": "xi shi sheng"}, [("province:xishi", "exact"), (FIXTURE_ARTICLE, "partial")]),
]  # fmt: skip


@pytest.mark.parametrize(("params", "hits"), SEARCH_BY_HAND, ids=str)
def test_search_keys_by_hand(
    client: httpx.Client, params: dict[str, Any], hits: list[tuple[str, str]]
) -> None:
    body = get(client, "/search", params)
    assert [(h["id"], h["match"]) for h in body["items"]] == hits
    assert body["total"] == len(hits) and body["total_exact"] and not body["broad"]
    assert [(h["id"], h["match"]) for h in x.search(G, **params)["items"]] == hits, "the oracle agrees"


# Search with the cap lowered, so that keys are broad here too (the cap is read per request):
# through the driver, as the answer cache would keep the first answer of a repeated query.
VILLAGE_HITS = len(x.search_hits(G, "村"))
CAPPED_SEARCHES: list[tuple[dict[str, Any], int]] = [
    ({"q": "村"}, VILLAGE_HITS),  # as many as the cap: narrow
    ({"q": "村"}, VILLAGE_HITS - 1),  # one more than the cap: broad, its counties listed
    ({"q": "县"}, 5),
    ({"q": "县", "label": "County"}, 5),
    ({"q": "s"}, 60),
    ({"q": "sh", "limit": 5, "offset": 2}, 40),
    ({"q": "dongshi"}, 3),
    ({"q": "x", "label": "Village"}, 30),
    ({"q": "d", "label": "Province"}, 2),
    ({"q": "zy"}, 10),
    # a page of one: each label's part keeps only its first region (ties by length, then id)
    ({"q": "县", "limit": 1}, 5),
    ({"q": "市", "limit": 1}, 3),
]


@pytest.mark.parametrize(("params", "cap"), CAPPED_SEARCHES, ids=str)
def test_search_with_a_lowered_cap(
    fixture_graph: Driver,
    graph_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    params: dict[str, Any],
    cap: int,
) -> None:
    monkeypatch.setattr(explore, "SEARCH_CAP", cap)
    with session(fixture_graph, graph_settings) as s:
        got = run(s, graph_settings, explore.SEARCH, explore.SearchParams(**params))
    assert got.model_dump(mode="json") == x.search_capped(G, cap=cap, **params)


@pytest.mark.parametrize("q", ["白沙", "baisha"])
def test_search_opens_the_first_places_by_id(
    fixture_graph: Driver, graph_settings: Settings, monkeypatch: pytest.MonkeyPatch, q: str
) -> None:
    """With one place opened (the constant lowered, read per request), of the two 白沙 the first
    by id: 白沙乡 of 东试省, whose villages and people come, not 白沙镇's 沙坪村."""
    monkeypatch.setattr(explore, "PLACES", 1)
    with session(fixture_graph, graph_settings) as s:
        got = run(s, graph_settings, explore.SEARCH, explore.SearchParams(q=q)).model_dump(mode="json")
    assert got == x.search(G, q, places=1)
    inside = {h["id"] for h in got["items"] if h["match"] == "place"}
    assert "village:dongshi.songling.baisha.zhulin" in inside
    assert "village:xishi.bochuan.baisha.shaping" not in inside
    assert x.named_places(G, q) == ["township:dongshi.songling.baisha", "township:xishi.bochuan.baisha"]


def test_capped_searches_cover_broad_and_narrow() -> None:
    answers = [x.search_capped(G, cap=c, **p) for p, c in CAPPED_SEARCHES]
    assert sum(a["broad"] for a in answers) >= 4 and sum(not a["broad"] for a in answers) >= 2
    assert sum(bool(a["items"]) for a in answers if a["broad"]) >= 3, "broad keys that list regions"


# -- entity -----------------------------------------------------------------------------------


@pytest.mark.parametrize("node", sorted(G.nodes))
def test_entity(client: httpx.Client, node: str) -> None:
    assert get(client, f"/entities/{node}") == x.entity(G, node)


@pytest.mark.parametrize("node", [QINXI, CHI_LIBO, ZHOUNING, "industry:rural-tourism", ZHOUNING_SOURCE])
def test_entity_from_the_catalog_route(client: httpx.Client, node: str) -> None:
    assert query(client, "entity", {"id": node}) == x.entity(G, node)


ENTITY_PAGES: list[tuple[str, dict[str, int]]] = [
    (ZHOUNING, {"limit": 5}),
    (ZHOUNING, {"limit": 5, "offset": 5}),
    (ZHOUNING, {"limit": 7, "offset": 30}),
    (ZHOUNING, {"offset": 1000}),
    ("industry:tea", {"limit": 3, "offset": 2}),
    (QINXI, {"limit": 1, "offset": 0}),
]


@pytest.mark.parametrize("case", ENTITY_PAGES, ids=str)
def test_entity_relationships_page(client: httpx.Client, case: tuple[str, dict[str, int]]) -> None:
    node, params = case
    want = x.entity(G, node, **params)
    assert get(client, f"/entities/{node}", params) == want
    assert query(client, "entity", {"id": node, **params}) == want


def test_entity_of_a_shared_node_has_every_source() -> None:
    tourism = x.entity(G, "industry:rural-tourism")
    assert len(tourism["provenance"]) == 5
    assert "鄉村旅游" in tourism["properties"]["aliases"]
    relationships = x.entity(G, ZHOUNING)["relationships"]
    assert {r["direction"] for r in relationships["items"]} == {"in", "out"}
    assert 5 + 7 < relationships["total"] < 200, "the pages tested above hold full and partial pages"


# -- the cases themselves ---------------------------------------------------------------------


def _paged(answer: dict[str, Any]) -> bool:
    return bool(answer["items"])


def _holds_any(*fields: str) -> Any:
    return lambda answer: any(answer[f] for f in fields)


def _answer_cases() -> dict[str, list[bool]]:
    """Per entry: for each of its answer cases above, whether the expected answer holds anything
    beyond the node asked about (a page with items, a tree with branches or members ...)."""
    profile = _holds_any(
        "alliances", "branches", "projects", "enterprises", "people", "industries", "practices", "quantities"
    )
    tree = _holds_any("branches", "members", "projects", "people")
    return {
        "shared-experts": [_paged(x.shared_experts(G, **p)) for p in SHARED_EXPERT_FILTERS],
        "alliance-tree": [tree(x.alliance_tree(G, a)) for a in ALLIANCES],
        "village-profile": [profile(x.village_profile(G, v)) for v in VILLAGES],
        "neighborhood": [bool(_neighborhood_of(c, p)["nodes"]) for c, p in NEIGHBORHOODS],
        "path": [
            bool(x.paths(G, s, t, max_depth=p.get("max_depth", 4), types=_path_types(s, t, p)))
            for s, t, p in PATHS
        ],
        "enterprise-reach": [_paged(x.enterprise_reach(G, **p)) for p in ENTERPRISE_FILTERS],
        "multi-village-people": [_paged(x.multi_village_people(G, **p)) for p in MULTI_VILLAGE],
        "dispatches": [_paged(x.dispatches(G, **p)) for p in DISPATCH_FILTERS],
        "figures": [_paged(x.figures(G, **p)) for p in FIGURE_FILTERS],
        "sources": [_paged(x.sources(G, **p)) for p in SOURCE_FILTERS],
        "industry-clusters": [_paged(x.industry_clusters(G, **p)) for p in INDUSTRY_FILTERS],
        "practices": [_paged(x.practices(G, **p)) for p in PRACTICE_FILTERS]
        + [_paged(x.practices(G, id=p)) for p in PRACTICES],
        "search": [_paged(x.search(G, **p)) for p in SEARCHES],
        "entity": [bool(x.entity(G, n)["relationships"]["items"]) for n in sorted(G.nodes)]
        + [bool(x.entity(G, n, **p)["relationships"]["items"]) for n, p in ENTITY_PAGES],
    }


def test_no_entry_is_tested_mostly_on_empty_answers() -> None:
    """An empty page compared with an empty page tells nothing: most of each entry's cases must
    expect an answer that holds something. (region and region-coverage: tests/test_regions.py;
    overview and coverage-map have one case each, the whole graph.)"""
    cases = _answer_cases()
    assert cases.keys() == ENTRIES - {"overview", "coverage-map", "region", "region-coverage"}
    mostly_empty = {
        name: f"{held.count(False)} of {len(held)} empty"
        for name, held in cases.items()
        if held.count(False) * 2 > len(held)
    }
    assert not mostly_empty, mostly_empty
