"""The auditor's spreadsheet program, as the workbook tests play it: openpyxl opening and saving a workbook.

Opening a filled workbook with ``openpyxl.load_workbook`` costs about four times what making a
copy of one already opened does, and the tests open the same few workbooks again and again; so
each workbook's bytes are opened once per test process and every caller gets its own copy
(:func:`opened`), which saves to the same parts as a fresh load (``test_workbook`` checks it).
:func:`save` is openpyxl's ``Workbook.save`` without its temporary files, its cells written by
certdocs's text writer and its stylesheet made once per distinct set of styles (the same bytes),
and its parts deflated at level 1 (the same parts).
"""

from __future__ import annotations

import copyreg
import io
import pickle
import warnings
import zipfile
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.packaging.relationship import RelationshipList
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.worksheet.worksheet import Worksheet

from certdocs.workbook._package import PackageWriter
from certdocs.workbook._sheetxml import SheetWriter

_OPENED: dict[bytes, bytes] = {}  # a workbook's bytes -> openpyxl's workbook of them, pickled


def opened(path: Path) -> openpyxl.Workbook:
    """``openpyxl.load_workbook(path)``: a copy of the workbook loaded once per process for the same bytes."""
    raw = path.read_bytes()
    if raw not in _OPENED:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about features it does not model
            _OPENED[raw] = _pickled(openpyxl.load_workbook(io.BytesIO(raw)))
    copy: openpyxl.Workbook = pickle.loads(_OPENED[raw])
    return copy


def _pickled(wb: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = copyreg.dispatch_table.copy()
    pickler.dispatch_table[IndexedList] = _reduce_indexed_list
    pickler.dump(wb)
    return buffer.getvalue()


def _reduce_indexed_list(items: IndexedList) -> tuple[Any, ...]:
    """How to copy one of openpyxl's style lists exactly, including what its index no longer finds.

    Pickle would re-add each entry through ``IndexedList.append`` (dropping repeated styles) and
    rehash its index. openpyxl changes some styles' number formats after indexing them when it
    loads a workbook, so its index no longer finds those, and a save adds them again as new styles:
    the copy's index must miss them too, or the copy would save other style ids than a fresh load.
    """
    index = {key if items._dict.get(key) is not None else ("no longer found", n): n for key, n in items._dict.items()}
    return _indexed_list, (list(items), {**items.__dict__, "_dict": index})


def _indexed_list(entries: list[Any], state: dict[str, Any]) -> IndexedList:
    out = IndexedList()
    list.extend(out, entries)
    out.__dict__.update(state)
    return out


def save(
    wb: openpyxl.Workbook,
    target: Path | io.BytesIO,
    *,
    written: dict[str, bytes | None] | None = None,
    changed: Collection[str] = (),
    typed: Mapping[str, Collection[int]] | None = None,
) -> None:
    """``wb.save(target)``: the same parts, each sheet's XML made in memory rather than in a temporary file.

    With ``written`` (kept by the caller for one workbook object), a sheet whose title is not in
    ``changed`` is the XML an earlier save wrote for it: for a sheet that is as it was then,
    openpyxl writes the same XML again (text is written inline, and the style ids of cells that
    did not change stay the same). openpyxl's first save of a sheet also changes it (it sets the
    sheet's column outline level), so a sheet's XML is kept from its second save on.

    With ``typed`` too (the rows typed into, by sheet title), the sheets in ``changed`` differ
    from their kept XML only in what was typed into cells that were there, in those rows (values
    and number formats: nothing inserted, deleted, merged, linked or commented): only those rows
    are written again, in place of the kept XML's same rows, which openpyxl would write the same
    (the other rows, the sheet's size, views, columns, protection, merges, validations,
    printing). Cells that are written take their style ids from the workbook's list as a whole
    save does, and only a cell typed into can bring a style the list lacks: the list grows as it
    would, in the same order.
    """
    wb.properties.modified = datetime.now(tz=UTC).replace(tzinfo=None)
    # Deflated as openpyxl deflates, but at level 1 rather than 6: the same parts, read back the
    # same way, in less than half the time (the deflating was a sixth of a save).
    archive = zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True, compresslevel=1)
    _Writer(wb, archive, written=written, changed=changed, typed=typed).save()


