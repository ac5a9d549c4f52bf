"""The one document-writing stage (certdocs.documents): sets, failure isolation, what documents are built from.

(``tests/test_documents.py`` looks at the issued PDFs through real LibreOffice.)
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

import pytest

from certdocs import documents
from certdocs._fs import sha256_file
from certdocs.documents import (
    Document,
    DocumentSet,
    Pack,
    built_from,
    pack_built_from,
    stale_inputs,
    write_documents,
)
from certdocs.errors import ConversionError, DocumentError, Problem
from certdocs.pdf import PdfMetadata
from certdocs.pipeline import Issuer, IssueRequest, Workspace
from certdocs.register import Register
from certdocs.testing import FakeConverter
from tests.data.context_sample import sample_context
from tests.issued import IssuedFolders

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
TODAY = date(2026, 11, 22)


def _doc(kind: str, *, template: str = "report.docx", name: str = "杭州某电器股份有限公司") -> Document:
    context = sample_context()
    context["org"] = {**context["org"], "name": name}
    built = built_from(TEMPLATES / template, audit="a" * 64, scheme="s" * 64, profile="p" * 64)
    return Document(
        kind,
        TEMPLATES / template,
        context,
        PdfMetadata(title=kind, subject="", author="测试", keywords="", created=TODAY, built_from=tuple(built.items())),
    )


class _Refuses(FakeConverter):
    """The fake converter, failing every document whose text contains ``marker``."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker

    def convert(
        self, sources: Sequence[Path], *, outdir: Path, labels: Mapping[Path, str] | None = None
    ) -> dict[Path, Path]:
        from certdocs.testing import docx_text

        bad = [s for s in sources if any(self.marker in line for line in docx_text(s))]
        good = super().convert([s for s in sources if s not in bad], outdir=outdir, labels=labels)
        if bad:
            raise ConversionError([Problem((labels or {}).get(s, s.name), "LibreOffice 未生成 PDF") for s in bad])
        return good


def test_each_set_lands_in_its_folder_as_word_and_pdf(tmp_path: Path) -> None:
    sets = [DocumentSet(tmp_path / "a", (_doc("report"), _doc("sub/scoresheet", template="scoresheet.docx")))]
    (written,) = write_documents(sets, converter=FakeConverter(), register=None, within=tmp_path)
    assert written.ok
    assert written.pdfs == {
        "report": tmp_path / "a" / "report.pdf",
        "sub/scoresheet": tmp_path / "a/sub/scoresheet.pdf",
    }
    assert all(p.is_file() for p in [*written.pdfs.values(), *written.word.values()])


def test_no_staging_folder_is_left_behind(tmp_path: Path) -> None:
    write_documents(
        [DocumentSet(tmp_path / "a", (_doc("report"),))], converter=FakeConverter(), register=None, within=tmp_path
    )
    assert not list(tmp_path.glob(".staging-*"))


def test_a_document_that_cannot_be_converted_fails_its_set_only(tmp_path: Path) -> None:
    sets = [
        DocumentSet(tmp_path / "bad", (_doc("report", name="坏公司"), _doc("plan", template="audit_plan.docx"))),
        DocumentSet(tmp_path / "good", (_doc("report"),)),
    ]
    bad, good = write_documents(sets, converter=_Refuses("坏公司"), register=None, within=tmp_path)
    assert "LibreOffice 未生成 PDF" in bad.errors[0]
    assert good.ok


def test_nothing_of_a_failed_set_is_placed(tmp_path: Path) -> None:
    sets = [DocumentSet(tmp_path / "bad", (_doc("report", name="坏公司"), _doc("plan", template="audit_plan.docx")))]
    write_documents(sets, converter=_Refuses("坏公司"), register=None, within=tmp_path)
    assert not (tmp_path / "bad").exists()


def test_a_template_that_does_not_render_fails_its_set_only(tmp_path: Path) -> None:
    broken = tmp_path / "broken.docx"
    from docx import Document as Word

    word = Word()
    word.add_paragraph("{{ org.name | no_such_filter }}")
    word.save(str(broken))
    bad_doc = Document("report", broken, sample_context(), _doc("report").metadata)
    sets = [DocumentSet(tmp_path / "bad", (bad_doc,)), DocumentSet(tmp_path / "good", (_doc("report"),))]
    bad, good = write_documents(sets, converter=FakeConverter(), register=None, within=tmp_path / "")
    assert bad.errors
    assert good.ok


def test_a_folder_outside_the_output_folder_is_refused(tmp_path: Path) -> None:
    (written,) = write_documents(
        [DocumentSet(tmp_path / "out" / ".." / "elsewhere", (_doc("report"),))],
        converter=FakeConverter(),
        register=None,
        within=tmp_path / "out",
    )
    assert "不在输出文件夹" in written.errors[0]


