"""certdocs.pdf: the issue pack, reproducible rewrites, readers."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pytest

from certdocs import _pdfvary as vary
from certdocs import pdf
from certdocs.convert import LibreOfficeConverter, text_pdf
from certdocs.errors import ConversionError
from certdocs.pdf import PdfMetadata, merge_issue_pack, normalize_pdf, page_count, pdf_text
from tests.libreoffice import LentConverter

HAS_SOFFICE = shutil.which("soffice") is not None or shutil.which("libreoffice") is not None

METADATA = PdfMetadata(
    title="发证资料包：杭州某电器股份有限公司",
    subject="XBHT-2026-000123",
    author="北京新标恒通认证有限公司",
    keywords="CTS XBHT-S04-2025, 四星级",
    created=dt.date(2026, 11, 22),
)

if TYPE_CHECKING:  # pypdf is imported where used: both test workers import this module
    from pypdf.generic import ArrayObject, Destination, StreamObject


def write_pdf(path: Path, *pages: str) -> Path:
    """A PDF with one page per text, as the fake converter makes them."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for text in pages:
        writer.append(PdfReader(io.BytesIO(text_pdf([text]))))
    writer.add_metadata({"/CreationDate": dt.datetime.now().strftime("D:%Y%m%d%H%M%S")})
    writer.generate_file_identifiers()  # random, as LibreOffice's are
    writer.write(path)
    return path


def chinese_docx(path: Path, text: str) -> Path:
    from docx import Document
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = Document()
    for font in ("宋体", "黑体"):
        run = document.add_paragraph().add_run(text)
        run.font.name = font
        properties = run._element.get_or_add_rPr()
        properties.get_or_add_rFonts().set(qn("w:eastAsia"), font)
        lang = OxmlElement("w:lang")
        lang.set(qn("w:eastAsia"), "zh-CN")
        properties.append(lang)
    document.save(str(path))
    return path


# --- the issue pack -----------------------------------------------------------------------


def test_the_issue_pack_has_the_parts_in_order_with_one_bookmark_each(tmp_path: Path) -> None:
    from pypdf import PdfReader

    parts = [
        ("认证证书", write_pdf(tmp_path / "certificate.pdf", "证书正文")),
        ("审核报告", write_pdf(tmp_path / "report.pdf", "报告第一页", "报告第二页", "报告第三页")),
        ("评分表", write_pdf(tmp_path / "scores.pdf", "评分表")),
    ]

    out = merge_issue_pack(parts, out=tmp_path / "pack" / "issue_pack.pdf", metadata=METADATA)

    assert out == tmp_path / "pack" / "issue_pack.pdf"
    reader = PdfReader(out)
    assert len(reader.pages) == 5
    outline = [cast("Destination", item) for item in reader.outline]
    assert [item.title for item in outline] == ["认证证书", "审核报告", "评分表"]
    assert [reader.get_destination_page_number(item) for item in outline] == [0, 1, 4]
    assert "报告第三页" in reader.pages[3].extract_text()
    assert reader.page_mode == "/UseOutlines"


def test_the_issue_pack_carries_the_document_information(tmp_path: Path) -> None:
    from pypdf import PdfReader

    part = write_pdf(tmp_path / "certificate.pdf", "证书")
    out = merge_issue_pack([("认证证书", part)], out=tmp_path / "pack.pdf", metadata=METADATA)

    info = PdfReader(out).metadata
    assert info is not None
    assert info.title == METADATA.title
    assert info.subject == "XBHT-2026-000123"
    assert info.author == "北京新标恒通认证有限公司"
    assert str(info["/Keywords"]) == "CTS XBHT-S04-2025, 四星级"
    assert info.creator == "certdocs"
    assert info.producer
    assert str(info["/CreationDate"]) == str(info["/ModDate"]) == "D:20261122000000"
    xmp = PdfReader(out).xmp_metadata
    assert xmp is not None
    assert xmp.dc_title == {"x-default": METADATA.title}
    assert xmp.pdf_keywords == METADATA.keywords


def test_the_same_parts_give_the_same_issue_pack_byte_for_byte(tmp_path: Path) -> None:
    from pypdf import PdfReader

    part = write_pdf(tmp_path / "certificate.pdf", "证书")
    first = merge_issue_pack([("认证证书", part)], out=tmp_path / "a.pdf", metadata=METADATA)
    second = merge_issue_pack([("认证证书", part)], out=tmp_path / "b.pdf", metadata=METADATA)
    assert first.read_bytes() == second.read_bytes()
    ids = cast("ArrayObject", PdfReader(first).trailer["/ID"])
    assert ids[0] == ids[1] != bytes(16)


