"""Hostile HTTP against the served API: huge and malformed bodies, odd strings, offsets past
32 bits, redirects, methods, malformed HTTP, docs assets, request ids, CORS."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from neo4j import Driver

from api.serving import OneWrite
from graph.settings import Settings
from tests.conftest import problem_of, serve_api

PROBLEM = "application/problem+json"
QINXI = "village:fujian.zhouning.lidun.qinxi"


def test_huge_string_bodies_are_refused_before_parsing(client: httpx.Client) -> None:
    big = json.dumps({"village": "v" * (17 << 20)})
    t0 = time.monotonic()
    for _ in range(5):
        problem_of(
            client.post("/queries/shared-experts", content=big, headers={"content-type": "application/json"}),
            413,
        )
    assert time.monotonic() - t0 < 10

    def chunks() -> Iterator[bytes]:  # no content-length: counted as it arrives
        yield b'{"village": "'
        for _ in range(64):
            yield b"v" * 65536
        yield b'"}'

    problem_of(
        client.post(
            "/queries/shared-experts", content=chunks(), headers={"content-type": "application/json"}
        ),
        413,
    )
    assert client.get("/health").status_code == 200


def test_long_strings_in_small_bodies_are_400_naming_the_field(client: httpx.Client) -> None:
    for route, field in (
        ("shared-experts", "village"),
        ("shared-experts", "province"),
        ("enterprise-reach", "id"),
        ("enterprise-reach", "kind"),
        ("practices", "id"),
        ("practices", "kind"),
        ("industry-clusters", "industry"),
    ):
        body = problem_of(client.post(f"/queries/{route}", json={field: "v" * 5000}), 400)
        assert body["errors"][0]["field"] == field  # type: ignore[index]


def test_many_unknown_keys_give_a_bounded_error_list(client: httpx.Client) -> None:
    body = {f"k{i}": 1 for i in range(5000)}
    resp = client.post("/queries/overview", json=body)
    problem = problem_of(resp, 400)
    assert len(problem["errors"]) <= 21 and len(resp.content) < 10_000  # type: ignore[arg-type]


def test_lone_surrogates_are_400(client: httpx.Client) -> None:
    raw = '{"village": "x\\ud800y"}'
    body = problem_of(
        client.post("/queries/shared-experts", content=raw, headers={"content-type": "application/json"}), 400
    )
    assert body["errors"][0]["field"] == "village"  # type: ignore[index]
    raw = '{"q": "\\udfff"}'
    problem_of(client.post("/queries/search", content=raw, headers={"content-type": "application/json"}), 400)


@pytest.mark.parametrize("offset", [2**31 - 1, 2**31, 2**32, 4294967296 + 1, 2**63, 2**64, 10**30])
def test_offsets_past_the_bound_are_400(client: httpx.Client, offset: int) -> None:
    for url, params in (
        ("/search", {"q": "村", "offset": offset}),
        ("/queries/practices", {"offset": offset}),
        (f"/entities/{QINXI}", {"offset": offset}),
    ):
        body = problem_of(client.get(url, params=params), 400)
        assert body["errors"][0]["field"] == "offset"  # type: ignore[index]
    problem_of(client.post("/queries/practices", json={"offset": offset}), 400)


def test_largest_offset_is_an_empty_page(client: httpx.Client) -> None:
    body = client.get("/search", params={"q": "村", "offset": 10_000_000}).json()
    assert body["items"] == [] and body["total"] > 0


def test_malformed_json_and_wrong_content_type_are_named(client: httpx.Client) -> None:
    body = problem_of(
        client.post("/queries/overview", content=b'{"a": ', headers={"content-type": "application/json"}), 400
    )
    assert body["errors"][0]["field"] == "(body)" and "malformed JSON" in str(body["detail"])  # type: ignore[index]
    body = problem_of(
        client.post(
            "/queries/overview", content=b"a=1", headers={"content-type": "application/x-www-form-urlencoded"}
        ),
        415,
    )
    assert "application/x-www-form-urlencoded" in str(body["detail"])
    assert client.post("/queries/overview").status_code == 200, "no body needs no content type"


def test_405_lists_every_method_of_the_path(client: httpx.Client) -> None:
    resp = client.request("OPTIONS", "/queries/overview")
    problem_of(resp, 405)
    assert set(resp.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    resp = client.delete("/search")
    problem_of(resp, 405)
    assert "GET" in resp.headers["allow"] and "POST" not in resp.headers["allow"]


def test_no_redirects(client: httpx.Client) -> None:
    resp = client.get("/search/", params={"q": "x"}, headers={"host": "evil.example"})
    problem_of(resp, 404)
    assert "location" not in resp.headers
    resp = client.get("/entities/village%2Ffujian.zhouning.lidun.qinxi")
    assert resp.status_code == 404 and "location" not in resp.headers
    resp = client.get(f"/entities/{QINXI}/")
    assert resp.status_code == 404 and "location" not in resp.headers


def test_malformed_http_is_aproblem_of(api_url: str) -> None:
    parts = urlsplit(api_url)
    for raw in (
        b"GET /health HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n",
        b"NOT A REQUEST\r\n\r\n",
        b"GET /he alth HTTP/1.1\r\nHost: x\r\n\r\n",
    ):
        with socket.create_connection((parts.hostname, parts.port), timeout=10) as s:
            s.sendall(raw)
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        head, _, payload = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400"), head
        assert b"content-type: application/problem+json" in head.lower()
        assert json.loads(payload)["status"] == 400


def _exchange(api_url: str, *parts: bytes) -> bytes:
    """Send `parts` one by one (the server reads each on its own); what it sends until it closes."""
    url = urlsplit(api_url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as s:
        for part in parts:
            s.sendall(part)
            time.sleep(0.05)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


def test_a_request_head_over_the_limit_is_a_problem(api_url: str) -> None:
    # Never finished: the head is refused once it passes the limit, not held in memory.
    big = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: "
    head, _, payload = _exchange(api_url, big, b"a" * 10_000, b"a" * 10_000).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), head
    assert b"content-type: application/problem+json" in head.lower()
    assert "larger than 16384 bytes" in json.loads(payload)["detail"]
    # A head under the limit, sent in pieces, is served; so is the next one on the connection.
    piece = b"X-Pad: " + b"a" * 4_000 + b"\r\n"
    data = _exchange(
        api_url,
        b"GET /queries HTTP/1.1\r\nHost: x\r\n",
        *([piece] * 3),
        b"\r\nGET /queries HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + piece * 3 + b"\r\n",
    )
    assert data.startswith(b"HTTP/1.1 200") and data.count(b"HTTP/1.1 200 OK\r\n") == 2, data[:300]


def test_docs_assets_are_served_by_us(client: httpx.Client) -> None:
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assert "cdn" not in html.lower() and "https://" not in html.split("<body")[0]
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/docs-assets/redoc.standalone.js").status_code == 200


def test_openapi_declares_problems_and_no_422(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            codes = set(op["responses"])
            assert "422" not in codes, (path, method)
            assert {"404", "503", "504"} <= codes, (path, method)
            if op.get("parameters") or op.get("requestBody"):
                assert "400" in codes
            assert op["responses"]["503"]["content"][PROBLEM]
    offset = next(p for p in spec["paths"]["/search"]["get"]["parameters"] if p["name"] == "offset")
    assert offset["schema"]["maximum"] == 10_000_000


def test_request_id_is_echoed_or_made(client: httpx.Client) -> None:
    resp = client.get("/search", params={"q": "芹溪"}, headers={"x-request-id": "abc-123"})
    assert resp.headers["x-request-id"] == "abc-123"
    resp = client.get("/entities/village:none", headers={"x-request-id": "bad id with spaces"})
    assert resp.headers["x-request-id"] != "bad id with spaces"
    assert resp.json()["request_id"] == resp.headers["x-request-id"]


def test_cors_closed_by_default_open_when_configured(
    client: httpx.Client, graph_settings: Settings, curated_graph: Driver
) -> None:
    preflight = {"origin": "https://analyst.example", "access-control-request-method": "GET"}
    resp = client.get("/search", params={"q": "芹溪"}, headers={"origin": "https://analyst.example"})
    assert "access-control-allow-origin" not in resp.headers
    settings = graph_settings.model_copy(update={"cors_origins": ["https://analyst.example"]})
    with serve_api(settings) as url, httpx.Client(base_url=url, timeout=30) as c:
        resp = c.options("/search", headers=preflight)
        assert resp.headers["access-control-allow-origin"] == "https://analyst.example"
        resp = c.get("/search", params={"q": "芹溪"}, headers={"origin": "https://other.example"})
        assert "access-control-allow-origin" not in resp.headers


def test_health_answers_while_bad_bodies_are_validated(client: httpx.Client, api_url: str) -> None:
    body = {f"k{i}": [1, 2, 3] for i in range(3000)}
    stop = threading.Event()

    def hammer() -> None:
        with httpx.Client(base_url=api_url, timeout=30) as c:
            while not stop.is_set():
                c.post("/queries/overview", json=body)

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        worst = 0.0
        for _ in range(10):
            t0 = time.monotonic()
            assert client.get("/queries").status_code == 200
            worst = max(worst, time.monotonic() - t0)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert worst < 1.0


def test_slow_queries_are_logged_with_entry_and_duration(
    graph_settings: Settings, curated_graph: Driver, caplog: pytest.LogCaptureFixture
) -> None:
    settings = graph_settings.model_copy(update={"slow_query_ms": 0.0})
    with serve_api(settings) as url, httpx.Client(base_url=url, timeout=30) as c:
        assert c.get("/queries/overview").status_code == 200
    slow = [r for r in caplog.records if getattr(r, "entry", None) == "overview"]
    assert slow and slow[0].ms >= 0 and "slow query overview" in slow[0].getMessage()  # type: ignore[attr-defined]


@pytest.mark.parametrize("limit", ["5", False, 5.5])
def test_json_body_integers_are_integers(client: httpx.Client, limit: object) -> None:
    """A JSON body is strict: "5" and false are not integers (a query string's "5" is)."""
    body = problem_of(client.post("/queries/shared-experts", json={"limit": limit}), 400)
    assert body["errors"][0]["field"] == "limit"  # type: ignore[index]


@pytest.mark.parametrize("flag", [0, 1, "true"])
def test_json_body_booleans_are_booleans(client: httpx.Client, flag: object) -> None:
    """0 and "true" are not booleans in a JSON body (a query string's "true" is)."""
    body = problem_of(client.post("/queries/practices", json={"concepts": flag}), 400)
    assert body["errors"][0]["field"] == "concepts"  # type: ignore[index]
    assert client.post("/queries/practices", json={"concepts": True}).status_code == 200
    assert client.get("/queries/practices", params={"concepts": "true"}).status_code == 200


def test_json_body_integral_float_is_an_integer(client: httpx.Client) -> None:
    assert client.post("/queries/shared-experts", json={"limit": 5.0}).status_code == 200
    assert client.get("/queries/shared-experts", params={"limit": "5"}).status_code == 200


def test_deep_json_is_400_before_parsing(client: httpx.Client) -> None:
    # 2,000 nested lists once raised RecursionError in json.loads: a 500 without a key
    deep = b"[" * 2000 + b"]" * 2000
    for path, body in (
        ("/queries/shared-experts", b'{"village": ' + deep + b"}"),
        ("/queries/shared-experts", deep),
        ("/cypher", b'{"query": "RETURN $x", "params": {"x": ' + b"[" * 900 + b"]" * 900 + b"}}"),
    ):
        resp = client.post(path, content=body, headers={"content-type": "application/json"})
        problem = problem_of(resp, 400)
        assert "deep" in str(problem["detail"]), problem


def test_lone_surrogate_checks_do_not_recurse() -> None:
    from queries.catalog import has_lone_surrogate

    nested: object = "\ud800"
    for _ in range(5000):
        nested = [nested]
    assert has_lone_surrogate(nested) and not has_lone_surrogate([[["ok"]]])


def test_401_names_the_scheme(graph_settings: Settings, curated_graph: Driver) -> None:
    from pydantic import SecretStr

    settings = graph_settings.model_copy(update={"api_keys": [SecretStr("k" * 32)]})
    with serve_api(settings) as url, httpx.Client(base_url=url, timeout=30) as c:
        resp = c.post("/cypher", json={"query": "RETURN 1"})
        problem_of(resp, 401)
        assert resp.headers["www-authenticate"].startswith("ApiKey")


def test_invalid_utf8_in_a_query_string_is_400(client: httpx.Client) -> None:
    for query in ("q=%FF%FE", "q=%C3", "q=ok&label=%ED%A0%80"):
        problem_of(client.get(f"/search?{query}"), 400)
    assert client.get("/search?q=%E8%8A%B9%E6%BA%AA").status_code == 200  # 芹溪


def test_busy_analyst_slots_say_when_to_retry(graph_settings: Settings, curated_graph: Driver) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from pydantic import SecretStr

    key = "b" * 32
    settings = graph_settings.model_copy(
        update={"api_keys": [SecretStr(key)], "cypher_concurrency": 1, "cypher_timeout": 10.0}
    )
    slow = {"query": "UNWIND range(1, 3000) AS a UNWIND range(1, 3000) AS b RETURN count(*) AS n"}
    with (
        serve_api(settings) as url,
        httpx.Client(base_url=url, timeout=30, headers={"X-API-Key": key}) as c,
        ThreadPoolExecutor(4) as pool,
    ):
        answers = list(pool.map(lambda _: c.post("/cypher", json=slow), range(4)))
    busy = [a for a in answers if a.status_code == 503]
    assert busy, [a.status_code for a in answers]
    for resp in busy:
        assert problem_of(resp, 503)["type"] == "/problems/busy"
        assert int(resp.headers["retry-after"]) > 0


class _Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


def test_a_response_goes_out_in_one_write() -> None:
    """The head waits for the body's first bytes; an interim 100 Continue and the answer to HEAD
    do not wait; a close writes what is held first."""
    sent = _Transport()
    one = OneWrite(sent, "GET")  # type: ignore[arg-type]
    for data in (b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\n", b"body", b"more"):
        one.write(data)
    assert sent.writes == [b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\nbody", b"more"]
    sent = _Transport()
    OneWrite(sent, "HEAD").write(b"HTTP/1.1 200 OK\r\n\r\n")  # type: ignore[arg-type]
    assert sent.writes == [b"HTTP/1.1 200 OK\r\n\r\n"]
    sent = _Transport()
    one = OneWrite(sent, "GET")  # type: ignore[arg-type]
    one.write(b"HTTP/1.1 500 Internal Server Error\r\n\r\n")
    one.close()
    assert sent.writes == [b"HTTP/1.1 500 Internal Server Error\r\n\r\n"] and sent.closed
