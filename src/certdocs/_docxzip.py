"""The .docx package written reproducibly: fixed entry times, a stable order, parts compressed once.

What python-docx's save writes, collected as entries (:func:`package_entries`) and zipped here
(:func:`zip_entries`) with every entry at :data:`_ZIP_TIME`, so that the same inputs give the
same bytes; the parts a template shares with every document made from it (styles, fonts,
theme, images) are compressed, and checked to be well-formed XML, once a process.
"""

from __future__ import annotations

import functools
import io
import struct
import types
import zipfile
import zlib
from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree

from docx.opc.oxml import CT_Relationships
from docx.opc.packuri import CONTENT_TYPES_URI, PACKAGE_URI
from docx.opc.part import XmlPart
from docx.opc.pkgwriter import PackageWriter

from certdocs._kept import Kept, digest
from certdocs.errors import Problem, TemplateError

# Every zip entry gets this time, so two renders of the same inputs are the same bytes.
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)


def package_entries(
    document: Any, blobs: Mapping[int, tuple[bytes, bytes | None]]
) -> tuple[list[tuple[str, bytes]], set[str]]:
    """The zip entries python-docx would write for ``document``, in its order, and the names of
    those it serialised from a parsed XML tree (well-formed by construction).

    What :meth:`docx.opc.package.OpcPackage.save` does, collecting the entries instead of
    zipping them, so that :func:`zip_entries` can reuse what it compressed for unchanged parts, and
    taking the bytes of the parts in ``blobs`` (by identity) from there.
    """
    package = document.part.package
    collected = _Collector()
    serialised = {CONTENT_TYPES_URI.membername, PACKAGE_URI.rels_uri.membername}  # written by python-docx
    parts = package.parts
    for part in parts:
        part.before_marshal()
    writer: Any = PackageWriter  # its steps, each taking the zip writer to write to
    collected.write(CONTENT_TYPES_URI, _content_types(tuple((p.partname, p.content_type) for p in parts)))
    writer._write_pkg_rels(collected, package.rels)
    for part in parts:  # PackageWriter._write_parts
        known = blobs.get(id(part))
        blob, rels = known if known is not None else (part.blob, _rels_xml(part.rels) if len(part.rels) else None)
        collected.entries.append((part.partname.membername, blob))
        if known is None and isinstance(part, XmlPart):
            serialised.add(part.partname.membername)
        if rels is not None:
            collected.entries.append((part.partname.rels_uri.membername, rels))
            serialised.add(part.partname.rels_uri.membername)  # python-docx writes them itself
    return collected.entries, serialised


def _rels_xml(rels: Any) -> bytes:
    """python-docx's ``Relationships.xml`` of ``rels``, made once for the same relationships."""
    return _relationships_xml(tuple((r.rId, r.reltype, r.target_ref, r.is_external) for r in rels.values()))


@functools.lru_cache(maxsize=256)
def _relationships_xml(rels: tuple[tuple[str, str, str, bool], ...]) -> bytes:
    element = CT_Relationships.new()  # what Relationships.xml builds
    for rid, reltype, target, external in rels:
        element.add_rel(rid, reltype, target, external)
    return bytes(element.xml)


@functools.lru_cache(maxsize=64)
def _content_types(parts: tuple[tuple[Any, str], ...]) -> bytes:
    """``[Content_Types].xml`` for parts of these names and types (PackageWriter's own)."""
    collected = _Collector()
    named = [types.SimpleNamespace(partname=name, content_type=kind) for name, kind in parts]
    PackageWriter._write_content_types_stream(collected, named)  # type: ignore[no-untyped-call]
    return collected.entries[0][1]