def test_a_part_that_is_not_a_pdf_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    good = write_pdf(tmp_path / "certificate.pdf", "证书")
    bad = tmp_path / "报告.pdf"
    bad.write_bytes(b"%PDF-1.4 broken")
    with pytest.raises(ConversionError) as caught:
        merge_issue_pack([("证书", good), ("报告", bad)], out=tmp_path / "p.pdf", metadata=METADATA)
    assert caught.value.problems[0].where == "报告.pdf"
    assert not (tmp_path / "p.pdf").exists()


def test_a_refused_part_leaves_no_part_open(tmp_path: Path) -> None:
    import os

    good = write_pdf(tmp_path / "certificate.pdf", "证书")
    (tmp_path / "报告.pdf").write_bytes(b"%PDF-1.4 broken")
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(10):
        with pytest.raises(ConversionError, match="无法读取 PDF"):
            merge_issue_pack(
                [("证书", good), ("报告", tmp_path / "报告.pdf")], out=tmp_path / "p.pdf", metadata=METADATA
            )
    assert len(os.listdir("/proc/self/fd")) == before


def test_an_issue_pack_needs_at_least_one_part(tmp_path: Path) -> None:
    with pytest.raises(ConversionError, match="至少需要一份"):
        merge_issue_pack([], out=tmp_path / "p.pdf", metadata=METADATA)


# --- normalization ------------------------------------------------------------------------


def test_normalizing_gives_the_same_bytes_whatever_the_dates_and_ids(tmp_path: Path) -> None:
    first = write_pdf(tmp_path / "a.pdf", "证书")
    second = write_pdf(tmp_path / "b.pdf", "证书")
    assert first.read_bytes() != second.read_bytes()

    normalize_pdf(first, metadata=METADATA)
    normalize_pdf(second, metadata=METADATA)

    assert first.read_bytes() == second.read_bytes()
    normalize_pdf(first, metadata=METADATA)  # again: still a valid PDF saying the same
    assert pdf_text(first) == pdf_text(second)


