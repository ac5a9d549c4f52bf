"""certdocs.convert: the fake converter, LibreOffice (real and scripted stand-ins), fonts."""

from __future__ import annotations

import io
import itertools
import os
import shutil
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageDraw, ImageFont

from certdocs import convert
from certdocs.convert import (
    FONTS_CONF,
    INSTALL_HINT,
    Converter,
    FakeConverter,
    LibreOfficeConverter,
    pdf_export_filter,
    text_pdf,
)
from certdocs.errors import ConversionError
from certdocs.testing import docx_text

TITLE = "售后服务成熟度认证证书 测试"
HAS_SOFFICE = shutil.which("soffice") is not None or shutil.which("libreoffice") is not None
needs_soffice = pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) not installed")
needs_poppler = pytest.mark.skipif(
    shutil.which("pdffonts") is None or shutil.which("pdftoppm") is None,
    reason="poppler-utils not installed",
)

if TYPE_CHECKING:  # pypdf is imported where used: both test workers import this module
    from pypdf.generic import StreamObject


def chinese_docx(path: Path, *lines: tuple[str, str], size: int = 16) -> Path:
    """A Word document with one paragraph per (text, font) line, tagged Simplified Chinese."""
    from docx import Document
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    document = Document()
    for text, font in lines:
        run = document.add_paragraph().add_run(text)
        run.font.name = font
        run.font.size = Pt(size)
        properties = run._element.get_or_add_rPr()
        properties.get_or_add_rFonts().set(qn("w:eastAsia"), font)  # docx sets ascii/hAnsi
        lang = OxmlElement("w:lang")
        lang.set(qn("w:eastAsia"), "zh-CN")
        properties.append(lang)
    document.save(str(path))
    return path


def certificate_docx(path: Path, n: int) -> Path:
    return chinese_docx(
        path,
        (f"{TITLE} {n}", "宋体"),
        ("认证机构：北京新标恒通认证有限公司 ABC 123", "黑体"),
    )


def qr_docx(path: Path, *, pixels: int) -> Path:
    import qrcode
    from docx import Document
    from docx.shared import Cm

    image = qrcode.make("https://example.com/verify/XBHT-2026-000123", box_size=40, border=2)
    png = path.with_suffix(".png")
    image.resize((pixels, pixels)).save(png)
    document = Document()
    document.add_paragraph("证书查验二维码")
    document.add_picture(str(png), width=Cm(2.5))
    document.save(str(path))
    return path


# --- the fake -----------------------------------------------------------------------------


def test_the_fake_maps_each_document_to_a_pdf_of_the_same_name_with_its_text(
    tmp_path: Path,
) -> None:
    from pypdf import PdfReader

    sources = [certificate_docx(tmp_path / f"证书{n}.docx", n) for n in range(3)]
    fake = FakeConverter()
    converter: Converter = fake

    result = converter.convert([*sources, sources[0]], outdir=tmp_path / "out")

    assert result == {s: tmp_path / "out" / f"{s.stem}.pdf" for s in sources}
    text = PdfReader(result[sources[1]]).pages[0].extract_text()
    assert f"{TITLE} 1" in text
    assert "北京新标恒通认证有限公司" in text
    assert fake.calls == [tuple(sources)]


def test_the_fakes_text_is_python_docx_s_own_paragraph_and_cell_text(tmp_path: Path) -> None:
    # docx_text reads without python-docx's XPath per run (three times faster); it must read
    # what python-docx reads: tabs, breaks, hyphens, hyperlinks, spanned and merged cells.
    from docx import Document
    from docx.enum.text import WD_BREAK
    from docx.oxml import OxmlElement

    document = Document()
    paragraph = document.add_paragraph("甲\t乙")
    run = paragraph.add_run("丙")
    run.add_break()
    run.add_text("丁")
    run.add_break(WD_BREAK.PAGE)
    hyperlink = OxmlElement("w:hyperlink")
    inner = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "链接"
    inner.append(text)
    inner.append(OxmlElement("w:noBreakHyphen"))
    hyperlink.append(inner)
    paragraph._p.append(hyperlink)
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate(table.rows):
        for c, cell in enumerate(row.cells):
            cell.text = f"格{r}{c}"
    table.cell(0, 0).merge(table.cell(0, 1))  # a horizontal span
    table.cell(1, 2).merge(table.cell(2, 2))  # a vertical merge
    table.cell(2, 0).add_paragraph("第二段")
    path = tmp_path / "混合.docx"
    document.save(str(path))

    body = Document(str(path))._body
    expected = [p.text for p in body.paragraphs]
    for t in body.tables:
        for row in t.rows:
            expected.extend(cell.text for cell in row.cells)

    assert docx_text(path) == expected