class _Collector:
    """Stands in for python-docx's zip writer: keeps (name, bytes) in order."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, bytes]] = []

    def write(self, uri: Any, blob: bytes) -> None:
        self.entries.append((uri.membername, blob))


def entries_of(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return [(info.filename, package.read(info)) for info in package.infolist()]


# Deflated entries by content: the parts rendering does not change (styles, fonts, theme,
# images) are the same bytes in every document made from a template; compress them once.
_DEFLATED: Kept[tuple[int, bytes]] = Kept(entries=512)
_VALID_XML: Kept[bool] = Kept(entries=512)


def _content_key(name: str, blob: bytes, digests: Mapping[int, bytes] | None = None) -> tuple[str, bytes]:
    """The cache key of a zip entry: its name and the digest of its bytes (kept in ``digests``
    by the id of a bytes object that holds them and is kept alive, see :class:`_Prepared`)."""
    known = digests.get(id(blob)) if digests else None
    return name, known if known is not None else digest(blob)


def zip_entries(entries: list[tuple[str, bytes]], digests: Mapping[int, bytes] | None = None) -> bytes:
    """A zip of ``entries`` as :func:`normalise_docx` writes one: fixed times, [Content_Types].xml first."""
    entries = sorted(entries, key=lambda entry: entry[0] != "[Content_Types].xml")
    time_, date_ = _DOS_TIME
    out, central, offset = [], [], 0
    for name, blob in entries:
        key = _content_key(name, blob, digests)
        found = _DEFLATED.get(key)
        if found is None:
            compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
            found = (zlib.crc32(blob), compressor.compress(blob) + compressor.flush())
            _DEFLATED.put(key, found)
        crc, deflated = found
        encoded = name.encode("utf-8")
        flags = 0x800 if not name.isascii() else 0
        common = struct.pack("<HHHHIII", flags, 8, time_, date_, crc, len(deflated), len(blob))
        header = b"PK\x03\x04" + struct.pack("<H", 20) + common + struct.pack("<HH", len(encoded), 0) + encoded
        out += [header, deflated]
        central.append(
            b"PK\x01\x02"
            + struct.pack("<HH", 20, 20)
            + common
            + struct.pack("<HHHHHII", len(encoded), 0, 0, 0, 0, 0o644 << 16, offset)
            + encoded
        )
        offset += len(header) + len(deflated)
    directory = b"".join(central)
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, len(entries), len(entries), len(directory), offset, 0)
    return b"".join(out) + directory + end


_DOS_TIME = (
    (_ZIP_TIME[3] << 11) | (_ZIP_TIME[4] << 5) | (_ZIP_TIME[5] // 2),
    ((_ZIP_TIME[0] - 1980) << 9) | (_ZIP_TIME[1] << 5) | _ZIP_TIME[2],
)


def normalise_docx(data: bytes) -> bytes:
    """The same .docx with fixed entry times and a stable entry order (reproducible builds)."""
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        entries = [(info.filename, src.read(info)) for info in src.infolist()]
    # [Content_Types].xml first, as Word writes it; the rest keep python-docx's stable order.
    entries.sort(key=lambda entry: entry[0] != "[Content_Types].xml")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for filename, blob in entries:
            info = zipfile.ZipInfo(filename, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0o644 << 16
            dst.writestr(info, blob, compresslevel=9)
    return out.getvalue()


def document_bytes(document: Any) -> bytes:
    """A python-docx document as :func:`normalise_docx` writes it once python-docx has saved it.

    The same bytes as ``normalise_docx`` of python-docx's save, without compressing twice, and
    with each part another document already had (python-docx's 800 kB of styles, a theme, fonts)
    compressed once a process.
    """
    entries, _ = package_entries(document, {})
    return zip_entries(entries)


NOT_XML = "渲染结果不是有效的 XML，模板标签可能放错了位置"


def check_xml(entries: list[tuple[str, bytes]], template: str, digests: Mapping[int, bytes] | None = None) -> None:
    """Refuse output Word could not open: every XML part must parse.

    A part already seen whole (the same name and bytes) is not parsed again.
    """
    for filename, blob in entries:
        if not filename.endswith((".xml", ".rels")):
            continue
        key = _content_key(filename, blob, digests)
        if _VALID_XML.get(key):
            continue
        try:
            ElementTree.fromstring(blob)
        except ElementTree.ParseError as exc:
            rule = f"{NOT_XML}：{exc}"
            raise TemplateError([Problem(f"{template}（{filename}）", rule)]) from exc
        _VALID_XML.put(key, True)
