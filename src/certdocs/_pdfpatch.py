"""A PDF as LibreOffice writes it, edited as bytes: a few objects replaced, the rest copied as they are.

Normalising a 700 kB PDF through a full parse and rewrite (qpdf) costs tens of milliseconds of
CPU; the objects that actually vary between LibreOffice runs are a handful. :class:`PatchedPdf`
reads only the cross-reference table, hands out the objects asked for, and writes the file
again with the replaced objects in their places, a new cross-reference table and a trailer
whose /ID is a digest of the content. Files it does not understand completely (cross-reference
streams, incremental updates, encryption, unusual filters) are refused with ``None`` so that
the caller can take the slow, general road.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import struct
import zlib
from itertools import repeat
from typing import NamedTuple

from certdocs._pdfxref import fixed_width_entries, xref_entries, xref_lines

_STARTXREF = re.compile(rb"startxref\s+(\d+)\s*%%EOF\s*$")
_OBJ = re.compile(rb"(\d+)\s+(\d+)\s+obj\s*")
_STREAM_HEAD = re.compile(rb"(<<.*?>>)\s*stream\r?\n", re.S)
_DICT_HEAD = re.compile(rb"<<")
_REF = rb"(\d+)\s+(\d+)\s+R"
_INT = re.compile(rb"\s*(\d+)\s*endobj")


class _Object(NamedTuple):
    number: int
    generation: int
    start: int
    end: int


class PatchedPdf:
    """A parsed cross-reference table over the original bytes, and the objects replaced so far.

    ``objects`` maps each object number in the file to its place in file order.
    """

    def __init__(
        self,
        data: bytes,
        columns: tuple[list[int], list[int], list[int]],
        ends: list[int],
        trailer: bytes,
        size: int,
    ) -> None:
        self.data = data
        # By position in the file: number, generation and start of each object, and where the
        # next one starts.
        self._numbers, self._generations, self._starts = columns
        self._ends = ends
        self.objects = dict(zip(self._numbers, range(len(self._numbers)), strict=True))
        self.trailer = trailer
        self.size = size
        self._replaced: dict[int, bytes] = {}
        self._added: list[tuple[int, bytes]] = []

    @classmethod
    def parse(cls, data: bytes) -> PatchedPdf | None:
        """The file's objects, or None if it is not one piece with a classic cross-reference table."""
        if not data.startswith(b"%PDF-"):
            return None
        end = _STARTXREF.search(data, max(0, len(data) - 1024))
        if end is None:
            return None
        xref = int(end.group(1))
        if data[xref : xref + 4] != b"xref":
            return None  # a cross-reference stream
        trailer_at = data.find(b"trailer", xref, end.start())
        if trailer_at < 0:
            return None
        table = data[xref + 4 : trailer_at]
        columns = fixed_width_entries(table) or xref_entries(table)
        trailer = data[trailer_at + 7 : end.start()]
        if columns is None or not len(columns[0]) or re.search(rb"/(?:Prev|Encrypt|XRefStm)\b", trailer):
            return None
        size = re.search(rb"/Size\s+(\d+)", trailer)
        if size is None or not re.search(rb"/Root\s+" + _REF, trailer):
            return None
        if int(size.group(1)) > len(data):  # more objects than bytes: not a file to edit by hand
            return None
        # Every entry must point at its own "n g obj", and objects may not overlap (nor share a start).
        # (map and dict over whole columns: a loop in Python per object would cost twice as much.)
        place = dict(zip(columns[2], range(len(columns[2])), strict=True))  # entry by start
        if len(place) != len(columns[2]):
            return None
        starts = sorted(place)
        order = list(map(place.__getitem__, starts))
        numbers, generations = list(map(columns[0].__getitem__, order)), list(map(columns[1].__getitem__, order))
        if starts[-1] >= xref or len(set(numbers)) != len(numbers):
            return None
        if any(generations):
            heads = [b"%d %d obj" % pair for pair in zip(numbers, generations, strict=True)]
        else:
            heads = list(map(b"%d 0 obj".__mod__, numbers))
        if not all(map(data.startswith, heads, starts)):
            return None
        size_ = max(int(size.group(1)), max(numbers) + 1)
        return cls(data, (numbers, generations, starts), [*starts[1:], xref], trailer, size_)

    # -- reading -------------------------------------------------------------------------

    def _object(self, number: int) -> _Object | None:
        at = self.objects.get(number)
        if at is None:
            return None
        return _Object(number, self._generations[at], self._starts[at], self._ends[at])

    def reference(self, key: bytes, *, within: bytes | None = None) -> int | None:
        """The object number ``/key n g R`` points to in ``within`` (default: the trailer)."""
        found = re.search(rb"/" + key + rb"\s+" + _REF, self.trailer if within is None else within)
        return int(found.group(1)) if found else None

    def dictionary(self, number: int) -> bytes | None:
        """The dictionary an object starts with (a stream's dictionary), or None."""
        o = self._object(number)
        if o is None:
            return None
        head = _OBJ.match(self.data, o.start)
        assert head is not None  # checked in parse
        if self.data[head.end() : head.end() + 2] != b"<<":
            return None
        stream = _STREAM_HEAD.match(self.data, head.end(), o.end)
        if stream is not None:
            return stream.group(1)
        last = self.data.rfind(b">>", head.end(), o.end)
        return self.data[head.end() : last + 2] if last > 0 else None

    def holding(self, pattern: bytes) -> list[int]:
        """Numbers of the stream objects whose dictionary matches ``pattern`` (a regex)."""
        found = {self._dictionary_at(hit.start()) for hit in re.finditer(pattern, self.data)}
        return sorted(n for n in found if n is not None)

    def _dictionary_at(self, offset: int) -> int | None:
        """The number of the stream object whose dictionary holds ``offset``, or ``None``."""
        i = bisect.bisect_right(self._starts, offset) - 1
        if i < 0:
            return None
        head = _OBJ.match(self.data, self._starts[i])
        assert head is not None
        stream = _STREAM_HEAD.match(self.data, head.end(), self._ends[i])
        if stream is None or not stream.start(1) <= offset < stream.end(1):
            return None
        return self._numbers[i]

    def holding_each(self, *patterns: bytes) -> list[list[int]]:
        """:meth:`holding` for each pattern, in one pass over the file.

        Each pattern begins with ``/`` and matches no other ``/`` after it, so no match of one
        holds the start of a match of another: one scan for any of them finds what each would
        alone. (One scan, with the ``/`` outside the alternatives: the regex engine searches for
        it quickly; a group around each alternative makes the scan forty times slower.)
        """
        compiled = [re.compile(pattern) for pattern in patterns]
        assert all(pattern.startswith(b"/") for pattern in patterns)
        either = re.compile(b"/(?:" + b"|".join(pattern[1:] for pattern in patterns) + b")")
        found: list[set[int]] = [set() for _ in patterns]
        for hit in either.finditer(self.data):
            number = self._dictionary_at(hit.start())
            if number is None:
                continue
            for n, pattern in enumerate(compiled):
                if pattern.match(self.data, hit.start()):
                    found[n].add(number)
        return [sorted(numbers) for numbers in found]

    def stream(self, number: int) -> tuple[bytes, bytes] | None:
        """A stream object's dictionary and decoded data; None for filters other than one Flate."""
        o = self._object(number)
        if o is None:
            raise KeyError(number)
        head = _OBJ.match(self.data, o.start)
        assert head is not None
        stream = _STREAM_HEAD.match(self.data, head.end(), o.end)
        if stream is None:
            return None
        info = stream.group(1)
        length = self.integer(info, b"Length")
        if length is None or stream.end() + length > o.end:
            return None
        raw = self.data[stream.end() : stream.end() + length]
        if not re.match(rb"\s*endstream", self.data[stream.end() + length : o.end]):
            return None
        filters = re.search(rb"/Filter\s*(\[[^\]]*\]|/\w+)", info)
        if filters is None and b"/DecodeParms" not in info:
            return info, raw
        if filters is None or filters.group(1).strip(b"[] \r\n") != b"/FlateDecode" or b"/DecodeParms" in info:
            return None
        try:
            return info, zlib.decompress(raw)
        except zlib.error:
            return None

    def integer(self, dictionary: bytes, key: bytes) -> int | None:
        """The value of ``/key`` in ``dictionary``: a number, or an indirect one."""
        found = re.search(rb"/" + key + rb"\s+(\d+)(?:\s+(\d+)\s+R)?(?=[\s/>\]])", dictionary)
        if found is None:
            return None
        if found.group(2) is None:
            return int(found.group(1))
        target = self._object(int(found.group(1)))
        if target is None:
            return None
        head = _OBJ.match(self.data, target.start)
        assert head is not None
        value = _INT.match(self.data, head.end(), target.end)
        return int(value.group(1)) if value else None

    # -- writing -------------------------------------------------------------------------

    def set_integer(self, dictionary: bytes, key: bytes, value: int) -> bytes:
        """``dictionary`` with ``/key`` set to ``value``: in place, or in the object it refers to."""
        pattern = re.compile(rb"/" + key + rb"\s+(\d+)(?:\s+(\d+)\s+R)?(?=[\s/>\]])")
        found = pattern.search(dictionary)
        if found is None:
            return dictionary[:-2] + b"/%s %d>>" % (key, value)
        if found.group(2) is not None and int(found.group(1)) in self.objects:
            self.replace(int(found.group(1)), b"%d" % value)  # the same file whatever the old value
            return dictionary
        return dictionary[: found.start()] + b"/%s %d" % (key, value) + dictionary[found.end() :]

    def replace_stream(self, number: int, dictionary: bytes, encoded: bytes) -> None:
        """Put ``encoded`` as the data of stream ``number``, its /Length set to match."""
        fixed = self.set_integer(dictionary, b"Length", len(encoded))
        self.replace(number, b"%s\nstream\n%s\nendstream" % (fixed, encoded))

    def replace(self, number: int, body: bytes) -> None:
        """Put ``body`` (what goes between ``obj`` and ``endobj``) as object ``number``."""
        generation = self._generations[self.objects[number]]
        self._replaced[number] = b"%d %d obj\n%s\nendobj\n" % (number, generation, body)

    def add(self, body: bytes) -> int:
        """A new object holding ``body``; its number."""
        number = self.size
        self.size += 1
        self._added.append((number, b"%d 0 obj\n%s\nendobj\n" % (number, body)))
        return number

    def write(self, *, info: int) -> bytes:
        """The whole file: header, objects in their original order, xref, trailer with a content /ID."""
        header = self.data[: self._starts[0]]
        if not header.endswith((b"\n", b"\r")):
            header += b"\n"
        # Runs of untouched objects are copied as one slice each; their offsets shift together.
        placed: dict[int, int] = {}  # offset by object number
        chunks, position, run = [header], len(header), 0
        replaced = sorted(self.objects[number] for number in self._replaced)
        count = len(self._starts)
        for stop in [*replaced, count]:
            if run < stop:
                first, last = self._starts[run], self._ends[stop - 1]
                placed.update(
                    zip(self._numbers[run:stop], map((position - first).__add__, self._starts[run:stop]), strict=True)
                )
                chunks.append(self.data[first:last])
                position += last - first
            if stop < count:
                number = self._numbers[stop]
                placed[number] = position
                chunks.append(self._replaced[number])
                position += len(chunks[-1])
            run = stop + 1
        for number, chunk in self._added:
            placed[number] = position
            chunks.append(chunk)
            position += len(chunk)
        offsets = list(map(placed.get, range(self.size), repeat(-1)))  # -1: free
        generations = [0] * self.size
        if any(self._generations):
            for number, generation in zip(self._numbers, self._generations, strict=True):
                generations[number] = generation
        digest = hashlib.md5(usedforsecurity=False)
        for chunk in chunks:
            digest.update(chunk)
        file_id = digest.hexdigest().upper().encode()
        root = re.search(rb"/Root\s+" + _REF, self.trailer)
        assert root is not None  # checked in parse
        chunks += [
            b"xref\n0 %d\n" % self.size,
            xref_lines(offsets, generations),
            b"trailer\n<</Size %d/Root %s %s R/Info %d 0 R/ID [<%s><%s>]>>\nstartxref\n%d\n%%%%EOF\n"
            % (self.size, root.group(1), root.group(2), info, file_id, file_id, position),
        ]
        return b"".join(chunks)


