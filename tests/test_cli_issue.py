"""The main job from the command line: certificate, batch, sign, archive — real LibreOffice where it counts."""

from __future__ import annotations

import json
import os
import shutil
import stat
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from certdocs import cli
from certdocs.cli import _app
from certdocs.testing import FakeConverter
from tests.test_sign import PASSPHRASE, keys  # noqa: F401  (the throwaway CA and PKCS#12 fixture)

ROOT = Path(__file__).resolve().parent.parent
HAS_SOFFICE = shutil.which("soffice") is not None


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli.main, list(args), env=env)
    return result.exit_code, result.output


def test_an_invalid_audit_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    doc = json.loads((ROOT / "fixtures" / "fw01-2021" / "pass.json").read_text(encoding="utf-8"))
    doc["items"]["a1"] = {"score": 9}
    doc["audit"]["end_date"] = "2025-01-01"
    bad.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    code, text = run("certificate", str(bad), "--output", str(tmp_path / "out"))
    assert code == 2
    assert "共 2 处问题" in text
    assert 'items["a1"].score' in text
    assert not (tmp_path / "out").exists()


def test_a_failing_audit_is_refused_with_its_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_app, "LibreOfficeConverter", FakeConverter)
    code, text = run(
        "certificate", str(ROOT / "fixtures" / "xbht-s04-2025" / "fail.json"), "--output", str(tmp_path / "out")
    )
    assert code == 1
    assert "不予发证" in text
    assert "report.pdf" in text
    assert "certificate.pdf" not in text


def test_batch_json_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_app, "LibreOfficeConverter", FakeConverter)
    code, text = run(
        "batch",
        str(ROOT / "fixtures" / "decisions" / "2026-47.json"),
        "--format",
        "json",
        "--output",
        str(tmp_path / "out"),
    )
    assert code == 0, text
    summary = json.loads(text)
    assert len(summary["issued"]) == 6
    assert len(summary["skipped"]) == 2
    assert summary["failed"] == []
    assert summary["issued"][0]["certificate_no"] == "XBHT-SH-2026-0001"


@pytest.mark.libreoffice
@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) is not installed")
def test_issue_sign_archive_and_verify(tmp_path: Path, keys: Any) -> None:  # noqa: F811
    out = tmp_path / "out"
    code, text = run(
        "certificate",
        str(ROOT / "fixtures" / "xbht-s04-2025" / "pass.json"),
        "--issue-date",
        "2026-11-22",
        "--output",
        str(out),
    )
    assert code == 0, text
    assert "已发证：证书编号 XBHT-SH-2026-0001，四星级" in text
    certificate = out / "XBHT-SH-2026-0001" / "certificate.pdf"
    assert str(certificate) in text

    # Issuing the same audit again keeps its number and rewrites nothing.
    before = certificate.stat().st_mtime_ns
    code, text = run(
        "certificate",
        str(ROOT / "fixtures" / "xbht-s04-2025" / "pass.json"),
        "--issue-date",
        "2026-11-22",
        "--output",
        str(out),
    )
    assert code == 0
    assert "输入未变" in text
    assert certificate.stat().st_mtime_ns == before

    signed = tmp_path / "certificate-signed.pdf"
    env = {"CERTDOCS_P12_PASSPHRASE": PASSPHRASE.decode()}
    code, text = run(
        "sign",
        str(certificate),
        "--pkcs12",
        str(keys.p12),
        "--out",
        str(signed),
        "--visible",
        env=env,
    )
    assert code == 0, text
    ca = str(keys.ca)
    code, text = run("archive", str(signed), "--trust-root", ca, "--output", str(out))
    assert code == 0, text
    assert "已归档" in text
    assert "XBHT-SH-2026-0001" in text
    code, text = run("archive", str(signed), "--trust-root", ca, "--output", str(out))
    assert code == 0
    assert "已归档，未重复写入" in text
    code, text = run("archive", "verify", "--trust-root", ca, "--output", str(out))
    assert code == 0, text

    # A second, different file for the same document needs --supersede.
    other = tmp_path / "again-signed.pdf"
    run("sign", str(certificate), "--pkcs12", str(keys.p12), "--out", str(other), env=env)
    code, text = run("archive", str(other), "--trust-root", ca, "--output", str(out))
    assert code == 1
    assert "--supersede" in text

    # One byte changed in the archived copy: verification fails.
    bag_pdf = next((tmp_path / "records" / "archive").rglob("data/certificate.pdf"))
    os.chmod(bag_pdf, stat.S_IWUSR | stat.S_IRUSR)
    data = bytearray(bag_pdf.read_bytes())
    data[len(data) // 2] ^= 0x01
    bag_pdf.write_bytes(bytes(data))
    code, text = run("archive", "verify", "--trust-root", ca, "--output", str(out))
    assert code == 1
    assert "归档失败" in text


def test_the_register_is_written_with_the_issue_date_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_app, "LibreOfficeConverter", FakeConverter)
    code, _ = run(
        "certificate",
        str(ROOT / "fixtures" / "fw01-2021" / "pass.json"),
        "--issue-date",
        "2026-11-23",
        "--output",
        str(tmp_path / "out"),
    )
    assert code == 0
    from certdocs.register import Register

    with Register.open(tmp_path / "records" / "register.sqlite3") as register:
        record = register.get("ZD-FW-2026-0001", today=date(2026, 12, 1))
    assert (record.facts.issue_date, record.facts.valid_until) == (date(2026, 11, 23), date(2029, 11, 22))


