"""Word documents from the templates in ``templates/``: docxtpl in a sandboxed Jinja.

Office staff edit the templates, so a template is treated as untrusted code: it is rendered
in :class:`jinja2.sandbox.ImmutableSandboxedEnvironment` (no files, no Python internals, no
changing the values it is given), every undefined name is an error (``StrictUndefined``), and
every value is XML-escaped (autoescape), so ``A&B <测试>`` prints literally and the document
stays valid; a rendered body that is not well-formed XML is refused, never repaired. Any
failure becomes :class:`certdocs.errors.TemplateError` naming the template, the place in it
and the variable, in Chinese. Output is byte-identical for identical inputs (fixed zip entry times).
"""

from __future__ import annotations

import copy
import functools
import io
import re
import struct
import traceback
import types
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import jinja2
from docx import Document
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.oxml import CT_Relationships
from docx.opc.packuri import CONTENT_TYPES_URI, PACKAGE_URI
from docx.opc.part import XmlPart
from docx.opc.pkgwriter import PackageWriter
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from jinja2.sandbox import ImmutableSandboxedEnvironment
from lxml import etree  # type: ignore[import-untyped]

from certdocs._fitdocx import apply_sizes
from certdocs._fs import atomic_write_bytes
from certdocs._kept import Kept, digest
from certdocs.errors import Problem, TemplateError

#: Width of the certificate's QR code on paper (the brief asks for at least 25 mm).
QR_WIDTH_MM = 28

# Every zip entry gets this time, so two renders of the same inputs are the same bytes.
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)

# Characters XML 1.0 forbids; docxtpl's own markers \a (new paragraph) and \f (page break)
# are kept because it turns them into markup.
_XML_ILLEGAL = re.compile("[\x00-\x06\x08\x0b\x0e-\x1f\ufffe\uffff]")

_TAG_PLACES = {"tr": "表格行", "tc": "表格单元格", "p": "单独的段落", "r": "文字段（run）"}

_PART_NAMES = {
    "/word/document.xml": "正文",
    "/word/footnotes.xml": "脚注",
}


class _NoneValue(Exception):
    """A template printed a value that is None (the context promises "" instead)."""


class _BrokenXml(Exception):
    """The rendered body is not well-formed XML."""


class _PartFailure(Exception):
    """Rendering one XML part failed; carries the part and the Jinja source for the report."""

    def __init__(self, cause: BaseException, *, part: str, source: str) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.part = part
        self.source = source


def _refuse_none(value: Any) -> Any:
    if value is None:
        raise _NoneValue
    return value


