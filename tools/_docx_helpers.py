"""python-docx helpers for tools/build_templates.py: Chinese styles, page, paragraphs, tables, borders.

Everything here is deterministic (fixed core properties, our own styles, font table and app
properties), so that building a template twice gives the same bytes.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt, RGBColor, Twips
from docx.table import _Cell

from certdocs._fs import atomic_write_bytes
from certdocs.render import document_bytes

SONG, HEI, LATIN = "宋体", "黑体", "Times New Roman"
FIXED_TIME = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
BLANK = "________"
RED, GOLD, GREY, LIGHT = "A50021", "B8860B", "D9D9D9", "F2F2F2"
_ALIGN = {
    "left": WD_ALIGN_PARAGRAPH.LEFT,
    "center": WD_ALIGN_PARAGRAPH.CENTER,
    "right": WD_ALIGN_PARAGRAPH.RIGHT,
    "both": WD_ALIGN_PARAGRAPH.JUSTIFY,
}
Doc = Any  # python-docx's Document (untyped library)


# ---------------------------------------------------------------- styles and package


def _fonts(east: str) -> str:
    return f'<w:rFonts w:ascii="{LATIN}" w:hAnsi="{LATIN}" w:eastAsia="{east}" w:cs="{LATIN}"/>'


def _style(
    kind: str,
    sid: str,
    name: str,
    *,
    based: str = "",
    ppr: str = "",
    rpr: str = "",
    extra: str = "",
    default: bool = False,
    custom: bool = False,
) -> str:
    attrs = f'w:type="{kind}" w:styleId="{sid}"' + (' w:default="1"' if default else "")
    attrs += ' w:customStyle="1"' if custom else ""
    based_on = f'<w:basedOn w:val="{based}"/>' if based else ""
    body = f'<w:name w:val="{name}"/>{based_on}<w:qFormat/>'
    body += f"<w:pPr>{ppr}</w:pPr>" if ppr else ""
    body += f"<w:rPr>{rpr}</w:rPr>" if rpr else ""
    return f"<w:style {nsdecls('w')} {attrs}>{body}{extra}</w:style>"


def _size(half_points: int) -> str:
    return f'<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/>'


_BORDERS = "".join(
    f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
    for side in ("top", "left", "bottom", "right", "insideH", "insideV")
)
_STYLES = [
    _style(
        "paragraph",
        "Normal",
        "Normal",
        default=True,
        ppr='<w:spacing w:line="288" w:lineRule="auto"/><w:jc w:val="both"/>',
        rpr=_fonts(SONG) + '<w:kern w:val="2"/>' + _size(24),
    ),
    _style("character", "DefaultParagraphFont", "Default Paragraph Font", default=True),
    _style(
        "table",
        "TableNormal",
        "Normal Table",
        default=True,
        extra='<w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar><w:top w:w="0" w:type="dxa"/>'
        '<w:left w:w="85" w:type="dxa"/><w:bottom w:w="0" w:type="dxa"/>'
        '<w:right w:w="85" w:type="dxa"/></w:tblCellMar></w:tblPr>',
    ),
    _style("numbering", "NoList", "No List", default=True),
    _style(
        "paragraph",
        "Title",
        "Title",
        based="Normal",
        ppr='<w:spacing w:before="120" w:after="120"/><w:jc w:val="center"/>',
        rpr=_fonts(HEI) + _size(36),
    ),
    _style(
        "paragraph",
        "Subtitle",
        "Subtitle",
        based="Normal",
        ppr='<w:spacing w:after="240"/><w:jc w:val="center"/>',
        rpr=_size(21),
    ),
    _style(
        "paragraph",
        "Heading1",
        "heading 1",
        based="Normal",
        ppr='<w:keepNext/><w:spacing w:before="240" w:after="120"/><w:jc w:val="left"/><w:outlineLvl w:val="0"/>',
        rpr=_fonts(HEI) + _size(28),
    ),
    _style(
        "paragraph",
        "Heading2",
        "heading 2",
        based="Normal",
        ppr='<w:keepNext/><w:spacing w:before="120" w:after="60"/><w:jc w:val="left"/><w:outlineLvl w:val="1"/>',
        rpr=_fonts(HEI) + _size(24),
    ),
    _style(
        "paragraph",
        "Header",
        "header",
        based="Normal",
        ppr='<w:pBdr><w:bottom w:val="single" w:sz="6" w:space="1" w:color="000000"/></w:pBdr>'
        '<w:tabs><w:tab w:val="right" w:pos="9355"/></w:tabs><w:spacing w:line="240" w:lineRule="auto"/>',
        rpr=_size(18),
    ),
    _style(
        "paragraph",
        "Footer",
        "footer",
        based="Normal",
        ppr='<w:spacing w:line="240" w:lineRule="auto"/><w:jc w:val="center"/>',
        rpr=_size(18),
    ),
    _style(
        "table",
        "TableGrid",
        "Table Grid",
        based="TableNormal",
        ppr='<w:spacing w:line="240" w:lineRule="auto"/>',
        rpr=_fonts(SONG) + _size(21),
        extra=f"<w:tblPr><w:tblBorders>{_BORDERS}</w:tblBorders></w:tblPr>",
    ),
    _style(
        "paragraph",
        "BodyIndent",
        "正文首行缩进",
        based="Normal",
        custom=True,
        ppr='<w:ind w:firstLineChars="200" w:firstLine="480"/>',
    ),
    _style("paragraph", "ListItem", "列表项", based="Normal", custom=True, ppr='<w:ind w:left="840" w:hanging="360"/>'),
    _style(
        "paragraph",
        "TableText",
        "表格文字",
        based="Normal",
        custom=True,
        ppr='<w:spacing w:before="20" w:after="20" w:line="264" w:lineRule="auto"/><w:jc w:val="left"/>',
        rpr=_size(21),
    ),
    _style("paragraph", "TableSmall", "表格小字", based="TableText", custom=True, rpr=_size(18)),
    _style(
        "paragraph",
        "TableHead",
        "表格标题",
        based="TableText",
        custom=True,
        ppr='<w:keepNext/><w:jc w:val="center"/>',
        rpr=_fonts(HEI),
    ),
    _style(
        "paragraph",
        "Picture",
        "图片",
        based="Normal",
        custom=True,
        ppr='<w:spacing w:line="240" w:lineRule="auto"/><w:jc w:val="center"/>',
        rpr=_size(18),
    ),
    _style(
        "paragraph",
        "Small",
        "说明文字",
        based="Normal",
        custom=True,
        ppr='<w:spacing w:line="264" w:lineRule="auto"/><w:jc w:val="left"/>',
        rpr=_size(18),
    ),
]


def _setup_package(doc: Doc, title: str) -> None:
    """Chinese defaults, our styles only, zh-CN settings, neutral fixed properties, no clutter."""
    styles = doc.styles.element
    latent = styles.find(qn("w:latentStyles"))
    for child in list(styles):
        styles.remove(child)
    styles.append(
        parse_xml(
            f"<w:docDefaults {nsdecls('w')}><w:rPrDefault><w:rPr>{_fonts(SONG)}{_size(21)}"
            '<w:lang w:val="en-US" w:eastAsia="zh-CN" w:bidi="ar-SA"/></w:rPr></w:rPrDefault>'
            '<w:pPrDefault><w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr>'
            "</w:pPrDefault></w:docDefaults>"
        )
    )
    if latent is not None:
        styles.append(latent)
    for xml in _STYLES:
        styles.append(parse_xml(xml))

    settings = doc.settings.element
    for tag in ("w:savePreviewPicture", "w:rsids"):
        for el in settings.findall(qn(tag)):
            settings.remove(el)
    lang = settings.find(qn("w:themeFontLang"))
    if lang is not None:
        lang.set(qn("w:eastAsia"), "zh-CN")

    part = doc.part
    for rid, rel in list(part.rels.items()):
        if rel.reltype.endswith(("/stylesWithEffects", "/customXml")):
            del part.rels[rid]
    package_rels = part.package.rels
    for rid, rel in list(package_rels.items()):
        if rel.reltype.endswith("/thumbnail"):
            del package_rels[rid]
        elif rel.reltype.endswith("/extended-properties"):
            rel.target_part._blob = _APP_XML.encode()
    for rel in part.rels.values():
        if rel.reltype.endswith("/fontTable"):
            rel.target_part._blob = _FONT_TABLE.encode()
        elif rel.reltype.endswith("/theme"):
            theme = rel.target_part.blob.decode()
            # Headings of the theme (major font) in 黑体, body (minor) stays 宋体.
            theme = theme.replace(
                '<a:font script="Hans" typeface="宋体"/>', '<a:font script="Hans" typeface="黑体"/>', 1
            )
            rel.target_part._blob = theme.encode()

    props = doc.core_properties
    props.author = props.last_modified_by = "certdocs"
    props.created = props.modified = FIXED_TIME
    props.revision = 1
    props.title, props.subject, props.language = title, "售后服务成熟度认证", "zh-CN"
    props.comments = "由 tools/build_templates.py 生成，可直接在 Word 中编辑；变量见 docs/TEMPLATE_CONTEXT.md"
    props.keywords = props.category = ""


_APP_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    "<Template>Normal.dotm</Template><Application>certdocs</Application><DocSecurity>0</DocSecurity>"
    "<ScaleCrop>false</ScaleCrop><LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>"
    "<HyperlinksChanged>false</HyperlinksChanged></Properties>"
)
_FONT_TABLE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f"<w:fonts {nsdecls('w')}>"
    '<w:font w:name="宋体"><w:altName w:val="SimSun"/><w:panose1 w:val="02010600030101010101"/>'
    '<w:charset w:val="86"/><w:family w:val="auto"/><w:pitch w:val="variable"/></w:font>'
    '<w:font w:name="黑体"><w:altName w:val="SimHei"/><w:panose1 w:val="02010609060101010101"/>'
    '<w:charset w:val="86"/><w:family w:val="modern"/><w:pitch w:val="fixed"/></w:font>'
    '<w:font w:name="Times New Roman"><w:panose1 w:val="02020603050405020304"/>'
    '<w:charset w:val="00"/><w:family w:val="roman"/><w:pitch w:val="variable"/></w:font>'
    "</w:fonts>"
)


def page(doc: Doc, *, top: float = 25, bottom: float = 20, left: float = 25, right: float = 20) -> None:
    """A4 portrait with the given margins (mm); header and footer 12 mm from the page edge."""
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(top), Mm(bottom)
    section.left_margin, section.right_margin = Mm(left), Mm(right)
    section.header_distance = section.footer_distance = Mm(12)


def _insert_ordered(parent: Any, child: Any, order: Sequence[str]) -> None:
    """Put ``child`` into ``parent`` where the schema's sequence ``order`` wants it."""
    for old in parent.findall(child.tag):
        parent.remove(old)
    names = [qn(tag) for tag in order]
    later = names[names.index(child.tag) + 1 :]
    for index, sibling in enumerate(parent):
        if sibling.tag in later:
            parent.insert(index, child)
            return
    parent.append(child)


