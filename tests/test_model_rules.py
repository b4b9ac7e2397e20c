"""The model of issue 18, enforced: `ruralkg check` refuses each rule's violation, naming the
file, the record and the field."""

from __future__ import annotations

import io
import textwrap
from contextlib import redirect_stderr
from pathlib import Path

import pytest

from api.cli import main as cli
from graph.settings import get_settings
from loaders.casefile import CaseError, CaseValidationError, validate_cases
from tests.test_casefile import HEADER

BODY = """\
entities:
  - {id: county:fujian.zhouning, label: County, name: 周宁县, evidence: 周宁县积极推动}
  - {id: village:fujian.zhouning.lidun.qinxi, label: Village, name: 芹溪村, evidence: 芹溪、际头、楼坪三个村}
  - {id: person:fujian.zhouning.chen-jianfu, label: Person, name: 陈建福, evidence: 第一书记陈建福}
  - id: group:fujian.zhouning.sci-tech-commissioners
    label: Group
    name: 科技特派员
    role: 科技特派员
    size_min: 20
    size_max: 90
    evidence: 科技特派员数十名
  - {id: practice:fujian.zhouning.weekly, label: Practice, name: 一周一例会, kind: mechanism,
     evidence: 一周一例会}
  - id: practice:regular-meetings
    label: Practice
    name: 定期例会
    name_en: regular meeting cadence
    kind: mechanism
    description: 按固定周期(每周、每月、每季)召开例会、对比或总结,通报进展、协调共同事务。
    evidence: 一周一例会
relations:
  - {type: LOCATED_IN, from: village:fujian.zhouning.lidun.qinxi, to: county:fujian.zhouning,
     evidence: 周宁县}
  - {type: DISPATCHED_TO, from: person:fujian.zhouning.chen-jianfu, to: village:fujian.zhouning.lidun.qinxi,
     role: 第一书记, level: province, evidence: 派驻芹溪村第一书记}
  - {type: DISPATCHED_TO, from: group:fujian.zhouning.sci-tech-commissioners, to: county:fujian.zhouning,
     role: 科技特派员, evidence: 科技特派员数十名}
  - {type: HOLDS_POST, from: person:fujian.zhouning.chen-jianfu, to: village:fujian.zhouning.lidun.qinxi,
     role: 书记, status: 拟任, evidence: 拟任书记}
  - {type: USES_PRACTICE, from: county:fujian.zhouning, to: practice:fujian.zhouning.weekly,
     evidence: 一周一例会}
  - {type: INSTANCE_OF, from: practice:fujian.zhouning.weekly, to: practice:regular-meetings,
     evidence: 一周一例会}
quantities:
  - id: quantity:fujian.zhouning.cadres
    subject: group:fujian.zhouning.sci-tech-commissioners
    measure: 下派干部人数
    min: 20
    max: 90
    unit: 名
    year: 2022
    year_stated: false
    qualifier: range
    evidence: 科技特派员数十名
"""


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "case.yaml"
    path.write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
    return path


def _error(tmp_path: Path, body: str) -> CaseError:
    with pytest.raises(CaseValidationError) as info:
        validate_cases([_write(tmp_path, body)])
    (err,) = info.value.errors
    return err


def _replace(old: str, new: str) -> str:
    assert BODY.count(old) == 1, old
    return BODY.replace(old, new)


def test_a_file_in_the_model_validates(tmp_path: Path) -> None:
    (case,) = validate_cases([_write(tmp_path, BODY)])
    group = next(e for e in case.entities if e.label == "Group")
    assert group.attributes() == {"role": "科技特派员", "size_min": 20, "size_max": 90}
    post = next(r for r in case.relations if r.type == "HOLDS_POST")
    assert post.attributes() == {"role": "书记", "status": "拟任"}


def test_a_person_that_stands_for_a_group_is_refused(tmp_path: Path) -> None:
    body = _replace(
        "  - {id: person:fujian.zhouning.chen-jianfu, label: Person, name: 陈建福,",
        "  - {id: person:fujian.zhouning.chen-jianfu, label: Person, name: 党史研究专家,",
    )
    err = _error(tmp_path, body)
    assert err.record == "entities[2] (person:fujian.zhouning.chen-jianfu)" and "Group" in err.message
    assert err.file.name == "case.yaml" and err.line == 10


def test_a_group_size_on_a_person_is_refused(tmp_path: Path) -> None:
    body = _replace("name: 陈建福, evidence", "name: 陈建福, group_size: 3, evidence")
    assert "declare it as a Group" in _error(tmp_path, body).message


def test_a_group_needs_a_role_from_its_vocabulary(tmp_path: Path) -> None:
    err = _error(tmp_path, _replace("    role: 科技特派员\n    size_min", "    role: 能人\n    size_min"))
    assert err.record == "entities[3] (group:fujian.zhouning.sci-tech-commissioners)" and err.field == "role"