def test_a_kind_that_climbs_out_of_the_output_folder_is_refused(tmp_path: Path) -> None:
    (written,) = write_documents(
        [DocumentSet(tmp_path / "out" / "a", (_doc("../../escaped"),))],
        converter=FakeConverter(),
        register=None,
        within=tmp_path / "out",
    )
    assert ("不在输出文件夹" in written.errors[0], (tmp_path / "escaped.pdf").exists()) == (True, False)


def test_a_folder_outside_the_output_folder_gets_no_file(tmp_path: Path) -> None:
    write_documents(
        [DocumentSet(tmp_path / "out" / ".." / "elsewhere", (_doc("report"),))],
        converter=FakeConverter(),
        register=None,
        within=tmp_path / "out",
    )
    assert not (tmp_path / "elsewhere").exists()


def test_a_pack_merges_parts_of_its_set_and_parts_already_in_the_folder(tmp_path: Path) -> None:
    from certdocs.pdf import page_count

    first = DocumentSet(tmp_path / "c", (_doc("report"), _doc("scoresheet", template="scoresheet.docx")))
    write_documents([first], converter=FakeConverter(), register=None, within=tmp_path)
    pack = Pack("issue_pack", (("报告", "report"), ("打分表", "scoresheet")), _doc("report").metadata)
    (written,) = write_documents(
        [DocumentSet(tmp_path / "c", (_doc("report"),), pack=pack)],
        converter=FakeConverter(),
        register=None,
        within=tmp_path,
    )
    assert written.pack == tmp_path / "c" / "issue_pack.pdf"
    assert page_count(written.pack) == 2


def test_documents_go_to_the_converter_in_groups(tmp_path: Path) -> None:
    converter = FakeConverter()
    sets = [
        DocumentSet(tmp_path / str(n), (_doc("report"), _doc("plan", template="audit_plan.docx"))) for n in range(5)
    ]
    write_documents(sets, converter=converter, register=None, within=tmp_path, group_documents=4)
    assert [len(c) for c in converter.calls] == [4, 4, 2]


def test_a_set_with_a_number_is_recorded_with_hashes_and_what_it_was_built_from(tmp_path: Path) -> None:
    ws = Workspace(output=tmp_path / "out", register=tmp_path / "r.sqlite3", templates=TEMPLATES)
    with Register.open(ws.register) as register:
        (outcome,) = Issuer(ws, converter=FakeConverter(), register=register, today=TODAY).issue(
            [IssueRequest(ROOT / "fixtures" / "fw01-2021" / "pass.json", "第47次", date(2026, 11, 20), TODAY)]
        )
        doc = _doc("letter")
        (written,) = write_documents(
            [DocumentSet(outcome.folder or tmp_path, (doc,), number=outcome.number)],
            converter=FakeConverter(),
            register=register,
            within=ws.output,
        )
        recorded = {d.kind: d for d in register.documents_of(outcome.number)}
    assert recorded["letter.pdf"].sha256 == sha256_file(written.pdfs["letter"])
    assert dict(recorded["letter.pdf"].built_from) == doc.built_from


def test_built_from_names_every_input_and_the_version() -> None:
    built = built_from(TEMPLATES / "report.docx", audit="a", scheme="s", profile="p")
    assert set(built) == {"audit", "template", "template_name", "scheme", "profile", "certdocs"}


def test_an_input_not_given_is_not_part_of_what_a_document_is_built_from() -> None:
    assert "audit" not in built_from(TEMPLATES / "report.docx", profile="p")


def test_the_version_is_recorded_but_does_not_count() -> None:
    old = built_from(TEMPLATES / "report.docx", audit="a", scheme="s", profile="p") | {"certdocs": "0.0.1"}
    assert stale_inputs(old, built_from(TEMPLATES / "report.docx", audit="a", scheme="s", profile="p")) == ()


def test_each_changed_input_is_named() -> None:
    old = built_from(TEMPLATES / "report.docx", audit="a", scheme="s", profile="p")
    new = built_from(TEMPLATES / "scoresheet.docx", audit="b", scheme="s", profile="q")
    assert stale_inputs(old, new) == ("audit", "template", "profile")


def test_a_pack_is_built_from_its_parts_templates_in_order() -> None:
    parts = [built_from(TEMPLATES / f"{k}.docx", audit="a", scheme="s", profile="p") for k in ("certificate", "report")]
    assert pack_built_from(parts)["template_name"] == "certificate.docx+report.docx"


# -- certificate and regenerate agree on what is out of date ----------------------------------


def _workspace(folder: Path) -> Workspace:
    return Workspace(
        output=folder / "out",
        register=folder / "r.sqlite3",
        templates=folder / "templates",
        profiles=folder / "profiles",
    )


def _issue_one(folder: Path) -> None:
    shutil.copytree(TEMPLATES, folder / "templates")
    shutil.copytree(ROOT / "src" / "certdocs" / "profiles", folder / "profiles")
    audit = folder / "audit.json"
    shutil.copy(ROOT / "fixtures" / "xbht-s04-2025" / "pass.json", audit)
    _certificate(_workspace(folder), audit)


