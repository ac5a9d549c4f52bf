"""The workbook reader's values are the ones openpyxl's ``load_workbook(data_only=True)`` gives."""

from __future__ import annotations

import io
import warnings
import zipfile
from datetime import date, datetime, time
from typing import Any
from xml.sax.saxutils import escape

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import MergedCell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink

from certdocs.workbook._values import read_values
from tests.conftest import FIXTURES
from tests.spreadsheets import save

_VALUE = st.one_of(
    st.none(),
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=8),
    st.sampled_from(["", " ", "=1+1", "#N/A", "是", "0012", "1e5"]),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(min_value=date(1900, 3, 1), max_value=date(9999, 12, 31)),
    st.datetimes(min_value=datetime(1900, 3, 1)),
    st.times(),
)
_FORMAT = st.sampled_from(["General", "@", "0.00", "yyyy-mm-dd", "hh:mm", "[h]:mm:ss", "0%"])
_CELL = st.tuples(st.integers(1, 6), st.integers(1, 5))


_LOADED: dict[bytes, dict[str, dict[tuple[int, int], Any]]] = {}


def _loaded(raw: bytes) -> dict[str, dict[tuple[int, int], Any]]:
    """Every cell openpyxl has after loading, by sheet and (row, column), that holds a value.

    Loaded once per test process for the same bytes (tests that read one workbook in several
    ways compare with the same load); callers only look at it.
    """
    if raw not in _LOADED:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(io.BytesIO(raw), data_only=True)
        _LOADED[raw] = {
            ws.title: {(c.row, c.column): c.value for row in ws.iter_rows() for c in row if c.value is not None}
            for ws in wb.worksheets
        }
    return _LOADED[raw]


