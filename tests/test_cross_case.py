"""Questions asked across the five cases, answered through the catalog (issue 18).

Each expected answer is written by hand from the five articles in ../shared/sources/, not
computed from the curated files or the graph: it is what a reader of the articles says, so a
sixth case written in the same model would be found the same way. Where an article names no
one (周宁's 46 cadres by kind, 晨晓菊's four villages) the answer says what the catalog can
hold: a group, or a figure.
"""

from __future__ import annotations

from typing import Any

import httpx

PAGED = {"dispatches", "practices", "enterprise-reach", "figures"}


def query(client: httpx.Client, name: str, params: dict[str, Any] | None = None) -> Any:
    """One catalog answer; a paged entry's whole list (every one here is far below 500)."""
    resp = client.get(
        f"/queries/{name}", params={**({"limit": 500} if name in PAGED else {}), **(params or {})}
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_the_counties_where_someone_is_dispatched(client: httpx.Client) -> None:
    # 周宁: 陈建福 and 朱俊平 (省派第一书记), 刘谦 (县派科技特派员), the 46 下派干部 by kind;
    # 江口: 53 农技专家 to the industrial dams; 慈利: 16 驻村工作队 and 17 第一书记;
    # 天台: the alliance's 人才队伍 (第一书记、农村指导员、科技特派员、返乡大学生).
    # 汾阳's 池立波 is proposed for a post (拟选派), not dispatched.
    items = query(client, "dispatches")["items"]
    assert {i["county"]["name"] for i in items} == {"周宁县", "江口县", "慈利县", "天台县"}
    first_secretaries = {
        i["county"]["name"] for i in query(client, "dispatches", {"role": "第一书记"})["items"]
    }
    assert first_secretaries == {"周宁县", "慈利县"}
    # groups are told from people by their label, and carry their size where the article counts it
    experts = [i for i in items if i["role"] == "农技专家"]
    assert [(i["person"]["label"], i["size"], i["to"]["name"]) for i in experts] == [
        ("Group", 53, "产业大坝")
    ]
    named = {i["person"]["name"] for i in items if i["person"]["label"] == "Person"}
    assert named == {"陈建福", "朱俊平", "刘谦"}


def test_the_concepts_used_in_two_or_more_counties(client: httpx.Client) -> None:
    # 联村党建: 周宁 (联村党建), 汾阳 (联村共建), 天台 (片区党建联盟), 慈利 (联村抱团);
    # weekly/monthly cadences: 周宁 (一周一例会), 天台 (一周一对比、一月一排名), 慈利 (周督促+月提示);
    # 党支部+合作社+农户: 江口 (党支部+合作社+企业+农户), 汾阳 (党组织+合作社+农村);
    # 1+N: 汾阳 (“1+N”捆绑带动), 天台 (1+5+10+N); 消薄: 天台 (消薄任务), 慈利 (薄弱村减半);
    # mentoring: 周宁 (导师帮带示范服务站), 慈利 (导师帮带“一对一”).
    concepts = query(client, "practices", {"concepts": "true"})["items"]
    shared = {
        c["practice"]["name"]: {county["name"] for county in c["counties"]}
        for c in concepts
        if len(c["counties"]) >= 2
    }
    assert shared == {
        "联村党建": {"周宁县", "汾阳市", "天台县", "慈利县"},
        "定期例会": {"周宁县", "天台县", "慈利县"},
        "党支部+合作社+农户": {"江口县", "汾阳市"},
        "1+N": {"汾阳市", "天台县"},
        "消除集体经济薄弱村": {"天台县", "慈利县"},
        "导师帮带": {"周宁县", "慈利县"},
    }
    joint = next(c for c in concepts if c["practice"]["name"] == "联村党建")
    assert {i["name"] for i in joint["instances"]} >= {"片区党建联盟", "一大核,八小核"}
    assert "寒山片区党建联盟" in {a["name"] for a in joint["alliances"]}


def test_the_cooperatives_that_serve_several_villages(client: httpx.Client) -> None:
    # 汾阳: the 万宝山 union takes in the joint villages' entities and cooperatives, and villagers of
    # 交口、古池、任家庄 are mobilised into the potato cooperative. 周宁's 晨晓菊 union grew to four
    # villages the article does not name: a figure, not a list.
    served: dict[str, set[str]] = {}
    for kind in ("cooperative", "cooperative-union"):
        for item in query(client, "enterprise-reach", {"kind": kind})["items"]:
            villages = {v["name"] for v in item["villages"]}
            if len(villages) >= 2:
                served[item["enterprise"]["name"]] = villages
    three = {"交口村", "古池村", "任家庄村"}
    assert served == {"万宝山联村经济发展联合社": three, "联村马铃薯专业合作社": three}
    union = query(client, "figures", {"of": "enterprise:fujian.zhouning.limen.chenxiaoju-union"})["items"]
    assert [(f["value"], f["unit"]) for f in union] == [(4, "个")]


def test_a_figure_over_two_years(client: httpx.Client) -> None:
    # Village collective income: 天台 龙溪乡 2019, each village 10万元 total (消薄 standard);
    # 江口 2021, each of 105 villages 8万元 or more.
    figures = query(client, "figures", {"measure": "集体经济"})["items"]
    income = {
        (f["year"], f["value"], f["county"]["name"], f["year_stated"])
        for f in figures
        if f["unit"] == "元"
        and "收入" in f["measure"]
        and not any(w in f["measure"] for w in ("经营性", "增收"))
    }
    assert income == {(2019, 100000, "天台县", True), (2021, 80000, "江口县", True)}
    assert [f["year"] for f in figures] == sorted(f["year"] for f in figures)


def test_the_alliance_secretaries(client: httpx.Client) -> None:
    # 汾阳: 镇党委拟选派党委委员池立波担任联村党总支书记 (proposed); 周宁's 联村党组织 secretary is a
    # township committee member the article does not name; no other alliance names its secretary.
    secretaries = set()
    alliances = query(client, "search", {"q": "联", "label": "Alliance", "limit": 100})
    assert alliances["total"] == 4
    for alliance in alliances["items"]:
        tree = query(client, "alliance-tree", {"id": alliance["id"]})
        secretaries |= {(tree["name"], p["name"], p["status"]) for p in tree["people"] if p["role"] == "书记"}
    assert secretaries == {("万宝山联村党总支", "池立波", "拟任")}
    # the same post, found from the village side
    profile = query(client, "village-profile", {"id": "village:shanxi.fenyang.yudaohe.jiaokou"})
    assert {(p["name"], p["role"]) for p in profile["people"] if p["tie"] == "HOLDS_POST"} == {
        ("池立波", "书记")
    }