def test_a_broken_template_stops_a_batch_before_anything_is_issued(tmp_path: Path) -> None:
    from docx import Document

    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    doc = Document(str(templates / "report.docx"))
    doc.add_paragraph("审核组长：{{ audit.leadr }}")
    doc.save(str(templates / "report.docx"))
    code, text = run(
        "batch",
        str(ROOT / "fixtures" / "decisions" / "2026-47.json"),
        "--templates",
        str(templates),
        "--output",
        str(tmp_path / "out"),
    )
    assert code == 2
    assert "report.docx" in text
    assert "audit.leadr" in text
    assert not (tmp_path / "out").exists()


def _templates_with_a_damaged_certificate(tmp_path: Path) -> Path:
    """A copy of the bundled templates whose certificate.docx has one byte of its body changed (a wrong CRC-32)."""
    import zipfile

    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    path = templates / "certificate.docx"
    with zipfile.ZipFile(ROOT / "templates" / "certificate.docx") as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():  # stored uncompressed: a byte of the body is a byte of the file
            target.writestr(info.filename, source.read(info))
    data = bytearray(path.read_bytes())
    data[data.index(b"<w:body>") + 3] ^= 0x01
    path.write_bytes(bytes(data))
    return templates


_DAMAGED_CERTIFICATE = "certificate.docx（word/document.xml）：文件已损坏：校验和（CRC-32）不符"


@pytest.mark.parametrize(
    ("command", "source"),
    [("certificate", "fixtures/xbht-s04-2025/pass.json"), ("batch", "fixtures/decisions/2026-47.json")],
)
def test_a_damaged_template_stops_issuing_with_exit_2_and_writes_nothing(
    tmp_path: Path, command: str, source: str
) -> None:
    templates = _templates_with_a_damaged_certificate(tmp_path)
    code, text = run(command, str(ROOT / source), "--templates", str(templates), "--output", str(tmp_path / "out"))
    assert code == 2
    assert _DAMAGED_CERTIFICATE in text
    assert not (tmp_path / "out").exists()


def test_templates_check_reports_a_damaged_template_with_exit_2(tmp_path: Path) -> None:
    templates = _templates_with_a_damaged_certificate(tmp_path)
    code, text = run("templates", "check", "--templates", str(templates))
    assert code == 2
    assert _DAMAGED_CERTIFICATE in text
    assert "模板检查通过" not in text


