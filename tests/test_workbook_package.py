"""The workbook writer's kept stylesheets are the XML openpyxl writes for the workbook as it is now."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import openpyxl
import pytest
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Protection, Side
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.styles.stylesheet import write_stylesheet
from openpyxl.xml.functions import tostring

from certdocs.workbook._package import stylesheet_xml


def _styled() -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "标题"
    ws["A1"].font = Font(name="宋体", size=14, bold=True)
    ws["A1"].fill = PatternFill("solid", fgColor="DDEEFF")
    ws["B2"] = date(2026, 11, 27)
    ws["B2"].number_format = "yyyy-mm-dd"
    ws["C3"] = 0.5
    ws["C3"].alignment = Alignment(wrap_text=True)
    ws["C3"].protection = Protection(locked=False)
    ws["C3"].border = Border(top=Side(style="thin"))
    return wb


def _cell_style_changed_in_place(wb: openpyxl.Workbook) -> None:
    # openpyxl puts a cell's own style array into the list when it saves, and a new number format
    # changes that array where it is ("0.00" is built in: the list of formats stays as it was).
    wb.active["B2"].number_format = "0.00"


def _number_format_changed_in_place(wb: openpyxl.Workbook) -> None:
    wb._number_formats[0] = "yyyy年m月d日"


def _named_style_renamed(wb: openpyxl.Workbook) -> None:
    wb._named_styles[0].name = "常规"


def _named_style_added(wb: openpyxl.Workbook) -> None:
    wb.add_named_style(NamedStyle(name="强调", font=Font(italic=True)))


# Each changes what the stylesheet says in one of the workbook's lists, the objects they hold
# changed where they are (the hardest case for a stylesheet kept by the lists' contents).
_CHANGES: dict[str, Callable[[openpyxl.Workbook], None]] = {
    "value-only": lambda wb: wb.active.__setitem__("D4", "只改值"),
    "cell-style": _cell_style_changed_in_place,
    "font": lambda wb: setattr(wb._fonts[1], "b", False),
    "fill": lambda wb: setattr(wb._fills[2], "fgColor", "FF123456"),
    "border": lambda wb: setattr(wb._borders[1], "left", Side(style="thick")),
    "alignment": lambda wb: setattr(wb._alignments[1], "horizontal", "right"),
    "protection": lambda wb: setattr(wb._protections[1], "hidden", True),
    "number-format": _number_format_changed_in_place,
    "named-style": _named_style_renamed,
    "named-style-added": _named_style_added,
    "differential-style": lambda wb: wb._differential_styles.add(DifferentialStyle(font=Font(bold=True))),
    "colours": lambda wb: setattr(wb, "_colors", ["00000000", "00FFFFFF"]),
    "table-styles": lambda wb: setattr(wb._table_styles, "defaultTableStyle", "TableStyleLight1"),
    "new-cell-style": lambda wb: setattr(wb.active["D4"], "font", Font(color="FF0000")),
}


def _openpyxls(wb: openpyxl.Workbook) -> bytes:
    return bytes(tostring(write_stylesheet(wb)))


@pytest.mark.parametrize("change", _CHANGES.values(), ids=_CHANGES)
def test_a_kept_stylesheet_follows_every_change_to_the_workbooks_styles(
    change: Callable[[openpyxl.Workbook], None],
) -> None:
    wb = _styled()
    wb.active["D4"] = "值"
    for cell in ("A1", "B2", "C3", "D4"):
        assert wb.active[cell].style_id >= 0  # the cells' styles in the list, as a save puts them
    assert stylesheet_xml(wb) == _openpyxls(wb)
    change(wb)
    for cell in ("A1", "B2", "C3", "D4"):
        assert wb.active[cell].style_id >= 0
    assert stylesheet_xml(wb) == _openpyxls(wb)


def test_a_workbook_with_the_styles_of_another_gets_the_same_stylesheet() -> None:
    first, second = _styled(), _styled()
    for wb in (first, second):
        for cell in ("A1", "B2", "C3"):
            assert wb.active[cell].style_id >= 0
    assert stylesheet_xml(first) is stylesheet_xml(second)