def test_normalizing_takes_the_dates_from_the_metadata_not_the_clock(tmp_path: Path) -> None:
    from pypdf import PdfReader

    path = write_pdf(tmp_path / "a.pdf", "证书")
    moment = dt.datetime(2026, 11, 22, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    normalize_pdf(path, metadata=PdfMetadata("证书", "No. 1", "认证机构", "", moment))
    reader = PdfReader(path)
    assert reader.metadata is not None
    assert str(reader.metadata["/CreationDate"]) == "D:20261122093000+08'00'"
    assert reader.metadata.creation_date == moment
    xmp = cast("StreamObject", reader.root_object["/Metadata"].get_object()).get_data()
    assert b"<xmp:CreateDate>2026-11-22T09:30:00+08:00</xmp:CreateDate>" in xmp


def test_different_content_gives_a_different_id(tmp_path: Path) -> None:
    from pypdf import PdfReader

    first = write_pdf(tmp_path / "a.pdf", "证书一")
    second = write_pdf(tmp_path / "b.pdf", "证书二")
    normalize_pdf(first, metadata=METADATA)
    normalize_pdf(second, metadata=METADATA)
    ids = [cast("ArrayObject", PdfReader(p).trailer["/ID"])[0] for p in (first, second)]
    assert ids[0] != ids[1]


def eexec(data: bytes) -> bytes:
    return vary._eexec(data, decrypt=False)


def type1_program(unique_id: int, *, subrs: int = 5) -> tuple[bytes, int, int]:
    clear = b"%%!FontType1-1.0: Test 001.003\n/UniqueID %d def\ncurrentfile eexec\n" % unique_id
    private = b"HDU dup\n/Private 9 dict dup begin\n/UniqueID %d def\n/Subrs %d array\n" % (unique_id, subrs)
    encrypted = eexec(private)
    return clear + encrypted + b"0" * 64 + b"\ncleartomark\n", len(clear), len(encrypted)


def test_type1_unique_ids_that_count_soffice_runs_become_content_derived() -> None:
    fixed = []
    for unique_id in (4100001, 4100006):
        program, length1, length2 = type1_program(unique_id)
        parts = vary._type1_with_stable_id(program, length1, length2)
        assert parts is not None
        fixed.append(parts)
    assert fixed[0] == fixed[1]
    clear, encrypted, rest = fixed[0]
    stable = clear.split(b"/UniqueID ")[1].split()[0]
    assert 4_000_000 <= int(stable) < 5_000_000
    assert b"/UniqueID " + stable + b" def" in vary._eexec(encrypted, decrypt=True)
    assert rest.endswith(b"cleartomark\n")


def test_a_type1_subset_seen_before_is_encoded_as_it_was_the_first_time() -> None:
    from certdocs._pdfpatch import deflate_mixed

    vary._encoded.cache_clear()
    program, length1, length2 = type1_program(4100001)
    parts = vary._type1_with_stable_id(program, length1, length2)
    assert parts is not None
    first = vary._type1_encoded(program, length1, length2)
    again = vary._type1_encoded(*type1_program(4100007))  # the same subset, made later by soffice
    assert first == again == (len(parts[0]), len(parts[1]), deflate_mixed(*parts))
    assert vary._encoded.cache_info().hits == 1


def test_a_type1_subset_with_other_glyphs_is_not_taken_for_one_seen_before() -> None:
    first = vary._type1_encoded(*type1_program(4100001))
    other = vary._type1_encoded(*type1_program(4100001, subrs=6))  # differs only inside the eexec part
    assert first is not None
    assert other is not None
    assert first[2] != other[2]


def icc_header(*, year: int, with_id: bool) -> bytes:
    header = bytearray(128)
    header[24:36] = b"".join(n.to_bytes(2, "big") for n in (year, 11, 22, 3, 15, 25))
    header[36:40] = b"acsp"
    if with_id:
        masked = bytearray(header)
        header[84:100] = hashlib.md5(masked).digest()
    return bytes(header)


@pytest.mark.parametrize("with_id", [False, True])
def test_icc_profile_dates_are_set_to_the_creation_date(with_id: bool) -> None:
    fixed = vary._icc_with_date(icc_header(year=2031, with_id=with_id), dt.date(2026, 11, 22))
    assert fixed[24:36] == b"".join(n.to_bytes(2, "big") for n in (2026, 11, 22, 0, 0, 0))
    if with_id:
        masked = bytearray(fixed)
        masked[84:100] = bytes(16)
        assert fixed[84:100] == hashlib.md5(masked).digest()
    else:
        assert fixed[84:100] == bytes(16)


@pytest.mark.libreoffice
@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) not installed")
def test_two_separate_libreoffice_runs_normalize_to_identical_bytes(tmp_path: Path) -> None:
    doc = chinese_docx(tmp_path / "证书.docx", "售后服务成熟度认证证书 测试")
    others = [chinese_docx(tmp_path / f"其他{n}.docx", f"其他文件 {n}") for n in range(2)]
    with LibreOfficeConverter(workers=1) as converter:
        alone = converter.convert([doc], outdir=tmp_path / "run1")[doc]
    # In the second run the document comes third, after other documents used the fonts.
    with LibreOfficeConverter(workers=1) as converter:
        third = converter.convert([*others, doc], outdir=tmp_path / "run2")[doc]
    assert alone.read_bytes() != third.read_bytes()

    normalize_pdf(alone, metadata=METADATA)
    normalize_pdf(third, metadata=METADATA)

    assert alone.read_bytes() == third.read_bytes()
    assert "售后服务成熟度认证证书 测试" in pdf_text(alone)


@pytest.mark.libreoffice
@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) not installed")
def test_a_libreoffice_pdf_is_edited_in_place_and_stays_pdf_a_2b(
    tmp_path: Path, libreoffice_converter: LentConverter
) -> None:
    import pikepdf

    doc = chinese_docx(tmp_path / "证书.docx", "售后服务成熟度认证证书")
    path = libreoffice_converter.convert([doc], outdir=tmp_path)[doc]
    assert pdf._patched(path.read_bytes(), METADATA) is not None  # the byte editor, not qpdf

    normalize_pdf(path, metadata=METADATA)

    with pikepdf.open(path) as document:
        assert document.check_pdf_syntax() == []
        assert str(document.docinfo["/Title"]) == METADATA.title
        assert str(document.docinfo["/Producer"]).endswith("; certdocs")
        assert document.trailer.ID[0] == document.trailer.ID[1]
        with document.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as xmp:
            assert xmp.pdfa_status == "2B"
            assert xmp["dc:title"] == METADATA.title


