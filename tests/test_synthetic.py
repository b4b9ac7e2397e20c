"""The synthetic overlay: deterministic, valid case files, the shapes the issue names."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from loaders.casefile import validate_cases
from loaders.facts import facts_of
from loaders.gazetteer import read_divisions
from loaders.synthetic import (
    Selection,
    SynthSpec,
    cases,
    facts_of_case,
    is_village,
    select,
    write_case,
)

SPEC = SynthSpec(seed=7, scale=0.001)


@pytest.fixture(scope="module")
def selection() -> Selection:
    return select(SPEC)


@pytest.fixture(scope="module")
def raws(selection: Selection) -> list[dict]:
    return list(cases(SPEC, selection))


def test_scale_covers_that_share_of_villages(selection: Selection) -> None:
    total = sum(1 for d in read_divisions() if is_village(d))
    assert total == 493_858
    assert SPEC.scale * total <= selection.villages < SPEC.scale * total + 2_000
    assert select(SynthSpec(seed=7, scale=0.001)) == selection
    assert select(SynthSpec(seed=8, scale=0.001)).counties != selection.counties
    with pytest.raises(ValueError, match="scale"):
        SynthSpec(scale=1.5)


def test_deterministic(selection: Selection, raws: list[dict]) -> None:
    assert list(cases(SPEC, selection)) == raws
    assert list(cases(SynthSpec(seed=8, scale=0.001), selection)) != raws


def test_case_files_validate_and_give_the_same_facts(raws: list[dict], tmp_path: Path) -> None:
    for raw in raws[:2]:
        case = validate_cases([write_case(raw, tmp_path)])[0]
        direct, parsed = facts_of_case(raw), facts_of(case)
        assert direct.entities == parsed.entities
        assert direct.relations == parsed.relations


def test_shapes(selection: Selection, raws: list[dict]) -> None:
    villages = 0
    for raw in raws:
        labels = {e["id"]: e["label"] for e in raw["entities"]}
        code = {e["id"]: e["id"].split(".")[-1] for e in raw["entities"] if e["label"] == "Village"}
        villages += len(code)
        based = {r["from"]: r["to"] for r in raw["relations"] if r["type"] == "BASED_IN"}
        assert sorted(based.values()) == sorted(code)  # a branch in every village
        members: dict[str, list[str]] = defaultdict(list)
        served: dict[str, list[str]] = defaultdict(list)
        for r in raw["relations"]:
            if r["type"] == "HAS_MEMBER" and labels[r["to"]] == "Branch":
                members[r["from"]].append(code[based[r["to"]]])
            if r["type"] == "DISPATCHED_TO":
                served[r["from"]].append(r["to"])
        townships = sorted({c[:9] for c in code.values()})
        for vs in members.values():
            assert 2 <= len(vs) <= 20
            spread = sorted({townships.index(c[:9]) for c in vs})
            assert spread[-1] - spread[0] <= 2  # one township or its neighbours
        assert all(1 <= len(vs) <= 5 for vs in served.values())
        sizes = sorted(len(vs) for vs in members.values())
        assert sizes[len(sizes) // 2] < sizes[-1]  # skewed: the median alliance is not the largest
    assert villages == selection.villages
