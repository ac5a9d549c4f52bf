"""openpyxl's worksheet writer with the cells written as text: the same bytes, about a third of the time.

openpyxl writes each cell through lxml's incremental writer, three or four ``xf.element`` calls a
cell; a workbook has tens of thousands of styled cells, and that was a quarter of making one.
:class:`SheetWriter` writes ``<sheetData>`` as one piece of text instead, with lxml's escaping
(``&``, ``<``, ``>``, a carriage return as ``&#13;``; in attributes also ``"``, tab and newline;
every character past ASCII as a decimal character reference), and keeps openpyxl's own writer for
whatever it does not copy: comments, hyperlinks, rich text, array and data-table formulas, and
text lxml refuses (control characters, lone surrogates), which then fails as it did.
``tests/test_workbook_sheetxml.py`` compares the two writers' bytes.
"""

from __future__ import annotations

import re
from datetime import timedelta
from math import isfinite
from typing import Any

from openpyxl.cell.rich_text import CellRichText
from openpyxl.compat import safe_string
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel, to_ISO8601
from openpyxl.worksheet._writer import WorksheetWriter

# What lxml refuses to write (it raises): left to openpyxl's writer, so that it fails as before.
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _text(value: str) -> str:
    """``value`` escaped as lxml escapes element text (characters past ASCII are done at the end)."""
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if "\r" in value:
        value = value.replace("\r", "&#13;")
    return value


def _attribute(value: str) -> str:
    """``value`` escaped as lxml escapes an attribute's value."""
    value = _text(value)
    if '"' in value:
        value = value.replace('"', "&quot;")
    if "\n" in value:
        value = value.replace("\n", "&#10;")
    if "\t" in value:
        value = value.replace("\t", "&#9;")
    return value


class SheetWriter(WorksheetWriter):  # type: ignore[misc]
    """openpyxl's ``WorksheetWriter`` (3.1), writing the rows as text when it can; ``out`` must be a stream."""

    def write_rows(self) -> None:
        data = self._sheet_data() if hasattr(self.out, "write") else None
        if data is None:
            super().write_rows()
            return
        xf = self.xf.send(True)
        xf.flush()  # what lxml holds goes out first; the worksheet's start tag is complete
        self.out.write(data)
        self.xf.send(None)

    def _sheet_data(self) -> bytes | None:  # noqa: C901  (one case per kind of cell, as openpyxl's write_cell)
        """``<sheetData>`` as openpyxl writes it, or ``None`` when a cell needs openpyxl's own writer."""
        ws = self.ws
        wb = ws.parent
        styles = wb._cell_styles
        dims = ws.row_dimensions
        ids: dict[bytes, int] = {}
        letters: dict[int, str] = {}
        parts = ["<sheetData>"]
        add = parts.append
        for row_idx, row in self.rows():
            attrs = {"r": f"{row_idx}"}
            attrs.update(dims.get(row_idx, {}))
            add("<row" + "".join(f' {k}="{_attribute(v)}"' for k, v in attrs.items()) + ">")
            for cell in row:
                if cell._comment is not None or cell.hyperlink is not None:
                    return None
                style = cell._style
                styled = style is not None and any(style)  # Cell.has_style
                value: Any = cell._value
                if value is None and not styled:
                    continue
                data_type = cell.data_type
                column = cell.column
                letter = letters.get(column)
                if letter is None:
                    letter = letters[column] = get_column_letter(column)
                head = f'<c r="{letter}{cell.row}"'  # Cell.coordinate
                if styled:
                    # Cell.style_id: the style's index in the workbook's list, added there if new, as
                    # openpyxl does while writing. The list is asked once per distinct style (hashing
                    # a style is most of the cost); a style it has indexed keeps its index.
                    key = style.tobytes()
                    index = ids.get(key)
                    if index is None:
                        index = ids[key] = styles.add(style)
                    head += f' s="{index}"'
                if data_type == "d":
                    if getattr(value, "tzinfo", None) is not None:
                        return None  # openpyxl's writer refuses it
                    if wb.iso_dates and not isinstance(value, timedelta):
                        value = to_ISO8601(value)
                        head += ' t="d"'
                    else:
                        value = to_excel(value, wb.epoch)
                        head += ' t="n"'
                elif data_type == "s":
                    head += ' t="inlineStr"'
                elif data_type != "f":
                    head += f' t="{_attribute(data_type)}"'
                if value is None or value == "":
                    add(head + "></c>")
                elif data_type == "f":
                    if not isinstance(value, str):
                        return None  # an array or data-table formula
                    add(f"{head}><f>{_text(value[1:])}</f><v></v></c>")
                elif data_type == "s":
                    if isinstance(value, CellRichText):
                        return None
                    if not isinstance(value, str):
                        add(head + "><is></is></c>")
                    elif value != value.strip():
                        add(f'{head}><is><t xml:space="preserve">{_text(value)}</t></is></c>')
                    else:
                        add(f"{head}><is><t>{_text(value)}</t></is></c>")
                elif type(value) is int:
                    add(f"{head}><v>{value:.16g}</v></c>")  # safe_string's format, also for big numbers
                elif type(value) is float and isfinite(value):
                    add(f"{head}><v>{value:.16g}</v></c>")
                else:
                    add(f"{head}><v>{_text(safe_string(value))}</v></c>")
            add("</row>")
        add("</sheetData>")
        text = "".join(parts)
        if _UNWRITABLE.search(text):
            return None
        return text.encode("ascii", "xmlcharrefreplace")