def text_string(value: str) -> bytes:
    """A PDF text string: literal if printable ASCII, else UTF-16BE hex with its byte-order mark."""
    if value.isascii() and value.isprintable():
        return b"(" + value.encode("ascii").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"
    return b"<FEFF" + value.encode("utf-16-be").hex().upper().encode() + b">"


_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def read_text_string(dictionary: bytes, key: bytes) -> str | None:
    """The text string ``/key`` holds in ``dictionary`` (literal or hex), or None."""
    found = re.search(rb"/" + key + rb"\s*([(<])", dictionary)
    if found is None:
        return None
    start = found.end()
    if found.group(1) == b"<":
        close = dictionary.find(b">", start)
        raw = bytes.fromhex(re.sub(rb"\s", b"", dictionary[start:close]).decode("ascii", "replace"))
    else:
        out, depth, i = bytearray(), 1, start
        while i < len(dictionary):
            byte = dictionary[i : i + 1]
            if byte == b"\\":
                following = dictionary[i + 1 : i + 2]
                octal = re.match(rb"[0-7]{1,3}", dictionary[i + 1 : i + 4])
                if octal:
                    out.append(int(octal.group(), 8) & 0xFF)
                    i += 1 + len(octal.group())
                    continue
                if following in (b"\n", b"\r"):  # a line continuation
                    i += 2 + (dictionary[i + 1 : i + 3] == b"\r\n")
                    continue
                out += _ESCAPES.get(following, following)
                i += 2
                continue
            depth += (byte == b"(") - (byte == b")")
            if depth == 0:
                break
            out += byte
            i += 1
        raw = bytes(out)
    if raw.startswith(b"\xfe\xff"):
        return raw[2:].decode("utf-16-be", "replace")
    return raw.decode("latin-1")


def deflate_mixed(text: bytes, opaque: bytes, tail: bytes = b"") -> bytes:
    """A zlib stream of ``text + opaque + tail``: ``text`` compressed, the rest in stored blocks.

    For Type 1 font programs: their eexec part is ciphertext that deflate cannot shrink
    (about 5 %) but spends several milliseconds a font trying; stored blocks cost a copy.
    """
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    # Z_SYNC_FLUSH ends the compressed part on a byte boundary, where stored blocks may follow.
    out = [b"\x78\x9c", compressor.compress(text), compressor.flush(zlib.Z_SYNC_FLUSH)]
    rest = opaque + tail
    for start in range(0, len(rest), 0xFFFF):
        block = rest[start : start + 0xFFFF]
        out.append(b"\x00" + struct.pack("<HH", len(block), len(block) ^ 0xFFFF) + block)
    out.append(b"\x01\x00\x00\xff\xff")  # the last block: stored and empty
    out.append(struct.pack(">I", zlib.adler32(rest, zlib.adler32(text))))
    return b"".join(out)


__all__ = ["PatchedPdf", "deflate_mixed", "read_text_string", "text_string"]
