"""PDF work with pypdf: the issue pack, reproducible rewrites, and small readers.

A PDF certdocs writes depends only on its inputs: dates come from :class:`PdfMetadata`, the
trailer /ID is a digest of the file itself, and the two things LibreOffice varies from run
to run inside a file are put right (see :func:`_normalize_objects`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast
from xml.sax.saxutils import escape

import pypdf
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    StreamObject,
)

from certdocs._fs import atomic_write_bytes
from certdocs.errors import ConversionError, Problem

CREATOR = "certdocs"


@dataclass(frozen=True)
class PdfMetadata:
    """Document information of an issued PDF."""

    title: str
    subject: str  # the certificate number
    author: str  # the certification body
    keywords: str
    created: dt.date | dt.datetime


def merge_issue_pack(
    parts: Sequence[tuple[str, Path]], *, out: Path, metadata: PdfMetadata
) -> Path:
    """The issue pack: ``parts`` in order, one top-level bookmark per part, written to ``out``."""
    if not parts:
        raise ConversionError([Problem(out.name, "发证资料包至少需要一份 PDF")])
    writer = PdfWriter()
    for title, path in parts:
        reader = _read(path)
        first_page = len(writer.pages)
        try:
            writer.append(reader, import_outline=False)
        except Exception as exc:  # pypdf raises many exception types on malformed files
            raise ConversionError([Problem(path.name, f"无法合并该 PDF：{exc}")]) from exc
        writer.add_outline_item(title=title, page_number=first_page)
    writer.page_mode = "/UseOutlines"
    atomic_write_bytes(out, _finish(writer, metadata, producer=_PRODUCER, pdfa=None))
    return out


def normalize_pdf(path: Path, *, metadata: PdfMetadata) -> None:
    """Rewrite ``path`` in place so that the same inputs always give the same bytes."""
    reader = _read(path)
    try:
        writer = PdfWriter(clone_from=reader)
        producer = str(reader.metadata.get("/Producer", "")).strip() if reader.metadata else ""
        if _PRODUCER not in producer:  # keep a second normalization a no-op
            producer = f"{producer}; {_PRODUCER}" if producer else _PRODUCER
        data = _finish(writer, metadata, producer=producer, pdfa=_pdfa_id(reader))
    except ConversionError:
        raise
    except Exception as exc:  # pypdf raises many exception types on malformed files
        raise ConversionError([Problem(path.name, f"无法改写该 PDF：{exc}")]) from exc
    atomic_write_bytes(path, data)


def pdf_text(path: Path) -> str:
    """The text of every page, pages separated by a newline."""
    reader = _read(path)
    try:
        return "\n".join(page.extract_text() for page in reader.pages)
    except Exception as exc:  # pypdf raises many exception types on malformed files
        raise ConversionError([Problem(path.name, f"无法提取文字：{exc}")]) from exc


def page_count(path: Path) -> int:
    """How many pages the PDF has."""
    reader = _read(path)
    try:
        return len(reader.pages)
    except Exception as exc:  # pypdf raises many exception types on malformed files
        raise ConversionError([Problem(path.name, f"无法读取页数：{exc}")]) from exc


_PRODUCER = f"pypdf {pypdf.__version__}"


def _read(path: Path) -> PdfReader:
    try:
        return PdfReader(io.BytesIO(path.read_bytes()))
    except FileNotFoundError as exc:
        raise ConversionError([Problem(path.name, "PDF 文件不存在")]) from exc
    except Exception as exc:  # pypdf raises many exception types on malformed files
        raise ConversionError([Problem(path.name, f"无法读取 PDF：{exc}")]) from exc


def _finish(
    writer: PdfWriter, metadata: PdfMetadata, *, producer: str, pdfa: tuple[str, str] | None
) -> bytes:
    """The bytes of ``writer`` with certdocs' metadata and a content-derived /ID."""
    _normalize_objects(writer, metadata.created)
    date = _pdf_date(metadata.created)
    writer.metadata = {
        "/Title": metadata.title,
        "/Subject": metadata.subject,
        "/Author": metadata.author,
        "/Keywords": metadata.keywords,
        "/Creator": CREATOR,
        "/Producer": producer,
        "/CreationDate": date,
        "/ModDate": date,
    }
    writer.xmp_metadata = _xmp(metadata, producer=producer, pdfa=pdfa).encode("utf-8")
    stream = cast(StreamObject, writer.root_object["/Metadata"].get_object())
    stream[NameObject("/Type")] = NameObject("/Metadata")
    stream[NameObject("/Subtype")] = NameObject("/XML")
    # A clone of what was written has its objects in one order (catalog first, /Info last)
    # whatever order the input had, so normalizing a normalized file changes nothing.
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_bytes(writer))))
    # The /ID is a digest of the file written with a blank /ID, so it is reproducible
    # yet still differs between files. pypdf has no public setter for it.
    writer._ID = ArrayObject([ByteStringObject(bytes(16))] * 2)
    digest = hashlib.sha256(_bytes(writer)).digest()[:16]
    writer._ID = ArrayObject([ByteStringObject(digest), ByteStringObject(digest)])
    return _bytes(writer)