_W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_ODD_BODIES = {
    "run content": '<w:p><w:r><w:t>a</w:t><w:tab/><w:br/><w:br w:type="page"/><w:br w:type="textWrapping"/>'
    '<w:br w:type="column"/><w:cr/><w:noBreakHyphen/><w:ptab/><w:t xml:space="preserve"> b </w:t><w:t/></w:r>'
    "<w:hyperlink><w:r><w:t>链</w:t></w:r></w:hyperlink><w:ins><w:r><w:t>修订</w:t></w:r></w:ins></w:p>",
    "a comment in a text": "<w:p><w:r><w:t>a<!--c-->b</w:t></w:r></w:p>",
    "an element in a text": "<w:p><w:r><w:t>a<w:x/>b</w:t></w:r></w:p>",
    "CDATA and references": "<w:p><w:r><w:t>a<![CDATA[<b>]]>&lt;&amp;&#13;&#x4E2D;\u202e</w:t></w:r><?pi x?></w:p>",
    "a span of two": '<w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val="2"/></w:tcPr><w:p><w:r><w:t>x</w:t></w:r></w:p>'
    "<w:p/><w:p><w:r><w:t>y</w:t></w:r></w:p></w:tc><w:tc/></w:tr></w:tbl>",
    "a span in Arabic-Indic digits": '<w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val="\u0662"/></w:tcPr>'
    "<w:p><w:r><w:t>q</w:t></w:r></w:p></w:tc></w:tr></w:tbl>",
    "two cell properties": '<w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val="2"/></w:tcPr>'
    '<w:tcPr><w:gridSpan w:val="3"/></w:tcPr><w:p/></w:tc></w:tr></w:tbl>',
    "a table in a cell": "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>外</w:t></w:r></w:p><w:tbl><w:tr><w:tc><w:p><w:r>"
    "<w:t>内</w:t></w:r></w:p></w:tc></w:tr></w:tbl></w:tc></w:tr></w:tbl><w:p><w:r><w:t>后</w:t></w:r></w:p>",
    "a content control": "<w:sdt><w:sdtContent><w:p><w:r><w:t>控件</w:t></w:r></w:p></w:sdtContent></w:sdt>",
}


@pytest.mark.parametrize("body", list(_ODD_BODIES.values()), ids=list(_ODD_BODIES))
def test_the_fakes_text_of_odd_markup_is_python_docx_s_own(tmp_path: Path, body: str) -> None:
    # docx_text reads most documents by an XSLT and leaves the odd ones to python-docx: either
    # way the lines are what python-docx's Paragraph.text and row.cells give.
    import zipfile

    from docx.document import _Body
    from docx.oxml import parse_xml

    main = f"<w:document {_W_NS}><w:body>{body}</w:body></w:document>".encode()
    path = tmp_path / "odd.docx"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("word/document.xml", main)
    read = _Body(parse_xml(main).body, cast(Any, None))
    expected = [p.text for p in read.paragraphs]
    for t in read.tables:
        for row in t.rows:
            expected.extend(cell.text for cell in row.cells)

    assert docx_text(path) == expected


