"""Looks and behaviour of the workbook's cells: input cells unlocked and tinted, validation, printing."""

from __future__ import annotations

import functools
import math
import weakref
from collections.abc import Callable, Hashable

from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

FONT = "宋体"
INPUT_FILL = PatternFill("solid", fgColor="FFF8DC")
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
RESULT_FILL = PatternFill("solid", fgColor="E2EFDA")
_THIN = Side(style="thin", color="808080")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
UNLOCKED = Protection(locked=False)
GREY_FILL = PatternFill("solid", fgColor="EDEDED")

#: Excel's serial numbers of 2000-01-01 and 2100-12-31: the dates an audit can have.
DATE_MIN, DATE_MAX = 36526, 73415


#: For each workbook being built: (styling, a cell's style before it) -> the cell's style after it.
_DONE: weakref.WeakKeyDictionary[Workbook, dict[Hashable, StyleArray]] = weakref.WeakKeyDictionary()


@functools.lru_cache(maxsize=8192)
def _coordinates(ref: str) -> tuple[int, int]:
    return coordinate_to_tuple(ref)  # type: ignore[no-any-return]


def at(ws: Worksheet, ref: str) -> Cell:
    """The cell ``ws[ref]`` of a one-cell reference such as ``B12``, the reference parsed once per process."""
    return ws.cell(*_coordinates(ref))


def _styled(cell: Cell, key: Hashable, apply: Callable[[Cell], None]) -> None:
    """Give ``cell`` the style ``apply`` gives it, applying it only once per workbook and starting style.

    Assigning a Font, Fill, Border, ... makes openpyxl hash the object to find its index in the
    workbook's list (most of a workbook's build time, tens of thousands of cells). A cell's style is
    only that row of indices (its ``StyleArray``), so the first cell is styled the ordinary way, in
    the same order as always (the indices, and so the file's bytes, do not change), and every later
    cell that starts from the same style copies the resulting row.
    """
    done = _DONE.setdefault(cell.parent.parent, {})
    before = (key, None if cell._style is None else tuple(cell._style))
    after = done.get(before)
    if after is None:
        apply(cell)
        done[before] = StyleArray(cell._style)
    else:
        cell._style = StyleArray(after)


def label(cell: Cell, text: str, *, header: bool = False, bold: bool = False) -> None:
    """A fixed text cell (locked)."""
    put(cell, text)

    def apply(cell: Cell) -> None:
        cell.font = Font(name=FONT, bold=bold or header, size=10)
        cell.alignment = CENTER if header else WRAP
        cell.border = BORDER
        if header:
            cell.fill = HEADER_FILL

    _styled(cell, ("label", header, bold), apply)


def title(ws: Worksheet, cell: str, text: str, *, merge_to: str | None = None) -> None:
    put(ws[cell], text)
    ws[cell].font = Font(name=FONT, bold=True, size=14)
    ws[cell].alignment = Alignment(vertical="center")
    if merge_to:
        ws.merge_cells(f"{cell}:{merge_to}")


def input_cell(cell: Cell, *, number_format: str | None = None) -> None:
    """An input cell: unlocked, tinted, bordered, wrapping."""

    def apply(cell: Cell) -> None:
        cell.protection = UNLOCKED
        cell.fill = INPUT_FILL
        cell.border = BORDER
        cell.font = Font(name=FONT, size=10)
        cell.alignment = WRAP
        if number_format:
            cell.number_format = number_format

    _styled(cell, ("input", number_format), apply)


def formula_cell(cell: Cell, formula: str, *, number_format: str | None = None, result: bool = False) -> None:
    """A computed cell (locked)."""
    cell.value = formula

    def apply(cell: Cell) -> None:
        cell.border = BORDER
        cell.font = Font(name=FONT, size=10, bold=result)
        cell.alignment = WRAP
        if result:
            cell.fill = RESULT_FILL
        if number_format:
            cell.number_format = number_format

    _styled(cell, ("formula", number_format, result), apply)


def greyed(cell: Cell) -> None:
    """A result cell that does not apply to this row (locked, grey)."""

    def apply(cell: Cell) -> None:
        cell.fill = GREY_FILL
        cell.border = BORDER

    _styled(cell, "greyed", apply)


def put(cell: Cell, value: object) -> None:
    """Store ``value``; text is always text, even when it begins with ``=`` (never a formula)."""
    cell.value = value
    if isinstance(value, str) and cell.data_type == "f":
        cell.data_type = "s"
        cell.quotePrefix = True


