"""Mutation check of the query catalog: do the answer tests fail when the Cypher is wrong?

    make mutants          # = .venv/bin/python -m bench.mutants

Plants one mutant at a time in a copy of queries/ (an order flipped, a DISTINCT dropped, a
relationship reversed, paging off by one, a bound loosened, a UNION branch, an OR term or a
term of a list concatenation removed), and runs the catalog answer tests of the entry it lies
in (tests/test_catalog_answers.py, selected by name) with the copy first on the path. A mutant
is killed when a test fails. One local server for the whole run, loaded once with data/ and
the fixture cases (the tests are told so by `--graph-loaded`); the unmutated copy must pass
first, so a kill is the mutant's doing. Mutants are planted only inside string literals that
are not docstrings: the Cypher text and the pieces it is built from.

Survivors listed in EQUIVALENT are explained there (why no graph can tell them from the
original); any other survivor is a gap in the tests. The report (Markdown) goes to stdout and,
with --out, to a file.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from graph.connection import open_driver, resolve_target
from graph.local_server import USERNAME, serving
from graph.settings import REPO_ROOT, Settings, get_settings
from loaders.load import collect_facts, load

FILES = ("queries/analysis.py", "queries/explore.py", "queries/regions.py")
TESTS = REPO_ROOT / "tests" / "test_catalog_answers.py"
FIXTURE_CASES = REPO_ROOT / "tests" / "fixtures" / "cases"
RUN_TIMEOUT = 600  # seconds for one mutant's tests: a runaway query counts as killed

# The section headers of the query modules (`# -- name ---`) -> the tests of that entry (-k).
SECTION_TESTS = {
    "shared-experts": "shared_experts",
    "villages per person (shared-experts, multi-village-people)": "shared_experts or multi_village",
    "dispatches": "dispatches",
    "alliance-tree": "alliance_tree",
    "village-profile": "village_profile",
    "enterprise-reach": "enterprise_reach",
    "multi-village-people": "multi_village",
    "industry-clusters": "industry_clusters",
    "practices": "practice",
    "figures": "figures",
    "overview": "overview or expected_graph",
    "sources": "sources",
    "search": "search",
    "search: the places a query names": "search",
    "one entity": "entity",
    "neighbourhood": "neighborhood",
    "paths": "path",
    "coverage-map": "coverage_map",
}
# Files whose mutants are planted in these sections only: region and region-coverage answer
# over the official divisions, and their answer tests (tests/test_regions.py) need a divisions
# load, not this graph; the head of regions.py serves them too.
ONLY_SECTIONS = {"queries/regions.py": {"coverage-map"}}
# Helpers above the first section serve several entries.
HEAD_TESTS = {
    "queries/analysis.py": (
        "shared_experts or village_profile or enterprise_reach or industry_clusters or overview"
        " or dispatches or figures or practice or sources"
    ),
    "queries/explore.py": "search or entity or neighborhood or path",
}

# Survivors shown to give the same answer as the original on every graph, by Mutant.key (file,
# entry, rule, and a hash of the string literal before and after: `--list` prints each key).
_KEPT_PAGES = "queries/analysis.py [villages per person (shared-experts, multi-village-people)]"
_KEPT_RANGES = (
    "the kept pages: `$keys_from` and `$keys_below` are bare rank prefixes (graph.rules.rank_prefix, "
    "digits alone) and every kept key is a prefix, a space and an id (rank_key), so no key equals "
    "either and"
)
EQUIVALENT: dict[str, str] = {
    # `WITH DISTINCT p` after the dispatches
    "queries/analysis.py [shared-experts] DISTINCT dropped 1f24eaad3ab9": (
        "shared-experts: a person dispatched twice comes twice out of `WITH p`, but the next step "
        "groups by p again (`WITH p, collect(DISTINCT v.id)`), so the rows and the count are the same"
    ),
    # `WITH DISTINCT p` after the CALL { ... UNION ... }
    "queries/analysis.py [shared-experts] DISTINCT dropped 9b21257ec6f4": (
        "shared-experts for one village: the UNION (not UNION ALL) in the CALL already returns each "
        "person once for the one village, and the next step groups by p as well"
    ),
    # enterprise-reach's bound statement, `e.id >= ''` (there only to make it an index range)
    "queries/analysis.py [enterprise-reach] bound loosened 40ad612cf59a": (
        "enterprise-reach: `e.id > ''` holds for the same enterprises as `e.id >= ''`: graph.model "
        "refuses an empty id (ID_PATTERN), so no id equals ''"
    ),
    # dispatches' bound statement per label, `p.id >= ''` (there only to make it an index range)
    "queries/analysis.py [dispatches] bound loosened 71f1137041ae": (
        "dispatches: `p.id > ''` holds for the same people as `p.id >= ''`: graph.model refuses an "
        "empty id (ID_PATTERN), so no id equals ''"
    ),
    # the kept pages' closed ranges of keys (shared-experts, multi-village-people)
    f"{_KEPT_PAGES} bound loosened 9b703aeb6091": f"{_KEPT_RANGES} `>` holds for the same keys as `>=`",
    f"{_KEPT_PAGES} bound loosened 8cfde1dd7fb7": f"{_KEPT_RANGES} `<=` holds for the same keys as `<`",
    f"{_KEPT_PAGES} bound loosened 0d35bc856e84": f"{_KEPT_RANGES} `>` holds for the same keys as `>=`",
    # `collect(DISTINCT {region ref})`
    "queries/analysis.py [village-profile] DISTINCT dropped 85ce19e361e3": (
        "village-profile: a region reached by two LOCATED_IN paths comes twice, but the answer's "
        "regions go through queries.models.refs, which keeps each id once"
    ),
    # `WITH DISTINCT f` in a layer
    "queries/explore.py [neighbourhood] DISTINCT dropped e47fe7f417c1": (
        "neighborhood: a node twice in a layer's starting points steps to the same nodes twice; "
        "the layers are then unwound and grouped by node (`WITH m, min(distance)`), so each node "
        "comes once, at its first layer"
    ),
    # SEARCH_PLACE: `RETURN DISTINCT d.id`
    "queries/explore.py [search: the places a query names] DISTINCT dropped 13e37739b983": (
        "search, the places a query names: the keys are distinct strings (the query and each suffix, "
        "the pinyin suffixes deduplicated) matched by equality on one string property, so a place "
        "matches one key at most and no id comes twice"
    ),
    # SEARCH_PLACE_CONTENTS: `collect(DISTINCT w)`
    "queries/explore.py [search: the places a query names] DISTINCT dropped edba0ac9f825": (
        "search, what lies in a place: a node reached twice (two LOCATED_IN paths, or two opened "
        "places) comes twice in `within`, but `RETURN DISTINCT p` keeps each person once and "
        "`WITH DISTINCT n` keeps each node once before counting and ordering"
    ),
    # SEARCH_PLACE_CONTENTS: `RETURN DISTINCT p` in the people's COLLECT
    "queries/explore.py [search: the places a query names] DISTINCT dropped e313e5443ea8": (
        "search, what lies in a place: a person serving two nodes in it comes twice, but "
        "`WITH DISTINCT n` keeps each once before counting and ordering"
    ),
    # SEARCH_PLACE_CONTENTS: `WITH DISTINCT n`
    "queries/explore.py [search: the places a query names] DISTINCT dropped d7f36f6b7309": (
        "search, what lies in a place: `within` and `people` are each distinct already, and no "
        "Person lies in a place (graph.model allows no LOCATED_IN from a Person), so their "
        "concatenation holds each node once"
    ),
    # coverage-map: `(c)-[:LOCATED_IN*0..2]->(p:Province)`
    "queries/regions.py [coverage-map] bound loosened 39fc35f10d36": (
        "coverage-map: the zero-hop path binds p to the county itself, never a Province"
    ),
    # `MATCH ()-[r]->()` to `MATCH ()<-[r]-()`
}


@dataclass(frozen=True)
class Mutant:
    file: str
    line: int
    rule: str
    start: int
    end: int
    new: str
    section: str
    literal: tuple[int, int]  # the string literal it lies in: (start, end) offsets

    def id(self, source: str) -> str:
        before = " ".join(source[self.start : self.end].split())
        after = " ".join(self.new.split())
        return f"{self.file}:{self.line} {self.rule}: `{before[:70]}` -> `{after[:70]}`"

    def key(self, source: str) -> str:
        """What EQUIVALENT knows the mutant by: its entry, its rule and a hash of the string
        literal it lies in before and after the change. Line numbers move with every edit above;
        this changes only when the literal itself does (when the reason must be read again)."""
        a, b = self.literal
        original = source[a:b]
        mutated = original[: self.start - a] + self.new + original[self.end - a :]
        digest = hashlib.sha256(f"{original}\0{mutated}".encode()).hexdigest()[:12]
        return f"{self.file} [{self.section or 'head'}] {self.rule} {digest}"


# -- planting ---------------------------------------------------------------------------------


def _string_spans(source: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the string literals that are not docstrings or bare strings."""
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    spans: list[tuple[int, int]] = []
    previous = tokenize.NEWLINE
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.STRING and previous not in (
            tokenize.NEWLINE,
            tokenize.INDENT,
            tokenize.DEDENT,
        ):
            start = offsets[tok.start[0] - 1] + tok.start[1]
            end = offsets[tok.end[0] - 1] + tok.end[1]
            spans.append((start, end))
        if tok.type not in (tokenize.NL, tokenize.COMMENT):
            previous = tok.type
    return spans


