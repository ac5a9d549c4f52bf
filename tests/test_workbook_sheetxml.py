"""The worksheet writer that writes cells as text writes the bytes openpyxl's writer writes."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.comments import Comment
from openpyxl.styles import Font, Protection
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.formula import ArrayFormula

from certdocs.workbook._sheetxml import SheetWriter

#: Every character lxml escapes or writes as a reference, and some that look as if they should be.
_TRICKY = "&<>\"'\r\n\t ]=#;\u202e\u2028\x7f\x85𠀀审\ufeff"
_TEXT = st.text(st.one_of(st.sampled_from(_TRICKY), st.characters(blacklist_categories=("Cc", "Cs"))), max_size=10)
_VALUE = st.one_of(
    st.none(),
    _TEXT,
    st.sampled_from(["", " ", " 前后有空格 ", "=SUM(A1:A3)", '=IF(A1="是","<&>",0)', "=", "#N/A"]),
    st.integers(-(10**18), 10**18),
    st.floats(width=64),  # NaN and infinities too: openpyxl writes an empty <v>
    st.decimals(allow_nan=False, allow_infinity=False, places=4),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=9999)),
)
_STYLE = st.sampled_from([None, "bold", "date", "text", "unlocked"])


def _sheet(spec: dict[str, Any]) -> Any:
    """The worksheet ``spec`` describes, in a workbook of its own."""
    wb = openpyxl.Workbook(iso_dates=spec["iso_dates"])
    if spec["epoch_1904"]:
        wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    ws = wb.active
    for (row, col), (value, style) in spec["cells"].items():
        cell = ws.cell(row, col)
        cell.value = value
        if style == "bold":
            cell.font = Font(bold=True)
        elif style == "date":
            cell.number_format = "yyyy-mm-dd"
        elif style == "text":
            cell.number_format = "@"
            cell.quotePrefix = True
        elif style == "unlocked":
            cell.protection = Protection(locked=False)
    for row, height in spec["heights"].items():
        ws.row_dimensions[row].height = height
    for row in spec["hidden"]:
        ws.row_dimensions[row].hidden = True
    for ref in spec["merges"]:
        ws.merge_cells(ref)
    return ws


def _written(ws: Any, writer: type[WorksheetWriter]) -> tuple[bytes, list[tuple[int, ...]]]:
    """``ws`` written by ``writer``, and its workbook's cell styles afterwards (writing adds new ones)."""
    out = io.BytesIO()
    written = writer(ws, out=out)
    written.write()
    return written.read(), [tuple(s) for s in ws.parent._cell_styles]


def _sheet_xml(spec: dict[str, Any], writer: type[WorksheetWriter]) -> tuple[bytes, list[tuple[int, ...]]]:
    """The sheet ``spec`` describes written by ``writer``, and the workbook's cell styles afterwards."""
    return _written(_sheet(spec), writer)


@st.composite
def _sheets(draw: st.DrawFn) -> dict[str, Any]:
    where = st.tuples(st.integers(1, 8), st.integers(1, 5))
    return {
        "iso_dates": draw(st.booleans()),
        "epoch_1904": draw(st.booleans()),
        "cells": draw(st.dictionaries(where, st.tuples(_VALUE, _STYLE), max_size=8)),
        "heights": draw(st.dictionaries(st.integers(1, 10), st.sampled_from([13.5, 30, 409]), max_size=3)),
        "hidden": draw(st.lists(st.integers(1, 10), max_size=2)),
        "merges": draw(st.lists(st.sampled_from(["A1:B1", "C3:D5", "E8:E9"]), max_size=2, unique=True)),
    }


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=_sheets())
def test_the_text_writer_writes_the_bytes_and_styles_openpyxls_writer_writes(spec: dict[str, Any]) -> None:
    ws = _sheet(spec)
    styles = list(ws.parent._cell_styles)  # as they were before writing, for the second writer
    try:
        expected = _written(ws, WorksheetWriter)
    except Exception as exc:  # e.g. a value openpyxl cannot store: both writers must refuse it alike
        with pytest.raises(type(exc)):
            _sheet_xml(spec, SheetWriter)
        return
    ws.parent._cell_styles = IndexedList(styles)
    assert _written(ws, SheetWriter) == expected


@pytest.mark.parametrize("text", [_TRICKY, f" {_TRICKY}", "a]]>b", "\r\n", "\t", '=1&2<3>4"5\r6'])
def test_text_with_every_escaped_character_is_written_as_openpyxl_writes_it(text: str) -> None:
    cells = {(1, 1): (text, None), (2, 3): (f"={text}", "bold"), (3, 2): (text, "text")}
    spec = {"iso_dates": False, "epoch_1904": False, "cells": cells, "heights": {}, "hidden": [], "merges": []}
    assert _sheet_xml(spec, SheetWriter) == _sheet_xml(spec, WorksheetWriter)


_NUMBERS: list[Any] = [0, -0.0, 10**15 + 1, 2**53 + 1, 10**18, 0.1 + 0.2, 1e16, 5e-324, 1.7976931348623157e308]
_NUMBERS += [float("nan"), float("inf"), -float("inf"), True, False, Decimal("1.2345678901234567"), Decimal("-0")]


def test_numbers_are_written_with_the_digits_openpyxl_writes() -> None:
    cells = {(n + 1, 1 + n % 3): (value, "bold" if n % 2 else None) for n, value in enumerate(_NUMBERS)}
    spec = {"iso_dates": False, "epoch_1904": False, "cells": cells, "heights": {}, "hidden": [], "merges": []}
    assert _sheet_xml(spec, SheetWriter) == _sheet_xml(spec, WorksheetWriter)


