"""PDF work: the issue pack, reproducible rewrites, and small readers.

Writing goes through pikepdf (qpdf), which renumbers objects in one traversal order and
derives the trailer /ID from the content, so a PDF certdocs writes depends only on its inputs:
dates come from :class:`PdfMetadata`, and the two things LibreOffice varies from run to run
inside a file are put right (see :func:`_normalize_objects`). Reading text uses pypdf.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

import pikepdf

from certdocs._fs import atomic_write_bytes
from certdocs._pdfpatch import PatchedPdf, read_text_string, text_string
from certdocs._pdfvary import _icc_with_date, _type1_encoded, _type1_with_stable_id
from certdocs.errors import ConversionError, Problem

if TYPE_CHECKING:
    from pypdf import PdfReader

CREATOR = "certdocs"


@dataclass(frozen=True)
class PdfMetadata:
    """Document information of an issued PDF."""

    title: str
    subject: str  # the certificate number
    author: str  # the certification body
    keywords: str
    created: dt.date | dt.datetime
    # What the document was built from (hashes of audit, template, scheme, profile; version),
    # kept in the file itself as /CertdocsBuiltFrom so a PDF found anywhere can say it.
    built_from: tuple[tuple[str, str], ...] = ()


def merge_issue_pack(
    parts: Sequence[tuple[str, Path]], *, out: Path, metadata: PdfMetadata, durable: bool = True
) -> Path:
    """The issue pack: ``parts`` in order, one top-level bookmark per part, written to ``out``.

    ``durable=False``: no fsync (see :func:`certdocs._fs.move_durably`).
    """
    if not parts:
        raise ConversionError([Problem(out.name, "发证资料包至少需要一份 PDF")])
    pack = pikepdf.new()
    sources = []
    starts = []
    try:
        for _title, path in parts:
            source = _open_file(path)
            sources.append(source)
            starts.append(len(pack.pages))
            try:
                _push_inherited(source)
                # Copied first, then added: adding a foreign page makes qpdf push inherited
                # attributes through the whole source file (30 ms for a tagged LibreOffice PDF).
                for page in source.pages:
                    pack.pages.append(pikepdf.Page(pack.copy_foreign(page.obj)))
            except Exception as exc:  # qpdf raises several kinds on malformed files
                raise ConversionError([Problem(path.name, f"无法合并该 PDF：{exc}")]) from exc
        with pack.open_outline() as outline:
            items = (pikepdf.OutlineItem(title, start) for (title, _), start in zip(parts, starts, strict=True))
            outline.root.extend(items)
        pack.Root.PageMode = pikepdf.Name.UseOutlines
        data = _finish(pack, metadata, producer=_PRODUCER, pdfa=None)
    finally:
        for source in sources:  # a part opened from its file holds it open until here
            source.close()
    atomic_write_bytes(out, data, durable=durable)
    return out


def normalize_pdf(path: Path, *, metadata: PdfMetadata, durable: bool = True) -> None:
    """Rewrite ``path`` in place so that the same inputs always give the same bytes.

    ``durable=False``: no fsync (see :func:`certdocs._fs.move_durably`).

    A PDF as LibreOffice writes it is edited as bytes (:func:`_patched`): only the objects that
    vary between runs, the document information and the XMP packet are written anew. Anything
    else goes through qpdf.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ConversionError([Problem(path.name, "PDF 文件不存在")]) from exc
    try:
        fixed = _patched(data, metadata)
    except Exception:  # a file the byte editor misreads: qpdf reads it, or names the problem
        fixed = None
    if fixed is not None:
        atomic_write_bytes(path, fixed, durable=durable)
        return
    _normalize_with_qpdf(path, metadata=metadata, durable=durable)