def _bytes(writer: PdfWriter) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _pdf_date(moment: dt.date | dt.datetime) -> str:
    if not isinstance(moment, dt.datetime):
        return moment.strftime("D:%Y%m%d000000")
    text = moment.strftime("D:%Y%m%d%H%M%S")
    offset = moment.utcoffset()
    if offset is None:
        return text
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{text}{sign}{abs(minutes) // 60:02d}'{abs(minutes) % 60:02d}'"


def _xmp_date(moment: dt.date | dt.datetime) -> str:
    if not isinstance(moment, dt.datetime):
        return f"{moment.isoformat()}T00:00:00"
    return moment.replace(microsecond=0).isoformat()


def _pdfa_id(reader: PdfReader) -> tuple[str, str] | None:
    """PDF/A part and conformance claimed by the XMP packet, if any."""
    metadata = reader.root_object.get("/Metadata")
    if metadata is None:
        return None
    xml = cast(StreamObject, metadata.get_object()).get_data().decode("utf-8", "replace")
    part = re.search(r"pdfaid:part(?:>|=\")\s*(\d)", xml)
    conformance = re.search(r"pdfaid:conformance(?:>|=\")\s*([ABUabu])", xml)
    if not part:
        return None
    return part.group(1), (conformance.group(1).upper() if conformance else "B")


def _xmp(metadata: PdfMetadata, *, producer: str, pdfa: tuple[str, str] | None) -> str:
    """An XMP packet saying what the Info dictionary says, as PDF/A wants."""
    date = _xmp_date(metadata.created)
    pdfa_xml = (
        f"<pdfaid:part>{pdfa[0]}</pdfaid:part><pdfaid:conformance>{pdfa[1]}</pdfaid:conformance>"
        if pdfa
        else ""
    )
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about=""'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:pdf="http://ns.adobe.com/pdf/1.3/"'
        ' xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        ' xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">'
        "<dc:format>application/pdf</dc:format>"
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(metadata.title)}'
        "</rdf:li></rdf:Alt></dc:title>"
        f"<dc:creator><rdf:Seq><rdf:li>{escape(metadata.author)}</rdf:li></rdf:Seq></dc:creator>"
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(metadata.subject)}'
        "</rdf:li></rdf:Alt></dc:description>"
        f"<pdf:Keywords>{escape(metadata.keywords)}</pdf:Keywords>"
        f"<pdf:Producer>{escape(producer)}</pdf:Producer>"
        f"<xmp:CreatorTool>{CREATOR}</xmp:CreatorTool>"
        f"<xmp:CreateDate>{date}</xmp:CreateDate>"
        f"<xmp:ModifyDate>{date}</xmp:ModifyDate>"
        f"<xmp:MetadataDate>{date}</xmp:MetadataDate>"
        f"{pdfa_xml}"
        "</rdf:Description></rdf:RDF></x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )


def _streams(root: PdfObject) -> Iterator[StreamObject]:
    """Every stream reachable from ``root``, once each."""
    seen: set[int] = set()
    stack: list[PdfObject | None] = [root]
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            if obj.idnum in seen:
                continue
            seen.add(obj.idnum)
            obj = obj.get_object()
        if isinstance(obj, StreamObject):
            yield obj
        if isinstance(obj, DictionaryObject):
            stack.extend(obj.values())
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)