class _Environment(ImmutableSandboxedEnvironment):
    """The sandbox, reading ``x.items`` as the key "items" when ``x`` is a mapping.

    Immutable: a template cannot change the values it prints (``list.append``, ``dict.update``
    …), so the documents of one set can share one prepared context (:func:`prepare_context`).
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        # The documented context uses keys such as ``items`` and ``values``; without this a
        # template's ``c.items`` would be the dict method instead of the list of items.
        if (type(obj) is dict or isinstance(obj, Mapping)) and attribute in obj:  # a prepared context holds dicts
            return obj[attribute]
        return super().getattr(obj, attribute)

    def from_string(self, source: Any, globals: Any = None, template_class: Any = None) -> Any:
        # docxtpl compiles every part of a template on every render; a batch renders the
        # same few templates hundreds of times, so keep what was compiled.
        if globals is not None or template_class is not None or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        compiled = self._compiled.get(source)
        if compiled is None:
            if len(self._compiled) >= 64:
                self._compiled.clear()
            compiled = self._compiled[source] = super().from_string(source)
        return compiled

    @functools.cached_property
    def _compiled(self) -> dict[str, Any]:
        return {}


@functools.cache
def _environment() -> _Environment:
    return _Environment(
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        finalize=_refuse_none,
        keep_trailing_newline=True,
    )


class _Template(DocxTemplate):  # type: ignore[misc]
    """docxtpl's template, remembering which part and source a Jinja error came from."""

    body_xml: str | None = None  # the template's body as docxtpl reads it, when its copy has none
    table_tags = True  # whether the body has tags that change a table's cells (see fix_tables)
    footnotes = True  # whether the package has a footnotes part (see render_footnotes)

    def get_xml(self) -> str:
        # The copy rendered from holds an empty body (copying the body costs more than the
        # rest of the document): docxtpl reads the template's body from the text kept for it.
        return self.body_xml if self.body_xml is not None else str(super().get_xml())

    def fix_tables(self, xml: str) -> Any:
        # docxtpl parses the rendered body with recover=True, which silently drops whatever
        # does not parse (a tag placed so that it cuts the XML): parse strictly instead, and
        # refuse such a document. Only tags that add or span cells ({%tc %}, {% hm %},
        # {% vm %}, {% colspan %}) need docxtpl's fixing of the table grids; without them the
        # rendered tables have the template's own cells.
        try:
            parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)  # one per call: threads
            tree = etree.fromstring(xml, parser=parser)
        except etree.XMLSyntaxError as exc:
            raise _BrokenXml(f"word/document.xml：{exc}") from exc
        return super().fix_tables(xml) if self.table_tags else tree  # docxtpl parses it again: rare

    def patch_xml(self, src_xml: str) -> str:
        # Pure regex work on the template's own XML, the same for every render of it.
        return _patched(src_xml, super().patch_xml)

    def resolve_listing(self, xml: str) -> str:
        # docxtpl turns \t \a \n \f in a run's text into markup, paragraph by paragraph; a
        # paragraph without any of them comes out unchanged, so only the others go through it.
        if not _LISTING.search(xml):
            return xml
        listing = super().resolve_listing
        return _PARAGRAPH.sub(lambda m: listing(m.group(0)) if _LISTING.search(m.group(0)) else m.group(0), xml)

    def render_properties(self, context: Any, jinja_env: Any = None) -> None:
        # docxtpl's render_properties (0.18 to 0.20), rendering only the properties that hold
        # Jinja: text without "{" (nor "\r", which Jinja turns into "\n") renders as itself,
        # and a render was half a millisecond a document for six mostly empty properties.
        if jinja_env is None:  # pragma: no cover - certdocs always passes its sandbox
            super().render_properties(context, jinja_env)
            return
        properties = self.docx.core_properties
        for prop in _PROPERTIES:
            initial = getattr(properties, prop)
            if "{" in initial or "\r" in initial:
                initial = jinja_env.from_string(initial).render(context)
            setattr(properties, prop, initial)  # as docxtpl: setting adds the element if it is missing

    def render_footnotes(self, context: Any, jinja_env: Any = None) -> None:
        # docxtpl looks for a footnotes part among all the parts of the package once a section;
        # a template without one (most) has nothing to render.
        if self.footnotes:
            super().render_footnotes(context, jinja_env)

    def render_xml_part(self, src_xml: str, part: Any, context: Any, jinja_env: Any = None) -> str:
        # docxtpl's render_xml_part (0.18 to 0.20), with the numbered source kept per template
        # part: the same few parts are rendered hundreds of times in a batch.
        src_xml = _sized(src_xml, context.get("fit"))  # long certificate fields, see certdocs.fitting
        numbered = _numbered(src_xml)
        try:
            if jinja_env is None:  # pragma: no cover - certdocs always passes its sandbox
                return str(super().render_xml_part(src_xml, part, context, jinja_env))
            self.current_rendering_part = part
            dst_xml = str(jinja_env.from_string(numbered).render(context))
            # re.sub(r"\n<w:p([ >])", r"<w:p\1", …) as two plain replacements
            dst_xml = dst_xml.replace("\n<w:p ", "<w:p ").replace("\n<w:p>", "<w:p>")
            dst_xml = dst_xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
            return self.resolve_listing(dst_xml)
        except Exception as exc:
            name = str(getattr(part, "partname", ""))
            where = _PART_NAMES.get(name, "页眉" if "header" in name else "页脚" if "footer" in name else name)
            raise _PartFailure(exc, part=where, source=numbered) from exc