# ---------------------------------------------------------------- paragraphs and tables


def _runs(
    paragraph: Any,
    text: str,
    *,
    size: float | None = None,
    font: str | None = None,
    color: str | None = None,
    bold: bool = False,
) -> None:
    """Runs for ``text``; ``**…**`` marks bold parts (labels)."""
    for index, part in enumerate(text.split("**")):
        if not part:
            continue
        run = paragraph.add_run(part)
        if bold or index % 2:
            run.bold = True
        if size:
            run.font.size = Pt(size)
        if color:
            run.font.color.rgb = RGBColor.from_string(color)
        if font:
            fonts = run._r.get_or_add_rPr().get_or_add_rFonts()
            for attr in ("w:ascii", "w:hAnsi", "w:eastAsia"):
                fonts.set(qn(attr), font if attr == "w:eastAsia" else LATIN)


def para(
    container: Any,
    text: str = "",
    *,
    style: str = "Normal",
    align: str | None = None,
    size: float | None = None,
    font: str | None = None,
    color: str | None = None,
    bold: bool = False,
    before: float | None = None,
    after: float | None = None,
    keep_next: bool = False,
    first: bool = False,
) -> Any:
    """One paragraph in a document or cell (``first``: reuse the cell's empty first paragraph)."""
    paragraph = container.paragraphs[0] if first else container.add_paragraph()
    paragraph._p.style = _style_id(paragraph.part, _STYLE_NAMES.get(style, style))
    fmt = paragraph.paragraph_format
    if align:
        paragraph.alignment = _ALIGN[align]
    if before is not None:
        fmt.space_before = Pt(before)
    if after is not None:
        fmt.space_after = Pt(after)
    if keep_next:
        fmt.keep_with_next = True
    _runs(paragraph, text, size=size, font=font, color=color, bold=bold)
    return paragraph


