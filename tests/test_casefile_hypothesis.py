"""Hypothesis against the loader's validation: a real case file, broken at random (fields
removed, values of any type, unknown keys, records duplicated, raw text). Every broken record
is a clear error naming the file (and the record), never a crash; a file that fails writes
nothing to the graph."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neo4j import Driver

from graph.settings import Settings
from loaders.casefile import CaseValidationError, validate_cases
from loaders.load import collect_facts, load
from tests.conftest import REPO
from tests.graphdump import fingerprint

CASE = REPO / "data" / "cases" / "2022-zhouning.yaml"
BASE: dict[str, Any] = yaml.safe_load(CASE.read_text(encoding="utf-8"))
SECTIONS = ("entities", "relations", "quantities")
REQUIRED = {
    "entities": ("id", "label", "name", "evidence"),
    "relations": ("type", "from", "to", "evidence"),
    "quantities": ("id", "subject", "measure", "value", "unit", "evidence"),
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.dates().map(str),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)


def _check(data: Any) -> list[str]:
    """Validate `data` written as a YAML file: [] when valid, else the errors (each must name
    the file and say something)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case.yaml"
        text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        try:
            validate_cases([path])
        except CaseValidationError as exc:
            assert exc.errors
            for err in exc.errors:
                assert err.file == path and err.message.strip() and err.record
                assert str(path) in str(err)
            return [str(e) for e in exc.errors]
    return []


def _round_trips(key: str) -> bool:
    return bool(yaml.safe_load(yaml.safe_dump({key: 0}, allow_unicode=True)) == {key: 0})


@st.composite
def broken_record(draw: st.DrawFn) -> tuple[dict[str, Any], str, int, str, str | None, bool]:
    """A case with one record broken: (data, section, index, how, the field broken or None for
    the whole record, whether it must be refused)."""
    data = copy.deepcopy(BASE)
    section = draw(st.sampled_from(SECTIONS))
    index = draw(st.integers(0, len(data[section]) - 1))
    record = data[section][index]
    action = draw(st.sampled_from(["drop", "retype", "unknown", "replace"]))
    field: str | None = None
    must_fail = True
    if action == "drop":
        # a range's `value` is absent already: only the fields the record has
        field = draw(st.sampled_from([f for f in REQUIRED[section] if f in record]))
        record.pop(field)
    elif action == "retype":
        field = draw(st.sampled_from(sorted(record)))
        record[field] = draw(values.filter(lambda v: v != record[field]))
        # no field takes a mapping, and a required one no null; other values may fit the field
        must_fail = isinstance(record[field], dict) or (record[field] is None and field in REQUIRED[section])
    elif action == "unknown":
        # a key the YAML file gives back as it is (a dump folds some line breaks into spaces)
        field = draw(st.text(min_size=1, max_size=12).filter(lambda k: k not in record and _round_trips(k)))
        record[field] = draw(values)
    else:
        data[section][index] = draw(values)
    return data, section, index, action, field, must_fail


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broken_record())
def test_broken_records_are_named_errors(
    case: tuple[dict[str, Any], str, int, str, str | None, bool],
) -> None:
    """Each kind of broken record is refused with an error naming the file, the record and, for a
    field dropped, added or given a value it cannot take, the field."""
    data, section, index, action, field, must_fail = case
    errors = _check(data)  # each error names the file
    record = f": {section}[{index}]"
    named = [e for e in errors if record in e]
    if not must_fail:  # a value the field may take: if refused, said of this record's field
        # the field, or an item of it (`aliases.0`)
        assert all(f"`{field}`" in e or f"`{field}." in e for e in named), named
        return
    assert named, f"{action} {section}[{index}] {field!r}: not refused with the record named: {errors}"
    if field is not None:  # as the field (field `x`), or in the message of a rule over several
        said = any(f"`{field}`" in e or f"`{field}." in e for e in named)
        assert said, f"{action}: the field is not named: {named}"


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.sampled_from(["source", *SECTIONS, "extra"]), values, max_size=5))
def test_broken_files_are_named_errors(data: dict[str, Any]) -> None:
    assert _check(data), "a file of random sections must not validate"


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_an_error_or_a_file(text: str) -> None:
    _check(text)


def _quoted(text: str) -> str:
    """Any text as a one-line YAML double-quoted scalar that reads back as the same text (a
    YAML dump may fold it over lines; JSON's escapes split characters beyond the BMP)."""
    plain = set(map(chr, range(0x20, 0x7F))) - {'"', "\\"}
    escaped = (
        c if c in plain else f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}" for c in text
    )
    return '"' + "".join(escaped) + '"'


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 200), st.text(min_size=1, max_size=8))
def test_duplicate_keys_are_errors_with_the_line(where: int, junk: str) -> None:
    lines = CASE.read_text(encoding="utf-8").splitlines()
    keyed = [i for i, line in enumerate(lines) if line.startswith("    name: ")]
    at = keyed[where % len(keyed)]
    lines.insert(at + 1, "    name: " + _quoted(junk))
    errors = _check("\n".join(lines) + "\n")
    assert any(f":{at + 2}:" in e and "duplicate key" in e for e in errors), errors


@pytest.fixture(scope="module")
def loaded(curated_graph: Driver) -> Driver:
    return curated_graph


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.sampled_from(SECTIONS), st.integers(0, 1000), st.data())
def test_a_broken_file_writes_nothing(
    loaded: Driver,
    graph_settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
    section: str,
    index: int,
    data: st.DataObject,
) -> None:
    broken = copy.deepcopy(BASE)
    record = broken[section][index % len(broken[section])]
    # a required field the record holds (a quantity of a range has no `value`)
    record.pop(data.draw(st.sampled_from([f for f in REQUIRED[section] if f in record])))
    cases = tmp_path_factory.mktemp("cases")
    (cases / "2022-zhouning.yaml").write_text(yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8")
    settings_ = graph_settings.model_copy(update={"cases_dir": cases})
    before = fingerprint(loaded, graph_settings)
    with pytest.raises(CaseValidationError):
        load(loaded, settings_, collect_facts(settings_))
    assert fingerprint(loaded, graph_settings) == before


def test_a_shared_entity_declared_otherwise_names_the_field() -> None:
    """Found by the test above: a shared entity without its listed `name_en` was refused with
    the record named but not the field."""
    data = copy.deepcopy(BASE)
    i, entity = next((i, e) for i, e in enumerate(data["entities"]) if e["id"] == "industry:rabbit-farming")
    entity.pop("name_en")
    errors = _check(data)
    assert len(errors) == 1 and f": entities[{i}] " in errors[0] and "`name_en` differs" in errors[0], errors
