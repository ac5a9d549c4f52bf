"""Writing the auditor's workbook (.xlsx): blank for a scheme, or filled from an audit result.

Sheets: 审核信息 (organisation, audit, team, documents), 打分表 (items in the scheme's order),
汇总 (category subtotals, SCORE, GRADE, LEVEL), 前提条件 (level schemes), 日程, 报告, and the
very hidden ``_certdocs`` sheet with the scheme id, the certdocs version and the structure
fingerprint. Only input cells are unlocked; every sheet is protected without a password.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.worksheet.worksheet import Worksheet

from certdocs import __version__
from certdocs.errors import Problem
from certdocs.scheme import Scheme
from certdocs.workbook import _style as st
from certdocs.workbook import formulas as fx
from certdocs.workbook._package import PackageWriter
from certdocs.workbook._scoresheet import items_sheet, summary_sheet
from certdocs.workbook._sheetxml import SheetWriter
from certdocs.workbook.layout import (
    BOOL_LABELS,
    CHOICES,
    FORM_LABELS,
    INFO,
    ITEMS,
    LAYOUT_VERSION,
    META,
    PREREQUISITE_HEADERS,
    PREREQUISITES,
    REPORT,
    SUMMARY,
    TIMETABLE,
    Field,
    Kind,
    Layout,
    ListBlock,
    json_path,
)

if TYPE_CHECKING:
    from _typeshed import SizedBuffer, StrPath

_MAX_DIGITS = 15  # what a spreadsheet's double holds exactly
_MAX_TEXT = 32767  # Excel's limit for one cell
#: Characters XML cannot hold and openpyxl lets through (the writer then failed with a ValueError).
_NONCHARACTER = re.compile("[\ufffe\uffff]")


def build_workbook(layout: Layout, data: Mapping[str, Any] | None = None) -> tuple[bytes, list[Problem]]:
    """The workbook's bytes for ``layout``, filled from the audit-result document ``data`` if given.

    Returns the problems of values a spreadsheet cannot hold (control characters, more than 15
    significant digits); the caller refuses the audit when there are any.
    """
    wb = Workbook()
    wb.remove(wb.active)
    scheme = layout.scheme
    sheets = {name: wb.create_sheet(name) for name in _sheet_names(scheme)}
    _info_sheet(sheets[INFO], layout)
    items_sheet(sheets[ITEMS], layout)
    summary_sheet(wb, sheets[SUMMARY], layout)
    if scheme.prerequisites:
        _prerequisites_sheet(sheets[PREREQUISITES], layout)
    _timetable_sheet(sheets[TIMETABLE], layout)
    _report_sheet(sheets[REPORT], layout)
    for f in layout.fields:
        _field(sheets[f.sheet], f)
    for block in layout.lists:
        _list_block(sheets[block.sheet], block)
    _meta_sheet(sheets[META], layout)
    problems = _fill(sheets, layout, data) if data is not None else []
    for name, ws in sheets.items():
        st.protect(ws)
        if name != META:
            st.fit_rows(ws, skip=(1, 2) if name == ITEMS else (1,))
    wb.properties.creator = f"certdocs {__version__}"
    wb.properties.title = f"{scheme.standard_code} 审核工作簿"
    return _reproducible(wb), problems


def _sheet_names(scheme: Scheme) -> list[str]:
    names = [INFO, ITEMS, SUMMARY]
    if scheme.prerequisites:
        names.append(PREREQUISITES)
    return [*names, TIMETABLE, REPORT, META]


def _reproducible(wb: Workbook) -> bytes:
    """The workbook's bytes, the same for the same workbook: fixed zip times and document dates."""
    out = io.BytesIO()
    # What openpyxl's save_workbook does, into a zip that fixes each entry as it is written
    # (rather than compressing everything twice to rewrite the entries afterwards).
    wb.properties.modified = datetime.now(tz=UTC).replace(tzinfo=None)
    _InMemoryWriter(wb, _FixedZip(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True)).save()
    return out.getvalue()


class _InMemoryWriter(PackageWriter):
    """openpyxl's writer, writing each sheet's XML into memory instead of a temporary file.

    openpyxl writes a sheet to a file in the temporary folder, copies it into the zip and
    removes it: six files made and removed a workbook, about a fifth of what making one costs.
    """

    def write_worksheet(self, ws: Worksheet) -> None:
        # ExcelWriter.write_worksheet (openpyxl 3.1) but for the sheet writer's output.
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        writer = SheetWriter(ws, out=io.BytesIO())
        writer.write()
        ws._rels = writer._rels
        self._archive.writestr(ws.path[1:], writer.read())
        self.manifest.append(ws)