# The core properties docxtpl renders (DocxTemplate.render_properties), in its order.
_PROPERTIES = ("author", "comments", "identifier", "language", "subject", "title")

_PATCHED: dict[str, str] = {}
_SIZED: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}

# docxtpl's resolve_listing: the paragraphs it works on, and the characters it turns into markup.
_PARAGRAPH = re.compile(r"<w:p(?: [^>]*)?>.*?</w:p>", re.DOTALL)
_LISTING = re.compile("[\t\a\n\f]")


_NUMBERED: dict[str, str] = {}


def _numbered(src_xml: str) -> str:
    """A part's source as docxtpl compiles it: every paragraph on its own line (kept per source)."""
    found = _NUMBERED.get(src_xml)
    if found is None:
        if len(_NUMBERED) >= 64:
            _NUMBERED.clear()
        found = _NUMBERED[src_xml] = re.sub(r"<w:p([ >])", r"\n<w:p\1", src_xml)
    return found


def _sized(src_xml: str, fit: Any) -> str:
    """:func:`apply_sizes` of a template part, kept per part and fitted sizes (the same few in a batch)."""
    if not isinstance(fit, Mapping) or not fit:
        return apply_sizes(src_xml, fit)
    key = (src_xml, tuple((str(field), str(size)) for field, size in fit.items()))
    found = _SIZED.get(key)
    if found is None:
        if len(_SIZED) >= 64:
            _SIZED.clear()
        found = _SIZED[key] = apply_sizes(src_xml, fit)
    return found


def docxtpl_source(src_xml: str) -> str:
    """A template part's XML as docxtpl compiles it (no fitted sizes): patched, a line a paragraph.

    Kept per source, with what rendering keeps: the template check parses the same parts that
    the first render of each template compiles.
    """
    return _numbered(_patched(src_xml, _PATCH_XML))


# docxtpl's patch_xml is pure regex work on its argument (it reads nothing from the template).
_PATCH_XML = functools.partial(DocxTemplate.patch_xml, DocxTemplate.__new__(DocxTemplate))


def _patched(src_xml: str, patch: Any) -> str:
    found = _PATCHED.get(src_xml)
    if found is None:
        if len(_PATCHED) >= 64:
            _PATCHED.clear()
        found = _PATCHED[src_xml] = str(patch(src_xml))
    return found


class RenderContext:
    """A context prepared once for several documents: a private, XML-safe copy (see :func:`prepare_context`)."""

    __slots__ = ("values",)

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values


def prepare_context(context: Mapping[str, Any]) -> RenderContext:
    """``context`` copied once (plain dicts and lists, XML-safe strings) for every document rendered from it.

    Later changes to ``context`` do not reach the copy; templates cannot change it.
    """
    values = _copy(context)
    if not isinstance(values, dict):  # pragma: no cover - _copy keeps mappings as dicts
        raise TypeError("context must be a mapping")
    return RenderContext(values)


def render_docx(
    template: Path,
    context: Mapping[str, Any] | RenderContext,
    *,
    out: Path,
    qr_png: bytes | None = None,
    durable: bool = True,
) -> Path:
    """The rendered document written atomically to ``out``; returns ``out``.

    ``durable=False``: no fsync, for a staged file moved into place by
    :func:`certdocs._fs.move_durably` with the rest of its group.

    ``qr_png`` (see :func:`certdocs.qr.qr_png`) becomes ``certificate.qr``, an image
    :data:`QR_WIDTH_MM` wide; PNG bytes already in ``context["certificate"]["qr"]`` are
    placed the same way. The context itself is never modified.
    """
    atomic_write_bytes(out, render_docx_bytes(template, context, qr_png=qr_png), durable=durable)
    return out


