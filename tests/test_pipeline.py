"""Issuing through the pipeline with the fake converter: numbers, reruns, refusals, recertification."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from certdocs.pipeline import Issuer, IssueRequest, Workspace
from certdocs.register import Register, Status
from certdocs.testing import FakeConverter

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
DECIDED = date(2026, 11, 20)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(
        output=tmp_path / "out", register=tmp_path / "out" / "register.sqlite3", templates=ROOT / "templates"
    )


def issue(
    ws: Workspace,
    *paths: Path,
    issue_date: date | None = None,
    today: date = date(2026, 11, 22),
    converter: FakeConverter | None = None,
) -> list:  # type: ignore[type-arg]
    with Register.open(ws.register) as register:
        issuer = Issuer(ws, converter=converter or FakeConverter(), register=register, today=today)
        return issuer.issue([IssueRequest(p, "2026年第47次认证决定会议", DECIDED, issue_date) for p in paths])


def test_a_passing_audit_gets_a_number_documents_and_an_issue_pack(workspace: Workspace) -> None:
    (outcome,) = issue(workspace, FIXTURES / "xbht-s04-2025" / "pass.json", issue_date=date(2026, 11, 22))
    assert outcome.status == "issued"
    assert outcome.number == "XBHT-SH-2026-0001"
    assert outcome.grade == "四星级"
    folder = workspace.output / "XBHT-SH-2026-0001"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{k}.{s}" for k in ("audit_plan", "scoresheet", "report", "certificate") for s in ("docx", "pdf")]
        + ["issue_pack.pdf"]
    )
    with Register.open(workspace.register) as register:
        record = register.get("XBHT-SH-2026-0001", today=date(2026, 11, 22))
    assert record.status == Status.VALID
    assert (record.facts.issue_date, record.facts.valid_until) == (date(2026, 11, 22), date(2029, 11, 21))
    assert {d.kind for d in record.documents} >= {"certificate.pdf", "issue_pack.pdf", "report.docx"}
    assert all(d.built_from["template"] and d.built_from["audit"] for d in record.documents)
    assert not [p for p in workspace.output.iterdir() if p.name.startswith(".staging")]


def test_the_issue_date_defaults_to_the_decision_date(workspace: Workspace) -> None:
    (outcome,) = issue(workspace, FIXTURES / "fw01-2021" / "pass.json")
    with Register.open(workspace.register) as register:
        assert register.get(outcome.number, today=DECIDED).facts.issue_date == DECIDED


def test_numbers_are_sequential_and_reissuing_the_same_audit_reuses_its_number(workspace: Workspace) -> None:
    a, b = FIXTURES / "xbht-s04-2025" / "pass.json", FIXTURES / "xbht-s04-2025" / "exclusions.json"
    first = issue(workspace, a, b)
    assert [o.number for o in first] == ["XBHT-SH-2026-0001", "XBHT-SH-2026-0002"]
    stamps = {p: p.stat().st_mtime_ns for p in (workspace.output / "XBHT-SH-2026-0001").iterdir()}
    converter = FakeConverter()
    again = issue(workspace, b, a, converter=converter)
    assert [o.status for o in again] == ["unchanged", "unchanged"]
    assert [o.number for o in again] == ["XBHT-SH-2026-0002", "XBHT-SH-2026-0001"]
    assert converter.calls == []  # nothing rendered or converted
    assert {p: p.stat().st_mtime_ns for p in (workspace.output / "XBHT-SH-2026-0001").iterdir()} == stamps


def test_a_deleted_document_is_rebuilt_under_the_same_number(workspace: Workspace) -> None:
    (first,) = issue(workspace, FIXTURES / "bjkb-006-2026" / "pass.json")
    first.documents["certificate"].unlink()
    (second,) = issue(workspace, FIXTURES / "bjkb-006-2026" / "pass.json")
    assert second.status == "issued"
    assert second.number == first.number
    assert first.documents["certificate"].is_file()


def test_a_failing_audit_gets_report_and_scoresheet_and_no_number(workspace: Workspace) -> None:
    (outcome,) = issue(workspace, FIXTURES / "bjkb-006-2026" / "veto.json")
    assert outcome.status == "refused"
    assert outcome.number == ""
    assert "一票否决" in outcome.errors[0]
    assert set(outcome.documents) == {"audit_plan", "scoresheet", "report"}
    assert all(p.is_file() for p in outcome.documents.values())
    with Register.open(workspace.register) as register:
        assert register.list(today=DECIDED) == ()


def test_one_bad_audit_does_not_stop_the_others_and_writes_nothing(workspace: Workspace, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    doc = json.loads((FIXTURES / "fw01-2021" / "pass.json").read_text(encoding="utf-8"))
    doc["items"]["a1"] = {"score": 7}
    bad.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    outcomes = issue(workspace, bad, FIXTURES / "fw01-2021" / "pass.json")
    assert outcomes[0].status == "failed"
    assert 'items["a1"].score' in outcomes[0].errors[0]
    assert outcomes[1].status == "issued"
    assert outcomes[1].number == "ZD-FW-2026-0001"


def test_an_issue_date_before_the_decision_is_refused(workspace: Workspace) -> None:
    (outcome,) = issue(workspace, FIXTURES / "fw01-2021" / "pass.json", issue_date=date(2026, 11, 19))
    assert outcome.status == "failed"
    assert "早于认证决定日期" in outcome.errors[0]


def test_recertification_keeps_the_first_issue_date_and_supersedes_the_old_certificate(
    workspace: Workspace,
) -> None:
    (old,) = issue(workspace, FIXTURES / "xbht-s04-2025" / "pass.json", issue_date=date(2026, 11, 22))
    later = date(2029, 10, 30)
    with Register.open(workspace.register) as register:
        issuer = Issuer(workspace, converter=FakeConverter(), register=register, today=later)
        (new,) = issuer.issue(
            [
                IssueRequest(
                    FIXTURES / "xbht-s04-2025" / "recertification.json",
                    "2029年第40次认证决定会议",
                    date(2029, 10, 28),
                    later,
                )
            ]
        )
        assert new.status == "issued", new.errors
        record = register.get(new.number, today=later)
        assert record.facts.first_issue_date == date(2026, 11, 22)
        assert record.facts.valid_until == date(2032, 11, 21)  # previous expiry 2029-11-21 + 3 years
        previous = register.get(old.number, today=later)
        assert previous.superseded_by == new.number
        assert previous.status == Status.CANCELLED


def test_recertification_without_a_certificate_is_refused(workspace: Workspace) -> None:
    with Register.open(workspace.register) as register:
        issuer = Issuer(workspace, converter=FakeConverter(), register=register, today=date(2029, 10, 30))
        (outcome,) = issuer.issue(
            [IssueRequest(FIXTURES / "xbht-s04-2025" / "recertification.json", "第40次", date(2029, 10, 28))]
        )
    assert outcome.status == "failed"
    assert "再认证须有原证书" in outcome.errors[0]


def test_every_pdf_says_what_it_was_built_from(workspace: Workspace) -> None:
    import pikepdf

    (outcome,) = issue(workspace, FIXTURES / "fw01-2021" / "pass.json")
    with Register.open(workspace.register) as register:
        recorded = {d.kind: dict(d.built_from) for d in register.documents_of(outcome.number)}
    for kind, pdf in outcome.documents.items():
        with pikepdf.open(pdf) as document:
            built = json.loads(str(document.docinfo["/CertdocsBuiltFrom"]))
        assert built == recorded[f"{kind}.pdf"]
        assert built["template_name"] == f"{kind}.docx"
        assert len(built["audit"]) == 64


class _FailsOne(FakeConverter):
    """The fake converter, failing every document of one organisation (as a damaged file would)."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker

    def convert(self, sources, *, outdir, labels=None):  # type: ignore[no-untyped-def]
        from certdocs.errors import ConversionError, Problem
        from certdocs.testing import docx_text

        bad = [s for s in sources if any(self.marker in line for line in docx_text(s))]
        good = super().convert([s for s in sources if s not in bad], outdir=outdir, labels=labels)
        if bad:
            raise ConversionError([Problem((labels or {}).get(s, s.name), "LibreOffice 未生成 PDF") for s in bad])
        return good


