"""The classic PDF cross-reference table, read and written a column at a time.

LibreOffice and qpdf write the table as the standard says, 20 bytes an entry, and such a table
is read as columns (slices of the bytes, each a C-speed copy); a table spaced any other way is
read token by token. Used by :class:`certdocs._pdfpatch.PatchedPdf`.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Sequence
from itertools import compress

Columns = tuple["array[int]", "array[int]", "array[int]"]  # numbers, generations, offsets of the objects in use

_SUBSECTION = re.compile(rb"\s*(\d+)[ \t]+(\d+)[ \t]*(?:\r\n|\r|\n)")
_DIGITS = b"0123456789"


def fixed_width_entries(table: bytes) -> Columns | None:
    """The entries of a cross-reference table written as the standard says (20 bytes each), read
    a column at a time; None for anything else (:func:`xref_entries` reads it, or refuses it)."""
    numbers: list[int] = []
    generations: list[int] = []
    offsets: list[int] = []
    position, sections = 0, 0
    while (section := _SUBSECTION.match(table, position)) is not None:
        first, count = int(section.group(1)), int(section.group(2))
        position = section.end() + 20 * count
        if position > len(table):
            return None
        rows = table[section.end() : position]
        if not fixed_width(rows, count):
            return None
        # Checked fixed-width, the rows split into exactly three words each.
        words = rows.split()
        used = [kind == b"n" for kind in words[2::3]]
        numbers += compress(range(first, first + count), used)
        offsets += map(int, compress(words[0::3], used))
        in_use = list(compress(words[1::3], used))
        # Generation 0 nearly always: counting is a tenth of converting each.
        generations += [0] * len(in_use) if in_use.count(b"00000") == len(in_use) else map(int, in_use)
        sections += 1
    if not sections or table[position:].strip():
        return None
    return array("q", numbers), array("q", generations), array("q", offsets)


def fixed_width(rows: bytes, count: int) -> bool:
    """Whether ``rows`` is ``count`` entries ``nnnnnnnnnn ggggg k`` each ending in " \r", " \n" or "\r\n"."""
    # One slice per column of the 20: each a C-speed copy, where a regex over the rows takes ten times as long.
    column = [rows[i::20] for i in range(20)]
    return (
        not any(column[i].translate(None, _DIGITS) for i in (*range(10), *range(11, 16)))
        and column[10] == column[16] == b" " * count
        and not column[17].translate(None, b"nf")
        and not column[18].translate(None, b" \r")
        and not column[19].translate(None, b"\r\n")
        and (b"\r" not in column[18] or all(a != 13 or b == 10 for a, b in zip(column[18], column[19], strict=True)))
    )


def xref_entries(table: bytes) -> Columns | None:
    """The entries in use of a classic cross-reference table, however it is spaced."""
    tokens, i = table.split(), 0
    entries: list[tuple[int, int, int]] = []
    while i < len(tokens):
        if i + 2 > len(tokens) or not tokens[i].isdigit() or not tokens[i + 1].isdigit():
            return None
        first, count = int(tokens[i]), int(tokens[i + 1])
        block = tokens[i + 2 : i + 2 + 3 * count]
        i += 2 + 3 * count
        kinds = block[2::3]
        if len(block) != 3 * count or not set(kinds) <= {b"n", b"f"}:
            return None
        try:
            offsets, generations = list(map(int, block[0::3])), list(map(int, block[1::3]))
        except ValueError:
            return None
        used = [kind == b"n" for kind in kinds]
        entries += compress(zip(range(first, first + count), generations, offsets, strict=True), used)
    if not entries:
        return None
    numbers, generations_, offsets_ = (array("q", column) for column in zip(*entries, strict=True))
    return numbers, generations_, offsets_


_FREE = b"0000000000 65535 f \n"


def xref_lines(offsets: Sequence[int], generations: Sequence[int]) -> bytes:
    """``b"%010d %05d n \n"`` for each object (offset -1: ``b"0000000000 65535 f \n"``)."""
    if not any(generations):  # what LibreOffice and qpdf write: one number to format a line, not two
        return b"".join([_FREE if offset < 0 else b"%010d 00000 n \n" % offset for offset in offsets])
    return b"".join(
        [
            _FREE if offset < 0 else b"%010d %05d n \n" % (offset, generation)
            for offset, generation in zip(offsets, generations, strict=True)
        ]
    )


__all__ = ["Columns", "fixed_width", "fixed_width_entries", "xref_entries", "xref_lines"]
