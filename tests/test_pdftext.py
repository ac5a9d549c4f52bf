"""certdocs._pdftext: the quick look at whether page 1 of a converted PDF shows text."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pikepdf
import pytest

from certdocs._pdftext import first_page_shows_text
from certdocs.convert import pdf_problem
from tests.libreoffice import LentConverter
from tests.test_pdf import chinese_docx

HAS_SOFFICE = shutil.which("soffice") is not None or shutil.which("libreoffice") is not None


def helvetica_pdf(content: bytes, *, in_form: bool = False) -> bytes:
    """A one-page PDF drawing ``content`` with Helvetica, on the page or inside a form XObject."""
    document = pikepdf.new()
    font = document.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
    )
    resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page = document.add_blank_page(page_size=(200, 200))
    if in_form:
        form = pikepdf.Stream(document, content)
        form.Type, form.Subtype, form.BBox = pikepdf.Name.XObject, pikepdf.Name.Form, [0, 0, 200, 200]
        form.Resources = resources
        page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(X1=form))
        page.obj.Contents = document.make_indirect(pikepdf.Stream(document, b"/X1 Do"))
    else:
        page.obj.Resources = resources
        page.obj.Contents = document.make_indirect(pikepdf.Stream(document, content))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_text_on_the_page_is_seen() -> None:
    assert first_page_shows_text(helvetica_pdf(b"BT /F1 12 Tf 10 10 Td (Hello) Tj ET"))


def test_text_only_inside_a_form_is_seen() -> None:
    assert first_page_shows_text(helvetica_pdf(b"BT /F1 12 Tf 10 10 Td [(He) -20 (llo)] TJ ET", in_form=True))


def test_a_page_that_draws_no_text_shows_none() -> None:
    assert not first_page_shows_text(helvetica_pdf(b"0 0 m 100 100 l S"))


def test_blanks_alone_are_not_text() -> None:
    assert not first_page_shows_text(helvetica_pdf(b"BT /F1 12 Tf 10 10 Td (   ) Tj ET"))


def test_text_in_a_font_the_page_does_not_have_is_not_counted() -> None:
    assert not first_page_shows_text(helvetica_pdf(b"BT /F9 12 Tf 10 10 Td (Hello) Tj ET"))


def _long_page(lines: list[bytes]) -> bytes:
    """A page whose content is longer than the prefix looked at first."""
    return helvetica_pdf(b"BT /F1 12 Tf 10 10 Td\n" + b"".join(lines) + b"ET\n")


def test_text_early_on_a_long_page_is_seen() -> None:
    assert first_page_shows_text(_long_page([b"(Hello) Tj\n"] + [b"0 0 m 100 100 l S\n"] * 600))


def test_text_only_after_a_long_start_of_blanks_is_seen() -> None:
    assert first_page_shows_text(_long_page([b"(   ) Tj\n"] * 600 + [b"(Hello) Tj\n"]))


def test_a_long_page_of_blanks_shows_none() -> None:
    assert not first_page_shows_text(_long_page([b"(   ) Tj\n"] * 600))


def test_a_string_cut_by_the_prefix_does_not_count_as_text() -> None:
    # Lines inside one string end in "Tj": the prefix ends in the middle of that string.
    content = [b"(   ) Tj\n"] * 300 + [b"/F9 12 Tf (" + b"x Tj\n" * 400 + b") Tj\n"]
    assert not first_page_shows_text(_long_page(content))


def test_text_a_few_lines_after_blanks_at_the_start_of_a_long_page_is_seen() -> None:
    # The first line showing a string shows blanks: the longer prefix decides.
    assert first_page_shows_text(_long_page([b"(   ) Tj\n", b"(Hello) Tj\n"] + [b"0 0 m 100 100 l S\n"] * 600))


def test_a_string_cut_at_its_first_line_does_not_count_as_text() -> None:
    # The first line ending in "Tj" is inside a string drawn in a font the page does not have.
    content = [b"/F9 12 Tf (x Tj\n", b"y) Tj\n"] + [b"0 0 m 100 100 l S\n"] * 600
    assert not first_page_shows_text(_long_page(content))


def test_without_anonymous_files_in_memory_the_look_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.delattr(os, "memfd_create", raising=False)
    assert first_page_shows_text(helvetica_pdf(b"BT /F1 12 Tf 10 10 Td (Hello) Tj ET"))
    assert not first_page_shows_text(helvetica_pdf(b"0 0 m 100 100 l S"))


def test_the_look_leaves_no_file_open() -> None:
    import os

    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0
    for _ in range(20):
        first_page_shows_text(helvetica_pdf(b"BT /F1 12 Tf 10 10 Td (Hello) Tj ET"))
        with pytest.raises(Exception):  # noqa: B017  (qpdf's own kind)
            first_page_shows_text(b"%PDF-1.7\nnot a pdf")
    assert (len(os.listdir("/proc/self/fd")) if before else 0) == before


def test_a_converted_pdf_without_text_is_still_refused() -> None:
    assert pdf_problem(helvetica_pdf(b"0 0 m 100 100 l S")) is not None
    assert pdf_problem(helvetica_pdf(b"BT /F1 12 Tf 10 10 Td (Hello) Tj ET")) is None


@pytest.mark.libreoffice
@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) not installed")
def test_a_libreoffice_pdf_of_chinese_text_shows_text(tmp_path: Path, libreoffice_converter: LentConverter) -> None:
    doc = chinese_docx(tmp_path / "证书.docx", "售后服务成熟度认证证书")
    pdf = libreoffice_converter.convert([doc], outdir=tmp_path)[doc]
    assert first_page_shows_text(pdf.read_bytes())