_STYLE_IDS: weakref.WeakKeyDictionary[Any, dict[str, str | None]] = weakref.WeakKeyDictionary()


def _style_id(part: Any, name: str) -> str | None:
    """What ``paragraph.style = name`` sets (None for the default style), looked up once a document.

    python-docx looks the name up among all the styles for every paragraph: most of a build's time.
    """
    known = _STYLE_IDS.setdefault(part, {})
    if name not in known:
        known[name] = part.get_style_id(name, WD_STYLE_TYPE.PARAGRAPH)
    return known[name]


def _cell_at(t: Any, row: int, col: int) -> Any:
    """``t.cell(row, col)`` found in that row alone: python-docx lays out the whole table for each cell.

    The tables here merge cells only across a row (never ``vMerge``), so a row's own cells are its layout.
    """
    at = 0
    for tc in t._tbl.tr_lst[row].tc_lst:
        assert tc.vMerge is None, "a vertically merged cell: use t.cell"
        if at <= col < at + tc.grid_span:
            return _Cell(tc, t)
        at += tc.grid_span
    raise IndexError(f"no cell at row {row}, column {col}")


_STYLE_NAMES = {
    "BodyIndent": "正文首行缩进",
    "ListItem": "列表项",
    "TableText": "表格文字",
    "TableHead": "表格标题",
    "TableSmall": "表格小字",
    "Small": "说明文字",
    "Picture": "图片",
    "Heading1": "Heading 1",
    "Heading2": "Heading 2",
}