def _normalize_objects(writer: PdfWriter, created: dt.date | dt.datetime) -> None:
    """Put right what LibreOffice varies between runs inside the file.

    - The sRGB ICC profile of a PDF/A output intent is made at export time and carries
      that moment in its header: set it to ``created``.
    - Embedded Type 1 font subsets carry ``/UniqueID 41000NN``, NN counting the subsets
      the soffice process made before (``static int nUniqueId`` in LibreOffice's
      vcl/source/fontsubset/cff.cxx), so the same document differs with its place in a
      batch. Replace it by a number derived from the font program itself.
    """
    for stream in _streams(writer.root_object):
        if "/N" not in stream and "/Length2" not in stream:
            continue  # neither an ICC profile nor a Type 1 font: leave images undecoded
        data = stream.get_data()
        if "/N" in stream and data[36:40] == b"acsp" and len(data) >= 128:
            fixed = _icc_with_date(data, created)
        elif "/Length2" in stream and data.startswith(b"%!"):
            parts = _type1_with_stable_id(
                data, _number(stream["/Length1"]), _number(stream["/Length2"])
            )
            if parts is None:
                continue
            stream[NameObject("/Length1")] = NumberObject(len(parts[0]))
            stream[NameObject("/Length2")] = NumberObject(len(parts[1]))
            fixed = b"".join(parts)
        else:
            continue
        if fixed != data:
            stream.set_data(fixed)


def _number(obj: PdfObject) -> int:
    return int(cast(NumberObject, obj.get_object()))


def _icc_with_date(profile: bytes, created: dt.date | dt.datetime) -> bytes:
    moment = created if isinstance(created, dt.datetime) else dt.datetime(*created.timetuple()[:3])
    stamp = b"".join(
        n.to_bytes(2, "big")
        for n in (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
    )
    fixed = bytearray(profile)
    fixed[24:36] = stamp
    if any(fixed[84:100]):  # the profile ID is an MD5 that covers the date (ICC.1 7.2.18)
        masked = bytearray(fixed)
        masked[44:48], masked[64:68], masked[84:100] = bytes(4), bytes(4), bytes(16)
        fixed[84:100] = hashlib.md5(masked).digest()
    return bytes(fixed)


_EEXEC_KEY = 55665


def _eexec(data: bytes, *, decrypt: bool) -> bytes:
    key, out = _EEXEC_KEY, bytearray(len(data))
    for i, byte in enumerate(data):
        plain_or_cipher = byte ^ (key >> 8)
        cipher = byte if decrypt else plain_or_cipher
        out[i] = plain_or_cipher
        key = ((cipher + key) * 52845 + 22719) & 0xFFFF
    return bytes(out)


_UNIQUE_ID = re.compile(rb"/UniqueID \d+ def")


def _type1_with_stable_id(
    program: bytes, length1: int, length2: int
) -> tuple[bytes, bytes, bytes] | None:
    """Clear part, eexec part and rest of ``program``, /UniqueID derived from its content."""
    clear, encrypted, rest = (
        program[:length1],
        program[length1 : length1 + length2],
        program[length1 + length2 :],
    )
    if not _UNIQUE_ID.search(clear) or not clear.rstrip().endswith(b"eexec"):
        return None
    private = _eexec(encrypted, decrypt=True)
    placeholder = b"/UniqueID 0 def"
    digest = hashlib.sha256(
        _UNIQUE_ID.sub(placeholder, clear) + _UNIQUE_ID.sub(placeholder, private)
    ).digest()
    # 4000000-4999999 is the range Type 1 sets aside for private use.
    stable = b"/UniqueID %d def" % (4_000_000 + int.from_bytes(digest[:4], "big") % 1_000_000)
    return (
        _UNIQUE_ID.sub(stable, clear),
        _eexec(_UNIQUE_ID.sub(stable, private), decrypt=False),
        rest,
    )


__all__ = ["CREATOR", "PdfMetadata", "merge_issue_pack", "normalize_pdf", "page_count", "pdf_text"]
