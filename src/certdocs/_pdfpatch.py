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
from itertools import compress
from typing import NamedTuple

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
    """A parsed cross-reference table over the original bytes, and the objects replaced so far."""

    def __init__(self, data: bytes, order: list[_Object], trailer: bytes, size: int) -> None:
        self.data = data
        self.objects = {o.number: o for o in order}
        self.trailer = trailer
        self.size = size
        self._order = order  # by position in the file
        self._starts = [o.start for o in order]
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
        entries = _xref_entries(data[xref + 4 : trailer_at])
        trailer = data[trailer_at + 7 : end.start()]
        if not entries or re.search(rb"/(?:Prev|Encrypt|XRefStm)\b", trailer):
            return None
        size = re.search(rb"/Size\s+(\d+)", trailer)
        if size is None or not re.search(rb"/Root\s+" + _REF, trailer):
            return None
        entries.sort()
        ends = [offset for offset, _, _ in entries[1:]] + [xref]
        order = [_Object(n, g, offset, following) for (offset, n, g), following in zip(entries, ends, strict=True)]
        # Every entry must point at its own "n g obj", and objects may not overlap.
        if not all(data.startswith(b"%d %d obj" % (o.number, o.generation), o.start) for o in order):
            return None
        if any(o.end <= o.start for o in order) or len({o.number for o in order}) != len(order):
            return None
        return cls(data, order, trailer, max(int(size.group(1)), max(o.number for o in order) + 1))

    # -- reading -------------------------------------------------------------------------

    def reference(self, key: bytes, *, within: bytes | None = None) -> int | None:
        """The object number ``/key n g R`` points to in ``within`` (default: the trailer)."""
        found = re.search(rb"/" + key + rb"\s+" + _REF, self.trailer if within is None else within)
        return int(found.group(1)) if found else None

    def dictionary(self, number: int) -> bytes | None:
        """The dictionary an object starts with (a stream's dictionary), or None."""
        o = self.objects.get(number)
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
        found = set()
        for hit in re.finditer(pattern, self.data):
            i = bisect.bisect_right(self._starts, hit.start()) - 1
            if i < 0:
                continue
            o = self._order[i]
            head = _OBJ.match(self.data, o.start)
            assert head is not None
            stream = _STREAM_HEAD.match(self.data, head.end(), o.end)
            if stream is not None and stream.start(1) <= hit.start() < stream.end(1):
                found.add(o.number)
        return sorted(found)

    def stream(self, number: int) -> tuple[bytes, bytes] | None:
        """A stream object's dictionary and decoded data; None for filters other than one Flate."""
        o = self.objects[number]
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
        target = self.objects.get(int(found.group(1)))
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
        generation = self.objects[number].generation
        self._replaced[number] = b"%d %d obj\n%s\nendobj\n" % (number, generation, body)

    def add(self, body: bytes) -> int:
        """A new object holding ``body``; its number."""
        number = self.size
        self.size += 1
        self._added.append((number, b"%d 0 obj\n%s\nendobj\n" % (number, body)))
        return number

    def write(self, *, info: int) -> bytes:
        """The whole file: header, objects in their original order, xref, trailer with a content /ID."""
        header = self.data[: self._order[0].start]
        if not header.endswith((b"\n", b"\r")):
            header += b"\n"
        # Runs of untouched objects are copied as one slice each; their offsets shift together.
        lines = [b"0000000000 65535 f \n"] * self.size
        chunks, position, run = [header], len(header), 0
        replaced = sorted(i for i, o in enumerate(self._order) if o.number in self._replaced)
        for stop in [*replaced, len(self._order)]:
            if run < stop:
                first, shift = self._order[run].start, position - self._order[run].start
                last = self._order[stop - 1].end
                for o in self._order[run:stop]:
                    lines[o.number] = b"%010d %05d n \n" % (o.start + shift, o.generation)
                chunks.append(self.data[first:last])
                position += last - first
            if stop < len(self._order):
                o = self._order[stop]
                lines[o.number] = b"%010d %05d n \n" % (position, o.generation)
                chunks.append(self._replaced[o.number])
                position += len(chunks[-1])
            run = stop + 1
        for number, chunk in self._added:
            lines[number] = b"%010d 00000 n \n" % position
            chunks.append(chunk)
            position += len(chunk)
        digest = hashlib.md5(usedforsecurity=False)
        for chunk in chunks:
            digest.update(chunk)
        file_id = digest.hexdigest().upper().encode()
        table = [b"xref\n0 %d\n" % self.size, *lines]
        root = re.search(rb"/Root\s+" + _REF, self.trailer)
        assert root is not None  # checked in parse
        table.append(
            b"trailer\n<</Size %d/Root %s %s R/Info %d 0 R/ID [<%s><%s>]>>\nstartxref\n%d\n%%%%EOF\n"
            % (self.size, root.group(1), root.group(2), info, file_id, file_id, position)
        )
        return b"".join(chunks) + b"".join(table)


def _xref_entries(table: bytes) -> list[tuple[int, int, int]] | None:
    """(offset, number, generation) of each object in use in a classic cross-reference table."""
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
        entries += compress(zip(offsets, range(first, first + count), generations, strict=True), used)
    return entries


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