class _Writer(PackageWriter):
    def __init__(
        self,
        wb: openpyxl.Workbook,
        archive: zipfile.ZipFile,
        *,
        written: dict[str, bytes | None] | None,
        changed: Collection[str],
        typed: Mapping[str, Collection[int]] | None = None,
    ) -> None:
        super().__init__(wb, archive)
        self._written = written
        self._changed = changed
        self._typed = typed

    def write_worksheet(self, ws: Worksheet) -> None:
        # ExcelWriter.write_worksheet (openpyxl 3.1) but for where the sheet's XML comes from.
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        kept = None if self._written is None else self._written.get(ws.title)
        rows = None if self._typed is None else self._typed.get(ws.title)
        retyped = None
        if kept is not None and rows is not None and ws.title in self._changed:
            retyped = _retyped(ws, kept, rows)
        if kept is not None and ws.title not in self._changed:
            xml = kept
            ws._rels = RelationshipList()
        elif retyped is not None:
            xml = retyped
            ws._rels = RelationshipList()
        else:
            writer = SheetWriter(ws, out=io.BytesIO())
            writer.write()
            xml = writer.read()
            ws._rels = writer._rels
            # A sheet with links or drawings has parts of its own, written with it: never kept.
            if self._written is not None and ws.title not in self._changed and not writer._rels:
                self._written[ws.title] = xml if ws.title in self._written else None
        self._archive.writestr(ws.path[1:], xml)
        self.manifest.append(ws)


def _retyped(ws: Worksheet, kept: bytes, rows: Collection[int]) -> bytes | None:
    """``kept`` (a sheet's XML) with ``ws``'s ``rows`` as they are now, or ``None`` if they cannot be spliced in."""
    writer = _RowsWriter(ws, rows, out=io.BytesIO())
    cells = writer._sheet_data()  # None for a cell with a comment, link or rich text: written whole
    writer.close()
    if cells is None or not cells.startswith(b"<sheetData>") or not cells.endswith(b"</sheetData>"):
        return None
    pieces = []
    at, data = 0, kept.find(b"<sheetData>")
    if data < 0:
        return None
    for row in cells[len(b"<sheetData>") : -len(b"</sheetData>")].split(b"</row>")[:-1]:
        number = row[: row.find(b">")].split(b'"')[1]  # <row r="N"...>: the row's number, as written
        start = kept.find(b'<row r="' + number + b'"', max(at, data))
        end = kept.find(b"</row>", start) + len(b"</row>")
        later = kept.find(b"<row", start + 1)
        # The kept XML's row N, whole, and nothing else: its next row begins after its end.
        if start < 0 or end < len(b"</row>") or kept[start + len(number) + 9] not in b" >" or 0 <= later < end:
            return None
        pieces += [kept[at:start], row + b"</row>"]
        at = end
    return b"".join(pieces) + kept[at:]


class _RowsWriter(SheetWriter):
    """A sheet's writer that writes only the rows ``only`` (in order, as ``SheetWriter`` writes them)."""

    def __init__(self, ws: Worksheet, only: Collection[int], *, out: io.BytesIO) -> None:
        super().__init__(ws, out=out)
        self._only = set(only)

    def rows(self) -> list[tuple[int, list[Any]]]:
        # WorksheetWriter.rows (openpyxl 3.1), for the rows asked for only.
        rows: dict[int, list[Any]] = {row: [] for row in self._only if row in self.ws.row_dimensions}
        for (row, _), cell in sorted(item for item in self.ws._cells.items() if item[0][0] in self._only):
            rows.setdefault(row, []).append(cell)
        return sorted(rows.items())