def _normalize_with_qpdf(path: Path, *, metadata: PdfMetadata, durable: bool) -> None:
    document = _open(path)
    try:
        producer = str(document.docinfo.get("/Producer", "")).strip()
        if _PRODUCER not in producer:  # keep a second normalization a no-op
            producer = f"{producer}; {_PRODUCER}" if producer else _PRODUCER
        _normalize_objects(document, metadata.created)
        data = _finish(document, metadata, producer=producer, pdfa=_pdfa_id(document))
    except ConversionError:
        raise
    except Exception as exc:  # qpdf raises several kinds on malformed files
        raise ConversionError([Problem(path.name, f"无法改写该 PDF：{exc}")]) from exc
    finally:
        document.close()
    atomic_write_bytes(path, data, durable=durable)


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


_PRODUCER = f"pikepdf {pikepdf.__version__}"
_PATCHER = CREATOR  # the producer certdocs adds when it edits a PDF's bytes itself


def _patched(data: bytes, metadata: PdfMetadata) -> bytes | None:  # noqa: C901  (each early return hands an unusual file to qpdf)
    """``data`` made reproducible by replacing a few objects, or None where qpdf must do it."""
    pdf = PatchedPdf.parse(data)
    if pdf is None:
        return None
    root = pdf.dictionary(pdf.reference(b"Root") or -1)
    if root is None:
        return None
    profiles, type1_fonts = pdf.holding_each(rb"/N\s+\d", rb"/Length2\s")
    for number in profiles:
        found = pdf.stream(number)
        if found is None:
            return None
        info, profile = found
        if profile[36:40] == b"acsp" and len(profile) >= 128:
            fixed = _icc_with_date(profile, metadata.created)
            if fixed != profile:
                pdf.replace_stream(number, info, _compressed_profile(fixed))
    for number in type1_fonts:
        found = pdf.stream(number)
        if found is None:
            return None
        info, program = found
        length1, length2 = pdf.integer(info, b"Length1"), pdf.integer(info, b"Length2")
        if length1 is None or length2 is None or not program.startswith(b"%!"):
            continue
        encoded = _type1_encoded(program, length1, length2)
        if encoded is None:
            continue
        info = pdf.set_integer(info, b"Length1", encoded[0])
        info = pdf.set_integer(info, b"Length2", encoded[1])
        info = re.sub(rb"/Filter\s*(?:\[\s*/FlateDecode\s*\]|/FlateDecode)", b"", info)
        info = info[:-2] + b"/Filter/FlateDecode>>"
        pdf.replace_stream(number, info, encoded[2])
    old_info = pdf.reference(b"Info")
    old_info_dict = pdf.dictionary(old_info) if old_info is not None else None
    producer = (read_text_string(old_info_dict, b"Producer") or "").strip() if old_info_dict else ""
    if _PATCHER not in producer and _PRODUCER not in producer:  # keep a second normalization a no-op
        producer = f"{producer}; {_PATCHER}" if producer else _PATCHER
    pdfa = None
    xmp_number = pdf.reference(b"Metadata", within=root)
    if xmp_number is not None and xmp_number in pdf.objects:
        found = pdf.stream(xmp_number)
        if found is None:
            return None
        pdfa = _pdfa_in(found[1])
    xmp = _xmp(metadata, producer=producer, pdfa=pdfa).encode("utf-8")
    xmp_body = b"<</Type/Metadata/Subtype/XML/Length %d>>\nstream\n%s\nendstream" % (len(xmp), xmp)
    if xmp_number is not None and xmp_number in pdf.objects:
        pdf.replace(xmp_number, xmp_body)
    else:
        root_number = pdf.reference(b"Root")
        assert root_number is not None
        fixed_root = re.sub(rb"/Metadata\s+\d+\s+\d+\s+R", b"", root, count=1)
        pdf.replace(root_number, b"<</Metadata %d 0 R%s" % (pdf.add(xmp_body), fixed_root[2:]))
    entries = _info_entries(metadata, producer)
    info_body = b"<<" + b"".join(b"/%s %s" % (key.encode(), text_string(value)) for key, value in entries) + b">>"
    if old_info is not None and old_info in pdf.objects:
        pdf.replace(old_info, info_body)
        return pdf.write(info=old_info)
    return pdf.write(info=pdf.add(info_body))


