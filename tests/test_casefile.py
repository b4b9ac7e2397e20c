"""Validation of case files: each kind of error, named by file, line, record and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from loaders.casefile import CaseError, CaseValidationError, discover, validate_cases

REPO = Path(__file__).resolve().parent.parent

HEADER = """\
source:
  id: source:2022-01-01.test
  file: test.txt
  title: 测试文章
  publisher: 测试报
  date: 2022-01-01
"""

GOOD_BODY = """\
entities:
  - id: county:fujian.zhouning
    label: County
    name: 周宁县
    name_en: Zhouning
    division: 县
    aliases: [周宁]
    evidence: 周宁县积极推动
  - id: village:fujian.zhouning.lidun.qinxi
    label: Village
    name: 芹溪村
    evidence: 芹溪、际头、楼坪三个村
relations:
  - type: LOCATED_IN
    from: village:fujian.zhouning.lidun.qinxi
    to: county:fujian.zhouning
    evidence: 周宁县李墩镇
quantities:
  - id: quantity:fujian.zhouning.cadres
    subject: county:fujian.zhouning
    measure: 下派干部人数
    value: 46
    unit: 名
    evidence: 下派干部46名
"""


def _write(tmp_path: Path, body: str, name: str = "case.yaml", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text(header + textwrap.dedent(body), encoding="utf-8")
    return path


def _errors(*paths: Path) -> list[CaseError]:
    with pytest.raises(CaseValidationError) as info:
        validate_cases(list(paths))
    return info.value.errors


def test_a_good_file_validates(tmp_path: Path) -> None:
    (case,) = validate_cases([_write(tmp_path, GOOD_BODY)])
    assert [e.id for e in case.entities] == ["county:fujian.zhouning", "village:fujian.zhouning.lidun.qinxi"]
    assert case.relations[0].key == (
        "LOCATED_IN",
        "village:fujian.zhouning.lidun.qinxi",
        "county:fujian.zhouning",
    )
    assert case.quantities[0].value == 46


def test_every_curated_file_validates() -> None:
    cases = validate_cases(discover([REPO / "data"]))
    assert len(cases) >= 6


def test_unknown_reference(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD_BODY.replace("to: county:fujian.zhouning", "to: county:fujian.nowhere"))
    (err,) = _errors(path)
    assert (err.file, err.line, err.field) == (path, 22, "to")
    assert "relations[0]" in err.record and "unknown reference 'county:fujian.nowhere'" in err.message
    assert str(err).startswith(f"{path}:22: relations[0]")


def test_unknown_quantity_subject(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD_BODY.replace("subject: county:fujian.zhouning", "subject: village:x.y"))
    (err,) = _errors(path)
    assert err.field == "subject" and "quantities[0]" in err.record and "unknown reference" in err.message


def test_duplicate_id(tmp_path: Path) -> None:
    body = GOOD_BODY.replace("id: village:fujian.zhouning.lidun.qinxi", "id: county:fujian.zhouning", 1)
    body = body.replace("from: village:fujian.zhouning.lidun.qinxi", "from: county:fujian.zhouning")
    errors = _errors(_write(tmp_path, body))
    dup = [e for e in errors if "duplicate id" in e.message]
    assert len(dup) == 1 and dup[0].line == 15 and dup[0].field == "id" and "entities[1]" in dup[0].record


def test_bad_date(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD_BODY, header=HEADER.replace("2022-01-01\n", "2022-02-30\n"))
    (err,) = _errors(path)
    assert (err.record, err.field, err.line) == ("source", "date", 6)
    assert "date" in err.message


def test_missing_evidence(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD_BODY.replace("    evidence: 芹溪、际头、楼坪三个村\n", ""))
    (err,) = _errors(path)
    assert err.field == "evidence" and err.message == "is required"
    assert err.record == "entities[1] (village:fujian.zhouning.lidun.qinxi)" and err.line == 15


def test_wrong_endpoint_label(tmp_path: Path) -> None:
    body = GOOD_BODY.replace("type: LOCATED_IN", "type: HAS_PROJECT")
    (err,) = _errors(_write(tmp_path, body))
    assert err.field == "to" and "HAS_PROJECT cannot end at a County; expected Project" in err.message


def test_unknown_type_label_and_attribute(tmp_path: Path) -> None:
    body = GOOD_BODY.replace("type: LOCATED_IN", "type: NEAR").replace("division: 县", "division: 州")
    body = body.replace("    label: Village\n", "    label: Hamlet\n")
    messages = {(e.field, e.message.split(";")[0]) for e in _errors(_write(tmp_path, body))}
    assert ("type", "unknown relationship type 'NEAR'") in messages
    assert ("division", "expected '县', '县级市', '区' or '自治县', got '州'") in messages
    assert any(f == "label" for f, _ in messages)


def test_bad_id_and_prefix(tmp_path: Path) -> None:
    body = GOOD_BODY.replace("id: quantity:fujian.zhouning.cadres", "id: number:Fujian")
    (err,) = _errors(_write(tmp_path, body))
    assert err.field == "id" and "prefix" not in err.message and "quantity:scope.slug" in err.message


def test_dispatch_needs_role_and_level_and_sections_are_known(tmp_path: Path) -> None:
    body = GOOD_BODY.replace(
        "relations:\n",
        "relations:\n"
        "  - {type: DISPATCHED_TO, from: person:fujian.zhouning.chen-jianfu,\n"
        "     to: village:fujian.zhouning.lidun.qinxi, role: 书记, evidence: 派驻芹溪村第一书记}\n",
    )
    body = body.replace(
        "relations:\n",
        "  - {id: person:fujian.zhouning.chen-jianfu, label: Person, name: 陈建福,\n"
        "     evidence: 第一书记陈建福}\n"
        "relations:\n",
    )
    errors = _errors(_write(tmp_path, body + "people: []\n"))
    messages = [e.message for e in errors]
    assert any(m.startswith("DISPATCHED_TO needs `role`, one of 第一书记") for m in messages), messages
    assert any(m.startswith("unknown section") for m in messages), messages
    assert len(errors) == 2


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "entities:\n  - id: [unclosed\n")
    (err,) = _errors(path)
    assert err.line == 9 and "not valid YAML" in err.message


def test_files_that_share_an_entity_must_agree(tmp_path: Path) -> None:
    a = _write(tmp_path, GOOD_BODY, "a.yaml")
    other = HEADER.replace("source:2022-01-01.test", "source:2022-01-01.other")
    b = _write(tmp_path, GOOD_BODY.replace("name: 周宁县", "name: 周宁"), "b.yaml", header=other)
    (err,) = _errors(a, b)
    assert err.file == b and err.record == "entity county:fujian.zhouning" and err.field == "name"
    assert str(a) in err.message


def test_all_errors_are_reported_at_once(tmp_path: Path) -> None:
    a = _write(tmp_path, GOOD_BODY.replace("evidence: 下派干部46名", "evidence: ''"), "a.yaml")
    b = _write(tmp_path, GOOD_BODY.replace("value: 46", "value: many"), "b.yaml")
    errors = _errors(a, b)
    assert {e.file for e in errors} == {a, b}