def test_a_document_libreoffice_cannot_convert_fails_its_audit_only(workspace: Workspace) -> None:
    converter = _FailsOne("重庆渝通汽车销售服务有限公司")
    outcomes = issue(
        workspace, FIXTURES / "fw01-2021" / "pass.json", FIXTURES / "bjkb-006-2026" / "pass.json", converter=converter
    )
    assert outcomes[0].status == "failed"
    assert "LibreOffice 未生成 PDF" in outcomes[0].errors[0]
    assert outcomes[1].status == "issued"
    with Register.open(workspace.register) as register:
        assert [r.number for r in register.list(today=DECIDED)] == [outcomes[1].number]
        assert [h.number for h in register.pending_reservations()] == [outcomes[0].number]
    # The reserved number is kept for that audit: the next run issues it, with no gap.
    (again,) = issue(workspace, FIXTURES / "fw01-2021" / "pass.json")
    assert again.status == "issued"
    assert again.number == outcomes[0].number


def test_initial_person_days_come_from_the_file_or_are_estimated() -> None:
    from decimal import Decimal

    from certdocs.audit import load_audit
    from certdocs.pipeline import default_person_days

    recert, _ = load_audit(FIXTURES / "xbht-s04-2025" / "recertification.json")
    assert recert.audit.initial_person_days is not None
    assert default_person_days(recert) == recert.audit.initial_person_days
    from certdocs.audit import parse_audit
    from certdocs.scheme import get_scheme
    from tests.conftest import full_marks_audit

    bare = parse_audit(full_marks_audit("fw01-2021"), scheme=get_scheme("fw01-2021"))  # no person-days given
    assert default_person_days(bare) == Decimal(2 * 2)  # two days, two auditors
    low, _ = load_audit(FIXTURES / "bjkb-006-2026" / "low.json")
    assert default_person_days(low) == Decimal("2.5")


