"""certdocs._pdfxref read and written with the standard library: the same entries and lines as one at a time."""

from __future__ import annotations

import re
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from certdocs._pdfxref import fixed_width, fixed_width_entries, xref_entries, xref_lines

_STANDARD_ROWS = re.compile(rb"(?:[0-9]{10} [0-9]{5} [nf](?: \r| \n|\r\n))*")

# The kind and the line end as one choice of the six pairs (uniform, as two choices were): one
# draw fewer per entry, and a draw is most of what an example costs.
_KIND_AND_END = [(kind, end) for kind in (b"n", b"f") for end in (b" \n", b" \r", b"\r\n")]
_ENTRY = st.tuples(st.integers(0, 9_999_999_999), st.integers(0, 65_535), st.sampled_from(_KIND_AND_END))
_Entry = tuple[int, int, tuple[bytes, bytes]]


def _row(entry: _Entry) -> bytes:
    offset, generation, (kind, end) = entry
    return b"%010d %05d %s%s" % (offset, generation, kind, end)


_SECTION = st.tuples(st.integers(0, 5_000), st.lists(_ENTRY, max_size=30))


def _table(sections: list[tuple[int, list[_Entry]]]) -> bytes:
    return b"\n" + b"".join(
        b"%d %d\n" % (first, len(entries)) + b"".join(_row(entry) for entry in entries) for first, entries in sections
    )


def _used(sections: list[tuple[int, list[_Entry]]]) -> list[list[int]]:
    rows = [
        (first + n, generation, offset)
        for first, entries in sections
        for n, (offset, generation, (kind, _end)) in enumerate(entries)
        if kind == b"n"
    ]
    return [[row[i] for row in rows] for i in range(3)]


@settings(max_examples=50, deadline=None)
@given(sections=st.lists(_SECTION, min_size=1, max_size=4))
def test_a_standard_table_reads_as_its_entries_in_use(
    sections: list[tuple[int, list[_Entry]]],
) -> None:
    found = fixed_width_entries(_table(sections))
    assert found is not None
    assert [list(column) for column in found] == _used(sections)


@settings(max_examples=50, deadline=None)
@given(sections=st.lists(_SECTION, min_size=1, max_size=4))
def test_the_column_reader_and_the_token_reader_agree(
    sections: list[tuple[int, list[_Entry]]],
) -> None:
    table = _table(sections)
    assert _in_use(fixed_width_entries(table)) == _in_use(xref_entries(table))


def _in_use(found: tuple[Sequence[int], ...] | None) -> list[list[int]] | None:
    """The columns, None for none in use (which PatchedPdf.parse refuses whichever reader said so)."""
    return None if found is None or not len(found[0]) else [list(column) for column in found]


@settings(max_examples=150, deadline=None)
@given(
    entries=st.lists(_ENTRY, min_size=1, max_size=12),
    at=st.integers(0, 10_000),
    byte=st.integers(0, 255),
)
def test_any_byte_out_of_the_standard_form_is_refused(entries: list[_Entry], at: int, byte: int) -> None:
    rows = bytearray(b"".join(_row(entry) for entry in entries))
    rows[at % len(rows)] = byte
    assert fixed_width(bytes(rows), len(entries)) == (_STANDARD_ROWS.fullmatch(rows) is not None)


@settings(max_examples=50, deadline=None)
@given(
    lines=st.lists(
        st.tuples(st.one_of(st.just(-1), st.integers(0, 9_999_999_999)), st.integers(0, 65_535)), max_size=40
    ),
    zero=st.booleans(),
)
def test_the_lines_written_are_those_formatted_one_by_one(lines: list[tuple[int, int]], zero: bool) -> None:
    offsets = [offset for offset, _ in lines]
    generations = [0 if zero else generation for _, generation in lines]
    one_by_one = b"".join(
        b"0000000000 65535 f \n" if offset < 0 else b"%010d %05d n \n" % (offset, generation)
        for offset, generation in zip(offsets, generations, strict=True)
    )
    assert xref_lines(offsets, generations) == one_by_one