@functools.lru_cache(maxsize=8)
def _compressed_profile(profile: bytes) -> bytes:
    """An ICC profile deflated: the same profile with the same date in every document of a batch."""
    return zlib.compress(profile, 6)


def _info_entries(metadata: PdfMetadata, producer: str) -> list[tuple[str, str]]:
    """The document information dictionary certdocs writes, in order."""
    date = _pdf_date(metadata.created)
    entries = [
        ("Title", metadata.title),
        ("Subject", metadata.subject),
        ("Author", metadata.author),
        ("Keywords", metadata.keywords),
        ("Creator", CREATOR),
        ("Producer", producer),
        ("CreationDate", date),
        ("ModDate", date),
    ]
    if metadata.built_from:
        entries.append(("CertdocsBuiltFrom", json.dumps(dict(metadata.built_from), sort_keys=True)))
    return entries


def _read(path: Path) -> PdfReader:
    from pypdf import PdfReader  # 0.17 s to import: only where text or pages are read, never while issuing

    try:
        return PdfReader(io.BytesIO(path.read_bytes()))
    except FileNotFoundError as exc:
        raise ConversionError([Problem(path.name, "PDF 文件不存在")]) from exc
    except Exception as exc:  # pypdf raises many exception types on malformed files
        raise ConversionError([Problem(path.name, f"无法读取 PDF：{exc}")]) from exc


_INHERITED = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")


def _push_inherited(document: pikepdf.Pdf) -> None:
    """Give each page the attributes it inherits from its page tree, before it leaves the tree.

    qpdf's own pushing (pikepdf's ``inherit_page_attributes``) resolves every object of a
    tagged LibreOffice PDF, ten times the cost of opening it; a few pages need only a walk up.
    """
    for page in document.pages:
        node = page.obj
        missing = [key for key in _INHERITED if key not in node]
        parent, seen = node.get("/Parent"), 0
        while missing and isinstance(parent, pikepdf.Dictionary) and seen < 64:
            for key in [k for k in missing if k in parent]:
                node[key] = parent[key]
                missing.remove(key)
            parent, seen = parent.get("/Parent"), seen + 1


def _open(path: Path, *, inherit_page_attributes: bool = True) -> pikepdf.Pdf:
    try:
        return pikepdf.open(io.BytesIO(path.read_bytes()), inherit_page_attributes=inherit_page_attributes)
    except FileNotFoundError as exc:
        raise ConversionError([Problem(path.name, "PDF 文件不存在")]) from exc
    except Exception as exc:  # qpdf raises several kinds on malformed files
        raise ConversionError([Problem(path.name, f"无法读取 PDF：{exc}")]) from exc


def _open_file(path: Path) -> pikepdf.Pdf:
    """A part of an issue pack, read by qpdf from its file (a third of the CPU of reading it
    through Python, as :func:`_open` does); a file qpdf cannot open that way is read as before,
    so that the refusal is the same."""
    try:
        return pikepdf.open(path, inherit_page_attributes=False)
    except Exception:  # the same file again, the old way: its refusal, or it opens
        return _open(path, inherit_page_attributes=False)


def _finish(document: pikepdf.Pdf, metadata: PdfMetadata, *, producer: str, pdfa: tuple[str, str] | None) -> bytes:
    """The bytes of ``document`` with certdocs' metadata and a content-derived /ID."""
    info = pikepdf.Dictionary()
    for key, value in _info_entries(metadata, producer):
        info[f"/{key}"] = pikepdf.String(value)
    document.trailer.Info = document.make_indirect(info)
    xmp = pikepdf.Stream(document, _xmp(metadata, producer=producer, pdfa=pdfa).encode("utf-8"))
    xmp.Type, xmp.Subtype = pikepdf.Name.Metadata, pikepdf.Name.XML
    document.Root.Metadata = document.make_indirect(xmp)
    # qpdf writes objects in one traversal order whatever the input's numbering, and
    # deterministic_id makes the /ID a digest of the content. Dictionaries keep the key order
    # they were read with, which LibreOffice always writes the same way.
    return _save(document)


