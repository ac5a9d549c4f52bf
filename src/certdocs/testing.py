"""For programs and tests that issue without LibreOffice: a fake converter and its helpers.

:class:`FakeConverter` turns each Word document into a one-page PDF of its paragraph text, in
milliseconds, with the same errors as :class:`certdocs.convert.LibreOfficeConverter`; pass it
as ``converter=`` to :func:`certdocs.issue_certificate` and the other library functions. The
PDFs are for checking what was written, not for printing.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any, cast

from lxml import etree  # type: ignore[import-untyped]

from certdocs._fs import atomic_write_bytes
from certdocs._kept import Kept, digest
from certdocs.convert import _check_sources, _label
from certdocs.errors import ConversionError, Problem


class FakeConverter:
    """Test double: a one-page PDF per document with its paragraph text, no LibreOffice.

    ``calls`` records the sources of every :meth:`convert` call.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[Path, ...]] = []

    def __enter__(self) -> FakeConverter:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def convert(
        self, sources: Sequence[Path], *, outdir: Path, labels: Mapping[Path, str] | None = None
    ) -> dict[Path, Path]:
        """Write ``outdir / (stem + ".pdf")`` for each source; same errors (named by label) as the real one."""
        sources = list(dict.fromkeys(Path(s) for s in sources))
        self.calls.append(tuple(sources))
        _check_sources(sources, labels)
        problems: list[Problem] = []
        converted: dict[Path, Path] = {}
        for source in sources:
            try:
                pdf = _fake_pdf(source)
            except Exception as exc:  # python-docx raises zipfile, KeyError, lxml errors …
                problems.append(Problem(_label(source, labels), f"不是可读取的 Word 文档：{exc}"))
                continue
            if pdf is None:
                problems.append(Problem(_label(source, labels), "生成的 PDF 第 1 页没有可提取的文字"))
                continue
            target = outdir / f"{source.stem}.pdf"
            atomic_write_bytes(target, pdf, durable=False)  # as the real one: an intermediate
            converted[source] = target
        if problems:
            raise ConversionError(problems)
        return converted


def _fake_pdf(source: Path) -> bytes | None:
    """The fake's PDF of the Word document ``source``, or None when it has no text."""
    data = source.read_bytes()
    key = digest(data)
    found = _CONVERTED.get(key)
    if found is not None:
        return found
    lines = docx_text(source, data=data)
    if not any(line.strip() for line in lines):
        return None
    made = text_pdf(lines)
    return _CONVERTED.put(key, made, size=len(made))


# The fake's PDFs by the bytes of the document each was made from: the same document always gives
# the same PDF, and tests issue the same documents again and again (the document area's tests
# converted 86 different documents in 310 conversions).
_CONVERTED: Kept[bytes] = Kept(entries=1024, budget=64 << 20)


def docx_text(path: Path, *, data: bytes | None = None) -> list[str]:
    """The paragraphs of a Word document, body then table cells, one string each.

    ``data``: the document's bytes when the caller has already read them from ``path``.
    """
    import io
    import zipfile

    with zipfile.ZipFile(path if data is None else io.BytesIO(data)) as package:
        names = set(package.namelist())
        main = package.read(_MAIN) if _MAIN in names else None
    if main is not None:
        try:
            lines = _plain_lines(main)
        except Exception:  # python-docx's reading below says what is wrong, in its words
            lines = None
        if lines is not None:
            return lines
    return _docx_lines(path if data is None else io.BytesIO(data), main)


def _plain_lines(main: bytes) -> list[str] | None:
    """:func:`_docx_lines` of a main part, by an XSLT in libxslt, or None where python-docx must read it.

    Walking the elements from Python makes an object of each one reached (two thirds of the
    fake's time); the stylesheet walks them in C and hands back one element a line. A document
    type declaration (entities), a body not of python-docx's usual shape, a ``w:t`` holding more
    than text, and a cell with a vertical merge or odd spans are left to python-docx.
    """
    if b"<!DOCTYPE" in main:
        return None
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False)  # python-docx's; one per call: threads
    root = etree.fromstring(main, parser)
    if root.tag != _W + "document" or root.find(_W + "body") is None:
        return None
    out = _lines_xslt()(root).getroot()
    if out.get("odd") != "0":
        return None
    lines: list[str] = []
    for line in out:
        text = line.text or ""
        spans, span = int(line.get("n", "0")), line.get("v", "")
        if spans == 0:
            lines.append(text)
        elif spans == 1 and line.get("m") == "0" and span.isascii() and span.isdigit():
            lines.extend([text] * int(span))  # a cell spanning n grid columns: n times, as row.cells
        else:
            return None
    return lines


def _lines_xslt() -> Any:
    """The stylesheet of :func:`_plain_lines`, one a thread."""
    found = getattr(_PER_THREAD, "xslt", None)
    if found is None:
        found = _PER_THREAD.xslt = etree.XSLT(etree.XML(_LINES_XSL))
    return found


