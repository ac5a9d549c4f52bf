"""The cell values of an .xlsx file, as openpyxl's ``load_workbook(data_only=True)`` gives them, read cheaply.

Reading a workbook back needs only its sheets' values. ``load_workbook`` also makes a ``Cell``
object with its style for every cell (styled empty input cells included) and parses each sheet's
data validations, page set-up, views and conditional formats into objects: about two thirds of
the time. This reads the same parts with openpyxl's own parsers (package manifest, shared
strings, workbook, stylesheet for which styles are dates, and each sheet's rows through its
``WorkSheetParser``), so every value, date and text is converted exactly as before, and applies
the two things ``load_workbook`` does that change a value: a merge hides every cell but its
first, and a hyperlink gives an empty cell its target as text.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any
from xml.etree.ElementTree import XMLParser

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.packaging.manifest import Manifest
from openpyxl.packaging.relationship import RelationshipList, get_dependents, get_rels_path
from openpyxl.reader.excel import ExcelReader, _find_workbook_part
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils.cell import coordinate_to_tuple, range_boundaries
from openpyxl.workbook.child import INVALID_TITLE_REGEX, avoid_duplicate_name
from openpyxl.worksheet._reader import (
    HYPERLINK_TAG,
    INLINE_STRING,
    MERGE_TAG,
    ROW_TAG,
    VALUE_TAG,
    WorkSheetParser,
    _cast_number,
)
from openpyxl.worksheet.hyperlink import HyperlinkList
from openpyxl.worksheet.merge import MergeCells
from openpyxl.xml.constants import ARC_CONTENT_TYPES, ARC_STYLE, SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

from certdocs._kept import Kept

_TEXT_TAG = f"{{{SHEET_MAIN_NS}}}t"
_VALUE_TAG = VALUE_TAG
_DATA_TAG = f"{{{SHEET_MAIN_NS}}}sheetData"
#: The largest sheet (bytes of XML) parsed whole: certdocs's own are under 1 MB.
_WHOLE = 8 * 1024 * 1024
_MAX_TEXT = 32767  # openpyxl cuts a cell's text there

Cells = dict[tuple[int, int], Any]
Bounds = tuple[int, int, int, int]  # min_col, min_row, max_col, max_row


@functools.lru_cache(maxsize=16384)
def _coordinates(ref: str) -> tuple[int, int]:
    """``coordinate_to_tuple(ref)``, parsed once per process: a workbook's references repeat in every read."""
    return coordinate_to_tuple(ref)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Sheet:
    """One sheet's stored values, merged ranges and hyperlinks (bounds and the text they give)."""

    cells: Cells
    merges: tuple[Bounds, ...] = ()
    links: tuple[tuple[Bounds, str | None], ...] = ()
    #: The first and last row a merge or link covers: rows outside need no look at them (certdocs's
    #: sheets merge only their title rows, and the reader asks for a value a thousand times a read).
    special_rows: tuple[int, int] = field(init=False, default=(0, -1))

    def __post_init__(self) -> None:
        bounds = [*self.merges, *(b for b, _ in self.links)]
        if bounds:
            rows = (min(b[1] for b in bounds), max(b[3] for b in bounds))
            object.__setattr__(self, "special_rows", rows)

    def value(self, row: int, col: int) -> Any:
        """The value openpyxl's cell would hold: ``None`` under a merge, else stored, else a link's text."""
        first, last = self.special_rows
        if not first <= row <= last:
            return self.cells.get((row, col))
        for min_col, min_row, max_col, max_row in self.merges:
            if min_row <= row <= max_row and min_col <= col <= max_col and (row, col) != (min_row, min_col):
                return None
        value = self.cells.get((row, col))
        for (min_col, min_row, max_col, max_row), text in self.links:
            if value is not None:
                break
            if min_row <= row <= max_row and min_col <= col <= max_col:
                value = text
        return value