_OPEN, _CLOSE = "([{", ")]}"


def _match_forward(text: str, i: int) -> int:
    """The offset just past the bracket that closes the one at i."""
    depth = 0
    for j in range(i, len(text)):
        if text[j] in _OPEN:
            depth += 1
        elif text[j] in _CLOSE:
            depth -= 1
            if depth == 0:
                return j + 1
    return -1


def _match_backward(text: str, i: int) -> int:
    """The offset of the bracket that opens the one closing at i."""
    depth = 0
    for j in range(i, -1, -1):
        if text[j] in _CLOSE:
            depth += 1
        elif text[j] in _OPEN:
            depth -= 1
            if depth == 0:
                return j
    return -1


_OPERAND = re.compile(r"[\w$]")
_STOP_WORDS = re.compile(r"\b(WHERE|AND|OR|WHEN|THEN|ELSE|WITH|RETURN|NOT)\s*$")


def _operand_bounds(text: str, at: int, forward: bool) -> int:
    """Where the boolean operand next to an OR ends (forward) or starts (backward)."""
    depth = 0
    if forward:
        j = at
        while j < len(text):
            c = text[j]
            if c in _OPEN:
                depth += 1
            elif c in _CLOSE:
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and re.match(r"\s+(AND|OR|THEN|WITH|RETURN|ORDER)\b|\s*\n", text[j:]):
                break
            j += 1
        return j
    j = at
    while j > 0:
        c = text[j - 1]
        if c in _CLOSE:
            depth += 1
        elif c in _OPEN:
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and _STOP_WORDS.search(text[:j]):
            break
        j -= 1
    while j < at and text[j].isspace():
        j += 1
    return j


