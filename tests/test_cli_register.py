"""The register and surveillance commands, driven as office staff would."""

from __future__ import annotations

import functools
import re
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from certdocs import cli
from certdocs._clock import BEIJING
from certdocs.cli import _app
from certdocs.pipeline import Issuer, IssueRequest, Workspace
from certdocs.register import Register
from certdocs.testing import FakeConverter
from tests.issued import IssuedFolders

ROOT = Path(__file__).resolve().parent.parent
ISSUED = date(2026, 11, 22)


def _issue_three(folder: Path) -> None:
    out = folder / "out"
    ws = Workspace(output=out, register=records_register(out), templates=ROOT / "templates")
    audits = [ROOT / "fixtures" / s / "pass.json" for s in ("xbht-s04-2025", "fw01-2021", "bz-ts1008-2025")]
    with Register.open(ws.register) as register:
        outcomes = Issuer(ws, converter=FakeConverter(), register=register, today=ISSUED).issue(
            [IssueRequest(a, "2026年第47次认证决定会议", date(2026, 11, 20), ISSUED) for a in audits]
        )
    assert [o.status for o in outcomes] == ["issued"] * 3


@pytest.fixture
def output(request: pytest.FixtureRequest, tmp_path: Path, issued_folders: IssuedFolders) -> Path:
    """Three certificates issued on ISSUED into tmp_path/out, the register in tmp_path/records.

    For a test that asks for ``failed_run`` too, then a run that failed after reserving its
    number (one copy of that build, not the three certificates copied and then overwritten).
    """
    if "failed_run" in request.fixturenames:
        build = functools.partial(_issue_three_then_fail, issued_folders=issued_folders)
        # Not named "cli_register…": a copy may not name the build folder it came from anywhere,
        # and the builds share one parent folder.
        return issued_folders.copy("failed_run_after_cli_register", tmp_path, build) / "out"
    return issued_folders.copy("cli_register", tmp_path, _issue_three) / "out"


def records_register(output: Path) -> Path:
    """The register of the test's records folder (CERTDOCS_RECORDS, set in conftest)."""
    return output.parent / "records" / "register.sqlite3"


def invoke(output: Path, *args: str, today: date = ISSUED) -> tuple[int, str]:
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_app, "today", lambda: today)
        result = runner.invoke(cli.main, [*args, "--output", str(output)])
    return result.exit_code, result.output


def test_list_and_show(output: Path) -> None:
    code, text = invoke(output, "register", "list")
    assert code == 0
    assert "XBHT-SH-2026-0001" in text
    assert "共 3 张证书" in text
    code, text = invoke(output, "register", "show", "ZD-FW-2026-0001")
    assert code == 0
    assert "有效期至" in text
    assert "2029年11月21日" in text
    assert "certificate.pdf" in text


def test_valid_transitions_and_a_refused_one(output: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_app, "LibreOfficeConverter", FakeConverter)  # the letters: no LibreOffice needed here
    code, text = invoke(output, "register", "suspend", "BZ-SC-2026-0001", "--reason", "监督审核逾期", "--by", "李文")
    assert code == 0
    assert "暂停" in text
    code, text = invoke(output, "register", "restore", "BZ-SC-2026-0001", "--reason", "监督审核通过", "--by", "李文")
    assert code == 0
    assert "有效" in text
    code, _ = invoke(output, "register", "withdraw", "BZ-SC-2026-0001", "--reason", "重大事故", "--by", "李文")
    assert code == 0
    code, text = invoke(output, "register", "restore", "BZ-SC-2026-0001", "--reason", "误操作", "--by", "李文")
    assert code == 1
    assert "撤销" in text


def test_an_expired_certificate_shows_as_expired(output: Path) -> None:
    code, text = invoke(output, "register", "list", "--status", "过期失效", today=date(2029, 11, 22))
    assert code == 0
    assert "共 3 张证书" in text


def test_surveillance_due_lists_by_due_date_and_marks_overdue(output: Path) -> None:
    code, text = invoke(output, "surveillance", "due", today=date(2027, 11, 1))
    assert code == 0
    lines = [line for line in text.splitlines() if "-2026-" in line]
    assert [line.split()[0] for line in lines] == ["ZD-FW-2026-0001", "BZ-SC-2026-0001", "XBHT-SH-2026-0001"]
    assert "逾期" in lines[0]  # fw01: 9–12 months after the audit ended on the 2026 audit's last day
    code, text = invoke(output, "surveillance", "due", "--within", "10", today=date(2027, 6, 1))
    assert code == 0
    assert "共 0 项" in text


@pytest.mark.parametrize("command", ["due", "notices"])
def test_a_negative_window_is_refused(output: Path, command: str) -> None:
    before = sorted(output.rglob("*"))
    code, text = invoke(output, "surveillance", command, "--within", "-5")
    assert code == 2
    assert "-5 不在允许的范围 x>=0 内" in text
    assert sorted(output.rglob("*")) == before