def _save(document: pikepdf.Pdf) -> bytes:
    # LibreOffice's /ID is random (qpdf would keep it as the first half) and its /DocChecksum
    # covers the varying original; the trailer needs neither.
    for key in ("/ID", "/DocChecksum"):
        if key in document.trailer:
            del document.trailer[key]
    buffer = io.BytesIO()
    document.save(
        buffer,
        deterministic_id=True,
        compress_streams=True,
        object_stream_mode=pikepdf.ObjectStreamMode.preserve,
        fix_metadata_version=False,
    )
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


def _pdfa_id(document: pikepdf.Pdf) -> tuple[str, str] | None:
    """PDF/A part and conformance claimed by the XMP packet, if any."""
    metadata = document.Root.get("/Metadata")
    if not isinstance(metadata, pikepdf.Stream):
        return None
    return _pdfa_in(metadata.read_bytes())


def _pdfa_in(packet: bytes) -> tuple[str, str] | None:
    """PDF/A part and conformance an XMP packet claims, if any."""
    xml = packet.decode("utf-8", "replace")
    part = re.search(r"pdfaid:part(?:>|=\")\s*(\d)", xml)
    conformance = re.search(r"pdfaid:conformance(?:>|=\")\s*([ABUabu])", xml)
    if not part:
        return None
    return part.group(1), (conformance.group(1).upper() if conformance else "B")


def _xmp(metadata: PdfMetadata, *, producer: str, pdfa: tuple[str, str] | None) -> str:
    """An XMP packet saying what the Info dictionary says, as PDF/A wants."""
    date = _xmp_date(metadata.created)
    pdfa_xml = f"<pdfaid:part>{pdfa[0]}</pdfaid:part><pdfaid:conformance>{pdfa[1]}</pdfaid:conformance>" if pdfa else ""
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


def _normalize_objects(document: pikepdf.Pdf, created: dt.date | dt.datetime) -> None:
    """Put right what LibreOffice varies between runs inside the file.

    - The sRGB ICC profile of a PDF/A output intent is made at export time and carries
      that moment in its header: set it to ``created``.
    - Embedded Type 1 font subsets carry ``/UniqueID 41000NN``, NN counting the subsets
      the soffice process made before (``static int nUniqueId`` in LibreOffice's
      vcl/source/fontsubset/cff.cxx), so the same document differs with its place in a
      batch. Replace it by a number derived from the font program itself.
    """
    for stream in document.objects:
        if not isinstance(stream, pikepdf.Stream):
            continue
        if "/N" not in stream and "/Length2" not in stream:
            continue  # neither an ICC profile nor a Type 1 font: leave images undecoded
        data = stream.read_bytes()
        if "/N" in stream and data[36:40] == b"acsp" and len(data) >= 128:
            fixed = _icc_with_date(data, created)
            if fixed != data:
                stream.write(fixed)  # qpdf compresses it again on save
        elif "/Length2" in stream and data.startswith(b"%!"):
            parts = _type1_with_stable_id(data, int(stream.Length1), int(stream.Length2))
            if parts is None:
                continue
            fixed = b"".join(parts)
            if fixed != data:
                stream.write(fixed)  # qpdf compresses it again on save
                stream.Length1, stream.Length2 = len(parts[0]), len(parts[1])


__all__ = ["CREATOR", "PdfMetadata", "merge_issue_pack", "normalize_pdf", "page_count", "pdf_text"]