@pytest.fixture
def issued(tmp_path: Path, issued_folders: IssuedFolders) -> Workspace:
    """One certificate issued from copied templates, profiles and audit, which the tests then change."""
    return _workspace(issued_folders.copy("documents_stage", tmp_path, _issue_one))


def _change(ws: Workspace, what: str) -> None:
    """Change one input that counts, as an office would."""
    import json

    from docx import Document as Word

    if what == "template":
        word = Word(str(ws.templates / "certificate.docx"))
        word.add_paragraph("（本证书须与发证资料包同时使用）")
        word.save(str(ws.templates / "certificate.docx"))
    elif what == "audit":
        path = ws.output.parent / "audit.json"
        doc = json.loads(path.read_text(encoding="utf-8"))
        doc["organization"]["audit_address"] += "（二期）"
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    else:
        assert ws.profiles is not None
        path = ws.profiles / "xbht.json"
        doc = json.loads(path.read_text(encoding="utf-8"))
        doc["phone"] = "010-00000000"
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def _certificate(ws: Workspace, audit: Path) -> str:
    with Register.open(ws.register) as register:
        (outcome,) = Issuer(ws, converter=FakeConverter(), register=register, today=TODAY).issue(
            [IssueRequest(audit, "第47次", date(2026, 11, 20), TODAY)]
        )
    return outcome.status


def _planned(ws: Workspace) -> list[str]:
    from certdocs import regenerate

    with Register.open(ws.register) as register:
        return [c.record.number for c in regenerate.plan(workspace=ws, register=register, today=TODAY)]


def test_after_an_upgrade_regenerate_plans_nothing(issued: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "__version__", "99.0.0")
    assert _planned(issued) == []


def test_after_an_upgrade_certificate_rewrites_nothing(issued: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "__version__", "99.0.0")
    assert _certificate(issued, issued.output.parent / "audit.json") == "unchanged"


@pytest.mark.parametrize("what", ["template", "audit", "profile"])
def test_after_a_change_that_counts_regenerate_plans_the_certificate(issued: Workspace, what: str) -> None:
    _change(issued, what)
    assert _planned(issued) == ["XBHT-SH-2026-0001"]


@pytest.mark.parametrize("what", ["template", "audit", "profile"])
def test_after_a_change_that_counts_certificate_refuses_for_the_reason_regenerate_gives(
    issued: Workspace, what: str
) -> None:
    from certdocs import regenerate

    _change(issued, what)
    with Register.open(issued.register) as register:
        (change,) = regenerate.plan(workspace=issued, register=register, today=TODAY)
        (outcome,) = Issuer(issued, converter=FakeConverter(), register=register, today=TODAY).issue(
            [IssueRequest(issued.output.parent / "audit.json", "第47次", date(2026, 11, 20), TODAY)]
        )
    assert (outcome.status, all(r in outcome.errors[0] for r in change.reasons)) == ("failed", True)


@pytest.mark.parametrize("what", ["template", "audit", "profile"])
def test_after_regenerate_certificate_says_unchanged(issued: Workspace, what: str) -> None:
    from certdocs import regenerate

    _change(issued, what)
    with Register.open(issued.register) as register:
        changes = regenerate.plan(workspace=issued, register=register, today=TODAY)
        regenerate.regenerate(changes, issuer=Issuer(issued, converter=FakeConverter(), register=register, today=TODAY))
    assert _certificate(issued, issued.output.parent / "audit.json") == "unchanged"


def test_a_conversion_failure_names_the_document_as_office_staff_know_it(tmp_path: Path) -> None:
    doc = _doc("report", name="坏公司")
    labelled = Document(doc.kind, doc.template, doc.context, doc.metadata, label="audits/坏公司.json 的审核报告")
    (bad,) = write_documents(
        [DocumentSet(tmp_path / "bad", (labelled,))], converter=_Refuses("坏公司"), register=None, within=tmp_path
    )
    assert bad.errors == ("audits/坏公司.json 的审核报告：LibreOffice 未生成 PDF",)


def test_a_check_of_the_converted_set_that_refuses_fails_its_set_only(tmp_path: Path) -> None:
    seen: list[str] = []

    def refuse(staged: Mapping[str, Path]) -> None:
        seen.extend(sorted(k for k, docx in staged.items() if docx.with_suffix(".pdf").is_file()))
        raise DocumentError([Problem("org.name", "字符 𠀀 没有字形")])

    sets = [
        DocumentSet(tmp_path / "bad", (_doc("report"),), check=refuse),
        DocumentSet(tmp_path / "good", (_doc("report"),)),
    ]
    bad, good = write_documents(sets, converter=FakeConverter(), register=None, within=tmp_path)
    assert (bad.errors, good.ok, seen) == (("org.name：字符 𠀀 没有字形",), True, ["report"])