def test_surveillance_notices_are_written_and_recorded(output: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_app, "LibreOfficeConverter", FakeConverter)
    code, text = invoke(output, "surveillance", "notices", "--within", "400")
    assert code == 0, text
    assert "共出具 3 份监督审核通知书" in text
    assert (output / "XBHT-SH-2026-0001" / "surveillance_notice-1.pdf").is_file()
    with Register.open(records_register(output)) as register:
        kinds = {d.kind for d in register.documents_of("XBHT-SH-2026-0001")}
    assert "surveillance_notice-1.docx" in kinds


def test_a_passed_surveillance_moves_the_next_window_on(
    output: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    monkeypatch.setattr(_app, "LibreOfficeConverter", FakeConverter)
    doc = json.loads((ROOT / "fixtures" / "bz-ts1008-2025" / "pass.json").read_text(encoding="utf-8"))
    doc["audit"].update(
        type="surveillance",
        start_date="2027-10-12",
        end_date="2027-10-12",
        previous_certificate="BZ-SC-2026-0001",
        timetable=[],
    )
    surveillance = tmp_path / "surveillance.json"
    surveillance.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    code, text = invoke(output, "surveillance", "record", str(surveillance), today=date(2027, 10, 20))
    assert code == 0, text
    assert "证书 BZ-SC-2026-0001：监督审核通过" in text
    assert (output / "BZ-SC-2026-0001" / "surveillance-2027-10-12" / "report.pdf").is_file()
    code, text = invoke(output, "surveillance", "due", today=date(2027, 10, 20))
    line = next(line for line in text.splitlines() if line.startswith("BZ-SC-2026-0001"))
    assert "第二次监督" in line
    assert "2027-11-22—2028-11-21" in line
    code, text = invoke(output, "register", "show", "BZ-SC-2026-0001", today=date(2027, 10, 20))
    assert "发证审核          初次认证审核，2026年10月30日结束" in text  # the certificate as issued
    assert "最近一次审核      监督审核，2027年10月12日结束" in text


def test_a_failed_surveillance_asks_for_a_suspension_decision(
    output: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    monkeypatch.setattr(_app, "LibreOfficeConverter", FakeConverter)
    doc = json.loads((ROOT / "fixtures" / "xbht-s04-2025" / "fail.json").read_text(encoding="utf-8"))
    passed = json.loads((ROOT / "fixtures" / "xbht-s04-2025" / "pass.json").read_text(encoding="utf-8"))
    doc["organization"] = passed["organization"]
    doc["audit"].update(type="surveillance", start_date="2027-10-12", end_date="2027-10-13", timetable=[])
    surveillance = tmp_path / "surveillance.json"
    surveillance.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    code, text = invoke(output, "surveillance", "record", str(surveillance), today=date(2027, 10, 20))
    assert code == 1
    assert "未通过" in text
    assert "register suspend" in text
    code, text = invoke(output, "register", "show", "XBHT-SH-2026-0001", today=date(2027, 10, 20))
    assert "有效" in text  # the suspension is the office's decision, not the program's


def test_after_two_surveillances_the_recertification_application_is_due(output: Path) -> None:
    from decimal import Decimal

    from certdocs.surveillance import next_due

    number = "XBHT-SH-2026-0001"  # xbht-s04-2025/pass.json, issued on ISSUED
    with Register.open(records_register(output)) as register:
        register.record_last_audit(number, audit_type="surveillance", end_date=date(2028, 10, 10))
        item = next_due(register.get(number, today=ISSUED), today=date(2028, 10, 20))
    assert item.kind == "recertification"
    assert item.due == date(2029, 8, 21)
    initial = Decimal(4)  # the fixture's person-days; recertification takes 2/3 of them
    assert item.person_days == Decimal(3)
    assert item.record.facts.initial_person_days == initial


# -- numbers that are not issued ----------------------------------------------------------------


class _BrokenLibreOffice(FakeConverter):
    """LibreOffice failing every document, as a time-out would: after the number is reserved."""

    def convert(self, sources, *, outdir, labels=None):  # type: ignore[no-untyped-def]
        from certdocs.errors import ConversionError, Problem

        raise ConversionError([Problem((labels or {}).get(s, s.name), "LibreOffice 超时未完成转换") for s in sources])


def _issue_three_then_fail(folder: Path, *, issued_folders: IssuedFolders) -> None:
    issued_folders.copy("cli_register", folder, _issue_three)
    audit = str(ROOT / "fixtures" / "xbht-s04-2025" / "exclusions.json")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_app, "LibreOfficeConverter", _BrokenLibreOffice)
        mp.setenv("CERTDOCS_RECORDS", str(folder / "records"))
        mp.setenv("CERTDOCS_OUTPUT", str(folder / "output"))
        code, text = invoke(
            folder / "out", "certificate", audit, "--templates", str(ROOT / "templates"), "--issue-date", "2026-11-22"
        )
    assert code == 1, text


@pytest.fixture
def failed_run(output: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A certificate run that failed after reserving its number (in ``output``); the number it left reserved.

    LibreOffice stays broken for the test.
    """
    monkeypatch.setattr(_app, "LibreOfficeConverter", _BrokenLibreOffice)
    return "XBHT-SH-2026-0002"


def test_a_number_reserved_by_a_failed_run_shows_in_the_list_with_its_audit(output: Path, failed_run: str) -> None:
    code, text = invoke(output, "register", "list")
    assert code == 0, text
    assert failed_run in text
    assert "预留" in text
    assert "exclusions.json" in text
    assert "共 3 张证书；另有预留未发证编号 1 个、作废编号 0 个" in text


def test_a_number_still_being_issued_shows_when_it_was_reserved_in_beijing_time(output: Path) -> None:
    from tests.test_register import PATTERN, facts

    with Register.open(records_register(output)) as register:
        held = register.reserve("running", pattern=PATTERN, year=2026, facts=facts())
    code, text = invoke(output, "register", "list", "--status", "预留")
    assert code == 0, text
    shown = re.search(rf"{held.number}.*?编号于 (\d{{4}}-\d\d-\d\d \d\d:\d\d) 预留", text, re.S)
    assert shown is not None, text
    reserved = datetime.strptime(shown[1], "%Y-%m-%d %H:%M").replace(tzinfo=BEIJING)
    assert abs(reserved - datetime.now(BEIJING)) < timedelta(minutes=2)


def test_register_text_that_would_not_print_as_it_reads_is_shown_escaped(output: Path, failed_run: str) -> None:
    # Text certdocs now refuses may be in a register written before, or by a program through SQL:
    # an escape sequence or a right-to-left override must not reach the terminal.
    with sqlite3.connect(records_register(output)) as conn:
        conn.execute("UPDATE status_history SET reason = ? WHERE reason LIKE '认证决定%'", ("决定\u202e\x1b[2J",))
    with Register.open(records_register(output)) as register:
        register.note_failure(failed_run, reason="模板错误\n第二行\x1b]0;标题\x07")
    code, text = invoke(output, "register", "show", "XBHT-SH-2026-0001")
    assert code == 0, text
    assert "决定\\u202e\\x1b[2J" in text
    code, text = invoke(output, "register", "list", "--status", "预留")
    assert code == 0, text
    assert "模板错误\\n第二行\\x1b]0;标题\\x07" in text
    assert "\x1b" not in text


def test_the_reason_a_run_failed_shows_beside_its_reserved_number(output: Path, failed_run: str) -> None:
    with Register.open(records_register(output)) as register:
        register.note_failure(failed_run, reason="模板错误：未知过滤器 money")
    code, text = invoke(output, "register", "list", "--status", "预留")
    assert code == 0, text
    assert "发证失败" in text
    assert "未知过滤器 money" in text
    assert "共 0 张证书；另有预留未发证编号 1 个" in text
    code, text = invoke(output, "register", "show", failed_run)
    assert code == 0
    assert "未知过滤器 money" in text


def test_a_voided_number_ends_its_series_as_void_and_is_never_issued(
    output: Path, failed_run: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, text = invoke(output, "register", "void", failed_run, "--reason", "模板有误，该次发证作废", "--by", "李文")
    assert code == 0, text
    assert "已作废" in text
    # The time it was voided, in Beijing time (the register keeps UTC).
    shown = re.search(r"已作废（(\d{4}-\d\d-\d\d \d\d:\d\d)，", text)
    assert shown is not None, text
    voided = datetime.strptime(shown[1], "%Y-%m-%d %H:%M").replace(tzinfo=BEIJING)
    assert abs(voided - datetime.now(BEIJING)) < timedelta(minutes=2)
    code, text = invoke(output, "register", "list")
    assert f"{failed_run}" in text
    assert "作废：模板有误，该次发证作废（李文" in text
    assert "另有预留未发证编号 0 个、作废编号 1 个" in text
    # The same audit issued later takes a new number; the voided one is never handed out.
    monkeypatch.setattr(_app, "LibreOfficeConverter", FakeConverter)
    audit = str(ROOT / "fixtures" / "xbht-s04-2025" / "exclusions.json")
    code, text = invoke(
        output, "certificate", audit, "--templates", str(ROOT / "templates"), "--issue-date", "2026-11-22"
    )
    assert code == 0, text
    assert "XBHT-SH-2026-0003" in text
    code, text = invoke(output, "register", "void", failed_run, "--reason", "再次作废", "--by", "李文")
    assert code == 1
    assert "已作废" in text


def test_an_issued_certificate_cannot_be_voided(output: Path) -> None:
    code, text = invoke(output, "register", "void", "XBHT-SH-2026-0001", "--reason", "误发", "--by", "李文")
    assert code == 1
    assert "已发证，不能作废" in text
    assert "withdraw" in text


def test_an_unknown_certificate_number_is_an_input_error(output: Path) -> None:
    code, text = invoke(output, "register", "show", "NOPE-1")
    assert code == 2
    assert "NOPE-1" in text
    assert "没有这个证书编号" in text
    code, text = invoke(output, "register", "void", "NOPE-1", "--reason", "x", "--by", "李文")
    assert code == 2