@dataclass(frozen=True)
class Values:
    """Each sheet's values, the sheets in the workbook's order."""

    sheets: dict[str, Sheet]

    @property
    def sheetnames(self) -> list[str]:
        return list(self.sheets)

    def value(self, sheet: str, ref: str) -> Any:
        """The value of ``sheet!ref`` (``None`` when empty); ``sheet`` must exist."""
        return self.sheets[sheet].value(*_coordinates(ref))

    def rows(self, sheet: str) -> list[int]:
        """The rows of ``sheet`` that have a cell (stored, or made by a hyperlink), in order."""
        found = self.sheets[sheet]
        rows = {row for row, _ in found.cells}
        for (_, min_row, _, max_row), _ in found.links:
            rows.update(range(min_row, max_row + 1))
        return sorted(rows)


def read_values(raw: bytes) -> Values:
    """The values of the workbook ``raw``; raises what openpyxl raises for a damaged file."""
    reader = ExcelReader(io.BytesIO(raw), read_only=True, data_only=True)
    try:
        book = _book(reader)
        reader.read_strings()
        date_formats, timedelta_formats = _date_styles(reader)
        sheets: dict[str, Sheet] = {}
        for name, target, kind in book.sheets:
            if target not in reader.valid_files:
                continue
            title = _title(name, list(sheets))
            if "chartsheet" in kind:
                sheets[title] = Sheet({})
                continue
            with reader.archive.open(target) as src:
                parser = _ValuesParser(
                    src,
                    reader.shared_strings,
                    data_only=True,
                    epoch=book.epoch,
                    date_formats=date_formats,
                    timedelta_formats=timedelta_formats,
                )
                cells = parser.cells()
            merges = tuple(_bounds(cr.ref) for cr in parser.merged_cells.mergeCell) if parser.merged_cells else ()
            links = _links(parser.hyperlinks, merges, reader, target) if parser.hyperlinks.hyperlink else ()
            sheets[title] = Sheet(cells, merges, links)
    finally:
        reader.archive.close()
    return Values(sheets)


@dataclass(frozen=True)
class _Book:
    """What a workbook's package says of its sheets (name, part, relationship type, in order) and its epoch."""

    sheets: tuple[tuple[str | None, str, str], ...]
    epoch: datetime


#: What the package parts that place the sheets say, by those parts' bytes: certdocs's workbooks of
#: one scheme share them, and parsing them (openpyxl makes a whole Workbook to hold what they
#: say) was a sixth of a read. Only parts that parsed are kept, so a damaged one is refused every time.
_MANIFESTS: Kept[Manifest] = Kept(entries=16)
_BOOKS: Kept[_Book] = Kept(entries=16)


def _book(reader: ExcelReader) -> _Book:
    """The sheets and epoch of ``reader``'s workbook (``read_manifest``, ``read_workbook``, ``find_sheets``)."""
    types = reader.archive.read(ARC_CONTENT_TYPES)
    package = _MANIFESTS.get(types)
    if package is None:
        reader.read_manifest()
        package = _kept(_MANIFESTS, types, reader.package)
    reader.package = package
    part = _find_workbook_part(package).PartName[1:]
    key = (part, _part(reader, part), _part(reader, get_rels_path(part)))
    book = _BOOKS.get(key)
    if book is None:
        reader.read_workbook()
        found = tuple((sheet.name, rel.target, rel.Type) for sheet, rel in reader.parser.find_sheets())
        book = _kept(_BOOKS, key, _Book(found, reader.wb.epoch))
    return book


def _part(reader: ExcelReader, name: str) -> bytes | None:
    return reader.archive.read(name) if name in reader.valid_files else None


def _kept(cache: Kept[Any], key: Any, value: Any) -> Any:
    """``value``, kept in ``cache`` under ``key`` unless the key is huge (no workbook's parts kept past it)."""
    parts = key if isinstance(key, tuple) else (key,)
    if sum(len(p) for p in parts if p is not None) < 1_000_000:
        cache.put(key, value)
    return value


