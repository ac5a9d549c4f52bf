"""Validation of audit-result documents: every rule, all problems at once, with JSON paths."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from certdocs.audit import load_audit, parse_audit
from certdocs.errors import InvalidAuditResult
from certdocs.scheme import get_scheme
from tests.conftest import full_marks_audit


def problems(doc: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidAuditResult) as info:
        parse_audit(doc, scheme=get_scheme(doc["scheme"]), source="a.json")
    return {p.where: p.rule for p in info.value.problems}


def test_a_complete_document_is_accepted_for_every_scheme() -> None:
    for sid in ("fw01-2021", "xbht-s04-2025", "bjkb-006-2026", "bz-ts1008-2025"):
        audit = parse_audit(full_marks_audit(sid), scheme=get_scheme(sid))
        assert list(audit.items) == [i.id for i in get_scheme(sid).items]


def test_missing_and_unknown_items_are_reported_by_path() -> None:
    doc = full_marks_audit("xbht-s04-2025")
    del doc["items"]["5.1.1.3"]
    doc["items"]["5.9.9"] = {"score": 1}
    found = problems(doc)
    assert "缺少该条目的评价结果" in found['items["5.1.1.3"]']
    assert "不是方案 xbht-s04-2025 的条目" in found['items["5.9.9"]']


@pytest.mark.parametrize(
    ("item", "result", "path", "words"),
    [
        ("5.1.1.1", {"score": 1, "ratio": 1}, 'items["5.1.1.1"]', "只能有一种"),
        ("5.1.1.1", {"score": 1.5}, 'items["5.1.1.1"].score', "超出 0—1"),
        ("5.1.1.1", {"score": -1}, 'items["5.1.1.1"].score', "超出"),
        ("5.1.1.1", {"score": 0.125}, 'items["5.1.1.1"].score', "两位小数"),
        ("5.1.1.1", {"ratio": 1.2}, 'items["5.1.1.1"].ratio', "0—1"),
        ("5.1.1.1", {"evidence": "x"}, 'items["5.1.1.1"]', "缺少评价结果"),
        ("5.3.4.3", {"sampled": 9, "nonconforming": 1, "population": 15}, 'items["5.3.4.3"].sampled', "至少 10"),
        ("5.3.4.3", {"sampled": 0, "nonconforming": 0}, 'items["5.3.4.3"].sampled', "至少为 1"),
        ("5.3.4.3", {"sampled": 4, "nonconforming": 5}, 'items["5.3.4.3"].nonconforming', "超出 0—4"),
        ("5.3.4.3", {"sampled": 4}, 'items["5.3.4.3"].nonconforming', "不符合数"),
        ("5.3.6.1", {"not_applicable": ""}, 'items["5.3.6.1"].not_applicable', "理由"),
        ("5.1.1.1", {"level": 3}, 'items["5.1.1.1"].level', "成熟度等级方案"),
        ("5.1.1.1", {"compliant": True}, 'items["5.1.1.1"].compliant', "否决项"),
        ("5.1.1.1", {"score": 1, "scroe": 1}, 'items["5.1.1.1"].scroe', "未知字段"),
    ],
)
def test_each_result_rule_names_path_and_rule(item: str, result: dict[str, Any], path: str, words: str) -> None:
    doc = full_marks_audit("xbht-s04-2025")
    doc["items"][item] = result
    assert words in problems(doc)[path]


def test_a_sample_covering_all_sites_may_be_smaller_than_two_thirds() -> None:
    doc = full_marks_audit("xbht-s04-2025")
    doc["items"]["5.3.4.3"] = {"sampled": 5, "nonconforming": 0, "population": 15, "covers_all_sites": True}
    item = parse_audit(doc, scheme=get_scheme("xbht-s04-2025")).items["5.3.4.3"]
    assert item.sampled == 5
    assert item.covers_all_sites


def test_a_sample_of_two_thirds_of_the_population_is_enough() -> None:
    doc = full_marks_audit("xbht-s04-2025")
    doc["items"]["5.3.4.3"] = {"sampled": 10, "nonconforming": 0, "population": 15}  # ⌈2×15/3⌉ = 10
    assert parse_audit(doc, scheme=get_scheme("xbht-s04-2025")).items["5.3.4.3"].sampled == 10


def test_a_sample_below_two_thirds_not_covering_all_sites_is_refused() -> None:
    doc = full_marks_audit("xbht-s04-2025")
    doc["items"]["5.3.4.3"] = {"sampled": 9, "nonconforming": 0, "population": 15}
    assert "至少 10" in problems(doc)['items["5.3.4.3"].sampled']


def test_exclusions_are_refused_where_the_scheme_has_no_exclusion_rule() -> None:
    doc = full_marks_audit("bjkb-006-2026")
    doc["items"]["4.5"] = {"not_applicable": "不涉及"}
    assert "不允许删减" in problems(doc)['items["4.5"].not_applicable']


def test_the_veto_item_must_be_judged_compliant_or_not() -> None:
    doc = full_marks_audit("bjkb-006-2026")
    doc["items"]["4.1.1"] = {"score": 0}
    assert "compliant" in problems(doc)['items["4.1.1"].score']


@pytest.mark.parametrize("level", [0, 6])
def test_a_level_outside_one_to_five_is_refused(level: int) -> None:
    doc = full_marks_audit("bz-ts1008-2025")
    doc["items"]["strategic"] = {"level": level}
    assert "1—5" in problems(doc)['items["strategic"].level']


def test_level_schemes_need_prerequisites() -> None:
    doc = full_marks_audit("bz-ts1008-2025")
    del doc["prerequisites"]
    assert "前提条件" in problems(doc)["prerequisites"]
    doc = full_marks_audit("bz-ts1008-2025")
    del doc["prerequisites"]["operating_months"]
    assert "prerequisites.operating_months" in problems(doc)


def test_bad_dates_and_end_before_start() -> None:
    doc = full_marks_audit("fw01-2021")
    doc["audit"]["start_date"] = "2026/11/10"
    assert "YYYY-MM-DD" in problems(doc)["audit.start_date"]
    doc = full_marks_audit("fw01-2021")
    doc["audit"]["start_date"] = "2026-02-30"
    assert "不存在" in problems(doc)["audit.start_date"]
    doc = full_marks_audit("fw01-2021")
    doc["audit"]["end_date"] = "2026-11-09"
    assert "早于" in problems(doc)["audit.end_date"]


def test_an_invalid_uscc_needs_an_override_reason() -> None:
    doc = full_marks_audit("fw01-2021")
    doc["organization"]["uscc"] = doc["organization"]["uscc"][:-1] + (
        "0" if doc["organization"]["uscc"][-1] != "0" else "1"
    )
    assert "校验码" in problems(doc)["organization.uscc"]
    doc["organization"]["uscc_checksum_override"] = "营业执照原件如此，已核实"
    parse_audit(doc, scheme=get_scheme("fw01-2021"))


def test_team_needs_exactly_one_leader_and_known_roles() -> None:
    doc = full_marks_audit("fw01-2021")
    doc["audit"]["team"] = [{"name": "甲", "role": "member"}, {"name": "乙", "role": "boss"}]
    found = problems(doc)
    assert "组长" in found["audit.team"]
    assert "boss" in found["audit.team[1].role"]


def test_every_problem_is_reported_at_once() -> None:
    doc = full_marks_audit("xbht-s04-2025")
    doc["audit"]["type"] = "annual"
    doc["organization"]["name"] = ""
    doc["items"]["5.1.1.1"] = {"score": 9}
    doc["items"]["5.1.1.2"] = {"ratio": -0.1}
    assert len(problems(doc)) == 4


def test_load_audit_reports_json_syntax_with_line_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"scheme": "fw01-2021",\n "items": }', encoding="utf-8")
    with pytest.raises(InvalidAuditResult) as info:
        load_audit(bad)
    assert "第 2 行" in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]


def test_load_audit_parses_numbers_as_decimals(tmp_path: Path) -> None:
    doc = full_marks_audit("xbht-s04-2025")
    doc["items"]["5.1.2.2"] = {"ratio": 0.1}
    path = tmp_path / "a.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    audit, scheme = load_audit(path)
    assert str(audit.items["5.1.2.2"].ratio) == "0.1"
    assert scheme.id == "xbht-s04-2025"
    assert len(audit.digest) == 64


def test_an_unknown_scheme_lists_the_known_ones(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('{"scheme": "iso-9001"}', encoding="utf-8")
    with pytest.raises(InvalidAuditResult) as info:
        load_audit(path)
    assert "xbht-s04-2025" in str(info.value)


def test_the_published_json_schema_accepts_valid_documents_and_fixtures() -> None:
    import jsonschema

    root = Path(__file__).resolve().parent.parent
    schema = json.loads((root / "src" / "certdocs" / "audit-result.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    docs = [full_marks_audit(sid) for sid in ("fw01-2021", "xbht-s04-2025", "bjkb-006-2026", "bz-ts1008-2025")]
    docs += [json.loads(p.read_text(encoding="utf-8")) for p in sorted((root / "fixtures").glob("*-20*/*.json"))]
    for doc in docs:
        assert not list(validator.iter_errors(doc)), doc.get("scheme")
    broken = full_marks_audit("fw01-2021")
    broken["items"]["a1"] = {"score": 1, "ratio": 1}
    assert list(validator.iter_errors(broken))
