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
    # 王二's third village (枫桥, through a project) lies in the other province
    assert _people(x.shared_experts(G, province="province:dongshi")) == [
        P + "zhang-yi", P + "qian-wu", P + "wang-er", P + "wu-ba", P + "zheng-jiu"
    ]  # fmt: skip
    assert _people(x.shared_experts(G, province="province:xishi")) == [Q + "li-san", Q + "zhou-qi"]
    # 梅岭: 张一 only through the tea project he leads
    assert _people(x.shared_experts(G, village="village:dongshi.songling.qingmu.meiling")) == [
        P + "zhang-yi", P + "wu-ba"
    ]  # fmt: skip


def test_multi_village_people_by_hand() -> None:
    """孙六 4; 张一 3 direct; 冯十 3 through an alliance post (a member village, two member
    branches); 陈十一 3 from 4 ties (枫桥 through his branch and through the alliance)."""
    answer = x.multi_village_people(G, min_villages=3)
    counts = {i["person"]["id"]: len({v["id"] for v in i["villages"]}) for i in answer["items"]}
    assert {k: v for k, v in counts.items() if k.startswith((P, Q))} == {
        P + "sun-liu": 4, P + "feng-shi": 3, P + "zhang-yi": 3, Q + "chen-shiyi": 3
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
