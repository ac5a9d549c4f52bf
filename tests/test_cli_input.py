"""Hostile input through the command line, as an office would meet it: exit 2, a located Chinese
message, no traceback, nothing written and no certificate number reserved."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from certdocs import cli
from certdocs.cli import _app
from certdocs.register import Register
from certdocs.testing import FakeConverter
from tests.hostile_inputs import CASES, PASS, ROOT, audit

TEMPLATES = ROOT / "templates"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args))


def files_in(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.fixture
def office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder: every default output, register and records folder lands here."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_app, "LibreOfficeConverter", FakeConverter)
    monkeypatch.setattr(_app, "today", lambda: date(2026, 11, 25))
    return tmp_path


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_hostile_audit_file_is_refused_before_anything_is_written(office: Path, case: str) -> None:
    make, fragment = CASES[case]
    bad = office / "audit.json"
    bad.write_bytes(make())
    result = invoke("certificate", str(bad), "--issue-date", "2026-11-22")
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert fragment in result.output
    assert files_in(office) == {"audit.json"}


@pytest.mark.parametrize("case", ["duplicate_item_key", "nan_score", "nested_100000_deep", "bidi_override_in_name"])
def test_score_refuses_a_hostile_audit_file_with_exit_2(office: Path, case: str) -> None:
    make, fragment = CASES[case]
    (office / "audit.json").write_bytes(make())
    result = invoke("score", str(office / "audit.json"))
    assert result.exit_code == 2, result.output
    assert fragment in result.output


def test_a_duplicate_item_no_longer_changes_the_score_silently(office: Path) -> None:
    make, _ = CASES["duplicate_item_key"]
    (office / "audit.json").write_bytes(make())
    result = invoke("score", str(office / "audit.json"), "--format", "json")
    assert "出现了不止一次" in result.output


def test_a_file_saved_with_a_utf8_byte_order_mark_is_accepted(office: Path) -> None:
    (office / "audit.json").write_bytes(b"\xef\xbb\xbf" + PASS.read_bytes())
    assert invoke("score", str(office / "audit.json")).exit_code == 0


def test_a_newline_is_allowed_in_evidence(office: Path) -> None:
    data = audit()
    data["items"]["5.1.1.1"]["evidence"] = "营业执照在前台公示。\n收费标准在官网公示。"
    (office / "audit.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert invoke("score", str(office / "audit.json")).exit_code == 0


def test_the_checksum_override_still_lifts_a_wrong_check_character(office: Path) -> None:
    data = audit()
    data["organization"]["uscc"] = "914406067545128620"  # format right, check character wrong
    data["organization"]["uscc_checksum_override"] = "营业执照原件核对无误"
    (office / "audit.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert invoke("score", str(office / "audit.json")).exit_code == 0


def test_a_path_of_18_characters_is_not_a_uscc_even_with_the_override(office: Path) -> None:
    data = audit()
    data["organization"]["uscc"] = "../../../../tmp/xy"
    data["organization"]["uscc_checksum_override"] = "核对无误"
    (office / "audit.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = invoke("certificate", str(office / "audit.json"))
    assert result.exit_code == 2
    assert "格式不正确" in result.output
    assert files_in(office) == {"audit.json"}


def _profiles_with(office: Path, **changes: str) -> Path:
    folder = office / "profiles"
    folder.mkdir()
    data = json.loads((ROOT / "src" / "certdocs" / "profiles" / "xbht.json").read_text(encoding="utf-8"))
    data.update(changes)
    (folder / "xbht.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return folder


@pytest.mark.parametrize("pattern", ["XBHT/{year}/{serial:04d}", "..{year}-{serial:04d}", "XBHT\\{year}-{serial:04d}"])
def test_a_number_pattern_that_could_climb_out_of_output_is_invalid_input(office: Path, pattern: str) -> None:
    folder = _profiles_with(office, number_pattern=pattern)
    result = invoke("certificate", str(PASS), "--profiles", str(folder))
    assert result.exit_code == 2, result.output
    assert "number_pattern" in result.output
    assert files_in(office) == {"profiles", "profiles/xbht.json"}


def test_batch_refuses_an_invalid_profile_before_anything_is_written(office: Path) -> None:
    folder = _profiles_with(office, number_pattern="XBHT/{year}/{serial:04d}")
    meeting = office / "m.json"
    decision = {"audit": str(PASS), "decision": "approve"}
    meeting.write_text(json.dumps({"meeting": "第1次", "date": "2026-11-20", "decisions": [decision]}), "utf-8")
    result = invoke("batch", str(meeting), "--profiles", str(folder))
    assert result.exit_code == 2, result.output
    assert files_in(office) == {"profiles", "profiles/xbht.json", "m.json"}


def _meeting(office: Path, text: str) -> Path:
    path = office / "m.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_batch_refuses_a_meeting_with_a_duplicate_key(office: Path) -> None:
    path = _meeting(office, '{"meeting": "第1次", "date": "2026-11-20", "date": "2026-11-21", "decisions": []}')
    result = invoke("batch", str(path))
    assert result.exit_code == 2
    assert "date：字段在同一对象中出现了不止一次" in result.output
    assert files_in(office) == {"m.json"}


def test_batch_refuses_a_meeting_whose_reason_hides_a_bidi_override(office: Path) -> None:
    decision = {"audit": str(PASS), "decision": "reject", "reason": "资料不全\u202e"}
    text = json.dumps({"meeting": "第1次", "date": "2026-11-20", "decisions": [decision]}, ensure_ascii=False)
    result = invoke("batch", str(_meeting(office, text)))
    assert result.exit_code == 2
    assert "decisions[0].reason" in result.output
    assert files_in(office) == {"m.json"}


def test_batch_says_a_gbk_csv_is_not_utf8_and_how_to_save_it(office: Path) -> None:
    csv = office / "m.csv"
    csv.write_bytes(f"audit,decision,issue_date,reason\n{PASS},reject,,资料不全\n".encode("gbk"))
    result = invoke("batch", str(csv), "--meeting", "第1次", "--meeting-date", "2026-11-20")
    assert result.exit_code == 2
    assert "GBK" in result.output
    assert "CSV UTF-8" in result.output
    assert files_in(office) == {"m.csv"}


def test_a_hostile_audit_in_a_batch_gets_no_number(office: Path) -> None:
    make, _ = CASES["bidi_override_in_name"]
    (office / "audit.json").write_bytes(make())
    decision = {"audit": "audit.json", "decision": "approve"}
    text = json.dumps({"meeting": "第1次", "date": "2026-11-20", "decisions": [decision]}, ensure_ascii=False)
    register = office / "reg.sqlite3"
    result = invoke("batch", str(_meeting(office, text)), "--register", str(register), "--templates", str(TEMPLATES))
    assert "organization.name" in result.output
    with Register.open(register) as opened:
        assert opened.list(today=date(2026, 11, 25)) == ()


def test_a_scheme_id_cannot_read_a_file_outside_the_schemes_folder(office: Path) -> None:
    schemes = office / "schemes"
    schemes.mkdir()
    shutil.copy(ROOT / "src" / "certdocs" / "schemes" / "xbht-s04-2025.json", office / "outside.json")
    data = audit()
    data["scheme"] = "../outside"
    (office / "audit.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = invoke("certificate", str(office / "audit.json"), "--schemes", str(schemes))
    assert result.exit_code == 2
    assert "未知的评价方案" in result.output


def test_a_decision_meeting_name_with_a_bidi_override_is_refused(office: Path) -> None:
    result = invoke("certificate", str(PASS), "--decision-meeting", "第1次\u202e会议")
    assert result.exit_code == 2
    assert "--decision-meeting：第 4 个字符是 U+202E" in result.output
    assert files_in(office) == set()


def test_an_unknown_item_id_with_a_bidi_override_is_shown_escaped(office: Path) -> None:
    from certdocs.audit import parse_audit
    from certdocs.errors import InvalidAuditResult
    from certdocs.scheme import get_scheme

    data = audit()
    data["items"]["9.9\u202e"] = {"score": 1}  # a workbook or library caller: no JSON reader in between
    with pytest.raises(InvalidAuditResult) as info:
        parse_audit(data, scheme=get_scheme("xbht-s04-2025"))
    assert 'items["9.9\\u202e"]' in info.value.render()
    assert "\u202e" not in info.value.render()