def tag(container: Any, text: str) -> None:
    """A paragraph holding only a docxtpl control tag (``{%p …%}``); docxtpl removes it."""
    para(container, text, style="Small")


def heading(doc: Doc, text: str) -> None:
    para(doc, text, style="Heading1")


def items_list(doc: Doc, var: str, *, empty: str = "", loop_var: str = "x") -> None:
    """A numbered list of the strings in ``var`` (``empty``: text when the list is empty)."""
    if empty:
        tag(doc, f"{{%p if {var} %}}")
    tag(doc, f"{{%p for {loop_var} in {var} %}}")
    para(doc, f"{{{{ loop.index }}}}．{{{{ {loop_var} }}}}", style="ListItem")
    tag(doc, "{%p endfor %}")
    if empty:
        tag(doc, "{%p else %}")
        para(doc, empty, style="BodyIndent")
        tag(doc, "{%p endif %}")


@dataclass(frozen=True)
class C:
    """One table cell: text (``**bold**`` allowed; ``\\n`` starts a new paragraph), span, look."""

    text: str = ""
    span: int = 1
    style: str = "TableText"
    align: str | None = None
    shade: str | None = None
    size: float | None = None
    font: str | None = None
    color: str | None = None


def H(text: str, span: int = 1) -> C:
    """A shaded header cell."""
    return C(text, span, style="TableHead", shade=GREY)


