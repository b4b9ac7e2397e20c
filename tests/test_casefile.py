"""Validation of case files: each kind of error, named by file, line, record and field."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from graph.vocabulary import SHARED_ENTITIES, SharedEntity
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
    year: 2022
    year_stated: false
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


def test_a_dispatch_role_comes_from_its_vocabulary_and_sections_are_known(tmp_path: Path) -> None:
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
    assert any(
        m.startswith("'书记' is not a DISPATCHED_TO role; expected one of 第一书记") for m in messages
    ), messages
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


# -- curation checks: ties, qualifiers, scoped ids ---------------------------------------------


def test_an_entity_tied_to_nothing_is_an_error(tmp_path: Path) -> None:
    body = GOOD_BODY.replace(
        "relations:\n",
        "  - {id: city:fujian.quanzhou, label: City, name: 泉州市, evidence: 前往泉州异地取经}\nrelations:\n",
    )
    (err,) = _errors(_write(tmp_path, body))
    assert err.record == "entities[2] (city:fujian.quanzhou)" and err.field == "id" and err.line == 19
    assert "in no relation and no quantity" in err.message


def test_a_quantity_subject_is_a_tie(tmp_path: Path) -> None:
    qinxi = "subject: village:fujian.zhouning.lidun.qinxi"
    assert validate_cases([_write(tmp_path, GOOD_BODY.replace("subject: county:fujian.zhouning", qinxi))])


def _quantity(quote: str, numbers: str, qualifier: str) -> str:
    """GOOD_BODY with its quantity's quote, numbers (YAML lines) and qualifier replaced."""
    body = GOOD_BODY.replace("evidence: 下派干部46名", f"evidence: {quote}\n    qualifier: {qualifier}")
    return body.replace("value: 46", numbers)


@pytest.mark.parametrize(
    ("quote", "numbers", "qualifier", "complaint"),
    [
        ("专职1-2人", "value: 2", "under", "gives a range (1-2)"),
        ("数十次前往泉州", "value: 10", "over", "gives a range (数十)"),
        ("下派干部46名", "value: 46", "over", "none of 余, 多"),
        ("下派干部46名", "min: 40\n    max: 50", "range", "gives no range"),
        ("下派干部46余名", "value: 46", "exact", "bounds the number (46余)"),
        ("投入5000多万元", "value: 50000000", "exact", "bounds the number (5000多)"),
        ("约46名", "value: 46", "under", "none of 以下"),
    ],
)
def test_a_qualifier_must_fit_its_quote(
    tmp_path: Path, quote: str, numbers: str, qualifier: str, complaint: str
) -> None:
    (err,) = _errors(_write(tmp_path, _quantity(quote, numbers, qualifier)))
    assert err.field == "qualifier" and complaint in err.message, err.message


@pytest.mark.parametrize(
    ("quote", "numbers", "qualifier"),
    [
        ("专职1-2人", "min: 1\n    max: 2", "range"),
        ("数十次前往泉州", "min: 20\n    max: 90", "range"),
        ("增收50余万,同比增长166%", "value: 166", "exact"),  # the bound is another number's
        ("下派干部46余名", "value: 46", "over"),
        ("约46名", "value: 46", "about"),
    ],
)
def test_qualifiers_that_fit(tmp_path: Path, quote: str, numbers: str, qualifier: str) -> None:
    (case,) = validate_cases([_write(tmp_path, _quantity(quote, numbers, qualifier))])
    assert case.quantities[0].qualifier == qualifier


def test_a_range_gives_min_and_max_not_value(tmp_path: Path) -> None:
    (err,) = _errors(_write(tmp_path, _quantity("专职1-2人", "value: 2", "range")))
    assert "a range gives `min` and `max`, not `value`" in err.message
    body = _quantity("专职1-2人", "min: 2\n    max: 1", "range")
    (err,) = _errors(_write(tmp_path, body))
    assert "must be below its `max`" in err.message


def test_an_unscoped_local_id_is_an_error(tmp_path: Path) -> None:
    body = GOOD_BODY.replace(
        "relations:\n",
        "  - {id: practice:three-threes, label: Practice, name: 1+N, kind: model, evidence: 周宁县积极推动}\n"
        "relations:\n"
        "  - {type: USES_PRACTICE, from: county:fujian.zhouning, to: practice:three-threes,\n"
        "     evidence: 周宁县积极推动}\n",
    )
    (err,) = _errors(_write(tmp_path, body))
    assert err.record == "entities[2] (practice:three-threes)" and err.field == "id"
    assert "unscoped" in err.message
    scoped = body.replace("practice:three-threes", "practice:fujian.zhouning.three-threes")
    assert validate_cases([_write(tmp_path, scoped)])


def test_shared_ids_are_declared_as_the_vocabulary_lists_them(tmp_path: Path) -> None:
    tea = (
        "  - {id: industry:tea, label: Industry, name: 茶叶, name_en: tea, evidence: 周宁县积极推动}\n"
        "relations:\n"
        "  - {type: IN_INDUSTRY, from: county:fujian.zhouning, to: industry:tea, evidence: 周宁县积极推动}\n"
    )
    assert validate_cases([_write(tmp_path, GOOD_BODY.replace("relations:\n", tea))])
    renamed = tea.replace("name: 茶叶", "name: 茶")
    (err,) = _errors(_write(tmp_path, GOOD_BODY.replace("relations:\n", renamed)))
    assert err.record == "entities[2] (industry:tea)" and "shared-vocabulary.md" in err.message


def test_the_vocabulary_module_and_its_document_agree() -> None:
    row = re.compile(
        r"^\| ((?:industry|practice):\S+) \| (\w+) \| ([^|]+?) \| ([^|]+?) \|(?: (\w+) \|)?(?: ([^|]+?) \|)?$"
    )
    text = (REPO / "docs" / "shared-vocabulary.md").read_text(encoding="utf-8")
    documented = {
        m[1]: SharedEntity(m[2], m[3], m[4], m[5], m[6])
        for line in text.splitlines()
        if (m := row.match(line))
    }
    assert documented == SHARED_ENTITIES


def test_a_group_node_says_how_many(tmp_path: Path) -> None:
    body = GOOD_BODY.replace("    name: 芹溪村\n", "    name: 芹溪村\n    group_size: 1\n")
    (err,) = _errors(_write(tmp_path, body))
    assert err.field == "group_size"