def render_docx_bytes(
    template: Path, context: Mapping[str, Any] | RenderContext, *, qr_png: bytes | None = None
) -> bytes:
    """The rendered document as bytes (see :func:`render_docx`)."""
    name = template.name
    if not template.is_file():
        raise TemplateError([Problem(str(template), "模板文件不存在")])
    try:
        prepared = _prepared(template)
        tpl = _Template(str(template))
        # A copy of the parts rendering changes; the others are shared (see _Prepared).
        tpl.docx = copy.deepcopy(prepared.document, dict(prepared.shared))
        tpl.body_xml = prepared.body_xml
        tpl.table_tags = prepared.table_tags
        tpl.footnotes = prepared.footnotes
        tpl.is_rendered = False
    except Exception as exc:
        raise TemplateError([Problem(str(template), f"不是有效的 Word（.docx）文件：{exc}")]) from exc
    values = _prepare(context, tpl, qr_png)
    try:
        tpl.render(values, _environment(), autoescape=True)
    except _PartFailure as failure:
        raise TemplateError([_explain(failure.cause, name, failure.part, failure.source)]) from failure.cause
    except _BrokenXml as exc:
        raise TemplateError([Problem(f"{name}（正文）", f"{_NOT_XML}：{exc}")]) from exc
    except Exception as exc:  # core properties are rendered outside any XML part
        raise TemplateError([_explain(exc, name, "文档属性", "")]) from exc
    tpl.pre_processing()
    if tpl.crc_to_new_media or tpl.crc_to_new_embedded or tpl.zipname_to_replace:  # pragma: no cover
        buffer = io.BytesIO()  # docxtpl's media replacement (certdocs uses none) rewrites the zip itself
        tpl.save(buffer)
        data = normalise_docx(buffer.getvalue())
        _check_xml(_entries_of(data), name)
        return data
    entries, serialised = _package_entries(tpl.docx, prepared.blobs)
    _check_xml([entry for entry in entries if entry[0] not in serialised], name, prepared.digests)
    return _zip(entries, prepared.digests)


class _Prepared:
    """A template opened by python-docx once, and what every render of it can share.

    ``document`` holds the template with an empty body (``body_xml`` is the body, as docxtpl
    reads it): copying it for a render is cheap. ``shared`` maps the parts rendering never
    changes (styles, fonts, theme, numbering, settings, images …) to themselves, the memo that
    makes :func:`copy.deepcopy` share them instead of copying them; ``blobs`` holds their
    serialised bytes (and relationships), which python-docx would otherwise serialise again
    for every document.
    """

    def __init__(self, data: bytes) -> None:
        self.document = Document(io.BytesIO(data))
        body = self.document.element.body
        self.body_xml = str(etree.tostring(body, encoding="unicode", pretty_print=False))  # docxtpl's get_xml
        self.table_tags = bool(_TABLE_TAGS.search(re.sub(r"<[^>]*>", "", self.body_xml)))
        for child in list(body):
            body.remove(child)
        parts = self.document.part.package.parts
        self.footnotes = any(p.content_type == CT.WML_FOOTNOTES for p in parts)
        copied = {id(self.document.part)} | {id(p) for p in parts if p.content_type in _RENDERED}
        grown = True
        while grown:  # a part pointing to a copied part is copied too, or the package would hold both
            more = {
                id(p)
                for p in parts
                if id(p) not in copied
                and any(not r.is_external and id(r.target_part) in copied for r in p.rels.values())
            }
            copied |= more
            grown = bool(more)
        self.shared: dict[int, Any] = {id(p): p for p in parts if id(p) not in copied}
        self.blobs: dict[int, tuple[bytes, bytes | None]] = {
            id(p): (p.blob, p.rels.xml if len(p.rels) else None) for p in self.shared.values()
        }
        # Their digests, by the id of the bytes objects above (alive as long as this is): every
        # render zips and checks them by content, and hashing them again took a third of a millisecond.
        self.digests: dict[int, bytes] = {
            id(blob): digest(blob) for pair in self.blobs.values() for blob in pair if blob is not None
        }


# docxtpl's tags that add cells to a table row or span cells (their text, the XML tags removed).
_TABLE_TAGS = re.compile(r"\{%-?\s*(?:tc|hm|vm|colspan)\b")