def L(text: str, span: int = 1) -> C:
    """A label cell of an information table."""
    return C(text, span, style="TableHead")


Row = Sequence[C | str]


def table(
    doc: Doc,
    widths: Sequence[float],
    rows: Sequence[Row],
    *,
    header_rows: int = 0,
    grid: bool = True,
    cant_split: bool = True,
    valign: str = "center",
) -> Any:
    """A table of fixed column widths (mm); rows of cells; a lone ``{%tr …%}`` cell spans the row."""
    t = doc.add_table(rows=len(rows), cols=len(widths))
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    tbl_pr = t._tbl.tblPr
    if grid:
        t.style = doc.styles["Table Grid"]
    _insert_ordered(tbl_pr, parse_xml(f'<w:tblW {nsdecls("w")} w:w="{Mm(sum(widths)).twips}" w:type="dxa"/>'), _TBLPR)
    sides = ("top", "left", "bottom", "right", "insideH", "insideV")
    if grid:  # direct borders as well: a thicker frame, and robust if staff change the style
        frame = "".join(
            f'<w:{s} w:val="single" w:sz="{4 if s.startswith("inside") else 8}" w:space="0" w:color="000000"/>'
            for s in sides
        )
    else:
        frame = "".join(f'<w:{s} w:val="nil"/>' for s in sides)
    _insert_ordered(tbl_pr, parse_xml(f"<w:tblBorders {nsdecls('w')}>{frame}</w:tblBorders>"), _TBLPR)
    _insert_ordered(tbl_pr, parse_xml(f'<w:tblLayout {nsdecls("w")} w:type="fixed"/>'), _TBLPR)
    for col, width in zip(t._tbl.tblGrid.gridCol_lst, widths, strict=True):
        col.w = Twips(Mm(width).twips)
    for r, spec in enumerate(rows):
        cells = [C(c) if isinstance(c, str) else c for c in spec]
        if len(cells) == 1 and cells[0].text.startswith("{%tr"):
            cells = [C(cells[0].text, len(widths), style="Small")]
        assert sum(c.span for c in cells) == len(widths), f"row {r} spans {cells}"
        col = 0
        for c in cells:
            cell = _cell_at(t, r, col)
            if c.span > 1:
                cell = cell.merge(_cell_at(t, r, col + c.span - 1))
            cell.width = Mm(sum(widths[col : col + c.span]))
            cell.vertical_alignment = getattr(WD_CELL_VERTICAL_ALIGNMENT, valign.upper())
            if c.shade:
                shade = parse_xml(f'<w:shd {nsdecls("w")} w:val="clear" w:color="auto" w:fill="{c.shade}"/>')
                _insert_ordered(cell._tc.get_or_add_tcPr(), shade, _TCPR)
            for index, line in enumerate(c.text.split("\n")):
                para(
                    cell, line, style=c.style, align=c.align, size=c.size, font=c.font, color=c.color, first=index == 0
                )
            col += c.span
        tr_pr = t.rows[r]._tr.get_or_add_trPr()
        if cant_split:
            tr_pr.append(OxmlElement("w:cantSplit"))
        if r < header_rows:
            tr_pr.append(OxmlElement("w:tblHeader"))
    return t


