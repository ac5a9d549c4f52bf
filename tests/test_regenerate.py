"""Regeneration: exactly the documents whose template, profile, scheme or audit changed."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from certdocs import regenerate
from certdocs._fs import sha256_file
from certdocs.errors import CertdocsError
from certdocs.pipeline import Issuer, IssueRequest, Workspace
from certdocs.register import Register
from certdocs.testing import FakeConverter
from tests.issued import IssuedFolders

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 22)
AUDITS = [
    ROOT / "fixtures" / "xbht-s04-2025" / "pass.json",
    ROOT / "fixtures" / "fw01-2021" / "pass.json",
    ROOT / "fixtures" / "bjkb-006-2026" / "pass.json",
]


def _workspace(folder: Path) -> Workspace:
    return Workspace(output=folder / "out", register=folder / "out" / "r.sqlite3", templates=folder / "templates")


def _issue_three(folder: Path) -> None:
    templates = folder / "templates"
    shutil.copytree(ROOT / "templates", templates)
    audits = folder / "audits"
    audits.mkdir()
    for a in AUDITS:
        shutil.copy(a, audits / f"{a.parent.name}.json")
    ws = _workspace(folder)
    with Register.open(ws.register) as register:
        Issuer(ws, converter=FakeConverter(), register=register, today=TODAY).issue(
            [IssueRequest(p, "第47次", date(2026, 11, 20), TODAY) for p in sorted(audits.iterdir())]
        )


@pytest.fixture
def issued(tmp_path: Path, issued_folders: IssuedFolders) -> Workspace:
    """Three certificates issued from copied templates and audits, which the tests then change."""
    return _workspace(issued_folders.copy("regenerate", tmp_path, _issue_three))


def files(ws: Workspace) -> dict[Path, str]:
    return {p: sha256_file(p) for p in ws.output.rglob("*") if p.is_file() and p.suffix in (".pdf", ".docx")}


def run(ws: Workspace, converter: FakeConverter | None = None) -> list[regenerate.Change]:
    with Register.open(ws.register) as register:
        changes = regenerate.plan(workspace=ws, register=register, today=TODAY)
        outcomes = regenerate.regenerate(
            changes, issuer=Issuer(ws, converter=converter or FakeConverter(), register=register, today=TODAY)
        )
        assert all(o.status == "issued" for o in outcomes), outcomes
    return changes


def test_with_nothing_changed_nothing_is_rebuilt(issued: Workspace) -> None:
    before = files(issued)
    converter = FakeConverter()
    assert run(issued, converter) == []
    assert converter.calls == []
    assert files(issued) == before


def test_changing_one_template_rebuilds_exactly_the_documents_that_use_it(issued: Workspace) -> None:
    from docx import Document

    before = files(issued)
    path = issued.templates / "report.docx"
    doc = Document(str(path))
    doc.add_paragraph("本报告仅用于认证目的。")
    doc.save(str(path))
    changes = run(issued)
    assert [c.kinds for c in changes] == [("report",)] * 3
    assert all("模板 report.docx 已修改" in c.reasons for c in changes)
    after = files(issued)
    changed = sorted(p.name for p in after if after[p] != before[p])
    assert changed == ["issue_pack.pdf"] * 3 + ["report.docx"] * 3 + ["report.pdf"] * 3
    assert run(issued) == []  # and then it is settled


def test_a_changed_audit_or_profile_rebuilds_that_certificate_only(issued: Workspace, tmp_path: Path) -> None:
    audit = tmp_path / "audits" / "fw01-2021.json"
    doc = json.loads(audit.read_text(encoding="utf-8"))
    doc["organization"]["audit_address"] += "（二期）"
    audit.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    changes = run(issued)
    assert [c.record.number for c in changes] == ["ZD-FW-2026-0001"]
    assert changes[0].kinds == ("audit_plan", "scoresheet", "report", "certificate")
    assert changes[0].reasons == ("审核结果文件已修改",)


def test_dates_and_numbers_are_kept(issued: Workspace) -> None:
    with Register.open(issued.register) as register:
        before = {r.number: (r.facts.issue_date, r.facts.valid_until) for r in register.list(today=TODAY)}
    (issued.templates / "certificate.docx").write_bytes((issued.templates / "certificate.docx").read_bytes())
    for p in issued.output.rglob("certificate.pdf"):
        p.unlink()
    assert len(run(issued)) == 3
    with Register.open(issued.register) as register:
        assert {r.number: (r.facts.issue_date, r.facts.valid_until) for r in register.list(today=TODAY)} == before


def test_a_grade_changing_edit_needs_a_new_decision(issued: Workspace, tmp_path: Path) -> None:
    audit = tmp_path / "audits" / "bjkb-006-2026.json"
    doc = json.loads(audit.read_text(encoding="utf-8"))
    doc["items"]["4.1.1"] = {"compliant": False}
    audit.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with Register.open(issued.register) as register:
        changes = regenerate.plan(workspace=issued, register=register, today=TODAY)
        (outcome,) = regenerate.regenerate(
            changes, issuer=Issuer(issued, converter=FakeConverter(), register=register, today=TODAY)
        )
    assert outcome.status == "failed"
    assert "须重新作出认证决定" in outcome.errors[0]


def test_a_missing_template_is_reported(issued: Workspace) -> None:
    (issued.templates / "scoresheet.docx").unlink()
    with Register.open(issued.register) as register, pytest.raises(CertdocsError) as info:
        regenerate.plan(workspace=issued, register=register, today=TODAY)
    assert "模板文件不存在" in str(info.value)
