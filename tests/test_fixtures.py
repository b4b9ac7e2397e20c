"""The fixture cases (tests/fixtures/cases/): made up, loaded only when named, and shaped so
that the catalog's plausible wrong answers differ from the right one.

The literal answers below are read off the fixture YAML by hand; they check that the answer
oracle (tests/expected.py) reads the fixtures as written, and name what each part is for. The
live answers are compared with the oracle in tests/test_catalog_answers.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from graph.model import SourceRecord
from graph.settings import Settings
from graph.text import fold
from loaders.casefile import CaseFile, discover, validate_cases
from loaders.load import collect_facts, curated_cases
from tests import expected as x

FIXTURES = x.FIXTURES
FIXTURE_CASES = validate_cases(discover([FIXTURES]), context=discover([x.DATA]))
G = x.with_fixtures()


def _quotes(case: CaseFile) -> list[tuple[str, str]]:
    return (
        [(e.id, e.evidence) for e in case.entities]
        + [(q.id, q.evidence) for q in case.quantities]
        + [(" ".join(r.key), r.evidence) for r in case.relations]
    )


@pytest.mark.parametrize("case", FIXTURE_CASES, ids=lambda c: c.path.name)
def test_every_fixture_quote_is_in_its_made_up_article(case: CaseFile) -> None:
    assert case.source.kind == "fixture" and case.source.file
    text = fold((case.path.parent / case.source.file).read_text(encoding="utf-8"))
    missing = [f"{what}: {quote}" for what, quote in _quotes(case) if fold(quote) not in text]
    assert not missing, missing


def test_a_fixture_names_its_article() -> None:
    with pytest.raises(ValidationError, match="'fixture' source needs `file`"):
        SourceRecord(id="source:2024-01-01.x", kind="fixture", title="测试", publisher="测试")


def test_the_default_load_never_takes_a_fixture(tmp_path: Path) -> None:
    """Even a fixtures folder put under the cases folder stays out of `ruralkg load` and
    `make run`; named, its files load."""
    cases = tmp_path / "data"
    shutil.copytree(x.DATA, cases)
    shutil.copytree(FIXTURES, cases / "fixtures")
    settings = Settings(RURALKG_CASES_DIR=cases)
    default = {c.source.id for c in curated_cases(settings)}
    assert default == {n for n in x.curated().ids("Source")}
    assert {f.source_id for f in collect_facts(settings)} == default
    named = {c.source.id for c in curated_cases(settings, [cases / "fixtures"])}
    assert named == {c.source.id for c in FIXTURE_CASES}


# -- what the fixtures hold, by hand ----------------------------------------------------------

P = "person:dongshi.songling."
Q = "person:xishi.bochuan."
GP = "group:dongshi.songling."
GQ = "group:xishi.bochuan."


def _people(answer: dict[str, object]) -> list[str]:
    return [i["person"]["id"] for i in answer["items"]]  # type: ignore[attr-defined]


def test_shared_experts_by_hand() -> None:
    """张一 4 villages (one of them through a project, 桃园 twice), 王二 and 李三 3 (an equal
    run, by id), four people with 2; 赵四 is dispatched to one village only, 孙六 to none."""
    ids = [i for i in _people(x.shared_experts(G)) if i.startswith((P, Q))]
    assert ids == [
        P + "zhang-yi", P + "wang-er", Q + "li-san",
        P + "qian-wu", P + "wu-ba", P + "zheng-jiu", Q + "zhou-qi",
    ]  # fmt: skip
    # 王二's third village (枫桥, through a project) lies in the other province; the groups of
    # songling-groups.yaml: the 农技 team ties 4 (ahead of 张一's 4 by id), the talent team 3
    assert _people(x.shared_experts(G, province="province:dongshi")) == [
        GP + "agri-tech-team", P + "zhang-yi", P + "qian-wu", P + "wang-er", P + "wu-ba", P + "zheng-jiu"
    ]  # fmt: skip
    assert _people(x.shared_experts(G, province="province:xishi")) == [
        GQ + "talent-team", Q + "li-san", Q + "zhou-qi"
    ]  # fmt: skip
    # 梅岭: 张一 only through the tea project he leads
    assert _people(x.shared_experts(G, village="village:dongshi.songling.qingmu.meiling")) == [
        GP + "agri-tech-team", P + "zhang-yi", P + "wu-ba"
    ]  # fmt: skip


def test_multi_village_people_by_hand() -> None:
    """孙六 4; 张一 3 direct; 冯十 3 through an alliance post (a member village, two member
    branches); 陈十一 3 from 4 ties (枫桥 through his branch and through the alliance); 钱五 3:
    the two he supports, and 松涛 through his proposed post in 竹松联盟 (songling-groups.yaml)."""
    answer = x.multi_village_people(G, min_villages=3)
    counts = {i["person"]["id"]: len({v["id"] for v in i["villages"]}) for i in answer["items"]}
    assert {k: v for k, v in counts.items() if k.startswith((P, Q))} == {
        P + "sun-liu": 4, P + "feng-shi": 3, P + "qian-wu": 3, P + "zhang-yi": 3, Q + "chen-shiyi": 3
    }  # fmt: skip
    chen = next(i for i in answer["items"] if i["person"]["id"] == Q + "chen-shiyi")
    assert len(chen["villages"]) == 4


ENTERPRISE_REACH = {
    # term of enterprise-reach -> the enterprise that reaches its villages or alliances by it alone
    "a project it is in, held by a village": (
        "enterprise:dongshi.songling.qingmu.meiling-tea-company",
        ["village:dongshi.songling.qingmu.meiling"],
        [],
    ),
    "a project it is in, led by a branch based in a village": (
        "enterprise:dongshi.songling.yunshan-bamboo-company",
        ["village:dongshi.songling.qingmu.xingpo"],
        ["alliance:dongshi.songling.qingmu.taoli"],
    ),
    "located in a village (whose alliance has it as a member)": (
        "enterprise:dongshi.songling.qingmu.taoyuan-fruit-company",
        ["village:dongshi.songling.qingmu.taoyuan"],
        ["alliance:dongshi.songling.qingmu.taoli"],
    ),
    # the alliance's villages by the one rule (issue 18): its member 桃园村 and the villages its
    # member branches are based in
    "a member of an alliance with a member village and member branches based in villages": (
        "enterprise:dongshi.songling.qingmu.taoyuan-fruit-cooperative",
        [
            "village:dongshi.songling.qingmu.lizhuang",
            "village:dongshi.songling.qingmu.taoyuan",
            "village:dongshi.songling.qingmu.xingpo",
        ],
        ["alliance:dongshi.songling.qingmu.taoli"],
    ),
    "a project it is in, held by an alliance; supports another alliance": (
        "enterprise:dongshi.songling.market-company",
        [],
        ["alliance:dongshi.songling.baisha.zhusong", "alliance:dongshi.songling.qingmu.taoli"],
    ),
    "a project it is in, led by an alliance": (
        "enterprise:xishi.bochuan.hongxi.hexi-ecommerce-company",
        [],
        ["alliance:xishi.bochuan.hongxi.hexi"],
    ),
    # its one member branch is based in a company, so only the member village 柳湾村 counts; 柳湾村's
    # branch is a member of 荷溪, which the cooperative thereby touches too
    "a member of an alliance with a member village and no member branch in a village": (
        "enterprise:xishi.bochuan.hongxi.bamboo-ware-cooperative",
        ["village:xishi.bochuan.hongxi.liuwan"],
        ["alliance:xishi.bochuan.hongxi.hexi", "alliance:xishi.bochuan.hongxi.industry"],
    ),
    "a branch based in it is a member of an alliance": (
        "enterprise:xishi.bochuan.hongxi.lotus-company",
        ["village:xishi.bochuan.hongxi.fengqiao"],
        ["alliance:xishi.bochuan.hongxi.hexi", "alliance:xishi.bochuan.hongxi.industry"],
    ),
}


@pytest.mark.parametrize("term", ENTERPRISE_REACH)
def test_enterprise_reach_by_hand(term: str) -> None:
    enterprise, villages, alliances = ENTERPRISE_REACH[term]
    (item,) = x.enterprise_reach(G, id=enterprise)["items"]
    assert [v["id"] for v in item["villages"]] == villages
    assert [a["id"] for a in item["alliances"]] == alliances


def test_industry_clusters_by_hand() -> None:
    """竹笋 and 莲藕: 3 villages each (an equal run, by id), one through a project only; 蜂蜜: 2
    villages in two provinces; 桃子: one village, no cluster."""
    clusters = {c["industry"]["id"]: c for c in x.industry_clusters(G)["items"]}
    bamboo = clusters["industry:dongshi.bamboo-shoots"]
    assert [(v["id"].rsplit(".", 1)[1], v["via"]) for v in bamboo["villages"]] == [
        ("songtao", "direct"), ("zhulin", "direct"), ("lizhuang", "project")
    ]  # fmt: skip
    assert len(clusters["industry:xishi.lotus-root"]["villages"]) == 3
    assert clusters["industry:dongshi.honey"]["provinces"] == 2
    assert "industry:dongshi.peach" not in clusters


def test_practices_by_hand() -> None:
    (weekly,) = x.practices(G, id="practice:dongshi.songling.weekly-meeting")["items"]
    assert [u["label"] for u in weekly["users"]] == ["Alliance", "Branch", "Township"]
    (visits,) = x.practices(G, id="practice:xishi.bochuan.three-visits")["items"]
    assert [f["label"] for f in visits["founders"]] == ["Alliance", "Person"]


# -- issue 18's model (songling-groups.yaml), by hand -----------------------------------------

TAOLI = "alliance:dongshi.songling.qingmu.taoli"
ZHUSONG = "alliance:dongshi.songling.baisha.zhusong"
HEXI = "alliance:xishi.bochuan.hongxi.hexi"
DV = "village:dongshi.songling."
XV = "village:xishi.bochuan.hongxi."


def _ties(item: dict[str, object]) -> list[tuple[str, str, str | None, str | None]]:
    return [
        (v["id"], v["tie"], v["role"], (v["via"] or {}).get("id"))
        for v in item["villages"]  # type: ignore[attr-defined]
    ]


def test_groups_in_shared_experts_by_hand() -> None:
    """The 农技 team (12) is dispatched to 李庄 and 梅岭, supports 竹林 directly (its closest tie,
    though 竹林's branch is in 竹松联盟 too) and advises 竹松联盟 (松涛, a member village); the
    talent team (20-90) is dispatched to 荷溪 alone and so serves its three villages; the first
    secretaries' post in 竹林's branch is no shared-experts tie: one village, left out."""
    items = {i["person"]["id"]: i for i in x.shared_experts(G)["items"]}
    team = items[GP + "agri-tech-team"]
    assert team["person"]["label"] == "Group"
    assert _ties(team) == [
        (DV + "baisha.songtao", "ADVISES", None, ZHUSONG),
        (DV + "baisha.zhulin", "SUPPORTS", "技术指导", None),
        (DV + "qingmu.lizhuang", "DISPATCHED_TO", "农技专家", None),
        (DV + "qingmu.meiling", "DISPATCHED_TO", "农技专家", None),
    ]
    assert [(d["to"]["id"], d["role"], d["level"]) for d in team["dispatches"]] == [
        (DV + "qingmu.lizhuang", "农技专家", "city"),
        (DV + "qingmu.meiling", "农技专家", "city"),
    ]
    assert _ties(items[GQ + "talent-team"]) == [
        (XV + v, "DISPATCHED_TO", "人才", HEXI) for v in ("fengqiao", "hetang", "liuwan")
    ]
    assert GP + "first-secretaries" not in items


def test_groups_in_multi_village_people_by_hand() -> None:
    """The first secretaries: 松涛 by dispatch, 竹林 by the post in its branch (兼任 副书记)."""
    items = {i["person"]["id"]: i for i in x.multi_village_people(G)["items"]}
    assert _ties(items[GP + "first-secretaries"]) == [
        (DV + "baisha.songtao", "DISPATCHED_TO", "第一书记", None),
        (DV + "baisha.zhulin", "HOLDS_POST", "副书记", "branch:dongshi.songling.baisha.zhulin.party-branch"),
    ]
    # the talent team holds a post in 荷溪 and is dispatched to it: each village by both ties
    assert [(t[0], t[1]) for t in _ties(items[GQ + "talent-team"])] == [
        (XV + v, tie) for v in ("fengqiao", "hetang", "liuwan") for tie in ("DISPATCHED_TO", "HOLDS_POST")
    ]


def test_dispatches_by_hand() -> None:
    """Every dispatch into 东试省, by person or group id, then target id: the groups first (their
    size), 赵四's two (a township before a village), 钱五's to the county itself."""
    answer = x.dispatches(G, province="province:dongshi")
    assert [(i["person"]["id"], i["to"]["id"], i["size"], i["role"]) for i in answer["items"]] == [
        (GP + "agri-tech-team", DV + "qingmu.lizhuang", 12, "农技专家"),
        (GP + "agri-tech-team", DV + "qingmu.meiling", 12, "农技专家"),
        (GP + "first-secretaries", DV + "baisha.songtao", 2, "第一书记"),
        (P + "qian-wu", "county:dongshi.songling", None, "乡村振兴指导员"),
        (P + "wang-er", DV + "baisha.zhulin", None, "科技特派员"),
        (P + "wu-ba", DV + "qingmu.meiling", None, "第一书记"),
        (P + "zhang-yi", DV + "qingmu.taoyuan", None, "第一书记"),
        (P + "zhao-si", "township:dongshi.songling.qingmu", None, "农技专家"),
        (P + "zhao-si", DV + "qingmu.xingpo", None, "农技专家"),
        (P + "zheng-jiu", DV + "baisha.songtao", None, "农技专家"),
    ]
    assert {i["county"]["id"] for i in answer["items"]} == {"county:dongshi.songling"}
    # into 西试省: the talent team to an alliance, placed in 红溪镇, so in 柏川县; its size a range
    (team, *_) = x.dispatches(G, province="province:xishi")["items"]
    assert (team["to"]["id"], team["size"], team["county"]["id"]) == (HEXI, None, "county:xishi.bochuan")


def test_posts_with_a_status_by_hand() -> None:
    assert [(h["id"], h["role"], h["status"]) for h in x.alliance_tree(G, ZHUSONG)["people"]] == [
        (P + "qian-wu", "书记", "拟任")
    ]
    assert [(h["id"], h["role"], h["status"]) for h in x.alliance_tree(G, HEXI)["people"]] == [
        (GQ + "talent-team", "委员", "兼任"),
        (Q + "chen-shiyi", "委员", None),
    ]


FIXTURE_INSTANCES = {
    # concept -> the fixtures' local practice that is an instance of it
    "practice:joint-village-party-building": "practice:xishi.bochuan.joint-council",
    "practice:regular-meetings": "practice:dongshi.songling.weekly-meeting",
    "practice:branch-cooperative-farmers": "practice:dongshi.songling.branch-cooperative-farmers",
    "practice:one-plus-n": "practice:dongshi.songling.one-village-leads-three",
    "practice:eliminating-weak-villages": "practice:xishi.bochuan.strong-helps-weak",
    "practice:mentoring": "practice:dongshi.songling.old-leads-new",
}


@pytest.mark.parametrize("concept", FIXTURE_INSTANCES)
def test_each_practice_concept_has_a_fixture_instance(concept: str) -> None:
    (item,) = x.practices(G, id=concept)["items"]
    assert FIXTURE_INSTANCES[concept] in [i["id"] for i in item["instances"]]
    (local,) = x.practices(G, id=FIXTURE_INSTANCES[concept])["items"]
    assert [c["id"] for c in local["concepts"]] == [concept]


def test_practice_instances_and_parts_by_hand() -> None:
    """A concept's counties and alliances come from its instances' users too: 强村帮弱村 is used
    by 柏川县 itself and by 荷溪; 一村带三村 by 桃李 (placed in 青木镇); 老带新 by 梅岭村."""
    weak, one_n, mentoring = (
        x.practices(G, id=c)["items"][0]
        for c in ("practice:eliminating-weak-villages", "practice:one-plus-n", "practice:mentoring")
    )
    assert "county:xishi.bochuan" in [c["id"] for c in weak["counties"]]
    assert HEXI in [a["id"] for a in weak["alliances"]]
    assert TAOLI in [a["id"] for a in one_n["alliances"]]
    assert "county:dongshi.songling" in [c["id"] for c in mentoring["counties"]]
    (umbrella,) = x.practices(G, id="practice:dongshi.songling.three-ones")["items"]
    assert [p["id"] for p in umbrella["parts"]] == [
        "practice:dongshi.songling.old-leads-new",
        "practice:dongshi.songling.weekly-meeting",
    ]
    (part,) = x.practices(G, id="practice:dongshi.songling.weekly-meeting")["items"]
    assert [w["id"] for w in part["part_of"]] == ["practice:dongshi.songling.three-ones"]


def test_figures_by_hand() -> None:
    """From 2023 on: three of 2023 (an equal run, by id), then two of the article's own year,
    2024, where it gives none (year_stated false); a group's size has no county."""
    answer = x.figures(G, year_from=2023)
    assert [(q["id"].split(":", 1)[1], q["year"], q["year_stated"]) for q in answer["items"]] == [
        ("dongshi.songling.qingmu.lizhuang.collective-income-2023", 2023, True),
        ("dongshi.songling.qingmu.taoyuan.collective-income-2023", 2023, True),
        ("xishi.bochuan.weak-villages-2023", 2023, True),
        ("dongshi.songling.agri-tech-team.size", 2024, False),
        ("dongshi.songling.qingmu.meiling.collective-income", 2024, False),
    ]
    assert [q["county"] and q["county"]["id"] for q in answer["items"]] == [
        "county:dongshi.songling", "county:dongshi.songling", "county:xishi.bochuan", None,
        "county:dongshi.songling",
    ]  # fmt: skip
    taoyuan = x.village_profile(G, DV + "qingmu.taoyuan")["quantities"]
    assert [(q["measure"], q["year"]) for q in taoyuan if q["of"]["id"] == DV + "qingmu.taoyuan"] == [
        ("村集体经济收入", 2021), ("村集体经济收入", 2022), ("村集体经济收入", 2023)
    ]  # fmt: skip


def test_coverage_map_by_hand() -> None:
    """松岭县: 5 villages in an alliance (桃园 a member; 李庄, 杏坡, 竹林 by their branches; 松涛
    a member) and 6 with someone dispatched (李庄 only by the 农技 team, a group); 柏川县: 3 in
    荷溪 by the one rule and 沙坪 a member of ten village alliances, 2 with a person dispatched (the
    talent team's dispatch is to 荷溪 itself); 云岭县: none in an alliance, 石门 with its first
    secretary (listed for the dispatch alone)."""
    items = {i["county"]["id"]: i for i in x.coverage_map(G)["items"]}
    assert (items["county:dongshi.songling"]["province"], items["county:xishi.bochuan"]["province"]) == (
        "东试省", "西试省"
    )  # fmt: skip
    counts = {
        c: (items[c]["villages_in_alliance"], items[c]["villages_with_dispatched"])
        for c in ("county:dongshi.songling", "county:xishi.bochuan", "county:xishi.yunling")
    }
    assert counts == {
        "county:dongshi.songling": (5, 6),
        "county:xishi.bochuan": (4, 2),
        "county:xishi.yunling": (0, 1),
    }