_TBLPR = (
    "w:tblStyle",
    "w:tblpPr",
    "w:tblOverlap",
    "w:bidiVisual",
    "w:tblStyleRowBandSize",
    "w:tblStyleColBandSize",
    "w:tblW",
    "w:jc",
    "w:tblCellSpacing",
    "w:tblInd",
    "w:tblBorders",
    "w:shd",
    "w:tblLayout",
    "w:tblCellMar",
    "w:tblLook",
)
_TCPR = (
    "w:cnfStyle",
    "w:tcW",
    "w:gridSpan",
    "w:hMerge",
    "w:vMerge",
    "w:tcBorders",
    "w:shd",
    "w:noWrap",
    "w:tcMar",
    "w:textDirection",
    "w:tcFitText",
    "w:vAlign",
    "w:hideMark",
)
_SECTPR = (
    "w:headerReference",
    "w:footerReference",
    "w:footnotePr",
    "w:endnotePr",
    "w:type",
    "w:pgSz",
    "w:pgMar",
    "w:paperSrc",
    "w:pgBorders",
    "w:lnNumType",
    "w:pgNumType",
    "w:cols",
    "w:formProt",
    "w:vAlign",
    "w:noEndnote",
    "w:titlePg",
    "w:textDirection",
    "w:bidi",
    "w:rtlGutter",
    "w:docGrid",
)


def header_footer(doc: Doc, title: str) -> None:
    """Body name and document title in the header; 第 X 页 共 Y 页 in the footer."""
    section = doc.sections[0]
    head = section.header.paragraphs[0]
    head.style = doc.styles["Header"]
    _runs(head, "{{ body.name }}\t" + title)
    foot = section.footer.paragraphs[0]
    foot.style = doc.styles["Footer"]
    foot._p.append(parse_xml(f'<w:r {nsdecls("w")}><w:t xml:space="preserve">第 </w:t></w:r>'))
    foot._p.append(parse_xml(f'<w:fldSimple {nsdecls("w")} w:instr=" PAGE "><w:r><w:t>1</w:t></w:r></w:fldSimple>'))
    foot._p.append(parse_xml(f'<w:r {nsdecls("w")}><w:t xml:space="preserve"> 页  共 </w:t></w:r>'))
    foot._p.append(parse_xml(f'<w:fldSimple {nsdecls("w")} w:instr=" NUMPAGES "><w:r><w:t>1</w:t></w:r></w:fldSimple>'))
    foot._p.append(parse_xml(f'<w:r {nsdecls("w")}><w:t xml:space="preserve"> 页</w:t></w:r>'))


def signatures(doc: Doc, cells: Sequence[str], *, before: float = 18) -> None:
    """A borderless row of signature lines."""
    para(doc, "", before=before)
    width = 165 / len(cells)
    table(doc, [width] * len(cells), [[C(c, style="Normal") for c in cells]], grid=False)


def new_document(title: str, *, header: str | None = None) -> Doc:
    doc = copy.deepcopy(_prepared_blank())
    doc.core_properties.title = title
    if header:
        header_footer(doc, header)
    return doc


@functools.cache
def _prepared_blank() -> Doc:
    """python-docx's blank document with our package set-up and page, no paragraphs: made once a
    build (opening python-docx's blank document parses 800 kB of styles), copied for each template."""
    doc = Document()
    _setup_package(doc, "")
    page(doc)
    body = doc.element.body
    for p in body.findall(qn("w:p")):
        body.remove(p)
    return doc


def save(doc: Doc, path: Path) -> None:
    atomic_write_bytes(path, document_bytes(doc))  # normalise_docx of python-docx's save, compressed once


def page_border(doc: Doc, *, color: str = RED) -> None:
    """A thick-thin double frame round the page (w:pgBorders), offset from the page edge."""
    sides = "".join(
        f'<w:{s} w:val="thinThickSmallGap" w:sz="24" w:space="20" w:color="{color}"/>'
        for s in ("top", "left", "bottom", "right")
    )
    border = parse_xml(f'<w:pgBorders {nsdecls("w")} w:offsetFrom="page">{sides}</w:pgBorders>')
    _insert_ordered(doc.sections[0]._sectPr, border, _SECTPR)