def protect(ws: Worksheet) -> None:
    """Protect the sheet without a password; rows and columns may still be resized."""
    ws.protection.sheet = True
    ws.protection.formatRows = False
    ws.protection.formatColumns = False
    ws.protection.formatCells = False


def print_setup(ws: Worksheet, *, landscape: bool, title_rows: str | None = None) -> None:
    """A4, fitted to the page width, with repeated header rows and page numbers."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_options.horizontalCentered = True
    if title_rows:
        ws.print_title_rows = title_rows
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.oddHeader.right.text = "&A"


def validation(
    *,
    kind: str,
    prompt: str,
    title: str,
    operator: str | None = None,
    formula1: str | None = None,
    formula2: str | None = None,
    error: str = "",
) -> DataValidation:
    """A data validation with a Chinese input message and error message."""
    dv = DataValidation(
        type=kind if kind != "any" else None,
        operator=operator,
        formula1=formula1,
        formula2=formula2,
        allow_blank=True,
        showInputMessage=True,
        showErrorMessage=kind != "any",
        promptTitle=title[:32],
        prompt=prompt[:255],
        errorTitle="输入无效"[:32],
        error=(error or prompt)[:255],
    )
    return dv


def choice_validation(options: list[str], *, title: str, prompt: str) -> DataValidation:
    """A drop-down list."""
    return validation(
        kind="list",
        formula1='"' + ",".join(options) + '"',
        title=title,
        prompt=prompt,
        error="请从下拉列表中选择：" + "、".join(options),
    )


@functools.lru_cache(maxsize=4096)
def _display_width(text: str) -> float:
    """Column-width units a line of 10-point text takes (a CJK character about 1.7, measured in Calc).

    Remembered per text: a scheme's requirements and labels are measured again in every workbook.
    """
    return sum(1.7 if ord(ch) > 0x2E7F else 0.9 for ch in text)


def fit_rows(ws: Worksheet, *, skip: tuple[int, ...] = (1,)) -> None:
    """Row heights for wrapped text, since a row with a set style is not refitted on open.

    LibreOffice and Excel keep the stored height of a row; without this, long requirements and
    evidence print cut to one line. Rows keep at least the default height.
    """
    merged = {(r.min_row, r.min_col): r for r in ws.merged_cells.ranges}
    # A cell's alignment by its index, read once: the proxy openpyxl builds per cell costs more.
    wraps = [bool(a.wrap_text) for a in ws.parent._alignments]
    widths: dict[str, float] = {}
    lines_by_row: dict[int, int] = {}
    # Any order of cells gives each row the same height: the tallest of its cells.
    for cell in ws._cells.values():
        if not isinstance(cell.value, str) or (cell.value.startswith("=") and cell.data_type == "f"):
            continue
        if cell.row in skip or not wraps[cell._style.alignmentId if cell._style is not None else 0]:
            continue
        span = merged.get((cell.row, cell.column))
        letters = (
            [get_column_letter(c) for c in range(span.min_col, span.max_col + 1)] if span else [cell.column_letter]
        )
        for x in letters:
            if x not in widths:
                widths[x] = ws.column_dimensions[x].width or 8.43
        width = sum(widths[x] for x in letters)
        usable = max(width * 0.95 - 1, 1)
        lines = sum(max(1, math.ceil(_display_width(part) / usable)) for part in cell.value.split("\n"))
        lines_by_row[cell.row] = max(lines_by_row.get(cell.row, 1), lines)
    for row, lines in sorted(lines_by_row.items()):  # rows given a height from the top, as before
        if lines > 1:
            ws.row_dimensions[row].height = min(409, 13 * lines + 3)
    _keep_rows_iter_rows_made(ws)


def _keep_rows_iter_rows_made(ws: Worksheet) -> None:
    """An empty cell in column A of each row without cells, from row 1 to the last.

    ``fit_rows`` used ``ws.iter_rows()``, which makes an empty cell at every place from A1 to the
    last row and column; openpyxl writes a row that has only empty cells as an empty ``<row>``,
    and the sheet's size from A1. Those rows and that size are what the workbook has always had,
    without the thousands of other empty cells (a tenth of making a workbook).
    """
    cells = ws._cells
    if cells:
        rows = {row for row, _ in cells}
        for row in range(1, max(rows) + 1):
            if row not in rows:
                ws.cell(row, 1)
        ws.cell(1, 1)  # the sheet's size starts at A1


def list_title(cell: Cell, text: str) -> None:
    """The heading above a list: bold, on one line (it may run into the empty cells to its right)."""
    put(cell, text)
    cell.font = Font(name=FONT, bold=True, size=11)
    cell.alignment = Alignment(vertical="center", wrap_text=False)