def test_a_group_size_range_has_both_ends(tmp_path: Path) -> None:
    err = _error(tmp_path, _replace("    size_max: 90\n", ""))
    assert err.record.startswith("entities[3]") and "size_min" in err.message


@pytest.mark.parametrize(
    ("old", "new", "wrong"),
    [
        ("role: 书记, status: 拟任", "role: 拟任书记", "拟任书记"),  # the qualifier belongs in status
        ("role: 书记, status: 拟任", "role: 党委委员", "党委委员"),
        ("role: 科技特派员, evidence", "role: 技术员, evidence", "技术员"),
    ],
)
def test_a_role_outside_its_vocabulary_is_refused(tmp_path: Path, old: str, new: str, wrong: str) -> None:
    err = _error(tmp_path, _replace(old, new))
    assert err.field == "role" and err.record.startswith("relations[") and repr(wrong) in err.message


def test_a_practice_name_is_no_role(tmp_path: Path) -> None:
    body = _replace(
        "  - {type: USES_PRACTICE, from: county:fujian.zhouning, to: practice:fujian.zhouning.weekly,\n",
        "  - {type: USES_PRACTICE, from: county:fujian.zhouning, to: practice:fujian.zhouning.weekly,"
        " role: 一周一例会,\n",
    )
    err = _error(tmp_path, body)
    assert err.field == "role" and "USES_PRACTICE takes no `role`" in err.message


def test_status_belongs_to_a_post(tmp_path: Path) -> None:
    err = _error(tmp_path, _replace("role: 第一书记, level: province,", "role: 第一书记, status: 拟任,"))
    assert (
        err.record.startswith("relations[1] (DISPATCHED_TO")
        and "`status` belongs only to HOLDS_POST" in err.message
    )


def test_a_quantity_without_a_year_is_refused(tmp_path: Path) -> None:
    err = _error(tmp_path, _replace("    year: 2022\n    year_stated: false\n", ""))
    assert (err.record, err.field, err.message) == (
        "quantities[0] (quantity:fujian.zhouning.cadres)",
        "year",
        "is required",
    )


def test_an_unstated_year_is_the_articles(tmp_path: Path) -> None:
    err = _error(tmp_path, _replace("    year: 2022\n", "    year: 2020\n"))
    assert err.field == "year" and "article's year (2022)" in err.message
    assert validate_cases(
        [
            _write(
                tmp_path,
                _replace("    year_stated: false\n", "    year_stated: true\n").replace(
                    "year: 2022", "year: 2020"
                ),
            )
        ]
    )


def test_an_instance_of_a_concept_the_vocabulary_lacks_is_refused(tmp_path: Path) -> None:
    body = _replace(
        "to: practice:regular-meetings,\n     evidence: 一周一例会}",
        "to: practice:fujian.zhouning.meetings-idea,\n     evidence: 一周一例会}",
    ).replace(
        "relations:\n",
        "  - {id: practice:fujian.zhouning.meetings-idea, label: Practice, name: 例会, kind: mechanism,\n"
        "     evidence: 一周一例会}\nrelations:\n",
    )
    with pytest.raises(CaseValidationError) as info:
        validate_cases([_write(tmp_path, body)])
    errors = [e for e in info.value.errors if e.field == "to"]
    assert len(errors) == 1 and "not a practice concept" in errors[0].message
    assert errors[0].record.startswith("relations[5] (INSTANCE_OF")


def test_a_concept_is_declared_with_its_definition(tmp_path: Path) -> None:
    err = _error(tmp_path, _replace("按固定周期(每周、每月、每季)召开例会", "按周召开例会"))
    assert err.record == "entities[5] (practice:regular-meetings)" and "definition" in err.message


def test_check_refuses_a_village_hung_from_its_county_when_the_list_names_its_township(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """升阳村 is in 玛坑乡 (350925202202): placing it under the county would give it two parents."""
    body = _replace(
        "relations:\n",
        "  - {id: village:fujian.zhouning.shengyang-test, label: Village, name: 升阳村, evidence: 升阳}\n"
        "relations:\n",
    ).replace(
        "quantities:\n",
        "  - {type: LOCATED_IN, from: village:fujian.zhouning.shengyang-test, to: county:fujian.zhouning,"
        " evidence: 升阳}\nquantities:\n",
    )
    path = _write(tmp_path, body)
    # the file alone is the curated data: the real 升阳村 would claim the division first
    monkeypatch.setenv("RURALKG_CASES_DIR", str(tmp_path))
    get_settings.cache_clear()
    err = io.StringIO()
    try:
        with redirect_stderr(err):
            assert cli(["check", str(path)]) == 1
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    (line,) = [line for line in err.getvalue().splitlines() if "shengyang-test" in line]
    assert "case.yaml" in line and "relation LOCATED_IN village:fujian.zhouning.shengyang-test" in line
    assert "field `to`" in line and "350925202" in line