def _plant_in(text: str) -> Iterator[tuple[str, int, int, str]]:
    """(rule, start, end, replacement) within one string literal's text."""
    for m in re.finditer(r"ORDER BY ([^\n\"]+?)(?= SKIP| LIMIT|\n|\"|$)", text):
        keys, offset, depth, start = m.group(1), m.start(1), 0, 0
        parts: list[tuple[int, int]] = []
        for i, c in enumerate(keys):
            depth += c in "([{"
            depth -= c in ")]}"
            if c == "," and depth == 0:
                parts.append((start, i))
                start = i + 1
        parts.append((start, len(keys)))
        for a, b in parts:
            key = keys[a:b].strip()
            a = offset + a + (len(keys[a:b]) - len(keys[a:b].lstrip()))
            if key.endswith(" DESC"):
                yield "order flipped", a, a + len(key), key[: -len(" DESC")]
            else:
                yield "order flipped", a, a + len(key), key + " DESC"
    for m in re.finditer(r"DISTINCT ", text):
        yield "DISTINCT dropped", m.start(), m.end(), ""
    for m in re.finditer(r"(?<=[)])-\[([^\]\n]*)\]->(?=\()", text):
        yield "relationship reversed", m.start(), m.end(), f"<-[{m.group(1)}]-"
    for m in re.finditer(r"(?<=[)])<-\[([^\]\n]*)\]-(?=\()", text):
        yield "relationship reversed", m.start(), m.end(), f"-[{m.group(1)}]->"
    for m in re.finditer(r"(SKIP|LIMIT) \$(offset|limit)\b", text):
        yield "paging off by one", m.start(), m.end(), m.group(0) + " + 1"
    for m in re.finditer(r"LIMIT \$end\b", text):
        yield "paging off by one", m.start(), m.end(), "LIMIT $end - 1"
    for m in re.finditer(r"\[0\.\.\$limit\]", text):
        yield "paging off by one", m.start(), m.end(), "[0..$limit + 1]"
    for m in re.finditer(r" (>=|<=|>|<) ", text):
        loosened = {">=": ">", "<=": "<", ">": ">=", "<": "<="}[m.group(1)]
        yield "bound loosened", m.start(), m.end(), f" {loosened} "
    for m in re.finditer(r"\*1\.\.", text):
        yield "bound loosened", m.start(), m.end(), "*0.."
    for m in re.finditer(r"\n[ \t]*UNION( ALL)?[ \t]*\n", text):
        opening = text.rfind("{", 0, m.start())
        closing = text.find("}", m.end())
        first_line = text.find("\n", opening) + 1
        last_line = text.rfind("\n", 0, closing)
        yield "UNION branch removed", first_line, m.end(), ""
        yield "UNION branch removed", m.start(), last_line, ""
    for m in re.finditer(r"\s+OR\s+", text):
        left = _operand_bounds(text, m.start(), forward=False)
        right = _operand_bounds(text, m.end(), forward=True)
        if _OPERAND.search(text[left : m.start()]) and _OPERAND.search(text[m.end() : right]):
            yield "OR term removed", left, m.end(), ""
            yield "OR term removed", m.start(), right, ""
    for m in re.finditer(r"\+\s*(COLLECT\s*)?[\[{]", text):
        bracket = m.end() - 1
        end = _match_forward(text, bracket)
        if end > 0:
            yield "list term removed", m.start(), end, ""
        before = m.start() - 1
        while before >= 0 and text[before].isspace():
            before -= 1
        if before >= 0 and text[before] in "]}":
            first = _match_backward(text, before)
            ahead = first - 1
            while ahead >= 0 and text[ahead].isspace():
                ahead -= 1
            # a list of its own, not an index or slice of what stands before it
            if first >= 0 and (ahead < 0 or (text[ahead] not in "+_)]" and not text[ahead].isalnum())):
                yield "list term removed", first, m.end() - 1, ""


