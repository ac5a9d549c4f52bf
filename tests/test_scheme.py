"""Scheme data files: the bundled four are valid; a fifth is a file, not code."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from certdocs.audit import load_audit
from certdocs.errors import SchemeError
from certdocs.scheme import get_scheme, load_scheme_file, parse_scheme, scheme_ids
from certdocs.scoring import score_audit


def test_the_four_bundled_schemes_load_and_add_up() -> None:
    assert scheme_ids() == ["bjkb-006-2026", "bz-ts1008-2025", "fw01-2021", "xbht-s04-2025"]
    for sid in ("fw01-2021", "xbht-s04-2025", "bjkb-006-2026"):
        scheme = get_scheme(sid)
        assert sum(i.points or Decimal(0) for i in scheme.items) == Decimal(100)
        assert len(scheme.digest) == 64
    assert len(get_scheme("fw01-2021").items) == 50
    assert get_scheme("bjkb-006-2026").veto is not None
    assert [lv.name for lv in get_scheme("bz-ts1008-2025").levels] == [
        "初始级",
        "可重复级",
        "已定义级",
        "已管理级",
        "优化级",
    ]


def test_the_items_match_the_reference_transcriptions() -> None:
    ref = Path(__file__).parent / "data" / "reference"  # copies of shared/reference, the seeds' tables
    for sid in ("fw01-2021", "xbht-s04-2025", "bjkb-006-2026"):
        rows = [
            line.split("\t")
            for line in (ref / f"{sid}.tsv").read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")
        ][1:]
        scheme = get_scheme(sid)
        assert [r[0] for r in rows] == [i.id for i in scheme.items]
        points_col = 4 if sid == "fw01-2021" else (3 if sid == "xbht-s04-2025" else 2)
        for row, item in zip(rows, scheme.items, strict=True):
            assert (None if row[points_col] == "veto" else Decimal(row[points_col])) == item.points


TOY: dict[str, Any] = {
    "format": 1,
    "id": "toy-2027",
    "method": "points",
    "standard": {"code": "Q/TOY 001-2027", "title": "玩具售后服务评价规范"},
    "total_points": 100,
    "categories": [{"name": "服务", "points": 60}, {"name": "顾客", "points": 40}],
    "items": [
        {"id": "1", "category": "服务", "points": 60, "requirement": "服务到位"},
        {"id": "2", "category": "顾客", "points": 40, "requirement": "顾客满意"},
    ],
    "rules": {"exclusions": {"allowed": True, "basis": "测试"}},
    "grades": [
        {"min": 0, "grade": "不合格", "stars": None, "passed": False},
        {"min": 50, "grade": "合格", "stars": 1, "passed": True},
    ],
    "surveillance": {"from": "issue_date", "months": [0, 12]},
}


def test_a_fifth_standard_is_a_new_file_not_new_code(tmp_path: Path) -> None:
    (tmp_path / "toy-2027.json").write_text(json.dumps(TOY, ensure_ascii=False), encoding="utf-8")
    audit_file = tmp_path / "audit.json"
    audit_file.write_text(
        json.dumps(
            {
                "scheme": "toy-2027",
                "organization": {
                    "name": "某玩具有限公司",
                    "uscc": "91330106MA2CFXY80N",
                    "registered_address": "杭州",
                    "audit_address": "杭州",
                },
                "scope": "玩具的售后服务",
                "audit": {
                    "type": "initial",
                    "start_date": "2026-11-01",
                    "end_date": "2026-11-01",
                    "team": [{"name": "甲", "role": "leader"}],
                },
                "items": {"1": {"score": 30}, "2": {"not_applicable": "无顾客"}},
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    audit, scheme = load_audit(audit_file, schemes_dir=tmp_path)
    result = score_audit(audit, scheme)
    assert (result.score, result.grade, result.passed) == (Decimal("50.0"), "合格", True)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: d["items"][1].update(points=41), "合计 101"),
        (lambda d: d["items"][1].update(id="1"), "重复"),
        (lambda d: d["grades"].reverse(), "递增"),
        (lambda d: d["categories"][0].update(points=50), "类别分值"),
        (lambda d: d["items"][0].update(category="不存在"), "未在 categories"),
        (lambda d: d["rules"].update(veto={"item": "9"}), "否决项 9"),
    ],
)
def test_an_inconsistent_scheme_is_refused_on_load(change: Any, words: str) -> None:
    data = json.loads(json.dumps(TOY))
    change(data)
    with pytest.raises(SchemeError) as info:
        parse_scheme(data, source="toy.json")
    assert words in str(info.value)


def test_a_broken_scheme_reports_every_problem_at_once() -> None:
    data = json.loads(json.dumps(TOY))
    data["items"][1]["points"] = 41
    data["grades"].reverse()
    data["surveillance"]["from"] = "whenever"
    with pytest.raises(SchemeError) as info:
        parse_scheme(data, source="toy.json")
    assert len(info.value.problems) >= 3


def test_a_scheme_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(SchemeError):
        load_scheme_file(path)


# -- one validation toolkit: malformed schemes give located problems, never a raw exception ------


BUNDLED = Path(__file__).resolve().parent.parent / "src" / "certdocs" / "schemes"


def xbht() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((BUNDLED / "xbht-s04-2025.json").read_text(encoding="utf-8"))
    return data


def _category_not_an_object(d: dict[str, Any]) -> None:
    d["categories"][1] = "商品服务"


def _prerequisite_without_field(d: dict[str, Any]) -> None:
    d["rules"]["prerequisites"] = [{"kind": "min", "value": 3, "text": "三年经营"}]


def _months_as_strings(d: dict[str, Any]) -> None:
    d["surveillance"]["months"] = ["0", "12"]


def _basis_as_one_string(d: dict[str, Any]) -> None:
    d["standard"]["basis"] = "GB/T 27922"


def _item_not_an_object(d: dict[str, Any]) -> None:
    d["items"][0] = ["5.1.1.1", 1]


def _group_not_an_object(d: dict[str, Any]) -> None:
    d["categories"][0]["groups"][0] = None


def _grade_without_min(d: dict[str, Any]) -> None:
    del d["grades"][0]["min"]


def _rules_not_an_object(d: dict[str, Any]) -> None:
    d["rules"] = ["veto"]


def _points_as_text(d: dict[str, Any]) -> None:
    d["items"][0]["points"] = "一分"


MALFORMED = {
    "category not an object": (_category_not_an_object, "categories[1]：应为 JSON 对象"),
    "prerequisite without field": (_prerequisite_without_field, "rules.prerequisites[0].field：缺少必填字段"),
    "months as strings": (_months_as_strings, "surveillance.months：须为两个整数月数"),
    "basis as one string": (_basis_as_one_string, "standard.basis：应为文本列表"),
    "item not an object": (_item_not_an_object, "items[0]：应为 JSON 对象"),
    "group not an object": (_group_not_an_object, "categories[0].groups[0]：应为 JSON 对象"),
    "grade without min": (_grade_without_min, "grades[0].min：缺少必填字段"),
    "rules not an object": (_rules_not_an_object, "rules：应为 JSON 对象"),
    "points as text": (_points_as_text, "items[0].points：应为数字"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_scheme_gives_located_problems_not_a_raw_exception(case: str) -> None:
    change, expected = MALFORMED[case]
    data = xbht()
    change(data)
    with pytest.raises(SchemeError) as info:
        parse_scheme(data, source="x.json")
    assert any(str(p).startswith(expected) for p in info.value.problems), info.value.render()


def test_a_basis_given_as_one_string_is_not_split_into_characters() -> None:
    data = xbht()
    _basis_as_one_string(data)
    with pytest.raises(SchemeError):
        parse_scheme(data, source="x.json")


def test_a_misspelt_scheme_field_is_refused() -> None:
    data = xbht()
    data["surveillance"]["month"] = [9, 12]
    with pytest.raises(SchemeError) as info:
        parse_scheme(data, source="x.json")
    assert "surveillance.month：未知字段" in info.value.render()


def test_a_malformed_scheme_given_with_schemes_exits_2_with_every_problem(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from certdocs import cli

    data = xbht()
    data["id"] = "my-scheme"
    combined = ("category not an object", "prerequisite without field", "months as strings", "basis as one string")
    for case in combined:
        MALFORMED[case][0](data)
    (tmp_path / "my-scheme.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    audit = json.loads((BUNDLED.parent.parent.parent / "fixtures" / "xbht-s04-2025" / "pass.json").read_text("utf-8"))
    audit["scheme"] = "my-scheme"
    (tmp_path / "a.json").write_text(json.dumps(audit, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(
        cli.main, ["certificate", str(tmp_path / "a.json"), "--schemes", str(tmp_path), "--output", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    assert f"评价方案文件无效（{tmp_path / 'my-scheme.json'}）" in result.output
    for case in combined:
        assert MALFORMED[case][1] in result.output
    assert not (tmp_path / "o").exists()


def test_item_numbering_is_scheme_data() -> None:
    assert get_scheme("fw01-2021").item_numbering == "id"
    assert get_scheme("xbht-s04-2025").item_numbering == "sequence"


def test_a_new_scheme_can_number_its_items_by_id_without_code(tmp_path: Path) -> None:
    from dataclasses import replace

    from certdocs.context import _items

    audit, scheme = load_audit(BUNDLED.parent.parent.parent / "fixtures" / "xbht-s04-2025" / "pass.json")
    by_id = replace(scheme, item_numbering="id")
    rows = _items(score_audit(audit, by_id), by_id)
    assert rows[0]["no"] == "5.1.1.1"
