"""The library API (certdocs.issuing, exported from certdocs): the office's policies for a program."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

import certdocs
from certdocs.testing import FakeConverter

ROOT = Path(__file__).resolve().parent.parent
PASS = ROOT / "fixtures" / "fw01-2021" / "pass.json"  # audited 2026-10-20..21
TODAY = date(2026, 11, 22)


@pytest.fixture
def ws(tmp_path: Path) -> certdocs.Workspace:
    return certdocs.Workspace(output=tmp_path / "out", register=tmp_path / "r.sqlite3", templates=ROOT / "templates")


def test_every_name_in_all_is_exported() -> None:
    assert [n for n in certdocs.__all__ if not hasattr(certdocs, n)] == []


@dataclass(frozen=True)
class Issued:
    """PASS issued by a program: where, and what ``issue_certificate`` answered."""

    ws: certdocs.Workspace
    outcome: certdocs.Outcome


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Issued:
    """PASS issued once a module, for the tests that only look at what was issued."""
    folder = tmp_path_factory.mktemp("issued")
    ws = certdocs.Workspace(output=folder / "out", register=folder / "r.sqlite3", templates=ROOT / "templates")
    return Issued(ws, certdocs.issue_certificate(PASS, workspace=ws, today=TODAY, converter=FakeConverter()))


def test_a_program_issues_a_certificate(issued: Issued) -> None:
    outcome = issued.outcome
    assert (outcome.status, outcome.number) == (certdocs.OutcomeStatus.ISSUED, "ZD-FW-2026-0001")


def test_the_issued_certificate_is_in_the_register(issued: Issued) -> None:
    with certdocs.open_register(issued.ws) as register:
        assert [r.status for r in register.list(today=TODAY)] == [certdocs.Status.VALID]


def test_an_invalid_audit_is_refused_before_anything_is_written(ws: certdocs.Workspace, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    doc = json.loads(PASS.read_text(encoding="utf-8"))
    doc["items"]["a1"] = {"score": 9}
    bad.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(certdocs.InvalidAuditResult):
        certdocs.issue_certificate(bad, workspace=ws, today=TODAY, converter=FakeConverter())
    assert (ws.output.exists(), Path(ws.register).exists()) == (False, False)


@pytest.mark.parametrize("name", ["审核\x1b[31m结果", "审核\u202enosj.结果"], ids=["escape", "right-to-left"])
def test_an_audit_whose_path_would_print_differently_is_refused_before_anything_is_written(
    ws: certdocs.Workspace, tmp_path: Path, name: str
) -> None:
    # The register keeps the path and its commands print it: an escape sequence would reach the terminal.
    folder = tmp_path / name
    folder.mkdir()
    audit = Path(shutil.copy(PASS, folder / "pass.json"))
    with pytest.raises(certdocs.InvalidAuditResult, match="给文件或所在文件夹改名") as caught:
        certdocs.issue_certificate(audit, workspace=ws, today=TODAY, converter=FakeConverter())
    assert caught.value.exit_code == 2
    assert "\x1b" not in str(caught.value)
    assert (ws.output.exists(), Path(ws.register).exists()) == (False, False)


def test_a_batch_record_whose_path_would_print_differently_fails_alone_without_a_number(
    ws: certdocs.Workspace, tmp_path: Path
) -> None:
    # The meeting's own text is checked when it is read; the folder it lies in is not in it.
    odd = tmp_path / "审核\x07结果"
    odd.mkdir()
    shutil.copy(PASS, odd / "pass.json")
    meeting = odd / "meeting.json"
    decisions = [
        {"audit": "pass.json", "decision": "approve"},
        {"audit": str(ROOT / "fixtures" / "xbht-s04-2025" / "pass.json"), "decision": "approve"},
    ]
    meeting.write_text(
        json.dumps({"meeting": "第47次", "date": "2026-11-22", "decisions": decisions}), encoding="utf-8"
    )
    summary = certdocs.issue_batch(certdocs.load_meeting(meeting), workspace=ws, today=TODAY, converter=FakeConverter())
    odd_outcome, other = (row.outcome for row in summary.rows)
    assert odd_outcome is not None
    assert odd_outcome.status == "failed"
    assert "给文件或所在文件夹改名" in " ".join(odd_outcome.errors)
    assert other is not None
    assert other.status == "issued"
    with certdocs.open_register(ws) as register:
        assert [r.number for r in register.list(today=TODAY)] == ["XBHT-SH-2026-0001"]
        assert register.unissued(today=TODAY) == ()


def test_a_date_before_the_audit_is_refused_before_anything_is_written(ws: certdocs.Workspace) -> None:
    with pytest.raises(certdocs.DateError):
        certdocs.issue_certificate(
            PASS, workspace=ws, today=TODAY, issue_date=date(2026, 10, 1), converter=FakeConverter()
        )
    assert (ws.output.exists(), Path(ws.register).exists()) == (False, False)


def test_broken_templates_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    from docx import Document

    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    word = Document(str(templates / "report.docx"))
    word.add_paragraph("{{ audit.leadr }}")
    word.save(str(templates / "report.docx"))
    ws = certdocs.Workspace(output=tmp_path / "out", register=tmp_path / "r.sqlite3", templates=templates)
    with pytest.raises(certdocs.TemplateError):
        certdocs.issue_certificate(PASS, workspace=ws, today=TODAY, converter=FakeConverter())
    assert (ws.output.exists(), Path(ws.register).exists()) == (False, False)


def test_libreoffice_is_not_looked_for_when_input_is_refused(
    ws: certdocs.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[int] = []

    def make() -> FakeConverter:
        made.append(1)
        return FakeConverter()

    with pytest.raises(certdocs.DateError):
        certdocs.issue_certificate(
            PASS,
            workspace=ws,
            today=TODAY,
            issue_date=date(2026, 10, 1),
            converter=make,
        )
    assert made == []


def test_a_program_issues_a_meeting(ws: certdocs.Workspace) -> None:
    meeting = certdocs.load_meeting(ROOT / "fixtures" / "decisions" / "2026-47.json")
    summary = certdocs.issue_batch(meeting, workspace=ws, today=TODAY, converter=FakeConverter())
    assert len(summary.to_json()["issued"]) == 6


def test_a_meeting_dated_after_today_is_refused_before_anything_is_recorded(ws: certdocs.Workspace) -> None:
    meeting = certdocs.load_meeting(ROOT / "fixtures" / "decisions" / "2026-47.json")
    with pytest.raises(certdocs.DateError):
        certdocs.issue_batch(meeting, workspace=ws, today=date(2026, 11, 19), converter=FakeConverter())
    assert Path(ws.register).exists() is False


def test_a_program_plans_and_runs_a_regeneration(ws: certdocs.Workspace) -> None:
    certdocs.issue_certificate(PASS, workspace=ws, today=TODAY, converter=FakeConverter())
    next(ws.output.rglob("report.pdf")).unlink()
    result = certdocs.regenerate_documents(workspace=ws, today=TODAY, converter=FakeConverter())
    assert ([c.kinds for c in result.changes], result.failed) == ([("report",)], ())


def test_without_libreoffice_no_number_is_reserved(ws: certdocs.Workspace) -> None:
    def missing() -> FakeConverter:
        raise certdocs.ConversionError([certdocs.Problem("soffice", "找不到 LibreOffice")])

    with pytest.raises(certdocs.ConversionError):
        certdocs.issue_certificate(PASS, workspace=ws, today=TODAY, converter=missing)
    assert Path(ws.register).exists() is False
