"""The loader against a real graph: round trip, idempotence, sync, atomicity, dry run."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from neo4j import Driver

from graph.settings import Settings
from graph.text import search_key
from loaders.casefile import CaseValidationError
from loaders.load import SourceLoadError, collect_facts, load
from tests.graphdump import edges_by_key, mentions, nodes_by_id, snapshot

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"
ZHOUNING = DATA / "cases" / "2022-zhouning.yaml"


def _raw_files() -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(DATA.rglob("*.yaml"))]


def _copy_data(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


def _settings_for(graph_settings: Settings, cases_dir: Path) -> Settings:
    return graph_settings.model_copy(update={"cases_dir": cases_dir})


def _load(driver: Driver, settings: Settings, *paths: Path, **kw: Any) -> Any:
    return load(
        driver, settings, collect_facts(settings, paths, driver=driver, prune=kw.pop("prune", False)), **kw
    )


def test_every_curated_fact_is_in_the_graph(clean_graph: Driver, graph_settings: Settings) -> None:
    settings = _settings_for(graph_settings, DATA)
    _load(clean_graph, settings)
    nodes = nodes_by_id(clean_graph, settings)
    edges = edges_by_key(clean_graph, settings)
    said = mentions(clean_graph, settings)

    for doc in _raw_files():
        src = doc["source"]["id"]
        assert "Source" in nodes[src]["labels"]
        assert nodes[src]["title"] == doc["source"]["title"]
        if doc["source"].get("date"):
            assert str(nodes[src]["date"]) == str(doc["source"]["date"])
        for e in doc.get("entities", []):
            node = nodes[e["id"]]
            assert node["labels"] == {"Entity", e["label"]}
            for key, value in e.items():
                if key == "aliases":
                    assert set(value) <= set(node["aliases"])
                    assert set(value) <= set(said[(src, e["id"])]["aliases"])
                elif key == "evidence":
                    assert said[(src, e["id"])]["evidence"] == value
                elif key != "label":
                    assert node[key] == value, (e["id"], key)
            assert src in node["sources"]
        for q in doc.get("quantities", []):
            node = nodes[q["id"]]
            assert node["labels"] == {"Entity", "Quantity"}
            assert (node["measure"], node["unit"]) == (q["measure"], q["unit"])
            # a range (qualifier range) has min and max and no value; the others a value only
            assert [node.get(k) for k in ("value", "min", "max")] == [
                q.get(k) for k in ("value", "min", "max")
            ]
            assert node.get("year") == q.get("year")
            assert node["qualifier"] == q.get("qualifier", "exact")
            assert said[(src, q["id"])]["evidence"] == q["evidence"]
            edge = edges[("HAS_QUANTITY", q["subject"], q["id"])]
            assert edge["evidence"][edge["sources"].index(src)] == q["evidence"]
        for r in doc.get("relations", []):
            edge = edges[(r["type"], r["from"], r["to"])]
            assert src in edge["sources"]
            assert edge["evidence"][edge["sources"].index(src)] == r["evidence"]
            for key in ("role", "level", "since", "note"):
                assert edge.get(key) == r.get(key), (r, key)


def test_search_keys_cover_names_aliases_pinyin(clean_graph: Driver, graph_settings: Settings) -> None:
    settings = _settings_for(graph_settings, DATA)
    _load(clean_graph, settings, DATA / "cases" / "2020-tiantai.yaml")
    node = nodes_by_id(clean_graph, settings)["village:zhejiang.tiantai.longxi.hanyan"]
    assert node["name"] == "寒岩村" and "寒巖村" in node["aliases"]
    assert node["pinyin"] == "han yan cun"
    assert node["search"] == search_key([node["name"], *node["aliases"]])
    assert "|hanyancun|" in node["search"] and "|寒岩村|" in node["search"]


def test_loading_twice_gives_the_same_graph(clean_graph: Driver, graph_settings: Settings) -> None:
    settings = _settings_for(graph_settings, DATA)
    first = _load(clean_graph, settings)
    state = snapshot(clean_graph, settings)
    second = _load(clean_graph, settings)
    assert snapshot(clean_graph, settings) == state
    assert all(p.source_new for p in first)
    assert all(p.unchanged for p in second)


def test_batch_size_does_not_change_the_result(clean_graph: Driver, graph_settings: Settings) -> None:
    settings = _settings_for(graph_settings, DATA)
    _load(clean_graph, settings)
    state = snapshot(clean_graph, settings)
    clean_graph.execute_query("MATCH (n) DETACH DELETE n", database_=settings.neo4j_database)
    _load(clean_graph, settings.model_copy(update={"batch_size": 7}))
    assert snapshot(clean_graph, settings) == state


def _edit(path: Path, change: Any) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_reload_syncs_removals_scoped_to_the_source(
    clean_graph: Driver, graph_settings: Settings, tmp_path: Path
) -> None:
    data = _copy_data(tmp_path)
    settings = _settings_for(graph_settings, data)
    _load(clean_graph, settings)
    before_nodes = nodes_by_id(clean_graph, settings)
    case = data / "cases" / "2022-zhouning.yaml"
    src = "source:2022-08-15.zhouning"
    person = "person:fujian.zhouning.chen-jianfu"
    county = "county:fujian.zhouning"
    assert {src, "source:reference.admin-divisions"} <= set(before_nodes[county]["sources"])

    def change(doc: dict[str, Any]) -> None:
        doc["entities"] = [e for e in doc["entities"] if e["id"] not in (person, county)]
        doc["relations"] = [r for r in doc["relations"] if county not in (r["from"], r["to"])]
        doc["relations"] = [r for r in doc["relations"] if person not in (r["from"], r["to"])]
        doc["quantities"] = [q for q in doc.get("quantities", []) if q["subject"] not in (person, county)]
        # what only the county and the person tied in is left out too, as `ruralkg check` asks
        used = {r[k] for r in doc["relations"] for k in ("from", "to")} | {
            q["subject"] for q in doc["quantities"]
        }
        doc["entities"] = [e for e in doc["entities"] if e["id"] in used]
        for e in doc["entities"]:
            if e["id"] == "village:fujian.zhouning.lidun.qinxi":
                e["aliases"] = [*e.get("aliases", []), "芹溪行政村"]

    _edit(case, change)
    plans = _load(clean_graph, settings, case)
    assert person in plans[0].entities.removed and person in plans[0].orphaned
    assert county in plans[0].entities.removed and county not in plans[0].orphaned

    nodes = nodes_by_id(clean_graph, settings)
    edges = edges_by_key(clean_graph, settings)
    assert person not in nodes, "named only by the edited source: gone"
    assert not [k for k in edges if person in k]
    assert nodes[county]["sources"] == ["source:reference.admin-divisions"], "another source still names it"
    assert ("LOCATED_IN", county, "city:fujian.ningde") in edges
    assert not [k for k, p in edges.items() if src in p.get("sources", []) and county in k]
    assert "芹溪行政村" in nodes["village:fujian.zhouning.lidun.qinxi"]["aliases"]
    other = "village:zhejiang.tiantai.longxi.huangshui"
    assert nodes[other] == before_nodes[other], "other sources' facts are untouched"


def test_prune_removes_a_source_whose_file_is_gone(
    clean_graph: Driver, graph_settings: Settings, tmp_path: Path
) -> None:
    data = _copy_data(tmp_path)
    settings = _settings_for(graph_settings, data)
    _load(clean_graph, settings)
    (data / "cases" / "2019-fenyang-yudaohe.yaml").unlink()
    _load(clean_graph, settings, prune=True)
    nodes = nodes_by_id(clean_graph, settings)
    assert "source:2019-12-10.fenyang-yudaohe" not in nodes
    assert not [i for i in nodes if i.startswith(("village:shanxi", "alliance:shanxi"))]
    assert "county:shanxi.fenyang" in nodes, "the reference file still names it"
    assert "industry:potato" not in nodes


class InjectedFailure(RuntimeError):
    pass


def _fail_after(n: int) -> Any:
    seen = 0

    def on_batch(count: int) -> None:
        nonlocal seen
        seen += count
        if seen >= n:
            raise InjectedFailure(f"failure injected after {seen} batches")

    return on_batch


def test_a_failure_half_way_leaves_the_source_as_it_was(
    clean_graph: Driver, graph_settings: Settings, tmp_path: Path
) -> None:
    data = _copy_data(tmp_path)
    settings = _settings_for(graph_settings, data).model_copy(update={"batch_size": 5})
    case = data / "cases" / "2022-zhouning.yaml"
    _load(clean_graph, settings)
    before = snapshot(clean_graph, settings)

    _edit(case, lambda doc: doc.update(relations=doc["relations"][5:], entities=doc["entities"]))
    facts = collect_facts(settings, [case])
    with pytest.raises(InjectedFailure):
        load(clean_graph, settings, facts, on_batch=_fail_after(12))
    assert snapshot(clean_graph, settings) == before

    load(clean_graph, settings, facts)
    assert snapshot(clean_graph, settings) != before


def test_a_failure_on_first_load_writes_nothing_of_that_source(
    clean_graph: Driver, graph_settings: Settings
) -> None:
    settings = _settings_for(graph_settings, DATA).model_copy(update={"batch_size": 5})
    first, second = DATA / "cases" / "2020-tiantai.yaml", ZHOUNING
    _load(clean_graph, settings, first)
    before = snapshot(clean_graph, settings)
    with pytest.raises(InjectedFailure):
        load(clean_graph, settings, collect_facts(settings, [second]), on_batch=_fail_after(20))
    assert snapshot(clean_graph, settings) == before


def test_dry_run_reports_and_writes_nothing(
    clean_graph: Driver, graph_settings: Settings, tmp_path: Path
) -> None:
    data = _copy_data(tmp_path)
    settings = _settings_for(graph_settings, data)
    case = data / "cases" / "2022-zhouning.yaml"
    _load(clean_graph, settings, case)
    before = snapshot(clean_graph, settings)

    def change(doc: dict[str, Any]) -> None:
        doc["entities"][0]["aliases"] = ["某别名"]
        removed = doc["quantities"].pop()
        doc["quantities"].append({**removed, "id": removed["id"] + "-new"})

    _edit(case, change)
    (plan,) = _load(clean_graph, settings, case, dry_run=True)
    assert snapshot(clean_graph, settings) == before
    assert plan.entities.changed == [yaml.safe_load(case.read_text())["entities"][0]["id"]]
    assert len(plan.quantities.added) == 1 and len(plan.quantities.removed) == 1
    assert len(plan.relations.added) == 1 and len(plan.relations.removed) == 1


def test_invalid_files_write_nothing_and_report_everything(
    clean_graph: Driver, graph_settings: Settings, tmp_path: Path
) -> None:
    data = _copy_data(tmp_path)
    settings = _settings_for(graph_settings, data)
    _load(clean_graph, settings)
    before = snapshot(clean_graph, settings)

    def break_it(doc: dict[str, Any]) -> None:
        doc["entities"][0]["evidence"] = ""
        doc["relations"][0]["to"] = "village:nowhere.at-all"

    _edit(data / "cases" / "2022-zhouning.yaml", break_it)
    _edit(data / "cases" / "2020-tiantai.yaml", lambda doc: doc["source"].update(date="2020-02-30"))
    with pytest.raises(CaseValidationError) as info:
        _load(clean_graph, settings)
    assert len(info.value.errors) == 3
    assert snapshot(clean_graph, settings) == before


def test_a_source_the_graph_refuses_is_named_and_left_as_it_was(
    clean_graph: Driver, graph_settings: Settings
) -> None:
    settings = _settings_for(graph_settings, DATA)
    db = settings.neo4j_database
    # A node made by hand with a village's id but another label: the loader's MERGE does not
    # match it and the graph-wide id constraint refuses a second node with that id.
    clean_graph.execute_query(
        "CREATE (:Entity:Industry {id: 'village:fujian.zhouning.lidun.qinxi', name: '手工'})", database_=db
    )
    first = DATA / "cases" / "2020-tiantai.yaml"
    before = snapshot(clean_graph, settings)
    with pytest.raises(SourceLoadError) as info:
        load(clean_graph, settings, collect_facts(settings, [first, ZHOUNING]))
    assert info.value.source_id == "source:2022-08-15.zhouning"
    assert "nothing of it was written" in str(info.value)
    assert [p.source_id for p in info.value.loaded] == ["source:2020-07-08.tiantai-longxi"]
    nodes = nodes_by_id(clean_graph, settings)
    assert "source:2020-07-08.tiantai-longxi" in nodes and "source:2022-08-15.zhouning" not in nodes
    assert not [i for i in nodes if i.startswith("person:fujian")]
    assert before != snapshot(clean_graph, settings)
