"""A load of the official divisions records how far it is with each batch, and one cut short
resumes after its last committed batch to the same graph as a load never interrupted."""

from __future__ import annotations

from pathlib import Path

import pytest
from neo4j import Driver

from graph.settings import Settings
from loaders.load import collect_facts, curated_cases, load
from loaders.regions import LoadProgress, load_regions, needs_load, read_progress, resolve_cases
from tests.graphdump import snapshot
from tests.test_cli_load import run_cli

REPO = Path(__file__).resolve().parent.parent
ZHOUNING, TIANTAI = "350925", "331023"


class Killed(Exception):
    pass


@pytest.fixture
def settings(graph_settings: Settings) -> Settings:
    return graph_settings.model_copy(update={"cases_dir": REPO / "data"})


def _curated(driver: Driver, settings: Settings) -> None:
    driver.execute_query("MATCH (n) DETACH DELETE n", database_=settings.neo4j_database)
    load(driver, settings, collect_facts(settings))


def test_a_load_cut_short_resumes_to_the_same_graph(clean_graph: Driver, settings: Settings) -> None:
    driver = clean_graph
    resolution = resolve_cases(curated_cases(settings))
    _curated(driver, settings)
    assert needs_load(driver, settings, [ZHOUNING])
    committed: list[int] = []

    def kill_after_five(n: int) -> None:
        progress = read_progress(driver, settings)
        assert progress is not None
        committed.append(progress.done)
        if len(committed) == 5:
            raise Killed

    with pytest.raises(Killed):
        load_regions(driver, settings, resolution, within=[ZHOUNING], batch_size=20, on_rows=kill_after_five)
    # batches of one level each: the province, the city, the county, 9 townships, 20 villages
    assert committed == [1, 2, 3, 12, 32]
    assert read_progress(driver, settings) == LoadProgress((ZHOUNING,), 159, 32, "create", "loading")
    assert needs_load(driver, settings, [ZHOUNING])

    plans: list[LoadProgress] = []
    report = load_regions(
        driver, settings, resolution, within=[ZHOUNING], batch_size=20, on_start=plans.append
    )
    assert plans == [LoadProgress((ZHOUNING,), 159, 32, "create", "loading")]
    assert report.rows == 159 - 32
    assert read_progress(driver, settings) == LoadProgress((ZHOUNING,), 159, 159, "create", "done")
    assert not needs_load(driver, settings, [ZHOUNING]) and not needs_load(driver, settings, ["350925104"])
    assert needs_load(driver, settings, [TIANTAI]) and needs_load(driver, settings)
    resumed = snapshot(driver, settings)

    _curated(driver, settings)
    load_regions(driver, settings, resolution, within=[ZHOUNING])
    assert snapshot(driver, settings) == resumed
    # a reload merges over what is there and changes nothing
    load_regions(driver, settings, resolution, within=[ZHOUNING])
    assert read_progress(driver, settings) == LoadProgress((ZHOUNING,), 159, 159, "merge", "done")
    assert snapshot(driver, settings) == resumed


def test_a_first_load_without_the_cases_creates_the_curated_places_too(
    clean_graph: Driver, settings: Settings
) -> None:
    """Into a graph holding nothing, the divisions curated places resolve to are created under
    their curated ids (their cases may be loaded later), with every edge to a parent."""
    report = load_regions(clean_graph, settings, resolve_cases(curated_cases(settings)), within=[ZHOUNING])
    assert report.rows == 159
    db = settings.neo4j_database
    ids = {
        r["id"]
        for r in clean_graph.execute_query(
            "MATCH (n:Entity) WHERE n.code IS NOT NULL RETURN n.id AS id", database_=db
        ).records
    }
    assert len(ids) == 159 and {"county:fujian.zhouning", "village:fujian.zhouning.lidun.qinxi"} <= ids
    edges = clean_graph.execute_query(
        "MATCH (c:Entity)-[l:LOCATED_IN]->(:Entity) WHERE c.code IS NOT NULL RETURN count(l) AS n",
        database_=db,
    ).records[0]["n"]
    assert edges == 158  # every division but the province
    assert read_progress(clean_graph, settings) == LoadProgress((ZHOUNING,), 159, 159, "create", "done")


def test_regions_load_takes_several_codes(clean_graph: Driver, settings: Settings) -> None:
    _curated(clean_graph, settings)
    status = run_cli(settings, "regions", "status")
    assert status.returncode == 3 and "official divisions: not loaded" in status.stdout
    loaded = run_cli(settings, "regions", "load", "--within", ZHOUNING, TIANTAI, "--quiet")
    # 159 rows under 周宁 and 413 under 天台 (the file's own counts, each with its ancestors)
    assert loaded.returncode == 0 and loaded.stdout.startswith("official divisions loaded: 572 rows"), loaded
    status = run_cli(settings, "regions", "status")
    assert (status.returncode, status.stdout) == (
        0,
        f"official divisions under {TIANTAI}, {ZHOUNING}: 572 loaded\n",
    )
    again = run_cli(settings, "regions", "load", "--within", ZHOUNING, "--if-needed", "--quiet")
    assert (again.returncode, again.stdout) == (0, "")
