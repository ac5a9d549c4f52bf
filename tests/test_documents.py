"""The issued documents as a person sees them: real LibreOffice, real fonts, a QR code that scans.

One module-scoped run issues a passing audit of every scheme (and an organisation with markup
characters in its name) through the real converter; the tests then read the PDFs.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from certdocs.dates import chinese_date
from certdocs.pdf import page_count, pdf_text
from certdocs.pipeline import Issuer, IssueRequest, Outcome, Workspace
from certdocs.profile import profile_for_scheme
from certdocs.register import Register
from tests.libreoffice import LentConverter

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed"),
]

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
ISSUED = date(2026, 11, 22)
PASSING = {
    "fw01-2021": "pass.json",
    "xbht-s04-2025": "pass.json",
    "bjkb-006-2026": "pass.json",
    "bz-ts1008-2025": "pass.json",
}
TRICKY = 'A&B <测试> "公司"'


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory, libreoffice_converter: LentConverter) -> dict[str, Outcome]:
    tmp = tmp_path_factory.mktemp("documents")
    tricky = json.loads((FIXTURES / "fw01-2021" / "exclusions.json").read_text(encoding="utf-8"))
    tricky["organization"]["name"] = TRICKY
    tricky_path = tmp / "tricky.json"
    tricky_path.write_text(json.dumps(tricky, ensure_ascii=False), encoding="utf-8")
    paths = {sid: FIXTURES / sid / name for sid, name in PASSING.items()} | {"tricky": tricky_path}
    ws = Workspace(output=tmp / "out", register=tmp / "out" / "register.sqlite3", templates=ROOT / "templates")
    with Register.open(ws.register) as register:
        outcomes = Issuer(ws, converter=libreoffice_converter, register=register, today=ISSUED).issue(
            [IssueRequest(p, "2026年第47次认证决定会议", date(2026, 11, 20), ISSUED) for p in paths.values()]
        )
    result = dict(zip(paths, outcomes, strict=True))
    for key, outcome in result.items():
        assert outcome.status == "issued", (key, outcome.errors)
    return result


@pytest.mark.parametrize("scheme_id", list(PASSING))
def test_the_certificate_is_one_page_with_name_number_grade_and_dates(
    issued: dict[str, Outcome], scheme_id: str
) -> None:
    outcome = issued[scheme_id]
    pdf = outcome.documents["certificate"]
    assert page_count(pdf) == 1
    text = re.sub(r"\s+", "", pdf_text(pdf))
    audit = json.loads((FIXTURES / scheme_id / PASSING[scheme_id]).read_text(encoding="utf-8"))
    assert re.sub(r"\s+", "", audit["organization"]["name"]) in text
    assert outcome.number in text
    assert outcome.grade in text
    assert chinese_date(ISSUED) in text
    assert chinese_date(date(2029, 11, 21)) in text
    assert text.count(chinese_date(ISSUED)) >= 2  # 首次发证日期 and 本次发证日期


@pytest.mark.parametrize("scheme_id", list(PASSING))
def test_every_font_is_embedded_and_chinese_comes_from_noto_cjk(issued: dict[str, Outcome], scheme_id: str) -> None:
    for kind, pdf in issued[scheme_id].documents.items():
        out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
        rows = out.splitlines()[2:]
        assert rows, kind
        for row in rows:
            assert re.search(r"\byes\s+yes\s+(yes|no)\s+\d+\s+\d+\s*$", row), (kind, row)  # emb, sub
        assert any("CJK" in row for row in rows), kind
        assert not any("DejaVu" in row for row in rows), (kind, out)


@pytest.mark.parametrize("scheme_id", list(PASSING))
def test_the_qr_code_on_the_rendered_page_is_the_verification_url(
    issued: dict[str, Outcome], scheme_id: str, tmp_path: Path
) -> None:
    import zxingcpp
    from PIL import Image

    outcome = issued[scheme_id]
    # 150 dpi: well below a printer's resolution, so a code that reads here reads on paper.
    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", "-singlefile", str(outcome.documents["certificate"]), str(tmp_path / "page")],
        check=True,
    )
    codes = zxingcpp.read_barcodes(Image.open(tmp_path / "page.png"))
    expected = profile_for_scheme(scheme_id).verification_url(outcome.number)
    assert [c.text for c in codes] == [expected]


def test_the_qr_code_is_at_least_25_mm_wide(issued: dict[str, Outcome]) -> None:
    from docx import Document

    doc = Document(str(issued["xbht-s04-2025"].word["certificate"]))
    widths = [shape.width.mm for shape in doc.inline_shapes]
    assert widths
    assert max(widths) >= 25


def test_markup_characters_in_a_name_render_literally(issued: dict[str, Outcome]) -> None:
    outcome = issued["tricky"]
    for kind in ("certificate", "report", "scoresheet"):
        text = pdf_text(outcome.documents[kind])
        assert TRICKY.replace(" ", "") in text.replace(" ", ""), kind


def test_no_document_prints_none_null_or_a_template_tag(issued: dict[str, Outcome]) -> None:
    for outcome in issued.values():
        for kind, pdf in outcome.documents.items():
            text = pdf_text(pdf)
            for bad in ("None", "null", "{{", "{%", "}}"):
                assert bad not in text, (kind, bad)


def test_the_issue_pack_has_a_bookmark_per_document_and_metadata(issued: dict[str, Outcome]) -> None:
    from pypdf import PdfReader

    outcome = issued["bz-ts1008-2025"]
    assert outcome.issue_pack is not None
    reader = PdfReader(str(outcome.issue_pack))
    assert [o.title for o in reader.outline] == ["认证证书", "审核报告", "打分表"]  # type: ignore[union-attr]
    assert reader.metadata is not None
    assert reader.metadata.subject == outcome.number
    assert reader.metadata.author == "杭州邦证认证有限公司"
    parts = sum(page_count(outcome.documents[k]) for k in ("certificate", "report", "scoresheet"))
    assert len(reader.pages) == parts


def test_two_builds_from_the_same_inputs_are_byte_identical(
    issued: dict[str, Outcome], tmp_path: Path, libreoffice_converter: LentConverter
) -> None:
    """A fresh register and output folder, the same audits: every .docx and PDF comes out the same."""
    first = issued["bz-ts1008-2025"]
    ws = Workspace(
        output=tmp_path / "out", register=tmp_path / "out" / "register.sqlite3", templates=ROOT / "templates"
    )
    with Register.open(ws.register) as register:
        # Converted after other documents this time, so LibreOffice's per-run font ids differ.
        outcomes = Issuer(ws, converter=libreoffice_converter, register=register, today=ISSUED).issue(
            [
                IssueRequest(
                    FIXTURES / "fw01-2021" / "fail.json", "2026年第47次认证决定会议", date(2026, 11, 20), ISSUED
                ),
                IssueRequest(
                    FIXTURES / "bz-ts1008-2025" / "pass.json", "2026年第47次认证决定会议", date(2026, 11, 20), ISSUED
                ),
            ]
        )
    second = outcomes[1]
    assert second.number == first.number
    for kind in first.documents:
        assert second.documents[kind].read_bytes() == first.documents[kind].read_bytes(), kind
        assert second.word[kind].read_bytes() == first.word[kind].read_bytes(), kind
    assert second.issue_pack is not None
    assert first.issue_pack is not None
    assert second.issue_pack.read_bytes() == first.issue_pack.read_bytes()
