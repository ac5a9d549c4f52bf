"""A quick look at a converted PDF: does its first page show text a reader can extract?

pypdf's text extraction of a page of Chinese tables costs about 30 ms of CPU (it parses the
content stream and every font's ToUnicode map in Python); qpdf parses the content stream in C++
in a fraction of that. Used as a fast "yes": a "no" is confirmed the slow way by the caller.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Iterator

import pikepdf

_SHOWING = {"Tj", "TJ", "'", '"'}
_SIMPLE = {"/Type1", "/TrueType", "/Type3", "/MMType1"}


# How much of page 1's content is looked at first: LibreOffice draws the page's first words within
# its first kilobyte or two, and parsing the whole stream costs several times as much.
_PREFIX = 4096
_SHOWN_LINE = re.compile(rb"(?:Tj|TJ)[ \t]*\r?\n")


def first_page_shows_text(data: bytes) -> bool:
    """Whether page 1 (with the forms it draws) shows non-empty strings in fonts that map to Unicode."""
    with _opened(data) as document:
        if not document.pages:
            return False
        page = document.pages[0]
        resources = page.obj.get("/Resources")
        if _prefix_shows_text(page.obj, resources):
            return True
        return _shows_text(page.obj, resources, depth=0)


@contextlib.contextmanager
def _opened(data: bytes) -> Iterator[pikepdf.Pdf]:
    """``data`` opened by qpdf, from an anonymous file in memory where the system has them.

    qpdf reads a file by itself; a ``BytesIO`` it reads through Python, at three times the CPU
    (0.3 against 1 ms for a converted document). Elsewhere, or if the file cannot be made, the
    ``BytesIO`` it is.
    """
    fd = None
    if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
        try:
            fd = os.memfd_create("certdocs-pdf", os.MFD_CLOEXEC)
            with memoryview(data) as rest:
                while rest:
                    written = os.write(fd, rest)
                    if not written:
                        raise OSError("nothing written")
                    rest = rest[written:]
        except OSError:
            if fd is not None:
                os.close(fd)
            fd = None
    try:
        source = io.BytesIO(data) if fd is None else f"/proc/self/fd/{fd}"
        with pikepdf.open(source, inherit_page_attributes=False) as document:
            yield document
    finally:
        if fd is not None:
            os.close(fd)


def _prefix_shows_text(page: pikepdf.Object, resources: pikepdf.Object | None) -> bool:
    """Whether the start of the page's content, up to its first line ending in Tj/TJ or else its
    last one within :data:`_PREFIX` bytes, shows text.

    The operators of such a prefix are those of the whole stream (an operator's operands come
    before it), so a yes is a yes; a no says nothing, and the caller looks at the whole stream.
    """
    contents = page.get("/Contents")
    if not isinstance(contents, pikepdf.Stream):
        return False  # no content, or an array of streams: the whole look
    data = contents.read_bytes()
    ends = [m.end() for m in _SHOWN_LINE.finditer(data, 0, _PREFIX)]
    if not ends or len(data) <= ends[-1]:
        return False
    # A stream of its own file: a new stream in the converted file makes qpdf number every
    # object in it first (tens of milliseconds). Up to the first such line first: LibreOffice
    # shows a page's first words there, and parsing a few hundred bytes is a fraction of 4 KB.
    with pikepdf.new() as scratch:
        for end in dict.fromkeys((ends[0], ends[-1])):
            try:
                if _shows_text(pikepdf.Stream(scratch, data[:end]), resources, depth=0):
                    return True
            except Exception:  # a prefix qpdf cannot parse: a longer one, or the whole stream, decides
                continue
        return False


def _shows_text(owner: pikepdf.Object, resources: pikepdf.Object | None, *, depth: int) -> bool:
    if depth > 8 or not isinstance(resources, pikepdf.Dictionary):
        return False
    fonts = resources.get("/Font")
    forms = resources.get("/XObject")
    font: pikepdf.Object | None = None
    for instruction in pikepdf.parse_content_stream(owner, "Tf Tj TJ ' \" Do"):
        if not isinstance(instruction, pikepdf.ContentStreamInstruction):
            continue
        operands, name = instruction.operands, str(instruction.operator)
        if name == "Tf":
            font = fonts.get(str(operands[0])) if isinstance(fonts, pikepdf.Dictionary) and operands else None
        elif name == "Do":
            form = forms.get(str(operands[0])) if isinstance(forms, pikepdf.Dictionary) and operands else None
            if not isinstance(form, pikepdf.Stream) or form.get("/Subtype") != "/Form":
                continue
            if _shows_text(form, form.get("/Resources", resources), depth=depth + 1):
                return True
        elif name in _SHOWING and operands and _extractable(font, operands[-1] if name != "TJ" else operands[0]):
            return True
    return False


def _extractable(font: pikepdf.Object | None, shown: pikepdf.Object) -> bool:
    if not isinstance(font, pikepdf.Dictionary):
        return False
    if isinstance(shown, pikepdf.Array):
        codes = b"".join(bytes(item) for item in shown if isinstance(item, pikepdf.String))
    elif isinstance(shown, pikepdf.String):
        codes = bytes(shown)
    else:
        return False
    if "/ToUnicode" in font:
        return bool(codes)
    # A simple font without a map: its encoding names the glyphs; blanks alone are not text.
    return font.get("/Subtype") in _SIMPLE and bool(codes.strip(b" \t\r\n\x00"))


__all__ = ["first_page_shows_text"]