def test_a_batch_with_a_refused_audit_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_app, "LibreOfficeConverter", FakeConverter)
    vetoed = str(ROOT / "fixtures" / "bjkb-006-2026" / "veto.json")
    meeting = {
        "meeting": "2026年第48次认证决定会议",
        "date": "2026-11-20",
        "decisions": [
            {"audit": str(ROOT / "fixtures" / "xbht-s04-2025" / "pass.json"), "decision": "approve"},
            {"audit": vetoed, "decision": "approve"},
        ],
    }
    decisions = tmp_path / "meeting.json"
    decisions.write_text(json.dumps(meeting, ensure_ascii=False), encoding="utf-8")
    code, text = run("batch", str(decisions), "--format", "json", "--output", str(tmp_path / "out"))
    assert code == 1
    summary = json.loads(text[text.index("{") :])
    assert [f["audit"] for f in summary["failed"]] == [vetoed]
    assert len(summary["issued"]) == 1
    code, text = run("batch", str(decisions), "--output", str(tmp_path / "out"))
    assert code == 1
    assert "失败 1" in text


def test_a_libreoffice_time_out_names_the_audit_and_the_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from certdocs.convert import LibreOfficeConverter

    slow = tmp_path / "soffice"
    slow.write_text("#!/bin/sh\nexec sleep 30\n")
    slow.chmod(0o755)
    # This soffice never finishes, so any time-out runs out: the shortest keeps the test quick.
    monkeypatch.setattr(
        _app, "converter", lambda: LibreOfficeConverter(soffice=slow, driver="command", timeout=0.1, workers=1)
    )
    audit = ROOT / "fixtures" / "xbht-s04-2025" / "pass.json"
    code, text = run("certificate", str(audit), "--issue-date", "2026-11-22", "--output", str(tmp_path / "out"))
    assert code == 1
    assert f"{audit} 的认证证书：LibreOffice 超时" in text
    assert ".docx" not in text


# -- issue dates and meeting dates (docs/dates.md) ------------------------------------------

PASS = ROOT / "fixtures" / "fw01-2021" / "pass.json"  # audited 2026-10-20..21


@pytest.fixture
def office(monkeypatch: pytest.MonkeyPatch) -> None:
    """Today is 2026-11-22 and the converter is the fake."""
    monkeypatch.setattr(_app, "today", lambda: date(2026, 11, 22))
    monkeypatch.setattr(_app, "LibreOfficeConverter", FakeConverter)


def test_an_issue_date_before_the_audit_ended_exits_2(tmp_path: Path, office: None) -> None:
    code, _ = run("certificate", str(PASS), "--issue-date", "2026-10-01", "--output", str(tmp_path / "out"))
    assert code == 2


def test_an_issue_date_before_the_audit_ended_names_the_audit_and_dates(tmp_path: Path, office: None) -> None:
    _, text = run("certificate", str(PASS), "--issue-date", "2026-10-01", "--output", str(tmp_path / "out"))
    assert f"{PASS}：发证日期 2026-10-01 早于审核结束日期 2026-10-21" in text


