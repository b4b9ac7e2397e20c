"""The mutation check's bookkeeping (bench/mutants.py), without running it: what `make mutants`
reads must match the catalog as it is now, or its next run reports the wrong survivors."""

from __future__ import annotations

import pytest

from bench.mutants import EQUIVALENT, FILES, HEAD_TESTS, ONLY_SECTIONS, SECTION_TESTS, plant
from graph.settings import REPO_ROOT

SOURCES = {f: (REPO_ROOT / f).read_text(encoding="utf-8") for f in FILES}
MUTANTS = [m for f in FILES for m in plant(f, SOURCES[f])]


def test_every_equivalent_names_a_mutant_planted_now() -> None:
    """A key whose literal has changed is stale: its reason must be read again."""
    keys = {m.key(SOURCES[m.file]) for m in MUTANTS}
    assert set(EQUIVALENT) <= keys, sorted(set(EQUIVALENT) - keys)


def test_every_mutant_has_answer_tests() -> None:
    for m in MUTANTS:
        assert SECTION_TESTS.get(m.section) if m.section else HEAD_TESTS.get(m.file), m.id(SOURCES[m.file])
        assert m.file not in ONLY_SECTIONS or m.section in ONLY_SECTIONS[m.file]


@pytest.mark.parametrize("file", FILES)
def test_a_mutant_keeps_its_key_when_lines_move_above_it(file: str) -> None:
    source = SOURCES[file]
    moved = "# a comment\n" * 3 + source
    before = [m.key(source) for m in plant(file, source)]
    after = [m.key(moved) for m in plant(file, moved)]
    assert before == after and len(set(before)) == len(before)