def test_a_pdf_with_a_cross_reference_stream_is_normalized_through_qpdf(tmp_path: Path) -> None:
    import pikepdf

    made = []
    for name in ("a.pdf", "b.pdf"):
        with pikepdf.open(write_pdf(tmp_path / f"plain-{name}", "证书")) as document:
            document.save(tmp_path / name, object_stream_mode=pikepdf.ObjectStreamMode.generate)
        assert pdf._patched((tmp_path / name).read_bytes(), METADATA) is None
        normalize_pdf(tmp_path / name, metadata=METADATA)
        made.append((tmp_path / name).read_bytes())
    assert made[0] == made[1]
    assert pdf_text(tmp_path / "a.pdf") == "证书"


def test_an_incrementally_updated_pdf_is_left_to_qpdf(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "a.pdf", "证书")
    data = path.read_bytes()
    start = int(data.rsplit(b"startxref", 1)[1].split()[0])
    updated = data + b"\nxref\n0 1\n0000000000 65535 f \ntrailer\n<</Size 1/Prev %d>>\nstartxref\n%d\n%%%%EOF\n" % (
        start,
        len(data) + 1,
    )
    assert pdf._patched(updated, METADATA) is None


@pytest.mark.parametrize("cut", [100, 400, -40, -200])
def test_a_truncated_pdf_is_named_and_left_as_it_was(tmp_path: Path, cut: int) -> None:
    path = write_pdf(tmp_path / "证书.pdf", "证书")
    broken = path.read_bytes()[:cut]
    path.write_bytes(broken)
    try:
        normalize_pdf(path, metadata=METADATA)
    except ConversionError as caught:
        assert caught.problems[0].where == "证书.pdf"
        assert path.read_bytes() == broken
    else:  # qpdf repaired what it could (as before the byte editor): a PDF that reads
        assert page_count(path) >= 0


def test_document_information_with_markup_and_chinese_reads_back_exactly(tmp_path: Path) -> None:
    from pypdf import PdfReader

    title = "证书 (副本) \\ 第1号 )( <A&B>"
    path = write_pdf(tmp_path / "a.pdf", "证书")
    normalize_pdf(path, metadata=PdfMetadata(title, "No. (1)", "认证机构", "", dt.date(2026, 11, 22)))
    info = PdfReader(path).metadata
    assert info is not None
    assert info.title == title
    assert info.subject == "No. (1)"


def test_a_font_program_is_deflated_whole_with_its_ciphertext_stored() -> None:
    import zlib

    from certdocs._pdfpatch import deflate_mixed

    clear, opaque, tail = b"%!FontType1 " * 500, bytes(range(256)) * 700, b"0" * 512 + b"cleartomark"
    assert zlib.decompress(deflate_mixed(clear, opaque, tail)) == clear + opaque + tail


# --- readers ------------------------------------------------------------------------------


def test_pdf_text_and_page_count_read_every_page(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "a.pdf", "第一页", "第二页")
    assert page_count(path) == 2
    assert pdf_text(path).split("\n") == ["第一页", "第二页"]


def test_readers_name_the_file_they_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(ConversionError) as missing:
        page_count(tmp_path / "无此文件.pdf")
    assert missing.value.problems[0].where == "无此文件.pdf"
    broken = tmp_path / "坏.pdf"
    broken.write_bytes(b"garbage")
    with pytest.raises(ConversionError) as unreadable:
        pdf_text(broken)
    assert unreadable.value.problems[0].where == "坏.pdf"


@pytest.mark.skipif(vary._eexec_encrypt is vary._eexec_encrypt_python, reason="the C extension is not built here")
def test_the_native_and_python_eexec_agree() -> None:
    import os

    data = os.urandom(50_000)
    assert vary._eexec_encrypt_python(data) == vary._eexec(data, decrypt=False)
    assert vary._eexec(vary._eexec(data, decrypt=False), decrypt=True) == data
    assert vary._eexec_decrypt_numpy(vary._eexec(data, decrypt=False)) == data


@pytest.mark.skipif(vary._eexec_decrypt is vary._eexec_decrypt_numpy, reason="the C extension is not built here")
def test_native_decryption_four_bytes_a_step_agrees_at_every_length() -> None:
    import os

    for length in range(13):  # the four-byte steps, and every remainder after them
        data = os.urandom(length)
        assert vary._eexec(data, decrypt=True) == vary._eexec_decrypt_numpy(data)