class _FixedZip(zipfile.ZipFile):
    """A zip whose entries all carry 2026-01-01 00:00, as does docProps/core.xml's created and modified."""

    def writestr(
        self,
        zinfo_or_arcname: str | zipfile.ZipInfo,
        data: SizedBuffer | str,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        name = zinfo_or_arcname.filename if isinstance(zinfo_or_arcname, zipfile.ZipInfo) else zinfo_or_arcname
        body = data.encode() if isinstance(data, str) else bytes(data)
        if name == "docProps/core.xml":
            body = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>2026-01-01T00:00:00Z", body)
        entry = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
        entry.compress_type = zipfile.ZIP_DEFLATED
        super().writestr(entry, body)

    def write(
        self,
        filename: StrPath,
        arcname: StrPath | None = None,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        self.writestr(str(arcname if arcname is not None else filename), Path(filename).read_bytes())


# -- sheets -----------------------------------------------------------------------------------


def _info_sheet(ws: Worksheet, layout: Layout) -> None:
    st.title(ws, "A1", f"审核信息　{layout.scheme.standard_full}", merge_to="C1")
    for (sheet, cell), text in layout.labels.items():
        if sheet == INFO:
            st.label(st.at(ws, cell), text, header=cell.endswith("2") and len(cell) == 2, bold=cell[0] == "A")
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = 60
    ws.column_dimensions["C"].width = 40
    st.print_setup(ws, landscape=False)
    ws.freeze_panes = "A3"


def _prerequisites_sheet(ws: Worksheet, layout: Layout) -> None:
    st.title(ws, "A1", f"认证前提条件　{layout.scheme.standard_code} 4.2", merge_to="D1")
    for n, text in enumerate(PREREQUISITE_HEADERS):
        st.label(ws.cell(2, n + 1), text, header=True)
    for p in layout.scheme.prerequisites:
        row = layout.prerequisite_rows[p.field]
        st.label(st.at(ws, f"A{row}"), p.text)
        st.formula_cell(st.at(ws, f"C{row}"), fx.prerequisite_formula(p.kind, p.value, f"B{row}"), result=True)
        st.label(st.at(ws, f"D{row}"), p.basis)
    ws.column_dimensions["A"].width = 50
    ws.column_dimensions["B"].width = 12
    ws.column_dimensions["C"].width = 10
    ws.column_dimensions["D"].width = 30
    st.print_setup(ws, landscape=False)


def _timetable_sheet(ws: Worksheet, layout: Layout) -> None:
    for width, letter in zip((12, 8, 8, 50, 20, 24), "ABCDEF", strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A4"
    st.print_setup(ws, landscape=True, title_rows="3:3")


def _report_sheet(ws: Worksheet, layout: Layout) -> None:
    st.title(ws, "A1", "审核报告叙述（空白项由 certdocs 按评分结果生成）", merge_to="C1")
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 90
    ws.row_dimensions[3].height = 80  # room to write the overview by hand on a printed copy
    ws.row_dimensions[4].height = 40
    st.print_setup(ws, landscape=False)


def _meta_sheet(ws: Worksheet, layout: Layout) -> None:
    import json

    rows = [
        ("format", "certdocs-workbook"),
        ("layout_version", str(LAYOUT_VERSION)),
        ("scheme", layout.scheme.id),
        ("certdocs_version", __version__),
        ("fingerprint", layout.fingerprint),
        ("capacity", json.dumps(dict(sorted(layout.capacity.items())))),
    ]
    for n, (key, value) in enumerate(rows, 1):
        ws.cell(n, 1, key)
        ws.cell(n, 2, value)
    ws.sheet_state = "veryHidden"


def _field(ws: Worksheet, f: Field) -> None:
    cell = st.at(ws, f.cell)
    st.input_cell(cell, number_format=_FORMATS.get(f.kind))
    if f.sheet == INFO:
        st.label(st.at(ws, "C" + f.cell[1:]), f.hint)
    elif f.sheet in (REPORT, PREREQUISITES):
        st.label(st.at(ws, "A" + f.cell[1:]), f.label, bold=f.sheet == REPORT)
    dv = _validation(f.kind, f.label, f.hint, f.choices, f.minimum)
    dv.add(f.cell)
    ws.add_data_validation(dv)


def _list_block(ws: Worksheet, block: ListBlock) -> None:
    st.list_title(st.at(ws, block.title_cell), block.title)
    for c in block.columns:
        st.label(st.at(ws, f"{c.column}{block.header_row}"), c.label, header=True)
        for row in block.rows:
            st.input_cell(st.at(ws, f"{c.column}{row}"), number_format=_FORMATS.get(c.kind))
        dv = _validation(c.kind, c.label, c.hint, c.choices, None)
        dv.add(f"{c.column}{block.first_row}:{c.column}{block.first_row + block.capacity - 1}")
        ws.add_data_validation(dv)


_FORMATS: dict[Kind, str] = {"text": "@", "names": "@", "time": "@", "date": "yyyy-mm-dd", "decimal": "0.0#"}


def _validation(kind: Kind, label: str, hint: str, choices: str, minimum: int | None) -> Any:
    prompt = hint or label
    if kind == "choice":
        return st.choice_validation(list(CHOICES[choices].values()), title=label, prompt=prompt)
    if kind == "bool":
        return st.choice_validation(["是", "否"], title=label, prompt=prompt)
    if kind == "int":
        low = str(minimum if minimum is not None else 0)
        return st.validation(
            kind="whole",
            operator="greaterThanOrEqual",
            formula1=low,
            title=label,
            prompt=f"{prompt}（整数，不小于 {low}）",
        )
    if kind == "decimal":
        return st.validation(kind="decimal", operator="greaterThan", formula1="0", title=label, prompt=prompt)
    if kind == "date":
        return st.validation(
            kind="date",
            operator="between",
            formula1=str(st.DATE_MIN),
            formula2=str(st.DATE_MAX),
            title=label,
            prompt=f"{prompt}（日期，如 2026-11-10）",
        )
    if kind == "time":
        return st.validation(
            kind="textLength", operator="equal", formula1="5", title=label, prompt="时间，格式 HH:MM（如 08:30）"
        )
    return st.validation(
        kind="textLength", operator="lessThanOrEqual", formula1=str(_MAX_TEXT), title=label, prompt=prompt
    )


# -- values ------------------------------------------------------------------------------------


def _fill(sheets: Mapping[str, Worksheet], layout: Layout, data: Mapping[str, Any]) -> list[Problem]:  # noqa: C901  (one case per sheet section)
    problems: list[Problem] = []

    def write(ws: Worksheet, ref: str, kind: Kind, value: Any, path: tuple[str | int, ...], choices: str = "") -> None:
        converted = _cell_value(kind, value, choices)
        for text in _texts(converted):
            if ILLEGAL_CHARACTERS_RE.search(text):
                problems.append(Problem(json_path(path), "含有电子表格无法保存的控制字符"))
                return
            if found := _NONCHARACTER.search(text):
                problems.append(Problem(json_path(path), f"含有电子表格无法保存的字符 U+{ord(found.group()):04X}"))
                return
            if len(text) > _MAX_TEXT:
                problems.append(Problem(json_path(path), f"文本超过电子表格单元格上限 {_MAX_TEXT} 字"))
                return
        if isinstance(converted, Decimal | int) and not isinstance(converted, bool) and not _exact(converted):
            problems.append(
                Problem(json_path(path), f"数值 {converted} 超过 {_MAX_DIGITS} 位有效数字，电子表格无法精确保存")
            )
            return
        st.put(st.at(ws, ref), float(converted) if isinstance(converted, Decimal) else converted)

    for f in layout.fields:
        value = _get(data, f.path)
        if value is not None:
            write(sheets[f.sheet], f.cell, f.kind, value, f.path, f.choices)
    for block in layout.lists:
        entries = _get(data, block.path)
        for n, entry in enumerate(entries if isinstance(entries, list) else []):
            for c in block.columns:
                value = entry.get(c.key) if c.key else entry
                if value is not None:
                    where: tuple[str | int, ...] = (*block.path, n, c.key) if c.key else (*block.path, n)
                    write(sheets[block.sheet], f"{c.column}{block.first_row + n}", c.kind, value, where, c.choices)
    items = data.get("items") or {}
    ws = sheets[ITEMS]
    scheme = layout.scheme
    for it in scheme.items:
        raw = items.get(it.id)
        if not isinstance(raw, dict):
            continue
        row = layout.item_rows[it.id]
        for key, value in raw.items():
            if key.startswith("_") or value is None:
                continue
            if key in FORM_LABELS and scheme.method == "points":
                ws[f"{layout.col('form')}{row}"] = FORM_LABELS[key]
            kind: Kind = (
                "bool"
                if key in ("covers_all_sites", "compliant")
                else "text"
                if key in ("not_applicable", "evidence", "finding")
                else "decimal"
            )
            write(ws, f"{layout.col(key)}{row}", kind, value, ("items", it.id, key))
    return problems


def _get(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = data
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _cell_value(kind: Kind, value: Any, choices: str) -> Any:
    if kind == "choice":
        return CHOICES[choices].get(value, value)
    if kind == "bool" and isinstance(value, bool):
        return BOOL_LABELS[value]
    if kind == "date" and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    if kind == "names" and isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _texts(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else []


def _exact(value: Decimal | int) -> bool:
    """Whether a double holds ``value`` exactly as the text shows it (15 significant digits)."""
    d = Decimal(value).normalize()
    return len(d.as_tuple().digits) <= _MAX_DIGITS and Decimal(repr(float(d))) == d


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)