def _read(raw: bytes) -> dict[str, dict[tuple[int, int], Any]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # as the reader does: a date out of range reads as #VALUE!
        values = read_values(raw)
    out: dict[str, dict[tuple[int, int], Any]] = {}
    for name, sheet in values.sheets.items():
        rows = max([r for r, _ in sheet.cells] + [b[3] for b, _ in sheet.links] + [0])
        cols = max([c for _, c in sheet.cells] + [b[2] for b, _ in sheet.links] + [0])
        out[name] = {
            (r, c): sheet.value(r, c)
            for r in range(1, rows + 1)
            for c in range(1, cols + 1)
            if sheet.value(r, c) is not None
        }
    return out


@pytest.mark.parametrize("book", sorted((FIXTURES / "workbooks").glob("*.xlsx")), ids=lambda p: p.stem)
def test_a_blank_workbook_reads_as_openpyxl_reads_it(book: Any) -> None:
    raw = book.read_bytes()
    assert _read(raw) == _loaded(raw)


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_values_merges_and_hyperlinks_read_as_openpyxl_reads_them(data: st.DataObject) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    for title in data.draw(st.lists(st.sampled_from(["打分表", "Sheet", "sheet", "报告"]), max_size=2)):
        wb.create_sheet(title)  # openpyxl numbers a repeated title
    for sheet in wb.worksheets:
        for (row, col), value in data.draw(st.dictionaries(_CELL, _VALUE, max_size=12)).items():
            cell = sheet.cell(row, col)
            cell.value = value
            cell.number_format = data.draw(_FORMAT)
    merged: set[tuple[int, int]] = set()
    for row, col in data.draw(st.lists(_CELL, max_size=3)):
        cells = {(r, c) for r in range(row, row + 2) for c in range(col, col + 2)}
        if not cells & merged:
            merged |= cells
            ws.merge_cells(start_row=row, start_column=col, end_row=row + 1, end_column=col + 1)
    for (row, col), url, emptied in data.draw(st.lists(st.tuples(_CELL, _LINK, st.booleans()), max_size=3)):
        cell = ws.cell(row, col)
        if isinstance(cell, MergedCell):
            continue  # openpyxl links only a merge's first cell; the XML below links the others
        cell.hyperlink = Hyperlink(ref="", location=url[1:]) if url.startswith("#") else url
        if emptied:  # a link left on a cleared cell, as Excel leaves it
            cell.value = None
            cell.number_format = "@"
    buffer = io.BytesIO()
    save(wb, buffer)
    raw = _with_links(buffer.getvalue(), data.draw(st.lists(st.tuples(_CELL, st.booleans(), _LINK), max_size=3)))
    assert _read(raw) == _loaded(raw)


_LINK = st.sampled_from(["https://例子.cn/a?b=1&c=2", "#'报告'!A1", "#A1"])


def _with_links(raw: bytes, links: list[tuple[tuple[int, int], bool, str]]) -> bytes:
    """The first sheet with more hyperlinks written into its XML: on cells or ranges, any cells."""
    if not links:
        return raw
    body = "".join(
        f'<hyperlink ref="{get_column_letter(c)}{r}{f":{get_column_letter(c + 1)}{r + 2}" if wide else ""}"'
        f' location="{escape(url.lstrip("#"), {chr(34): "&quot;"})}"/>'
        for (r, c), wide, url in links
    ).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            part = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                if b"</hyperlinks>" in part:
                    part = part.replace(b"</hyperlinks>", body + b"</hyperlinks>")
                else:
                    at = part.index(b"</sheetData>") + len(b"</sheetData>") if b"</sheetData>" in part else -1
                    part = part[:at] + b"<hyperlinks>" + body + b"</hyperlinks>" + part[at:]
            dst.writestr(info, part)
    return out.getvalue()


def test_a_date_time_and_number_read_as_openpyxl_reads_them() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["A2"], ws["A3"], ws["A4"] = date(2026, 11, 10), time(8, 30), 0.1 + 0.2, 10**15 + 1
    buffer = io.BytesIO()
    save(wb, buffer)
    assert _read(buffer.getvalue()) == _loaded(buffer.getvalue())


def _damaged(raw: bytes, part: str, change: Any) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = change(src.read(info.filename)) if info.filename == part else src.read(info.filename)
            if body is not None:
                dst.writestr(info, body)
    return out.getvalue()


def test_a_workbook_on_the_1904_calendar_reads_its_dates_as_openpyxl_reads_them() -> None:
    # The reader keeps what a workbook's package parts say by their bytes; the calendar is in them.
    wb = openpyxl.Workbook()
    wb.active["A1"] = date(2026, 11, 10)
    buffer = io.BytesIO()
    save(wb, buffer)
    on_1900 = buffer.getvalue()
    on_1904 = _damaged(on_1900, "xl/workbook.xml", lambda b: b.replace(b"<workbookPr/>", b'<workbookPr date1904="1"/>'))
    assert _loaded(on_1904) != _loaded(on_1900)
    _read(on_1900)  # read first: every part the same but the workbook part
    assert _read(on_1904) == _loaded(on_1904)


@pytest.mark.parametrize(
    ("part", "change"),
    [
        ("xl/styles.xml", lambda b: b"<styleSheet"),
        ("xl/worksheets/sheet2.xml", lambda b: b[: len(b) // 2]),
        ("xl/worksheets/sheet1.xml", lambda b: b.replace(b"<sheetData>", b'<sheetData><row r="x">')),
        ("xl/worksheets/sheet1.xml", lambda b: b.replace(b'<mergeCell ref="A1:C1"/>', b'<mergeCell ref="ZZZ"/>')),
        ("xl/worksheets/sheet2.xml", lambda b: b.replace(b"<v>", b"<v>x", 1)),
        ("xl/workbook.xml", lambda b: b.replace("审核信息".encode(), b"a/b")),
        ("xl/workbook.xml", lambda _: None),
    ],
    ids=["styles", "cut-sheet", "row-number", "merge", "number", "sheet-title", "no-workbook-part"],
)
def test_a_damaged_part_is_refused_as_an_invalid_workbook_not_a_crash(part: str, change: Any, tmp_path: Any) -> None:
    from certdocs.errors import InvalidAuditResult
    from certdocs.workbook import read_workbook

    book = tmp_path / "damaged.xlsx"
    book.write_bytes(_damaged((FIXTURES / "workbooks" / "fw01-2021.xlsx").read_bytes(), part, change))
    with pytest.raises(InvalidAuditResult, match=r"不是有效的 \.xlsx 工作簿"):
        read_workbook(book)


_CELLS_AS_OTHER_PROGRAMS_WRITE_THEM = [
    '<c r="A1" t="inlineStr"><is><r><t>粗</t></r><r><rPr><b/></rPr><t>体</t></r></is></c>',
    '<c r="A1" t="inlineStr"><is><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh></is></c>',
    '<c r="A1" t="inlineStr"><is/></c>',
    '<c r="A1" t="inlineStr"><is><t/></is></c>',
    '<c r="A1" t="inlineStr"><is><t xml:space="preserve"> 前后空格 </t></is></c>',
    '<c r="A1" t="inlineStr"><is><t>一</t><t>二</t></is></c>',
    '<c t="inlineStr"><is><t>无坐标</t></is></c><c t="inlineStr"><is><t>第二格</t></is></c>',
    '<c r="B1" t="s"/><c t="inlineStr"/><c t="inlineStr"><is><t>空格之后</t></is></c><c t="b" s="0"/>',
    '<c r="A1" t="str"><v>公式结果</v></c>',
    '<c r="A1" t="b"><v>1</v></c>',
    '<c r="A1" t="e"><v>#DIV/0!</v></c>',
    '<c r="A1" t="d"><v>2026-11-10T08:30:00</v></c>',
    '<c r="A1"><f>1+1</f><v>2</v></c>',
    '<c r="A1" s="0"><v>1.5E3</v></c>',
]


_SAVED: dict[int, bytes] = {}  # how many sheets after the first -> the workbook openpyxl saved


def _written(rows: str, after_rows: str = "", *, sheets: tuple[str, ...] = ("Sheet",)) -> bytes:
    """A workbook whose first sheet has ``rows`` and, after its cells, ``after_rows`` as raw XML.

    The workbook openpyxl saves before the XML is changed is made once per test process for the
    same number of sheets (its bytes are only read).
    """
    if len(sheets) not in _SAVED:
        wb = openpyxl.Workbook()
        wb.active.title = "第一"
        for n, _ in enumerate(sheets):
            wb.create_sheet(f"S{n}")
        wb.active["Z9"] = "占位"
        buffer = io.BytesIO()
        save(wb, buffer)
        _SAVED[len(sheets)] = buffer.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_SAVED[len(sheets)])) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            part = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                part = part.replace(b"<sheetData>", b"<sheetData>" + rows.encode(), 1)
                part = part.replace(b"</sheetData>", b"</sheetData>" + after_rows.encode(), 1)
            if info.filename == "xl/workbook.xml":
                for n, name in enumerate(sheets):
                    part = part.replace(f'name="S{n}"'.encode(), f'name="{name}"'.encode())
            dst.writestr(info, part)
    return out.getvalue()


@pytest.mark.parametrize("cells", _CELLS_AS_OTHER_PROGRAMS_WRITE_THEM)
def test_a_cell_as_another_program_writes_it_reads_as_openpyxl_reads_it(cells: str) -> None:
    raw = _written(f'<row r="1">{cells}</row>')
    assert _read(raw) == _loaded(raw)


def _text(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


_MERGED = '<mergeCells count="1"><mergeCell ref="A1:B2"/></mergeCells>'
_MERGES_AND_LINKS = {
    "hidden-values": (
        f'<row r="1">{_text("A1", "左上")}{_text("B1", "被合并")}</row><row r="2">{_text("A2", "下")}</row>',
        _MERGED,
    ),
    "link-on-hidden-cell": (
        f'<row r="3">{_text("C3", "旁")}</row>',
        _MERGED + '<hyperlinks><hyperlink ref="B2" location="\'报告\'!A1"/></hyperlinks>',
    ),
    "link-range-over-merge": (
        f'<row r="1">{_text("A1", "左上")}</row><row r="3">{_text("C3", "有值")}</row>',
        _MERGED + '<hyperlinks><hyperlink ref="A1:C3" location="X1"/></hyperlinks>',
    ),
    "two-links-one-cell": (
        "",
        '<hyperlinks><hyperlink ref="D4" display="无目标"/><hyperlink ref="D4" location="第二"/>'
        '<hyperlink ref="D4" location="第三"/></hyperlinks>',
    ),
    "overlapping-merges": (
        f'<row r="2">{_text("B2", "乙")}{_text("C2", "丙")}</row>',
        '<mergeCells count="2"><mergeCell ref="A1:B2"/><mergeCell ref="B2:C3"/></mergeCells>',
    ),
    "two-merge-lists": (
        f'<row r="1">{_text("A1", "左上")}{_text("B1", "旁")}</row><row r="4">{_text("D4", "下")}</row>',
        '<mergeCells count="1"><mergeCell ref="C3:D4"/></mergeCells>' + _MERGED,
    ),
    # The reader parses a sheet whole and reads its rows in order only where a sheet keeps them;
    # elsewhere it reads them as openpyxl's stream does, each as its end comes.
    "row-after-the-cells": (f'<row r="1">{_text("A1", "一")}</row>', f'<row r="5">{_text("A5", "后")}</row>'),
    "row-in-a-row": (
        f'<row r="1">{_text("A1", "外")}<row r="2">{_text("B2", "内")}</row>{_text("C1", "尾")}</row>',
        "",
    ),
    "row-without-number-after-a-nested-row": (
        f'<row r="3"><row r="7">{_text("A7", "内")}</row></row><row>{_text("B8", "无号")}</row>',
        "",
    ),
    "merge-inside-the-cells": (f'<row r="1">{_text("A1", "左上")}{_text("B1", "藏")}</row>{_MERGED}', ""),
    "links-in-a-row": (
        f'<row r="1">{_text("A1", "值")}<hyperlinks><hyperlink ref="C1" location="里"/></hyperlinks></row>',
        "",
    ),
}


@pytest.mark.parametrize("rows, after_rows", _MERGES_AND_LINKS.values(), ids=_MERGES_AND_LINKS)
def test_merges_and_hyperlinks_as_other_programs_write_them_read_as_openpyxl_reads_them(
    rows: str, after_rows: str
) -> None:
    raw = _written(rows, after_rows)
    assert _read(raw) == _loaded(raw)


@pytest.mark.parametrize("names", [("第一",), ("第一", "第一"), ("SHEET", "Sheet1", "sheet"), ("S1", "S", "s")])
def test_repeated_sheet_names_are_numbered_as_openpyxl_numbers_them(names: tuple[str, ...]) -> None:
    raw = _written(_text("A1", "值"), sheets=names)
    assert list(_read(raw)) == list(_loaded(raw))


def test_a_number_in_a_cell_without_a_style_reads_as_a_date_when_the_first_style_is_a_date() -> None:
    # A cell without ``s`` has style 0, which another program's stylesheet may make a date.
    raw = _written('<row r="1"><c r="A1"><v>46336</v></c><c r="B1" s="0"><v>46336.5</v></c></row>')
    raw = _damaged(
        raw,
        "xl/styles.xml",
        lambda b: b.replace(b'<cellXfs count="1"><xf numFmtId="0"', b'<cellXfs count="1"><xf numFmtId="14"'),
    )
    assert _loaded(raw)["第一"][1, 1] == datetime(2026, 11, 10)
    assert _read(raw) == _loaded(raw)


@pytest.mark.parametrize("limit", [100, 4096, 10**9])
def test_a_sheet_too_big_to_parse_whole_reads_as_openpyxl_reads_it(limit: int, monkeypatch: Any) -> None:
    # Past a size the reader parses a sheet as a stream instead of whole; 100 and 4096 bytes put
    # the cut inside the worksheet's first tag and among its rows.
    from certdocs.workbook import _values

    monkeypatch.setattr(_values, "_WHOLE", limit)
    rows = "".join(
        f'<row r="{r}">{_text(f"A{r}", f"第{r}行")}<c r="B{r}"><v>{r}.5</v></c></row>' for r in range(1, 200)
    )
    raw = _written(rows, _MERGED + '<hyperlinks><hyperlink ref="C3" location="\'报告\'!A1"/></hyperlinks>')
    assert _read(raw) == _loaded(raw)


@pytest.mark.parametrize("size", [1, 2, 3, 5, -1])
def test_the_rest_of_a_sheet_after_its_start_is_read_whole_in_any_size_of_pieces(size: int) -> None:
    from certdocs.workbook._values import _Joined

    stream = _Joined(b"<worksheet>", io.BytesIO("<sheetData/>工作表</worksheet>".encode()))
    pieces = iter(lambda: stream.read(size), b"")
    assert b"".join(pieces).decode() == "<worksheet><sheetData/>工作表</worksheet>"