#: styles.xml (None when missing) -> the style ids that format dates and durations; certdocs's own
#: workbooks of one scheme all have the same stylesheet, and parsing it was a sixth of a read.
_DATE_STYLES: Kept[tuple[frozenset[int], frozenset[int]]] = Kept(entries=16)


def _date_styles(reader: ExcelReader) -> tuple[frozenset[int], frozenset[int]]:
    """The cell style ids openpyxl reads as dates and as durations (``apply_stylesheet``), once per stylesheet."""
    styles = reader.archive.read(ARC_STYLE) if ARC_STYLE in reader.valid_files else None
    found = _DATE_STYLES.get(styles)
    if found is None:
        wb = Workbook()
        apply_stylesheet(reader.archive, wb)
        found = _kept(_DATE_STYLES, styles, (frozenset(wb._date_formats), frozenset(wb._timedelta_formats)))
    return found


def _title(name: str | None, taken: list[str]) -> str:
    """The sheet's title as openpyxl gives it (``_WorkbookChild.title``): checked, duplicates numbered."""
    value = name or "Sheet"
    match = INVALID_TITLE_REGEX.search(value)
    if match:
        raise ValueError(f"Invalid character {match.group(0)} found in sheet title")
    title: str = avoid_duplicate_name(taken, value)
    return title


class _ValuesParser(WorkSheetParser):  # type: ignore[misc]
    """openpyxl's sheet parser (``data_only``), keeping only the cells' values, the merged cells and the hyperlinks."""

    row_counter: int
    col_counter: int

    def cells(self) -> Cells:
        """Every cell's value by (row, column), as ``parse`` and ``parse_row`` would give them.

        The sheet is parsed whole and its rows read in order: the same parser and elements as
        openpyxl's stream of ``end`` events, without a Python step for each element (a third of a
        read). That order is the stream's only where the rows, merged cells and hyperlinks sit
        where a sheet has them (rows in ``sheetData``, the others at the top), none inside
        another; any other sheet is read as the stream, and so is a sheet over ``_WHOLE`` bytes
        (a parsed sheet takes about twenty times its XML: a huge one is not held whole).
        """
        raw = self.source.read(_WHOLE + 1)
        if len(raw) > _WHOLE:
            return self._streamed(_Joined(raw, self.source))
        parser = XMLParser()
        parser.feed(raw)
        root = parser.close()
        rows = [row for data in root.findall(_DATA_TAG) for row in data.findall(ROW_TAG)]
        merges = root.findall(MERGE_TAG)
        links = root.findall(HYPERLINK_TAG)
        if (len(rows), len(merges), len(links)) != tuple(
            sum(1 for _ in root.iter(tag)) for tag in (ROW_TAG, MERGE_TAG, HYPERLINK_TAG)
        ):
            return self._streamed(io.BytesIO(raw))
        cells: Cells = {}
        for row in rows:
            self._row(row, cells)
        for element in merges:
            self.merged_cells = MergeCells.from_tree(element)
        for element in links:
            self.hyperlinks = HyperlinkList.from_tree(element)
        return cells

    def _streamed(self, source: Any) -> Cells:
        """``cells`` as openpyxl's ``parse`` reads them: each row, merge and link list as its end comes."""
        cells: Cells = {}
        for _, element in iterparse(source):
            tag = element.tag
            if tag == ROW_TAG:
                self._row(element, cells)
                element.clear()
            elif tag == MERGE_TAG:
                self.merged_cells = MergeCells.from_tree(element)
                element.clear()
            elif tag == HYPERLINK_TAG:
                self.hyperlinks = HyperlinkList.from_tree(element)
                element.clear()
        return cells

    def _row(self, row: Any, cells: Cells) -> None:
        """``parse_row`` into ``cells``, with a short way for the three kinds of cell openpyxl itself writes.

        A cell with no content (a styled, empty input cell: ``<c r="G5" s="12"/>``) has no value
        whatever its type, as openpyxl reads it without formulas; ``<c t="inlineStr"><is><t>…</t></is></c>``
        is what openpyxl makes of every text (parsing it into a ``Text`` object was a third of a
        sheet's time); a number not styled as a date is ``<v>`` read as openpyxl reads it (a
        formula's stored result included). Anything else (shared strings, dates, booleans, rich
        text, phonetic runs, attributes on the text) goes through openpyxl's ``parse_cell``.
        """
        number = row.get("r")
        if number is None:
            self.row_counter += 1
        else:
            try:
                self.row_counter = int(number)
            except ValueError:
                val = float(number)
                if not val.is_integer():
                    raise ValueError(f"{number} is not a valid row number") from None
                self.row_counter = int(val)
        self.col_counter = 0
        dates = self.date_formats
        for element in row:
            get = element.get
            data_type = get("t")
            if len(element) == 0:
                value = None
            elif data_type == "inlineStr":
                child = element[0] if len(element) == 1 else element.find(INLINE_STRING)
                if (
                    child is None
                    or child.tag != INLINE_STRING
                    or child.attrib
                    or len(child) != 1
                    or child[0].tag != _TEXT_TAG
                ):
                    self._cell(element, cells)
                    continue
                text = child[0].text
                value = "" if text is None else text
            elif data_type is None or data_type == "n":
                style = get("s")
                if (int(style) if style else 0) in dates:
                    self._cell(element, cells)
                    continue
                found = element.findtext(_VALUE_TAG, None) or None
                value = None if found is None else _cast_number(found)
            else:
                self._cell(element, cells)
                continue
            style = get("s")
            if style:
                int(style)  # what openpyxl does with it, refusing what is not a number
            coordinate = get("r")
            if coordinate:
                row_number, column = _coordinates(coordinate)
                self.col_counter = column
            else:
                self.col_counter += 1
                row_number, column = self.row_counter, self.col_counter
            cells[row_number, column] = value

    def _cell(self, element: Any, cells: Cells) -> None:
        found = self.parse_cell(element)
        cells[found["row"], found["column"]] = found["value"]