# -- an issued certificate changes only through regenerate (issue 8 §4) ----------------------


def _copy(tmp_path: Path, name: str = "audit.json") -> Path:
    path = tmp_path / name
    path.write_bytes((FIXTURES / "fw01-2021" / "pass.json").read_bytes())
    return path


def _edited(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["organization"]["audit_address"] += "（二期）"  # same identity, same grade, different bytes
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def test_a_byte_different_file_for_an_issued_audit_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    audit = _copy(tmp_path)
    issue(workspace, audit)
    _edited(audit)
    (again,) = issue(workspace, audit)
    assert again.status == "failed"


def test_the_refusal_says_what_differs_and_names_regenerate(workspace: Workspace, tmp_path: Path) -> None:
    audit = _copy(tmp_path)
    issue(workspace, audit)
    _edited(audit)
    (again,) = issue(workspace, audit)
    assert ("审核结果文件已修改" in again.errors[0], "certdocs regenerate" in again.errors[1]) == (True, True)


def test_a_refused_rewrite_leaves_the_issued_pdfs_alone(workspace: Workspace, tmp_path: Path) -> None:
    from certdocs._fs import sha256_file

    audit = _copy(tmp_path)
    (first,) = issue(workspace, audit)
    before = {p: sha256_file(p) for p in first.documents.values()}
    _edited(audit)
    issue(workspace, audit)
    assert {p: sha256_file(p) for p in first.documents.values()} == before


def test_a_different_issue_date_for_an_issued_audit_is_refused(workspace: Workspace) -> None:
    issue(workspace, FIXTURES / "fw01-2021" / "pass.json", issue_date=date(2026, 11, 21))
    (again,) = issue(workspace, FIXTURES / "fw01-2021" / "pass.json", issue_date=date(2026, 11, 22))
    assert "发证日期 2026-11-22 与已登记的 2026-11-21 不同" in again.errors[0]


def test_the_same_issue_date_again_is_unchanged(workspace: Workspace) -> None:
    issue(workspace, FIXTURES / "fw01-2021" / "pass.json", issue_date=date(2026, 11, 21))
    (again,) = issue(workspace, FIXTURES / "fw01-2021" / "pass.json", issue_date=date(2026, 11, 21))
    assert again.status == "unchanged"


def test_a_failure_after_reserving_is_noted_against_the_number(workspace: Workspace) -> None:
    converter = _FailsOne("重庆渝通汽车销售服务有限公司")
    (failed,) = issue(workspace, FIXTURES / "fw01-2021" / "pass.json", converter=converter)
    with Register.open(workspace.register) as register:
        (held,) = register.unissued(today=DECIDED)
    note = held.last_failure
    assert (held.number, note is not None and "LibreOffice 未生成 PDF" in note.reason) == (failed.number, True)


def test_every_placed_file_and_its_folder_are_synced_before_the_register_records_them(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import stat

    from certdocs.register import Register as RegisterClass

    events: list[tuple[str, str]] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        kind = "folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        events.append((kind, os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    real_complete = RegisterClass.complete

    def recording_complete(self: RegisterClass, number: str, **kwargs: object) -> object:
        events.append(("complete", number))
        return real_complete(self, number, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "fsync", recording_fsync)
    monkeypatch.setattr(RegisterClass, "complete", recording_complete)
    (outcome,) = issue(workspace, FIXTURES / "xbht-s04-2025" / "pass.json", issue_date=date(2026, 11, 22))
    assert outcome.status == "issued"
    done = events.index(("complete", outcome.number))
    before = events[:done]
    folder = (workspace.output / outcome.number).resolve()
    synced_files = {Path(path).name for kind, path in before if kind == "file"}
    staged = {p.name for p in folder.iterdir()}  # the staged names carry a set number and kind
    assert len([kind for kind, _ in before if kind == "file"]) == len(staged)  # each file once, no more
    assert all(any(name.endswith(f"-{file}") for name in synced_files) for file in staged if file != "issue_pack.pdf")
    assert ("folder", str(folder)) in before
    assert ("folder", str(folder.parent)) in before


class _Warming(FakeConverter):
    """The fake, counting the times the pipeline asks it to start ahead of the work."""

    def __init__(self) -> None:
        super().__init__()
        self.warmed = 0

    def warm_up(self) -> None:
        self.warmed += 1


def test_libreoffice_is_started_once_there_is_work_and_not_for_a_rerun_that_rewrites_nothing(
    workspace: Workspace,
) -> None:
    a, b = FIXTURES / "xbht-s04-2025" / "pass.json", FIXTURES / "xbht-s04-2025" / "exclusions.json"
    first, again = _Warming(), _Warming()
    issue(workspace, a, b, converter=first)
    outcomes = issue(workspace, a, b, converter=again)
    assert [o.status for o in outcomes] == ["unchanged", "unchanged"]
    assert (first.warmed, again.warmed) == (1, 0)