def test_the_fakes_text_of_a_document_with_entities_is_python_docx_s_own(tmp_path: Path) -> None:
    import zipfile

    from docx.oxml import parse_xml

    main = (
        f'<!DOCTYPE w:document [<!ENTITY e "实体">]><w:document {_W_NS}><w:body>'
        "<w:p><w:r><w:t>&e;x</w:t></w:r></w:p></w:body></w:document>"
    ).encode()
    path = tmp_path / "entities.docx"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("word/document.xml", main)

    assert docx_text(path) == [parse_xml(main).body.p_lst[0].text]


@given(st.text(max_size=40))
def test_the_fakes_pdf_shows_each_character_in_ucs2_and_the_rest_as_the_replacement_character(line: str) -> None:
    shown = "".join(f"{min(ord(c), 0xFFFD):04X}" for c in line)  # UCS-2: U+FFFD for what it cannot hold

    assert f"<{shown}> Tj".encode("ascii") in text_pdf([line])


def test_the_fake_refuses_a_file_that_is_not_a_word_document(tmp_path: Path) -> None:
    bad = tmp_path / "坏文件.docx"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ConversionError) as caught:
        FakeConverter().convert([bad], outdir=tmp_path / "out")
    assert caught.value.problems[0].where == "坏文件.docx"
    assert not (tmp_path / "out" / "坏文件.pdf").exists()


def test_sources_that_would_give_the_same_pdf_name_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    sources = [certificate_docx(tmp_path / d / "证书.docx", 0) for d in ("a", "b")]
    with pytest.raises(ConversionError, match="同名"):
        FakeConverter().convert(sources, outdir=tmp_path / "out")


def test_text_pdf_wraps_long_paragraphs_and_keeps_every_character() -> None:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(text_pdf(["认证" * 50, "第二段"])))
    text = reader.pages[0].extract_text().replace("\n", "")
    assert text == "认证" * 50 + "第二段"


# --- options, chunks, fonts ----------------------------------------------------------------


def test_the_export_filter_is_json_that_libreoffice_7_4_reads() -> None:
    value = pdf_export_filter({"SelectPdfVersion": 2, "UseLosslessCompression": True})
    assert value == (
        'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"},'
        '"UseLosslessCompression":{"type":"boolean","value":"true"}}'
    )