_MOMENTS: list[Any] = [datetime(2026, 11, 10, 8, 30), datetime(1900, 1, 1), timedelta(hours=25, minutes=1)]
_MOMENTS += [datetime(2026, 11, 10).date(), datetime(2026, 1, 1, 23, 59, 59).time(), timedelta(0)]


@pytest.mark.parametrize(("iso_dates", "epoch_1904"), [(False, False), (True, False), (False, True), (True, True)])
def test_dates_times_and_durations_are_written_as_openpyxl_writes_them(iso_dates: bool, epoch_1904: bool) -> None:
    cells = {(n + 1, 1): (value, "date" if n % 2 else None) for n, value in enumerate(_MOMENTS)}
    spec = {"iso_dates": iso_dates, "epoch_1904": epoch_1904, "cells": cells, "heights": {}, "hidden": []}
    spec["merges"] = []
    assert _sheet_xml(spec, SheetWriter) == _sheet_xml(spec, WorksheetWriter)


def test_attributes_are_escaped_as_lxml_escapes_them() -> None:
    # certdocs and openpyxl put only numbers and names in a cell's or row's attributes; a data
    # type set by hand is any text, and must still come out as lxml writes it.
    spec = {"iso_dates": False, "epoch_1904": False, "cells": {(1, 1): (1, None)}, "heights": {}, "hidden": []}
    spec["merges"] = []

    def write(writer: type[WorksheetWriter]) -> bytes:
        class Odd(writer):  # type: ignore[misc]
            def write_rows(self) -> None:
                self.ws["A1"].data_type = _TRICKY
                super().write_rows()

        return _sheet_xml(spec, Odd)[0]

    assert write(SheetWriter) == write(WorksheetWriter)


def _rich() -> CellRichText:
    return CellRichText(["普通", TextBlock(InlineFont(b=True), "加粗")])


@pytest.mark.parametrize(
    ("what", "value"),
    [
        ("rich text", _rich()),
        ("an array formula", ArrayFormula("A1:A2", "=A3:A4*2")),
        ("a comment", "有批注"),
        ("a hyperlink", "有链接"),
    ],
)
def test_what_the_text_writer_does_not_copy_is_written_by_openpyxl(what: str, value: Any) -> None:
    spec = {"iso_dates": False, "epoch_1904": False, "cells": {(2, 2): ("前", None), (3, 1): (value, "bold")}}
    spec.update(heights={}, hidden=[], merges=[])
    original = _sheet_xml(spec, WorksheetWriter)

    def decorated(writer: type[WorksheetWriter]) -> tuple[bytes, list[tuple[int, ...]]]:
        wb_writer = writer
        if what in ("a comment", "a hyperlink"):

            class Decorating(wb_writer):  # type: ignore[misc,valid-type]
                def write_rows(self) -> None:
                    cell = self.ws["A3"]
                    if what == "a comment":
                        cell.comment = Comment("审核员的批注", "审核员")
                    else:
                        cell.hyperlink = "https://example.com/?a=1&b=<2>"
                    super().write_rows()

            wb_writer = Decorating
        return _sheet_xml(spec, wb_writer)

    expected = decorated(WorksheetWriter)
    assert decorated(SheetWriter) == expected
    if what in ("rich text", "an array formula"):
        assert expected == original


@pytest.mark.parametrize(
    "value",
    [
        "控制\x01字符",
        "孤立\ud800代理",
        datetime(2026, 1, 1, tzinfo=UTC),
        10**400,
    ],
    ids=["control character", "lone surrogate", "time zone", "number beyond a double"],
)
def test_what_openpyxls_writer_refuses_the_text_writer_refuses_alike(value: Any) -> None:
    spec = {"iso_dates": False, "epoch_1904": False, "cells": {(1, 1): ("a", None)}}
    spec.update(heights={}, hidden=[], merges=[])

    def write(writer: type[WorksheetWriter]) -> None:
        class Forcing(writer):  # type: ignore[misc]
            def write_rows(self) -> None:
                cell = self.ws["A1"]
                cell._value = value  # as if stored by a program that does not check it
                cell.data_type = "d" if isinstance(value, datetime) else "n" if isinstance(value, int) else "s"
                super().write_rows()

        _sheet_xml(spec, Forcing)

    with pytest.raises(Exception) as refused:
        write(WorksheetWriter)
    with pytest.raises(type(refused.value)):
        write(SheetWriter)


def test_an_empty_sheet_and_a_sheet_of_empty_rows_are_written_alike() -> None:
    spec = {"iso_dates": False, "epoch_1904": False, "cells": {}, "heights": {4: 30}, "hidden": [6], "merges": []}
    assert _sheet_xml(spec, SheetWriter) == _sheet_xml(spec, WorksheetWriter)
    spec["heights"] = {}
    spec["hidden"] = []
    assert _sheet_xml(spec, SheetWriter) == _sheet_xml(spec, WorksheetWriter)


@pytest.mark.parametrize(("first", "other"), [("A1", "E7"), ("C3", "E7"), ("B1", "C2")])
def test_fitting_rows_leaves_the_rows_and_size_that_iterating_over_every_cell_left(first: str, other: str) -> None:
    # fit_rows once went through ws.iter_rows(), which makes an empty cell at every place from A1;
    # the rows and the size written must stay what they were.
    from certdocs.workbook import _style

    def fitted(iterate: bool) -> bytes:
        wb = openpyxl.Workbook()
        ws = wb.active
        ws[first] = "很长的一段文字，" * 12
        ws[first].alignment = _style.WRAP
        ws[other] = 1
        ws.row_dimensions[9].height = 20
        if iterate:
            list(ws.iter_rows())
        _style.fit_rows(ws)
        return _written(ws, WorksheetWriter)[0]

    assert fitted(iterate=False) == fitted(iterate=True)