def test_a_refused_issue_date_reserves_and_writes_nothing(tmp_path: Path, office: None) -> None:
    run("certificate", str(PASS), "--issue-date", "2026-10-01", "--output", str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_an_issue_date_after_today_exits_2(tmp_path: Path, office: None) -> None:
    code, text = run("certificate", str(PASS), "--issue-date", "2099-01-01", "--output", str(tmp_path / "out"))
    assert (code, "--allow-future-date" in text) == (2, True)


def test_an_issue_date_after_today_is_issued_when_the_office_says_so(tmp_path: Path, office: None) -> None:
    args = ["--issue-date", "2026-12-01", "--allow-future-date", "--output", str(tmp_path / "out")]
    code, text = run("certificate", str(PASS), *args)
    assert code == 0, text


def test_the_issue_date_can_come_from_certdocs_issue_date(tmp_path: Path, office: None) -> None:
    code, text = run(
        "certificate", str(PASS), "--output", str(tmp_path / "out"), env={"CERTDOCS_ISSUE_DATE": "2026-10-01"}
    )
    assert (code, "2026-10-01" in text) == (2, True)


def test_the_unprefixed_issue_date_variable_is_ignored(tmp_path: Path, office: None) -> None:
    code, text = run("certificate", str(PASS), "--output", str(tmp_path / "out"), env={"ISSUE_DATE": "2026-10-01"})
    assert code == 0, text


def test_certificate_help_names_the_environment_variable() -> None:
    _, text = run("certificate", "--help")
    assert "CERTDOCS_ISSUE_DATE" in text


def _meeting(tmp_path: Path, day: str, **decision: str) -> Path:
    path = tmp_path / "m.json"
    record = {"audit": str(PASS), "decision": "approve", **decision}
    path.write_text(json.dumps({"meeting": "第9次", "date": day, "decisions": [record]}), encoding="utf-8")
    return path


def test_a_meeting_before_the_audit_ended_exits_2_and_writes_nothing(tmp_path: Path, office: None) -> None:
    code, _ = run("batch", str(_meeting(tmp_path, "2026-10-05")), "--output", str(tmp_path / "out"))
    assert (code, (tmp_path / "out").exists()) == (2, False)


def test_a_meeting_before_the_audit_ended_names_the_record_and_dates(tmp_path: Path, office: None) -> None:
    _, text = run("batch", str(_meeting(tmp_path, "2026-10-05")), "--output", str(tmp_path / "out"))
    assert "认证决定会议（第9次）日期 2026-10-05 早于审核结束日期 2026-10-21" in text


def test_a_meeting_after_today_exits_2(tmp_path: Path, office: None) -> None:
    code, text = run("batch", str(_meeting(tmp_path, "2026-12-20")), "--output", str(tmp_path / "out"))
    assert (code, "会议日期 2026-12-20 晚于今天" in text) == (2, True)


def test_a_future_meeting_is_issued_when_the_office_says_so(tmp_path: Path, office: None) -> None:
    args = ["--allow-future-date", "--output", str(tmp_path / "out")]
    code, text = run("batch", str(_meeting(tmp_path, "2026-12-20")), *args)
    assert code == 0, text


def test_a_record_issued_after_today_exits_2(tmp_path: Path, office: None) -> None:
    meeting = _meeting(tmp_path, "2026-11-20", issue_date="2027-01-01")
    code, text = run("batch", str(meeting), "--output", str(tmp_path / "out"))
    assert (code, "decisions[0]" in text) == (2, True)


def test_regenerate_from_the_command_line_plans_then_rebuilds(tmp_path: Path, office: None) -> None:
    from docx import Document

    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    where = ["--output", str(tmp_path / "out"), "--templates", str(templates)]
    run("certificate", str(PASS), "--issue-date", "2026-11-21", *where)
    word = Document(str(templates / "report.docx"))
    word.add_paragraph("本报告仅用于认证目的。")
    word.save(str(templates / "report.docx"))
    planned = run("regenerate", "--dry-run", *where)
    rebuilt = run("regenerate", *where)
    settled = run("regenerate", *where)
    assert (planned[0], "模板 report.docx 已修改" in planned[1]) == (0, True)
    assert (rebuilt[0], "已重新生成 1 张证书的文件，失败 0" in rebuilt[1]) == (0, True)
    assert "没有需要重新生成的文件" in settled[1]


def test_another_issue_date_for_an_issued_certificate_exits_1_saying_what_differs(tmp_path: Path, office: None) -> None:
    run("certificate", str(PASS), "--issue-date", "2026-11-21", "--output", str(tmp_path / "out"))
    code, text = run("certificate", str(PASS), "--issue-date", "2026-11-22", "--output", str(tmp_path / "out"))
    differs = "发证日期 2026-11-22 与已登记的 2026-11-21 不同"
    assert (code, differs in text, "certdocs regenerate" in text) == (1, True, True)


def test_a_changed_audit_file_for_an_issued_certificate_leaves_its_pdfs_alone(tmp_path: Path, office: None) -> None:
    from certdocs._fs import sha256_file

    audit = tmp_path / "audit.json"
    audit.write_bytes(PASS.read_bytes())
    run("certificate", str(audit), "--output", str(tmp_path / "out"))
    before = {p: sha256_file(p) for p in (tmp_path / "out").rglob("*.pdf")}
    doc = json.loads(audit.read_text(encoding="utf-8"))
    doc["organization"]["audit_address"] += "（二期）"
    audit.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    code, text = run("certificate", str(audit), "--output", str(tmp_path / "out"))
    assert (code, "审核结果文件已修改" in text) == (1, True)
    assert {p: sha256_file(p) for p in (tmp_path / "out").rglob("*.pdf")} == before