@pytest.mark.parametrize(
    ("count", "chunk_size", "workers", "sizes"),
    [
        (20, 20, 2, [10, 10]),
        (20, 5, 2, [5, 5, 5, 5]),
        (7, 3, 2, [3, 2, 2]),
        (1, 20, 4, [1]),
        (5, 20, 1, [5]),
    ],
)
def test_documents_are_split_into_even_chunks_at_least_one_per_worker(
    count: int, chunk_size: int, workers: int, sizes: list[int]
) -> None:
    sources = [Path(f"{n}.docx") for n in range(count)]
    chunks = convert._split(sources, chunk_size=chunk_size, workers=workers)
    assert [len(c) for c in chunks] == sizes
    assert [s for c in chunks for s in c] == sources


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="fontconfig tools not installed")
@pytest.mark.parametrize(
    ("requested", "family"),
    [
        *[(name, "Noto Serif CJK SC") for name in ("宋体", "SimSun", "新宋体", "NSimSun")],
        *[(name, "Noto Serif CJK SC") for name in ("仿宋", "FangSong", "仿宋_GB2312")],
        *[(name, "Noto Serif CJK SC") for name in ("楷体", "KaiTi", "楷体_GB2312")],
        *[(name, "Noto Sans CJK SC") for name in ("黑体", "SimHei", "微软雅黑")],
        *[(name, "Noto Sans CJK SC") for name in ("Microsoft YaHei", "等线", "DengXian")],
        ("宋体:lang=ja", "Noto Serif CJK SC"),
        ("serif:lang=zh-cn", "Noto Serif CJK SC"),
        ("sans-serif:lang=zh-cn", "Noto Sans CJK SC"),
    ],
)
def test_fonts_conf_maps_windows_chinese_fonts_to_noto_cjk_sc(requested: str, family: str) -> None:
    found = subprocess.run(
        ["fc-match", "-f", "%{family[0]}", requested],
        env={**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "CJK" not in found:
        pytest.skip("fonts-noto-cjk not installed")
    assert found == family


# --- scripted stand-ins for soffice -------------------------------------------------------

# A shell script, not Python: it starts in a few milliseconds (an interpreter took 50 ms or more
# of CPU on each call), so the time-out test's stand-in is surely hanging long before its time-out.
FAKE_SOFFICE = """#!/bin/sh
while [ "$#" -gt 0 ] && [ "$1" != --outdir ]; do shift; done
outdir=$2
shift 2
calls=$(( $(cat "$FAKE_SOFFICE_STATE" 2>/dev/null || echo 0) + 1 ))
echo "$calls" > "$FAKE_SOFFICE_STATE"
mode=$FAKE_SOFFICE_MODE
if [ "$mode" = hang ]; then
    # A grandchild in the same process group, whose parent (the subshell) exits at once. It lets
    # go of soffice's output pipes: a kill that missed it fails the test at once, not in 300 s.
    ( sleep 300 > /dev/null 2>&1 & echo "$!" > "$FAKE_SOFFICE_STATE.grandchild" )
    exec sleep 300
fi
if [ "$mode" = crash ] || { [ "$mode" = crash-once ] && [ "$calls" = 1 ]; }; then
    kill -ABRT $$
fi
for source in "$@"; do
    name=${source##*/}
    if [ "$mode" = empty ]; then
        : > "$outdir/${name%.*}.pdf"
    else
        cp "$FAKE_SOFFICE_SAMPLE" "$outdir/${name%.*}.pdf"
    fi
done
"""


@pytest.fixture
def fake_soffice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    script = tmp_path / "bin" / "soffice"
    script.parent.mkdir()
    script.write_text(FAKE_SOFFICE)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    sample = tmp_path / "sample.pdf"
    sample.write_bytes(text_pdf(["样张"]))
    monkeypatch.setenv("FAKE_SOFFICE_STATE", str(tmp_path / "calls"))
    monkeypatch.setenv("FAKE_SOFFICE_SAMPLE", str(sample))
    yield script


def calls(tmp_path: Path) -> int:
    return int((tmp_path / "calls").read_text())


@pytest.fixture
def two_docs(tmp_path: Path) -> list[Path]:
    return [certificate_docx(tmp_path / f"证书{n}.docx", n) for n in range(2)]


def test_a_chunk_is_retried_once_when_soffice_crashes(
    tmp_path: Path, fake_soffice: Path, two_docs: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_SOFFICE_MODE", "crash-once")
    with LibreOfficeConverter(soffice=fake_soffice, driver="command", workers=1) as real:
        converter: Converter = real
        result = converter.convert(two_docs, outdir=tmp_path / "out")
    assert sorted(p.name for p in result.values()) == ["证书0.pdf", "证书1.pdf"]
    assert calls(tmp_path) == 2


def test_files_still_missing_after_the_retry_are_reported_by_name(
    tmp_path: Path, fake_soffice: Path, two_docs: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_SOFFICE_MODE", "crash")
    with (
        LibreOfficeConverter(soffice=fake_soffice, driver="command", workers=1) as converter,
        pytest.raises(ConversionError) as caught,
    ):
        converter.convert(two_docs, outdir=tmp_path / "out")
    assert [p.where for p in caught.value.problems] == ["证书0.docx", "证书1.docx"]
    assert "异常退出" in caught.value.problems[0].rule
    assert calls(tmp_path) == 2


def test_an_empty_pdf_is_refused(
    tmp_path: Path, fake_soffice: Path, two_docs: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_SOFFICE_MODE", "empty")
    with (
        LibreOfficeConverter(soffice=fake_soffice, driver="command", workers=1) as converter,
        pytest.raises(ConversionError, match="空文件"),
    ):
        converter.convert(two_docs, outdir=tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs; a killed one only waiting to be reaped (a zombie) does not.

    A grandchild whose parent has exited is reaped by init, which here takes a second or more
    after the kill: asking ``killpg(pgid, 0)`` waited for that, not for the kill.
    """
    if not Path("/proc/self/stat").is_file():  # no /proc: a zombie counts as running
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _parent, group = status.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):
            continue  # gone meanwhile
        if int(group) == pgid and state != "Z":
            return True
    return False


def wait_until_gone(pgid: int, *, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while group_alive(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Process ids (= process group ids) of every soffice the converter starts."""
    pids: list[int] = []

    class Recording(subprocess.Popen[bytes]):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[call-overload]
            pids.append(self.pid)

    monkeypatch.setattr(subprocess, "Popen", Recording)
    return pids


def test_a_timeout_kills_the_whole_process_group_and_leaves_no_pdf(
    tmp_path: Path,
    fake_soffice: Path,
    two_docs: list[Path],
    monkeypatch: pytest.MonkeyPatch,
    started: list[int],
) -> None:
    monkeypatch.setenv("FAKE_SOFFICE_MODE", "hang")
    converter = LibreOfficeConverter(soffice=fake_soffice, driver="command", workers=1, timeout=0.3)
    with converter, pytest.raises(ConversionError, match="超时"):
        converter.convert(two_docs, outdir=tmp_path / "out")
    assert len(started) == 1  # no retry after a timeout
    grandchild = tmp_path / "calls.grandchild"
    assert grandchild.is_file(), "the stand-in was stopped before it hung: its grandchild never started"
    assert wait_until_gone(started[0])
    assert list((tmp_path / "out").iterdir()) == []


def test_a_missing_soffice_names_the_apt_get_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConversionError) as given:
        LibreOfficeConverter(soffice=tmp_path / "no-such-soffice")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConversionError) as searched:
        LibreOfficeConverter()
    for caught in (given, searched):
        assert INSTALL_HINT in str(caught.value)
        assert "apt-get install -y libreoffice-writer-nogui fonts-noto-cjk" in str(caught.value)


# --- real LibreOffice ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Seven documents converted by two workers in three chunks."""
    if not HAS_SOFFICE:
        pytest.skip("LibreOffice (soffice) not installed")
    src = tmp_path_factory.mktemp("src")
    sources = [certificate_docx(src / f"证书{n}.docx", n) for n in range(5)]
    sources.append(chinese_docx(src / "glyphs.docx", ("骨直令", "宋体"), ("骨直令", "黑体"), size=72))
    sources.append(qr_docx(src / "qr.docx", pixels=1480))
    with LibreOfficeConverter(workers=2, chunk_size=3) as converter:
        result = converter.convert(sources, outdir=tmp_path_factory.mktemp("pdf"))
    return {source.stem: pdf for source, pdf in result.items()}


@pytest.mark.libreoffice
@needs_soffice
def test_libreoffice_converts_a_batch_of_chinese_documents(batch: dict[str, Path]) -> None:
    from pypdf import PdfReader

    assert sorted(batch) == sorted([f"证书{n}" for n in range(5)] + ["glyphs", "qr"])
    for n in range(5):
        text = PdfReader(batch[f"证书{n}"]).pages[0].extract_text()
        assert f"{TITLE} {n}" in text
        assert "认证机构：北京新标恒通认证有限公司" in text
    assert not [p for p in batch["证书0"].parent.iterdir() if p.suffix != ".pdf"]


def pdffonts(pdf: Path) -> list[tuple[str, str]]:
    """(name, emb) of every font pdffonts lists."""
    lines = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    return [(line.split()[0], line.split()[-5]) for line in lines]


@pytest.mark.libreoffice
@needs_soffice
@needs_poppler
def test_every_font_is_embedded_noto_cjk_and_never_dejavu(batch: dict[str, Path]) -> None:
    fonts = pdffonts(batch["证书0"])
    assert fonts
    assert all(embedded == "yes" for _, embedded in fonts), fonts
    names = " ".join(name for name, _ in fonts)
    assert "NotoSerifCJK" in names  # 宋体
    assert "NotoSansCJK" in names  # 黑体
    assert "DejaVu" not in names


def ink(image: Image.Image) -> Image.Image:
    """The inked part of a line of text, scaled to a fixed size, black and white."""
    gray = image.convert("L")
    box = ImageChops.invert(gray).getbbox()
    assert box, "no ink"
    return gray.crop(box).resize((240, 80)).point(lambda v: 0 if v < 128 else 255)


def distance(a: Image.Image, b: Image.Image) -> int:
    return sum(ImageChops.difference(a, b).histogram()[1:])


def reference(text: str, family: str) -> Image.Image:
    found = subprocess.run(
        ["fc-match", "-f", "%{file}|%{index}", family], capture_output=True, text=True, check=True
    ).stdout
    file, index = found.split("|")
    image = Image.new("L", (900, 300), 255)
    font = ImageFont.truetype(file, 200, index=int(index))
    ImageDraw.Draw(image).text((20, 20), text, font=font, fill=0)
    return ink(image)


@pytest.mark.libreoffice
@needs_soffice
@needs_poppler
def test_chinese_is_drawn_with_simplified_chinese_glyph_forms(batch: dict[str, Path], tmp_path: Path) -> None:
    # 骨, 直 and 令 are drawn differently in the SC and JP faces of Noto CJK; the embedded
    # font's name says "jp" either way (the faces share one CFF table), so look at the shapes.
    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", str(batch["glyphs"]), "p"],
        cwd=tmp_path,
        check=True,
    )
    page = ImageChops.invert(Image.open(tmp_path / "p-1.png").convert("L"))
    width, height = page.size
    inked_rows = [y for y in range(height) if page.crop((0, y, width, y + 1)).getbbox()]
    lines, start = [], inked_rows[0]
    for before, row in itertools.pairwise(inked_rows):
        if row != before + 1:
            lines.append((start, before))
            start = row
    lines.append((start, inked_rows[-1]))
    assert len(lines) == 2
    for (top, bottom), style in zip(lines, ("Serif", "Sans"), strict=True):
        drawn = ink(ImageChops.invert(page.crop((0, top, width, bottom + 1))))
        sc = distance(drawn, reference("骨直令", f"Noto {style} CJK SC"))
        jp = distance(drawn, reference("骨直令", f"Noto {style} CJK JP"))
        assert sc * 3 < jp, (style, sc, jp)


@pytest.mark.libreoffice
@needs_soffice
def test_images_keep_their_resolution_and_the_pdf_is_pdfa_2b(batch: dict[str, Path]) -> None:
    from pypdf import PdfReader

    reader = PdfReader(batch["qr"])
    sizes = [image.image.size if image.image else None for image in reader.pages[0].images]
    assert sizes == [(1480, 1480)]
    xmp = cast("StreamObject", reader.root_object["/Metadata"].get_object()).get_data()
    assert b"<pdfaid:part>2</pdfaid:part>" in xmp


@pytest.mark.libreoffice
@needs_soffice
def test_a_real_timeout_kills_soffice_and_the_profile_still_works_after(
    tmp_path: Path, two_docs: list[Path], started: list[int]
) -> None:
    with LibreOfficeConverter(driver="command", workers=1, timeout=0.3) as converter:
        with pytest.raises(ConversionError, match="超时"):
            converter.convert(two_docs, outdir=tmp_path / "out")
        assert wait_until_gone(started[0])
        assert list((tmp_path / "out").iterdir()) == []

        converter.timeout = 120.0
        result = converter.convert(two_docs, outdir=tmp_path / "out")
    assert all(pdf.stat().st_size > 0 for pdf in result.values())


@pytest.mark.libreoffice
@needs_soffice
def test_a_document_without_text_is_reported_and_the_others_still_convert(tmp_path: Path, two_docs: list[Path]) -> None:
    from docx import Document

    blank = tmp_path / "空白.docx"
    Document().save(str(blank))
    with (
        LibreOfficeConverter(workers=1) as converter,
        pytest.raises(ConversionError) as caught,
    ):
        converter.convert([*two_docs, blank], outdir=tmp_path / "out")
    assert [p.where for p in caught.value.problems] == ["空白.docx"]
    assert "没有可提取的文字" in caught.value.problems[0].rule
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["证书0.pdf", "证书1.pdf"]