# The parts docxtpl renders or changes: the body's part (whatever its type), these, and any part
# pointing to one of them.
_RENDERED = frozenset(
    {
        CT.WML_DOCUMENT_MAIN,
        CT.WML_HEADER,
        CT.WML_FOOTER,
        CT.WML_FOOTNOTES,
        CT.WML_ENDNOTES,
        CT.WML_COMMENTS,
        CT.OPC_CORE_PROPERTIES,
    }
)


def _prepared(template: Path) -> _Prepared:
    """The template prepared for rendering, kept by its bytes (copy before use).

    By content, not by path and time stamp: a copy of a template (another output folder's
    templates, a regeneration's) is prepared once, and an edit that keeps the size and the time
    stamp is still seen. Reading a template's few kilobytes again is cheap; opening it is not.
    """
    data = template.read_bytes()
    key = digest(data)
    found = _PREPARED.get(key)
    return found if found is not None else _PREPARED.put(key, _Prepared(data))


_PREPARED: Kept[_Prepared] = Kept(entries=16)


def _package_entries(
    document: Any, blobs: Mapping[int, tuple[bytes, bytes | None]]
) -> tuple[list[tuple[str, bytes]], set[str]]:
    """The zip entries python-docx would write for ``document``, in its order, and the names of
    those it serialised from a parsed XML tree (well-formed by construction).

    What :meth:`docx.opc.package.OpcPackage.save` does, collecting the entries instead of
    zipping them, so that :func:`_zip` can reuse what it compressed for unchanged parts, and
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


def _entries_of(data: bytes) -> list[tuple[str, bytes]]:
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


def _zip(entries: list[tuple[str, bytes]], digests: Mapping[int, bytes] | None = None) -> bytes:
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
    entries, _ = _package_entries(document, {})
    return _zip(entries)


def _prepare(context: Mapping[str, Any] | RenderContext, tpl: Any, qr_png: bytes | None) -> dict[str, Any]:
    """The values to render: the prepared copy of the context, with the QR image for this template."""
    prepared = context if isinstance(context, RenderContext) else prepare_context(context)
    values = dict(prepared.values)  # the QR image below belongs to this render only
    certificate = values.get("certificate")
    if isinstance(certificate, dict):
        certificate = values["certificate"] = dict(certificate)
    if qr_png is not None:
        if not isinstance(certificate, dict):
            certificate = values["certificate"] = {}
        certificate["qr"] = qr_png
    if isinstance(certificate, dict) and isinstance(certificate.get("qr"), bytes):
        image = io.BytesIO(certificate["qr"])
        certificate["qr"] = InlineImage(tpl, image, width=Mm(QR_WIDTH_MM))
    return values


def _copy(value: Any) -> Any:
    """A private, XML-safe copy of a context value (see :func:`prepare_context`)."""
    kind = type(value)  # exact types first: isinstance against the ABCs is most of the cost
    if kind is str:
        return _XML_ILLEGAL.sub("", value) if _XML_ILLEGAL.search(value) else value
    if kind is dict:
        return _copy_mapping(value)
    if kind is list or kind is tuple:
        return _copy_sequence(value)
    if kind in _AS_IS:
        return value
    if isinstance(value, Mapping):
        return _copy_mapping(value)
    if isinstance(value, list | tuple):
        return _copy_sequence(value)
    if isinstance(value, str):
        return _XML_ILLEGAL.sub("", value)
    return value


# Values a context copy keeps as they are (immutable, nothing to make XML-safe).
_AS_IS = frozenset({int, bool, float, type(None)})


def _copy_mapping(value: Mapping[Any, Any]) -> dict[str, Any]:
    # _copy of each item, with the commonest items (plain strings and numbers) done here: a
    # context holds thousands of them, and a call for each was most of the copy's cost.
    out: dict[str, Any] = {}
    search, sub = _XML_ILLEGAL.search, _XML_ILLEGAL.sub
    for key, item in value.items():
        kind = type(item)
        if kind is str:
            if search(item):
                item = sub("", item)
        elif kind not in _AS_IS:
            item = _copy(item)
        out[key if type(key) is str else str(key)] = item
    return out


def _copy_sequence(value: list[Any] | tuple[Any, ...]) -> list[Any]:
    out: list[Any] = []
    append, search, sub = out.append, _XML_ILLEGAL.search, _XML_ILLEGAL.sub
    for item in value:
        kind = type(item)
        if kind is str:
            if search(item):
                item = sub("", item)
        elif kind not in _AS_IS:
            item = _copy(item)
        append(item)
    return out


def _explain(exc: BaseException, template: str, part: str, source: str) -> Problem:
    """One Chinese problem for a failed render: where in the template, and what went wrong."""
    lineno = getattr(exc, "lineno", None) if isinstance(exc, jinja2.TemplateSyntaxError) else None
    if lineno is None:
        template_lines = [n for f, n in traceback.walk_tb(exc.__traceback__) if f.f_code.co_filename == "<template>"]
        lineno = template_lines[-1] if template_lines else None
    snippet = _snippet(source, lineno)
    where = f"{template}（{part}" + (f"，「{snippet}」处" if snippet else "") + "）"
    message = getattr(exc, "message", None) or str(exc)
    if isinstance(exc, jinja2.exceptions.SecurityError):
        rule = f"出于安全原因，模板不得访问程序内部属性，也不得修改文档数据（{message}）"
    elif isinstance(exc, jinja2.UndefinedError):
        variable = _undefined_name(message, snippet)
        rule = f"变量 {variable} 未定义：文档上下文中没有这个变量，请对照 docs/TEMPLATE_CONTEXT.md 检查拼写"
    elif isinstance(exc, jinja2.TemplateSyntaxError):
        rule = f"模板语法错误：{message}（请检查 {{{{ }}}} 与 {{% %}} 标签是否成对、拼写是否正确）"
        placed = re.search(r"unknown tag '(tr|tc|p|r)'", message)
        if placed:  # docxtpl consumed no table row / cell / paragraph / run around the tag
            rule += f"；{{%{placed.group(1)} %}} 标签必须放在{_TAG_PLACES[placed.group(1)]}中"
    elif isinstance(exc, _NoneValue):
        rule = "模板输出的值为 None（上下文应以空字符串表示缺省值），已拒绝生成文档"
    else:
        rule = f"渲染失败：{type(exc).__name__}: {message}"
    return Problem(where, rule)


def _snippet(source: str, lineno: int | None, *, limit: int = 80) -> str:
    """The visible text of the template paragraph at ``lineno`` (tags stripped)."""
    if not source or lineno is None:
        return ""
    lines = source.splitlines()
    if not 1 <= lineno <= len(lines):
        return ""
    text = re.sub(r"<[^>]+>", "", lines[lineno - 1])
    text = text.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _undefined_name(message: str, snippet: str) -> str:
    """The dotted variable a StrictUndefined message is about, as written in the template."""
    found = re.search(r"'([^']+)' is undefined", message)
    if found:
        return found.group(1)
    found = re.search(r"has no attribute '([^']+)'", message)
    if not found:
        return message
    attribute = found.group(1)
    # The message only names the last step ("'dict object' has no attribute 'foo'"); the
    # template text around the error shows the whole path (``certificate.foo``).
    path = re.search(rf"([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*\.{re.escape(attribute)})(?!\w)", snippet)
    return path.group(1) if path else attribute


_NOT_XML = "渲染结果不是有效的 XML，模板标签可能放错了位置"


def _check_xml(entries: list[tuple[str, bytes]], template: str, digests: Mapping[int, bytes] | None = None) -> None:
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
            rule = f"{_NOT_XML}：{exc}"
            raise TemplateError([Problem(f"{template}（{filename}）", rule)]) from exc
        _VALID_XML.put(key, True)


__all__ = [
    "QR_WIDTH_MM",
    "RenderContext",
    "document_bytes",
    "normalise_docx",
    "prepare_context",
    "render_docx",
    "render_docx_bytes",
]
