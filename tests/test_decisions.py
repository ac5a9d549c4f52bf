"""Decision-meeting files: JSON through the one reader, CSV only as UTF-8, text that prints as it reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from certdocs.decisions import load_meeting
from certdocs.errors import DecisionError

PASS = Path(__file__).resolve().parent.parent / "fixtures" / "xbht-s04-2025" / "pass.json"
HEADER = "audit,decision,issue_date,reason\n"


def refusal(path: Path, **kw: object) -> str:
    with pytest.raises(DecisionError) as info:
        load_meeting(path, **kw)  # type: ignore[arg-type]
    return info.value.render()


def test_a_gbk_csv_says_it_is_not_utf8_and_how_to_save_it(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes((HEADER + f"{PASS},reject,,资料不全\n").encode("gbk"))
    message = refusal(path, meeting="第1次")
    assert "GBK/GB18030" in message
    assert "CSV UTF-8（逗号分隔）" in message


def test_a_csv_saved_by_excel_as_csv_utf8_with_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes("\ufeff".encode() + (HEADER + f"{PASS},reject,,资料不全\n").encode("utf-8"))
    from datetime import date

    meeting = load_meeting(path, meeting="第1次", meeting_date=date(2026, 11, 20))
    assert meeting.decisions[0].reason == "资料不全"


def test_a_json_meeting_with_a_syntax_error_is_explained_in_chinese(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text('{"meeting": "第1次",\n "date": "2026-11-20",\n}', encoding="utf-8")
    assert "第 3 行第 1 列：JSON 语法错误" in refusal(path)


def test_a_json_meeting_with_a_duplicate_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    decision = f'{{"audit": "{PASS}", "decision": "reject", "decision": "approve", "reason": "x"}}'
    path.write_text(f'{{"meeting": "第1次", "date": "2026-11-20", "decisions": [{decision}]}}', encoding="utf-8")
    assert "decisions[0].decision：字段在同一对象中出现了不止一次" in refusal(path)


@pytest.mark.parametrize("field", ["meeting", "reason", "audit"])
def test_control_and_bidi_characters_in_a_meeting_are_refused_with_their_path(tmp_path: Path, field: str) -> None:
    decision = {"audit": str(PASS), "decision": "reject", "reason": "资料不全"}
    data = {"meeting": "第1次", "date": "2026-11-20", "decisions": [decision]}
    if field == "meeting":
        data["meeting"] = "第1次\u2066会议"
    else:
        decision[field] = decision[field] + "\x00"
    path = tmp_path / "m.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    where = "meeting" if field == "meeting" else f"decisions[0].{field}"
    assert f"{where}：第" in refusal(path)


@pytest.mark.parametrize("field", ["reason", "audit", "decision"])
def test_a_refused_cell_is_reported_once_not_again_as_missing_or_invalid(tmp_path: Path, field: str) -> None:
    decision = {"audit": str(PASS), "decision": "reject", "reason": "资料不全"}
    decision[field] = decision[field] + "\x07"
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"meeting": "第1次", "date": "2026-11-20", "decisions": [decision]}), encoding="utf-8")
    with pytest.raises(DecisionError) as info:
        load_meeting(path)
    assert [(p.where, p.rule.split("，")[0]) for p in info.value.problems] == [
        (f"decisions[0].{field}", f"第 {len(decision[field])} 个字符是 U+0007（控制字符）")
    ]


def test_an_audit_that_is_not_a_regular_file_is_named_so(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    decisions = [{"audit": "/dev/null", "decision": "approve"}, {"audit": str(tmp_path), "decision": "approve"}]
    path.write_text(json.dumps({"meeting": "第1次", "date": "2026-11-20", "decisions": decisions}), encoding="utf-8")
    message = refusal(path)
    assert "decisions[0].audit：审核结果文件 /dev/null 不是普通文件" in message
    assert f"decisions[1].audit：审核结果文件 {tmp_path} 不是普通文件" in message


def test_a_meeting_name_given_on_the_command_line_is_checked_too(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(HEADER + f"{PASS},reject,,资料不全\n", encoding="utf-8")
    assert "meeting：第 4 个字符是 U+202E" in refusal(path, meeting="第1次\u202e")


def test_a_bidi_override_in_an_xlsx_cell_is_refused_with_its_row(tmp_path: Path) -> None:
    from datetime import date

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["audit", "decision", "issue_date", "reason"])
    sheet.append([str(PASS), "reject", None, "资料\u202e不全"])
    path = tmp_path / "m.xlsx"
    book.save(path)
    assert "第 2 行.reason：第 3 个字符是 U+202E" in refusal(path, meeting="第1次", meeting_date=date(2026, 11, 20))