_PER_THREAD = threading.local()
# python-docx's Paragraph.text of each body paragraph (the text of the run content elements of
# its runs and its hyperlinks' runs, in order), then of each table cell (paragraphs joined by a
# line break), with the cell's spans; "odd" counts the w:t that python-docx could read otherwise.
_LINES_XSL = b"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
 xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<xsl:template match="/">
 <o odd="{count(/w:document/w:body[1]//w:t[* or comment() or processing-instruction() or text()[2]])}">
  <xsl:for-each select="/w:document/w:body[1]/w:p">
   <p><xsl:apply-templates select="w:r/* | w:hyperlink/w:r/*"/></p>
  </xsl:for-each>
  <xsl:for-each select="/w:document/w:body[1]/w:tbl/w:tr/w:tc">
   <c n="{count(w:tcPr/w:gridSpan[@w:val] | w:tcPr/w:vMerge)}" m="{count(w:tcPr/w:vMerge)}"
    v="{w:tcPr/w:gridSpan/@w:val}">
    <xsl:for-each select="w:p">
     <xsl:if test="position() != 1"><xsl:text>&#10;</xsl:text></xsl:if>
     <xsl:apply-templates select="w:r/* | w:hyperlink/w:r/*"/>
    </xsl:for-each>
   </c>
  </xsl:for-each>
 </o>
</xsl:template>
<xsl:template match="w:t"><xsl:value-of select="."/></xsl:template>
<xsl:template match="w:br">
 <xsl:if test="not(@w:type) or @w:type = 'textWrapping'"><xsl:text>&#10;</xsl:text></xsl:if>
</xsl:template>
<xsl:template match="w:cr"><xsl:text>&#10;</xsl:text></xsl:template>
<xsl:template match="w:noBreakHyphen"><xsl:text>-</xsl:text></xsl:template>
<xsl:template match="w:ptab | w:tab"><xsl:text>&#9;</xsl:text></xsl:template>
<xsl:template match="*"/>
</xsl:stylesheet>"""


def _docx_lines(path: Path | IO[bytes], main: bytes | None) -> list[str]:
    """The paragraphs as python-docx reads them (see :func:`docx_text`)."""
    from docx.document import _Body
    from docx.oxml import parse_xml

    # python-docx's own paragraph and table classes over the main part alone: opening the
    # whole package (styles, numbering, fonts …) took ~20 ms a document, most of the fake's time.
    if main is None:  # a main part by another name: let python-docx find it
        import docx

        body = docx.Document(str(path) if isinstance(path, Path) else path)._body
    else:
        body = _Body(parse_xml(main).body, cast(Any, None))  # no package part: text is all that is read
    # python-docx's Paragraph.text, less its XPath per paragraph and per run (most of the time).
    lines = [_paragraph_text(p) for p in body._element.iterchildren(_W + "p")]
    for table in body.tables:
        for row in table.rows:
            lines.extend(_row_texts(row))
    return lines


def _row_texts(row: Any) -> list[str]:
    """The text of each of python-docx's ``row.cells``: a cell spanning n grid columns n times."""
    texts: list[str] = []
    for tc in row._tr.iterchildren(_W + "tc"):
        spans = _SPANS(tc)
        if spans and (len(spans) > 1 or not str(spans[0]).isdigit()):
            # A vertical merge reads the cell above: python-docx's own logic, for this row only.
            return [_cell_text(cell._tc) for cell in row.cells]
        texts.extend([_cell_text(tc)] * (int(spans[0]) if spans else 1))
    return texts


def _cell_text(tc: Any) -> str:
    return "\n".join(_paragraph_text(p) for p in tc.iterchildren(_W + "p"))


_MAIN = "word/document.xml"
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_SPANS = etree.XPath("./w:tcPr/w:gridSpan/@w:val | ./w:tcPr/w:vMerge", namespaces={"w": _W[1:-1]}, smart_strings=False)
_RUN_TEXT = frozenset(_W + tag for tag in ("br", "cr", "noBreakHyphen", "ptab", "t", "tab"))


def _paragraph_text(p: Any) -> str:
    """``Paragraph.text`` of python-docx: its runs', and its hyperlinks' runs', inner content as text."""
    parts: list[str] = []
    for child in p.iterchildren(_W + "r", _W + "hyperlink"):
        runs = (child,) if child.tag == _W + "r" else child.iterchildren(_W + "r")
        for run in runs:
            parts.extend(str(e) for e in run.iterchildren() if e.tag in _RUN_TEXT)
    return "".join(parts)


def text_pdf(lines: Sequence[str]) -> bytes:
    """A minimal one-page A4 PDF showing ``lines`` in the standard Chinese font STSong-Light.

    The text is UCS-2 under the predefined UniGB-UCS2-H CMap, so readers render it with
    their own Song face and extract it without a ToUnicode map.
    """
    wrapped = [line[i : i + 40] for line in lines for i in range(0, max(len(line), 1), 40)]
    size = max(2.0, min(12.0, 760 / (1.25 * max(len(wrapped), 1))))
    shown = " T*\n".join("<" + _ucs2_hex(line) + "> Tj" for line in wrapped)
    content = (f"BT /F1 {size:.2f} Tf {size * 1.25:.2f} TL 56 800 Td\n{shown}\nET\n").encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595.28 841.89]"
        b" /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [6 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light"
        b" /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >>"
        b" /FontDescriptor 7 0 R /DW 1000 /W [1 95 500] >>",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6"
        b" /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120"
        b" /CapHeight 880 /StemV 93 >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _ucs2_hex(line: str) -> str:
    """Each character as four hex digits, those past U+FFFC (outside UCS-2) as U+FFFD."""
    return _PAST_UCS2.sub("\ufffd", line).encode("utf-16-be", "surrogatepass").hex().upper()


_PAST_UCS2 = re.compile("[\ufffd-\U0010ffff]")


__all__ = ["FakeConverter", "docx_text", "text_pdf"]