def _sections(source: str) -> list[tuple[int, str]]:
    return [(m.start(), m.group(1)) for m in re.finditer(r"^# -- (.+?) -+$", source, re.M)]


def plant(file: str, source: str) -> list[Mutant]:
    sections = _sections(source)
    seen: set[str] = set()
    mutants: list[Mutant] = []
    for s, e in _string_spans(source):
        for rule, a, b, new in _plant_in(source[s:e]):
            start, end = s + a, s + b
            mutated = source[:start] + new + source[end:]
            if mutated == source or mutated in seen:
                continue
            seen.add(mutated)
            section = next((name for at, name in reversed(sections) if at < start), "")
            if file in ONLY_SECTIONS and section not in ONLY_SECTIONS[file]:
                continue
            line = source.count("\n", 0, start) + 1
            mutants.append(Mutant(file, line, rule, start, end, new, section, (s, e)))
    return mutants


# -- running ----------------------------------------------------------------------------------


def _tests_for(m: Mutant) -> str:
    return SECTION_TESTS[m.section] if m.section else HEAD_TESTS[m.file]


# Packages that import the catalog (or are it): imported afresh, from the copy, for each run.
_FRESH = ("queries", "api", "tests", "ruralkg")
# -o pythonpath=: pyproject's `pythonpath = ["."]` would put the repo's queries/ first.
PYTEST_ARGS = [
    "-x", "-q", "--no-header", "-p", "no:cacheprovider", "--import-mode=append", "-o", "pythonpath="
]  # fmt: skip


