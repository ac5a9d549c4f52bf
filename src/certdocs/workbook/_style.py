"""Looks and behaviour of the workbook's cells: input cells unlocked and tinted, validation, printing."""

from __future__ import annotations

from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
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

#: Excel's serial numbers of 2000-01-01 and 2100-12-31: the dates an audit can have.
DATE_MIN, DATE_MAX = 36526, 73415


def label(cell: Cell, text: str, *, header: bool = False, bold: bool = False) -> None:
    """A fixed text cell (locked)."""
    put(cell, text)
    cell.font = Font(name=FONT, bold=bold or header, size=10)
    cell.alignment = CENTER if header else WRAP
    cell.border = BORDER
    if header:
        cell.fill = HEADER_FILL


def title(ws: Worksheet, cell: str, text: str, *, merge_to: str | None = None) -> None:
    put(ws[cell], text)
    ws[cell].font = Font(name=FONT, bold=True, size=14)
    ws[cell].alignment = Alignment(vertical="center")
    if merge_to:
        ws.merge_cells(f"{cell}:{merge_to}")


def input_cell(cell: Cell, *, number_format: str | None = None) -> None:
    """An input cell: unlocked, tinted, bordered, wrapping."""
    cell.protection = UNLOCKED
    cell.fill = INPUT_FILL
    cell.border = BORDER
    cell.font = Font(name=FONT, size=10)
    cell.alignment = WRAP
    if number_format:
        cell.number_format = number_format


def formula_cell(cell: Cell, formula: str, *, number_format: str | None = None, result: bool = False) -> None:
    """A computed cell (locked)."""
    cell.value = formula
    cell.border = BORDER
    cell.font = Font(name=FONT, size=10, bold=result)
    cell.alignment = WRAP
    if result:
        cell.fill = RESULT_FILL
    if number_format:
        cell.number_format = number_format


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
