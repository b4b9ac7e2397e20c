"""The API's answer cache (api/cache.py) and the graph's data version (graph/version.py).

Bounded in entries and bytes, keyed by entry and validated parameters, and never serving an
answer past its bounds after the graph changed: a load through our loader, the regions loader
or the synthetic overlay changes the data version; the API reads it again at most every
RURALKG_CACHE_CHECK_MS and then answers from the graph.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from neo4j import Driver

from api.cache import OVERHEAD_BYTES, UNCHECKED, AnswerCache
from graph import version
from graph.connection import session
from graph.settings import REPO_ROOT, Settings
from loaders.load import collect_facts, curated_cases, load
from loaders.regions import load_regions, resolve_cases
from loaders.synthetic import SynthSpec, cases, facts_of_case, load_divisions, select
from loaders.writer import SourceWriter
from tests.conftest import serve_api

CHECK_MS = 300


def cache_of(**settings: object) -> AnswerCache:
    return AnswerCache(Settings.model_validate({"RURALKG_CACHE_CHECK_MS": 0, **settings}))


def version_of(cache: AnswerCache, value: str | None) -> str | None:
    async def read() -> str | None:
        return value

    version = asyncio.run(cache.version(read))
    assert version is not UNCHECKED
    return version  # type: ignore[return-value]


# -- the cache alone --------------------------------------------------------------------------


def test_least_recently_used_out_past_the_entry_bound() -> None:
    cache = cache_of(RURALKG_CACHE_ENTRIES=3)
    v = version_of(cache, "v1")
    for i in range(3):
        cache.put(("search", str(i)), v, b"x")
    assert cache.get(("search", "0"), v) == b"x"  # 0 is now the most recently used
    cache.put(("search", "3"), v, b"x")
    assert len(cache) == 3
    assert cache.get(("search", "1"), v) is None
    assert [cache.get(("search", k), v) for k in "023"] == [b"x", b"x", b"x"]


def test_the_memory_bound_counts_keys_and_bodies() -> None:
    cache = cache_of(RURALKG_CACHE_MB=0.01)  # 10,485 bytes
    v = version_of(cache, "v1")
    for i in range(100):
        cache.put(("search", f"{i:03d}"), v, b"b" * 300)
    per_entry = 300 + len("search") + 3 + OVERHEAD_BYTES
    assert len(cache) == cache.max_bytes // per_entry
    assert cache.size_bytes == len(cache) * per_entry <= cache.max_bytes
    # an answer over a sixteenth of the budget is sent, not kept
    cache.put(("search", "big"), v, b"b" * (cache.max_bytes // 16))
    assert cache.get(("search", "big"), v) is None


def test_a_new_version_empties_the_cache_and_old_answers_are_not_kept() -> None:
    cache = cache_of()
    v1 = version_of(cache, "v1")
    cache.put(("search", "a"), v1, b"old")
    assert version_of(cache, "v2") == "v2"
    assert len(cache) == 0 and cache.get(("search", "a"), "v2") is None
    cache.put(("search", "a"), v1, b"computed before the change")  # too late: not kept
    assert len(cache) == 0
    # a wiped graph has no version: that is a change too
    cache.put(("search", "a"), "v2", b"new")
    assert version_of(cache, None) is None and len(cache) == 0


def test_no_answer_outlives_the_ttl() -> None:
    cache = cache_of(RURALKG_CACHE_TTL=0.2)
    v = version_of(cache, "v1")
    cache.put(("search", "a"), v, b"x")
    assert cache.get(("search", "a"), v) == b"x"
    time.sleep(0.25)
    assert cache.get(("search", "a"), v) is None and len(cache) == 0


def test_the_version_is_read_once_per_interval_by_one_request() -> None:
    reads = 0

    async def read() -> str:
        nonlocal reads
        reads += 1
        await asyncio.sleep(0.05)
        return "v1"

    async def many(cache: AnswerCache) -> list[str | None]:
        return await asyncio.gather(*(cache.version(read) for _ in range(20)))

    cache = cache_of(RURALKG_CACHE_CHECK_MS=CHECK_MS)
    assert asyncio.run(many(cache)) == ["v1"] * 20
    assert reads == 1
    time.sleep(CHECK_MS / 1000)
    asyncio.run(cache.version(read))
    assert reads == 2


def test_a_version_that_cannot_be_read_is_unchecked_and_read_again() -> None:
    async def down() -> str:
        raise TimeoutError("the graph is frozen")

    cache = cache_of(RURALKG_CACHE_CHECK_MS=60_000)
    assert asyncio.run(cache.version(down)) is UNCHECKED
    assert version_of(cache, "v1") == "v1"  # not remembered as checked


def test_a_slow_read_leaves_requests_unchecked_and_goes_on_for_the_next() -> None:
    reads = 0

    async def slow() -> str:
        nonlocal reads
        reads += 1
        await asyncio.sleep(0.6)
        return "v1"

    async def scenario(cache: AnswerCache) -> tuple[object, float, object]:
        t0 = time.monotonic()
        first = await cache.version(slow)  # waits a quarter of a second at most
        waited = time.monotonic() - t0
        await asyncio.sleep(0.5)  # the read finishes meanwhile
        return first, waited, await cache.version(slow)

    first, waited, later = asyncio.run(scenario(cache_of(RURALKG_CACHE_CHECK_MS=60_000)))
    assert first is UNCHECKED and waited < 0.5
    assert later == "v1" and reads == 1


# -- every load changes the data version ----------------------------------------------------


def data_version(driver: Driver, settings: Settings) -> str | None:
    with session(driver, settings) as s:
        record = s.run(version.READ).single()
    return version.token_of(record["tokens"] if record else [])


@pytest.fixture
def reference_only(clean_graph: Driver, graph_settings: Settings, tmp_path: Path) -> Settings:
    """A graph with the curated reference data alone (no articles, no gazetteer)."""
    data = tmp_path / "data"
    (data / "reference").mkdir(parents=True)
    (data / "reference" / "regions.yaml").write_text(
        (REPO_ROOT / "data" / "reference" / "regions.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    settings = graph_settings.model_copy(update={"cases_dir": data})
    load(clean_graph, settings, collect_facts(settings))
    return settings


def test_every_kind_of_load_changes_the_version(
    driver: Driver, graph_settings: Settings, reference_only: Settings
) -> None:
    seen = [data_version(driver, graph_settings)]
    assert seen[0] is not None  # the reference load above
    load_regions(driver, reference_only, resolve_cases(curated_cases(reference_only)), within=["350925"])
    seen.append(data_version(driver, graph_settings))
    full = graph_settings.model_copy(update={"cases_dir": REPO_ROOT / "data"})
    load(driver, full, collect_facts(full))  # the articles
    seen.append(data_version(driver, graph_settings))
    spec = SynthSpec(seed=7, scale=0.001)
    selection = select(spec)
    load_divisions(driver, graph_settings, selection, {})  # the synthetic overlay's divisions
    seen.append(data_version(driver, graph_settings))
    SourceWriter(driver, graph_settings).sync(facts_of_case(next(iter(cases(spec, selection)))))
    seen.append(data_version(driver, graph_settings))
    # an explicit write transaction (the notebooks' `%%cypher --write`): when its session closes
    with session(driver, graph_settings, write=True) as s, s.begin_transaction() as tx:
        tx.run("MATCH (n:Entity {id: 'county:fujian.zhouning'}) SET n.note = 'x'").consume()
        tx.commit()
    seen.append(data_version(driver, graph_settings))
    assert len(set(seen)) == len(seen), seen
    # reading changes nothing
    assert data_version(driver, graph_settings) == seen[-1]


# -- through the API ------------------------------------------------------------------------


@pytest.fixture
def cached_api(reference_only: Settings) -> Iterator[httpx.Client]:
    settings = reference_only.model_copy(update={"cache_check_ms": CHECK_MS, "cache_ttl": 3600.0})
    with serve_api(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def search(client: httpx.Client, q: str) -> httpx.Response:
    resp = client.get("/search", params={"q": q})
    assert resp.status_code == 200, resp.text
    return resp


def test_repeated_questions_are_answered_from_the_cache(cached_api: httpx.Client) -> None:
    first = search(cached_api, "周宁")
    again = search(cached_api, "周宁")
    assert (first.headers["x-cache"], again.headers["x-cache"]) == ("miss", "hit")
    assert again.content == first.content and again.headers["content-type"] == "application/json"
    # the key is the validated parameters: the same question written differently is a hit,
    # another page is another question
    assert search(cached_api, "周宁").headers["x-cache"] == "hit"
    assert cached_api.get("/search", params={"q": "周宁", "offset": 0}).headers["x-cache"] == "hit"
    assert cached_api.get("/search", params={"q": "周宁", "limit": 1}).headers["x-cache"] == "miss"
    # errors are not kept
    for _ in range(2):
        resp = cached_api.get("/entities/village:no.such.place")
        assert resp.status_code == 404 and "x-cache" not in resp.headers


def test_a_load_is_seen_within_the_check_interval(
    cached_api: httpx.Client, driver: Driver, reference_only: Settings
) -> None:
    before = search(cached_api, "李墩镇")
    assert search(cached_api, "李墩镇").headers["x-cache"] == "hit"
    load_regions(driver, reference_only, resolve_cases(curated_cases(reference_only)), within=["350925"])
    time.sleep(CHECK_MS / 1000)  # the documented bound
    after = search(cached_api, "李墩镇")
    assert after.headers["x-cache"] == "miss"
    assert after.content != before.content
    assert any(hit["code"] == "350925104000" for hit in after.json()["items"]), after.json()
    assert search(cached_api, "李墩镇").content == after.content


def test_a_write_outside_our_loaders_is_seen_within_the_ttl(reference_only: Settings, driver: Driver) -> None:
    settings = reference_only.model_copy(update={"cache_check_ms": 0.0, "cache_ttl": 0.5})
    with serve_api(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        before = search(client, "周宁县")
        driver.execute_query(
            "MATCH (n:Entity) WHERE n.name = '周宁县' SET n.aliases = coalesce(n.aliases, []) + ['缓存测试']",
            database_=settings.neo4j_database,
        )
        time.sleep(0.5)
        after = search(client, "周宁县")
        assert after.headers["x-cache"] == "miss"
        assert after.content != before.content and "缓存测试" in after.text


def test_the_cache_can_be_turned_off(reference_only: Settings) -> None:
    settings = reference_only.model_copy(update={"cache_mb": 0.0})
    with serve_api(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert [search(client, "周宁").headers["x-cache"] for _ in range(2)] == ["off", "off"]