def _warm_up() -> None:
    """Import once, before the runs fork, what every run needs and no mutant changes: the web
    stack, the driver, pytest, and the search keys of every name (graph.text caches them)."""
    import httpx  # noqa: F401
    import pytest  # noqa: F401

    import api.app  # noqa: F401  (fastapi, uvicorn's config, pydantic models)
    import tests.expected

    tests.expected.with_fixtures()
    for name in [m for m in sys.modules if m.split(".")[0] in _FRESH]:
        del sys.modules[name]


def _fork_tests(copy: Path, env: dict[str, str], selection: str) -> tuple[int, int]:
    """Start the selected answer tests with the copy first on the path, in a child forked from
    this warmed-up process (a fresh interpreter spent most of a run importing): its pid, and
    the pipe its report's last line comes through."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the copy's queries, the repo's tests, then pytest in-process
        os.close(read)
        code = 3
        try:
            os.environ.update(env)
            get_settings.cache_clear()
            os.chdir(copy)
            sys.path.insert(0, str(copy))
            signal.alarm(RUN_TIMEOUT)  # a runaway query counts as a kill
            out = io.StringIO()
            import pytest

            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                code = int(pytest.main([str(TESTS), *PYTEST_ARGS, "--graph-loaded", "-k", selection]))
            lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
            os.write(write, (lines[-1] if lines else "").encode())
        finally:
            os._exit(code)
    os.close(write)
    return pid, read


def _outcome(status: int, read: int) -> tuple[bool, str]:
    """(passed, the report's last line) of a child that has ended with this wait status."""
    with os.fdopen(read, encoding="utf-8", errors="replace") as pipe:
        tail = pipe.read()
    if os.WIFSIGNALED(status):
        tail = f"ended by signal {os.WTERMSIG(status)} (timed out)"
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, tail


def _run_tests(copy: Path, env: dict[str, str], selection: str) -> tuple[bool, float, str]:
    started = time.perf_counter()
    pid, read = _fork_tests(copy, env, selection)
    _, status = os.waitpid(pid, 0)
    passed, tail = _outcome(status, read)
    return passed, time.perf_counter() - started, tail


def _check_copy_is_used(copy: Path, env: dict[str, str]) -> None:
    """A copy of queries/ that cannot be imported must fail the tests: they import the copy."""
    init = copy / "queries" / "__init__.py"
    original = init.read_text(encoding="utf-8")
    init.write_text('raise ImportError("the mutation check\'s canary")\n', encoding="utf-8")
    try:
        passed, _, tail = _run_tests(copy, env, SECTION_TESTS["shared-experts"])
    finally:
        init.write_text(original, encoding="utf-8")
    assert not passed, f"the tests did not import the copy of queries/ ({tail})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="only mutants whose id or key matches this regex")
    parser.add_argument("--out", type=Path, help="also write the report here")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once")
    args = parser.parse_args(argv)

    sources = {f: (REPO_ROOT / f).read_text(encoding="utf-8") for f in FILES}
    mutants = [
        m
        for f in FILES
        for m in plant(f, sources[f])
        if re.search(args.only, m.id(sources[f])) or re.search(args.only, m.key(sources[f]))
    ]
    if args.list:
        for m in mutants:
            print(f"[{m.section or 'head'}] {m.id(sources[m.file])}  ({m.key(sources[m.file])})")
        print(f"{len(mutants)} mutants")
        return 0

    started_at, load_avg = dt.datetime.now(dt.UTC), os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="ruralkg-mutants-") as tmp:
        settings = Settings(RURALKG_DATA_DIR=Path(tmp) / "graph", RURALKG_CASES_DIR=REPO_ROOT / "data")
        with serving(settings) as state:
            driver = open_driver(resolve_target(settings), settings)
            try:
                load(driver, settings, collect_facts(settings, [REPO_ROOT / "data", FIXTURE_CASES]))
            finally:
                driver.close()
            env = {
                **os.environ,
                "NEO4J_URI": state.uri,
                "NEO4J_USERNAME": USERNAME,
                "NEO4J_PASSWORD": state.password,
            }
            _warm_up()
            copies = [Path(tmp) / f"copy{k}" for k in range(args.jobs)]
            for copy in copies:
                shutil.copytree(REPO_ROOT / "queries", copy / "queries")
            _check_copy_is_used(copies[0], env)
            passed, seconds, tail = _run_tests(copies[0], env, " or ".join(sorted({*SECTION_TESTS.values()})))
            assert passed, f"the unmutated copy fails its tests: {tail}"
            print(f"baseline: passed in {seconds:.0f} s; {len(mutants)} mutants", file=sys.stderr)
            results = _run_mutants(mutants, sources, copies, env)
    report = _report(results, sources, started_at, load_avg)
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")
    return 0


