"""certdocs._pdfpatch: the cross-reference table read and written all at once, as the slow way would."""

from __future__ import annotations

import io
from collections.abc import Sequence

import pikepdf
import pytest

from certdocs._pdfpatch import PatchedPdf
from certdocs._pdfxref import fixed_width_entries, xref_entries, xref_lines


def _columns(found: tuple[Sequence[int], ...] | None) -> list[list[int]]:
    assert found is not None
    return [list(column) for column in found]


def _entry(offset: int, generation: int, kind: bytes, end: bytes = b" \n") -> bytes:
    return b"%010d %05d %s%s" % (offset, generation, kind, end)


@pytest.mark.parametrize("end", [b" \n", b" \r", b"\r\n"])
def test_a_standard_table_reads_the_same_all_at_once(end: bytes) -> None:
    table = (
        b"\n0 3\n"
        + _entry(0, 65535, b"f", end)
        + _entry(15, 0, b"n", end)
        + _entry(1234567, 2, b"n", end)
        + b"7 2\n"
        + _entry(99, 0, b"n", end)
        + _entry(0, 1, b"f", end)
    )
    assert (
        _columns(fixed_width_entries(table))
        == _columns(xref_entries(table))
        == [[1, 2, 7], [0, 2, 0], [15, 1234567, 99]]
    )


def test_a_table_spaced_otherwise_is_left_to_the_token_reader() -> None:
    table = b"\n0 2\n0000000000 65535 f\n15 0 n\n"
    assert fixed_width_entries(table) is None
    assert _columns(xref_entries(table)) == [[1], [0], [15]]


def test_a_table_with_something_after_its_entries_is_refused_by_both() -> None:
    table = b"\n0 1\n" + _entry(15, 0, b"n") + b"junk\n"
    assert fixed_width_entries(table) is None
    assert xref_entries(table) is None


def test_a_table_shorter_than_it_says_is_refused_by_both() -> None:
    table = b"\n0 3\n" + _entry(15, 0, b"n")
    assert fixed_width_entries(table) is None
    assert xref_entries(table) is None


def test_an_entry_of_another_kind_is_refused_by_both() -> None:
    table = b"\n0 1\n" + _entry(15, 0, b"x")
    assert fixed_width_entries(table) is None
    assert xref_entries(table) is None


def test_the_lines_written_all_at_once_are_those_formatted_one_by_one() -> None:
    offsets = [-1, 0, 9, 10, 123456789, 9999999999, -1, 42]
    generations = [0, 0, 1, 65535, 7, 0, 3, 99999]
    one_by_one = b"".join(
        b"0000000000 65535 f \n" if offset < 0 else b"%010d %05d n \n" % (offset, generation)
        for offset, generation in zip(offsets, generations, strict=True)
    )
    assert xref_lines(offsets, generations) == one_by_one


def _qpdf_file(*, pages: int) -> bytes:
    document = pikepdf.new()
    for _ in range(pages):
        document.add_blank_page()
    buffer = io.BytesIO()
    document.save(buffer, object_stream_mode=pikepdf.ObjectStreamMode.disable, deterministic_id=True)
    return buffer.getvalue()


def test_a_file_written_again_unchanged_has_every_object_where_its_table_says() -> None:
    data = _qpdf_file(pages=30)
    pdf = PatchedPdf.parse(data)
    assert pdf is not None
    written = pdf.write(info=pdf.add(b"<</Title (x)>>"))
    again = PatchedPdf.parse(written)
    assert again is not None
    assert len(again.objects) == len(pdf.objects) + 1


def test_qpdf_reads_a_file_written_again_with_a_replaced_object() -> None:
    data = _qpdf_file(pages=3)
    pdf = PatchedPdf.parse(data)
    assert pdf is not None
    root = pdf.reference(b"Root")
    assert root is not None
    pdf.replace(root, (pdf.dictionary(root) or b"")[:-2] + b"/Lang (zh-CN)>>")
    with pikepdf.open(io.BytesIO(pdf.write(info=pdf.add(b"<<>>")))) as document:
        assert str(document.Root.Lang) == "zh-CN"
        assert len(document.pages) == 3


def test_an_entry_pointing_at_another_object_is_refused() -> None:
    data = _qpdf_file(pages=2)
    at = data.index(b"\n2 0 obj") + 1
    broken = data[:at] + b"9" + data[at + 1 :]  # "9 0 obj" where the table says object 2
    assert PatchedPdf.parse(broken) is None


def test_the_streams_a_pattern_names_are_found_and_only_streams() -> None:
    document = pikepdf.new()
    document.add_blank_page()
    profile = document.make_indirect(pikepdf.Stream(document, b"icc", N=3))
    font = document.make_indirect(pikepdf.Stream(document, b"%!font", Length1=1, Length2=2, Length3=0))
    plain = document.make_indirect(pikepdf.Dictionary(N=5))
    document.Root.Extra = pikepdf.Array([profile, font, plain])
    buffer = io.BytesIO()
    document.save(buffer, object_stream_mode=pikepdf.ObjectStreamMode.disable, compress_streams=False)
    pdf = PatchedPdf.parse(buffer.getvalue())
    assert pdf is not None
    profiles, fonts = pdf.holding(rb"/N\s+\d"), pdf.holding(rb"/Length2\s")
    with pikepdf.open(io.BytesIO(buffer.getvalue())) as saved:  # qpdf renumbers on save
        numbers = [saved.Root.Extra[0].objgen[0], saved.Root.Extra[1].objgen[0]]
    assert (profiles, fonts) == ([numbers[0]], [numbers[1]])


def test_one_scan_for_several_patterns_finds_what_a_scan_for_each_finds() -> None:
    document = pikepdf.new()
    document.add_blank_page()
    both = document.make_indirect(pikepdf.Stream(document, b"x", N=3, Length1=1, Length2=2, Length3=0))
    profile = document.make_indirect(pikepdf.Stream(document, b"icc /Length2 1", N=3))
    font = document.make_indirect(pikepdf.Stream(document, b"%!font /N 3", Length1=1, Length2=2, Length3=0))
    document.Root.Extra = pikepdf.Array([both, profile, font, pikepdf.Dictionary(N=5, Length2=1)])
    buffer = io.BytesIO()
    document.save(buffer, object_stream_mode=pikepdf.ObjectStreamMode.disable, compress_streams=False)
    pdf = PatchedPdf.parse(buffer.getvalue())
    assert pdf is not None
    patterns = (rb"/N\s+\d", rb"/Length2\s")
    numbers = [pdf.holding(pattern) for pattern in patterns]  # one scan each
    assert pdf.holding_each(*patterns) == numbers
    assert [len(n) for n in numbers] == [2, 2]  # the stream with both keys in each, a key in data in neither


def test_a_table_claiming_more_objects_than_the_file_has_bytes_is_left_to_qpdf() -> None:
    data = _qpdf_file(pages=1)
    size = data.index(b"/Size ")
    end = data.index(b"/", size + 1)
    huge = data[:size] + b"/Size 999999999999" + data[end:]
    assert PatchedPdf.parse(huge) is None