class _Joined:
    """A stream of ``head`` and then the rest of ``tail``: what is left of a sheet after reading its start."""

    def __init__(self, head: bytes, tail: IO[bytes]) -> None:
        self._head = head
        self._tail = tail

    def read(self, size: int = -1) -> bytes:
        if not self._head:
            return self._tail.read(size)
        if size < 0 or size >= len(self._head):
            head, self._head = self._head, b""
            return head + self._tail.read(size - len(head) if size >= 0 else -1)
        head, self._head = self._head[:size], self._head[size:]
        return head


def _bounds(ref: str) -> Bounds:
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    if None in (min_col, min_row, max_col, max_row):
        raise TypeError(f"not a range of cells: {ref}")
    return min_col, min_row, max_col, max_row


def _links(
    links: HyperlinkList, merges: tuple[Bounds, ...], reader: ExcelReader, target: str
) -> tuple[tuple[Bounds, str | None], ...]:
    """Where each hyperlink gives an empty cell its text, and that text (openpyxl's ``Cell.hyperlink``).

    A link to a cell a merge hides goes to the merge's first cell; a link over a range skips hidden cells.
    """
    rels_path = get_rels_path(target)
    rels = get_dependents(reader.archive, rels_path) if rels_path in reader.valid_files else RelationshipList()
    out: list[tuple[Bounds, str | None]] = []
    for link in links.hyperlink:
        url = rels.get(link.id).Target if link.id else link.target
        text = url or link.location
        if text is not None:
            text = str(text)[:_MAX_TEXT]
            if ILLEGAL_CHARACTERS_RE.search(text):
                raise ValueError("a hyperlink's text cannot be a cell's value")
        bounds = _bounds(link.ref)
        if ":" not in link.ref:
            row, col = bounds[1], bounds[0]
            for min_col, min_row, max_col, max_row in merges:
                if min_row <= row <= max_row and min_col <= col <= max_col and (row, col) != (min_row, min_col):
                    bounds = (min_col, min_row, min_col, min_row)
                    break
        out.append((bounds, text))
    return tuple(out)