def _run_mutants(
    mutants: list[Mutant], sources: dict[str, str], copies: list[Path], env: dict[str, str]
) -> list[tuple[Mutant, bool, float, str]]:
    """Each mutant in a copy of its own while it runs, as many at once as there are copies."""
    todo = list(enumerate(mutants, 1))
    free = list(copies)
    running: dict[int, tuple[int, Mutant, Path, int, float]] = {}
    results: list[tuple[Mutant, bool, float, str]] = []
    while todo or running:
        while todo and free:
            i, m = todo.pop(0)
            copy = free.pop()
            original = sources[m.file]
            (copy / m.file).write_text(original[: m.start] + m.new + original[m.end :], encoding="utf-8")
            pid, read = _fork_tests(copy, env, _tests_for(m))
            running[pid] = (i, m, copy, read, time.perf_counter())
        pid, status = os.wait()
        if pid not in running:
            continue
        i, m, copy, read, started = running.pop(pid)
        passed, tail = _outcome(status, read)
        seconds = time.perf_counter() - started
        (copy / m.file).write_text(sources[m.file], encoding="utf-8")
        free.append(copy)
        results.append((m, not passed, seconds, tail))
        verdict = "killed" if not passed else "SURVIVED"
        print(f"{i}/{len(mutants)} {verdict} ({seconds:.0f} s) {m.id(sources[m.file])}", file=sys.stderr)
    return sorted(results, key=lambda r: mutants.index(r[0]))


def _report(
    results: list[tuple[Mutant, bool, float, str]],
    sources: dict[str, str],
    started_at: dt.datetime,
    load_avg: tuple[float, float, float],
) -> str:
    killed = sum(1 for _, k, _, _ in results if k)
    survivors = [m for m, k, _, _ in results if not k]
    explained = [m for m in survivors if m.key(sources[m.file]) in EQUIVALENT]
    total = len(results)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
    ).stdout.strip()
    lines = [
        f"## Mutation check, {started_at:%Y-%m-%d %H:%M} UTC",
        "",
        f"Commit {commit}, `python -m bench.mutants`, load average at the start "
        f"{load_avg[0]:.2f} {load_avg[1]:.2f} {load_avg[2]:.2f}, "
        f"{sum(s for _, _, s, _ in results) / 60:.0f} min of test runs.",
        "",
        f"**{killed} of {total} mutants killed ({100 * killed / max(total, 1):.1f}%)**; "
        f"{len(explained)} of the {len(survivors)} survivors are equivalent (below), "
        f"so {killed} of {total - len(explained)} non-equivalent mutants are killed "
        f"({100 * killed / max(total - len(explained), 1):.1f}%).",
        "",
        "| rule | planted | killed |",
        "|---|---|---|",
    ]
    rules = sorted({m.rule for m, _, _, _ in results})
    for rule in rules:
        of_rule = [k for m, k, _, _ in results if m.rule == rule]
        lines.append(f"| {rule} | {len(of_rule)} | {sum(of_rule)} |")
    lines += ["", "Survivors:", ""]
    for m in survivors:
        key = m.key(sources[m.file])
        reason = f"  \n  equivalent: {EQUIVALENT[key]}" if key in EQUIVALENT else ""
        lines.append(f"- {m.id(sources[m.file])}  \n  key `{key}`{reason}")
    if not survivors:
        lines.append("- none")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
