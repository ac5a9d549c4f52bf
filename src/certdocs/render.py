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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from docx import Document
from docx.opc.constants import CONTENT_TYPE as CT
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from jinja2.sandbox import ImmutableSandboxedEnvironment
from lxml import etree  # type: ignore[import-untyped]

from certdocs._docxzip import (
    NOT_XML,
    check_xml,
    document_bytes,
    entries_of,
    normalise_docx,
    package_entries,
    zip_entries,
)
from certdocs._fitdocx import apply_sizes
from certdocs._fs import atomic_write_bytes
from certdocs._kept import Kept, digest
from certdocs._render_context import RenderContext, prepare_context
from certdocs._render_explain import NoneValue, explain
from certdocs.errors import Problem, TemplateError

#: Width of the certificate's QR code on paper (the brief asks for at least 25 mm).
QR_WIDTH_MM = 28

_PART_NAMES = {
    "/word/document.xml": "正文",
    "/word/footnotes.xml": "脚注",
}


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
        raise NoneValue
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
        raise TemplateError([explain(failure.cause, name, failure.part, failure.source)]) from failure.cause
    except _BrokenXml as exc:
        raise TemplateError([Problem(f"{name}（正文）", f"{NOT_XML}：{exc}")]) from exc
    except Exception as exc:  # core properties are rendered outside any XML part
        raise TemplateError([explain(exc, name, "文档属性", "")]) from exc
    tpl.pre_processing()
    if tpl.crc_to_new_media or tpl.crc_to_new_embedded or tpl.zipname_to_replace:  # pragma: no cover
        buffer = io.BytesIO()  # docxtpl's media replacement (certdocs uses none) rewrites the zip itself
        tpl.save(buffer)
        data = normalise_docx(buffer.getvalue())
        check_xml(entries_of(data), name)
        return data
    entries, serialised = package_entries(tpl.docx, prepared.blobs)
    check_xml([entry for entry in entries if entry[0] not in serialised], name, prepared.digests)
    return zip_entries(entries, prepared.digests)


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


__all__ = [
    "QR_WIDTH_MM",
    "RenderContext",
    "document_bytes",
    "normalise_docx",
    "prepare_context",
    "render_docx",
    "render_docx_bytes",
]
