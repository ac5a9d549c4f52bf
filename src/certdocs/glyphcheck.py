"""Every character printed with a real glyph, and the certificate's fields on its page.

Two checks. Before a certificate number is reserved, :func:`check_printable` refuses an audit
whose text holds a character no installed font has (fontconfig, with certdocs' font
configuration: LibreOffice falls back to exactly these fonts) or whose long fields do not fit on
the certificate (:mod:`certdocs.fitting`). After conversion, :func:`check_pdfs` is the last line
of defence: a character LibreOffice drew as the font's empty box (``.notdef``), or dropped, stops
the document, naming the field and the character.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import os
import re
import subprocess
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from functools import cache, lru_cache
from importlib import resources
from itertools import repeat
from pathlib import Path
from typing import Any

from certdocs.audit import AuditResult, load_audit
from certdocs.context import certificate_fitting
from certdocs.errors import CertdocsError, InvalidAuditResult, Problem
from certdocs.profile import Profile, profile_for_scheme
from certdocs.scoring import Score, score_audit

_TEXT = re.compile(r"<w:t(?:\s[^>]*)?>([^<]*)</w:t>")
_ENTITIES = {"&lt;": "<", "&gt;": ">", "&quot;": '"', "&apos;": "'", "&amp;": "&"}


def _fonts_conf() -> Path:
    with resources.as_file(resources.files("certdocs") / "fonts" / "fonts.conf") as conf:
        return Path(conf)


@cache
def _coverage() -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """The code points some installed font has, as sorted (starts, ends); None without fontconfig."""
    env = dict(os.environ, FONTCONFIG_FILE=str(_fonts_conf()))
    try:
        listed = subprocess.run(
            ["fc-list", "--format", "%{charset}\n"], capture_output=True, text=True, env=env, timeout=60, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    ranges = []
    # Fonts of one family list the same ranges (the 56 fonts here: 71,400 ranges, 4,187 distinct):
    # each distinct one is converted once, a tenth of a second less per process.
    for item in set(listed.split()):
        first, _, last = item.partition("-")
        try:
            ranges.append((int(first, 16), int(last or first, 16)))
        except ValueError:
            continue
    ranges.sort()
    merged: list[list[int]] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple(r[0] for r in merged), tuple(r[1] for r in merged)


def _covered(char: str, coverage: tuple[tuple[int, ...], tuple[int, ...]]) -> bool:
    starts, ends = coverage
    at = bisect.bisect_right(starts, ord(char)) - 1
    return at >= 0 and ord(char) <= ends[at]


@functools.lru_cache(maxsize=1 << 16)
def _drawable(char: str) -> bool:
    """Whether ``char`` prints: an installed font has it, or it is not drawn at all."""
    coverage = _coverage()
    return coverage is None or not _printed(char) or _covered(char, coverage)


def _printed(char: str) -> bool:
    """Whether a character is drawn at all (spaces, controls and format characters are not)."""
    return not char.isspace() and unicodedata.category(char) not in ("Cc", "Cf", "Zl", "Zp")


def input_texts(audit: AuditResult) -> list[tuple[str, str]]:
    """Every text of an audit result with its JSON path (``items["5.1.1.1"].evidence``)."""
    out: list[tuple[str, str]] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, str):
            out.append((path, value))
            return
        fields = _text_fields(value.__class__)
        if fields is not None:
            for name in fields:
                walk(getattr(value, name), f"{path}.{name}" if path else name)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                walk(item, f'{path}["{key}"]')
        elif isinstance(value, list | tuple):
            for n, item in enumerate(value):
                walk(item, f"{path}[{n}]")

    walk(audit, "")
    return out


@cache
def _text_fields(kind: Any) -> tuple[str, ...] | None:
    """The fields of a dataclass that may hold what the audit's author typed; None: not a dataclass."""
    if not dataclasses.is_dataclass(kind):
        return None
    return tuple(f.name for f in dataclasses.fields(kind) if f.name not in ("digest", "item_id", "form", "scheme_id"))


def describe_character(char: str) -> str:
    """A character as office staff are shown it: 「字」（U+5B57）."""
    return f"「{char}」（U+{ord(char):04X}）"


def uncovered_characters(texts: Iterable[tuple[str, str]]) -> list[Problem]:
    """Each text holding characters no installed font can draw, with those characters."""
    coverage = _coverage()
    if coverage is None:
        return [Problem("fontconfig", "无法检查字符能否显示：服务器未安装 fontconfig（fc-list）")]
    texts = list(texts)
    # Each distinct character of all the texts is looked up once (and remembered: the same few
    # thousand characters come back in every audit).
    bad = {c for c in set("".join(text for _, text in texts)) if not _drawable(c)}
    problems = []
    for path, text in texts:
        # The characters in the order the text has them.
        missing = dict.fromkeys(c for c in text if c in bad) if bad and not bad.isdisjoint(text) else {}
        if missing:
            shown = "、".join(describe_character(c) for c in missing)
            problems.append(
                Problem(
                    path,
                    f"含有服务器上没有任何字体能显示的字符 {shown}，打印出来会是空白方框；"
                    "请改用常用字，或请管理员安装含该字的字体（如生僻字字体 fonts-hanazono）",
                )
            )
    return problems


def check_printable(*, audit: AuditResult, score: Score, profile: Profile) -> None:
    """Refuses (exit 2) an audit with characters no font has, or certificate fields that cannot fit."""
    problems = uncovered_characters(input_texts(audit))
    if score.passed:
        problems += certificate_fitting(audit=audit, score=score, profile=profile).problems
    if problems:
        raise InvalidAuditResult(problems, source=audit_source(audit))


def audit_source(audit: AuditResult) -> str:
    """A label for an audit in messages (its organisation; the path is not kept on the model)."""
    return audit.organization.name[:40]


def check_audit_file(path: Path, *, schemes: Path | None = None, profiles: Path | None = None) -> None:
    """Reads, scores and checks one audit result file as issuing would, before anything is reserved."""
    audit, scheme = load_audit(path, schemes_dir=schemes)
    score = score_audit(audit, scheme)
    profile = profile_for_scheme(scheme.id, folder=profiles)
    try:
        check_printable(audit=audit, score=score, profile=profile)
    except InvalidAuditResult as exc:
        raise InvalidAuditResult(list(exc.problems), source=str(path)) from None


# -- after conversion ------------------------------------------------------------------------


def _docx_text(docx: Path) -> str:
    """The text of a Word document's body, headers and footers."""
    with zipfile.ZipFile(docx) as package:
        parts = [n for n in package.namelist() if re.fullmatch(r"word/(document|header\d*|footer\d*)\.xml", n)]
        xml = "".join(package.read(n).decode("utf-8") for n in parts)
    text = "".join(_TEXT.findall(xml))
    return re.sub("&(lt|gt|quot|apos|amp);", lambda m: _ENTITIES[m.group(0)], text)


def notdef_characters(pdf: Path) -> set[str]:
    """Characters a PDF draws with a font's ``.notdef`` glyph (the empty box).

    LibreOffice embeds the Noto CJK faces as Type 1 subsets: a character the font lacks is put
    in the subset's encoding as ``/.notdef`` while the ToUnicode map still names the character,
    so text extraction looks right and only the page shows a box. TrueType subsets are checked
    the same way through their ``cmap`` (glyph 0 is ``.notdef``).
    """
    return _font_facts(pdf)[0]


def _font_facts(pdf: Path) -> tuple[set[str], set[str], bool]:
    """The characters drawn as ``.notdef``, every character the fonts show (their ToUnicode maps),
    and whether every font is embedded with a ToUnicode map.

    Reading the fonts' maps instead of extracting the text of every page costs a few milliseconds
    a document instead of hundreds (pdftotext on a scoresheet).
    """
    import pikepdf

    found: set[str] = set()
    shown: set[str] = set()
    embedded = True
    # Without qpdf's pushing of inherited attributes (which resolves every object of a tagged PDF,
    # most of this check's time): the resources are looked up the page tree instead.
    with pikepdf.open(pdf, inherit_page_attributes=False) as document:
        seen: set[tuple[int, int]] = set()
        for page in document.pages:
            resources_: Any = _inherited(page.obj, "/Resources")
            fonts: Any = resources_.get("/Font") if isinstance(resources_, pikepdf.Dictionary) else None
            for font in fonts.values() if isinstance(fonts, pikepdf.Dictionary) else ():
                if font.objgen in seen:
                    continue
                seen.add(font.objgen)
                if "/ToUnicode" not in font:
                    embedded = False
                    continue
                unicode = _to_unicode(font)
                shown.update("".join(unicode.values()))
                found |= _notdef_in_font(font, unicode)
    return found, shown, embedded


def _inherited(node: Any, key: str) -> Any:
    """``key`` of a page, or of the nearest page-tree node above it that has it."""
    for _ in range(64):  # a page tree deeper than this is malformed (or a loop)
        if key in node:
            return node[key]
        node = node.get("/Parent")
        if node is None:
            return None
    return None


def _to_unicode(font: Any) -> Mapping[int, str]:
    return _to_unicode_map(bytes(font.ToUnicode.read_bytes()))


@lru_cache(maxsize=256)
def _to_unicode_map(data: bytes) -> Mapping[int, str]:
    """The codes a ToUnicode CMap maps, and their text (shared: not to be changed).

    Kept for the documents after: a batch repeats a third of its fonts' maps (the same template
    text in the same face), read once."""
    cmap = data.decode("latin-1")
    out: dict[int, str] = {}
    for block in _BFCHAR.findall(cmap):
        pairs = _BFCHAR_ENTRY.findall(block)
        codes = map(int, [code for code, _ in pairs], repeat(16))
        texts = [text for _, text in pairs]
        joined = "".join(texts)
        if len(joined) == 4 * len(texts):  # one UTF-16 unit each, nearly every map: decoded at once
            shown = bytes.fromhex(joined).decode("utf-16-be", "surrogatepass")
            # A lone surrogate decodes as U+FFFD, and two neighbours as one character: entry by entry.
            if len(shown) == len(texts) and not _SURROGATE.search(shown):
                out.update(zip(codes, shown, strict=True))
                continue
        out.update(zip(codes, map(_utf16, texts), strict=True))
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for first, last, text in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            base = bytes.fromhex(text).decode("utf-16-be", "replace")
            for n, code in enumerate(range(int(first, 16), int(last, 16) + 1)):
                out[code] = base[:-1] + chr(ord(base[-1]) + n) if base else ""
    return out


_BFCHAR = re.compile(r"beginbfchar(.*?)endbfchar", re.S)
_SURROGATE = re.compile("[\ud800-\udfff]")
_BFCHAR_ENTRY = re.compile(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")


def _utf16(hex_text: str) -> str:
    """The text a ToUnicode entry's UTF-16BE hex string stands for."""
    if len(hex_text) == 4:  # one code unit, nearly every entry: no bytes object needed
        unit = int(hex_text, 16)
        if not 0xD800 <= unit <= 0xDFFF:  # a lone surrogate decodes as U+FFFD, as below
            return chr(unit)
    return bytes.fromhex(hex_text).decode("utf-16-be", "replace")


def _clear_part(stream: Any) -> bytes:
    """The clear-text part of a Type 1 font program (``/Length1`` bytes), inflating no more than that.

    The eexec part after it is most of the program and nothing the check needs.
    """
    import pikepdf

    length1 = int(stream.get("/Length1", 0))
    if length1 > 0 and stream.get("/Filter") == pikepdf.Name.FlateDecode and "/DecodeParms" not in stream:
        try:
            return zlib.decompressobj().decompress(stream.read_raw_bytes(), length1)
        except zlib.error:
            pass  # qpdf says what it can of a damaged stream
    return bytes(stream.read_bytes()[: length1 or None])


def _notdef_in_font(font: Any, unicode: Mapping[int, str]) -> set[str]:
    import io

    from fontTools.ttLib import TTFont

    descriptor = font.get("/FontDescriptor")
    if descriptor is None:
        descendants = font.get("/DescendantFonts")
        if not descendants:
            return set()
        descendant = descendants[0]
        descriptor = descendant.get("/FontDescriptor")
        gid_map = descendant.get("/CIDToGIDMap")
        if gid_map is None or descriptor is None:
            return set()
        if not hasattr(gid_map, "read_bytes"):  # /Identity: the code is the glyph
            return {unicode[c] for c in unicode if c == 0}
        gids = gid_map.read_bytes()
        return {text for code, text in unicode.items() if gids[2 * code : 2 * code + 2] == b"\0\0"}
    if "/FontFile" in descriptor:  # Type 1: the encoding is in the clear-text part
        clear = _clear_part(descriptor.FontFile).decode("latin-1")
        names = dict(re.findall(r"dup (\d+) ?/(\S+) put", clear))
        return {text for code, text in unicode.items() if names.get(str(code), ".notdef") == ".notdef"}
    if "/FontFile2" in descriptor:  # TrueType: the subset's cmap maps codes to glyphs
        try:
            tt = TTFont(io.BytesIO(descriptor.FontFile2.read_bytes()), lazy=True)
            cmap: dict[int, str] = next((t.cmap for t in tt["cmap"].tables if t.cmap), {})
            order = tt.getGlyphOrder()
        except Exception:  # a subset fontTools cannot read: nothing to say about it
            return set()
        notdef = order[0] if order else ".notdef"
        return {text for code, text in unicode.items() if cmap.get(code, cmap.get(0xF000 + code, notdef)) == notdef}
    return set()


def check_pdfs(staged: Mapping[str, Path], *, audit: AuditResult) -> None:
    """Refuses rendered documents with a character drawn as an empty box or left out.

    ``staged`` maps each document kind to its rendered .docx; the PDF is beside it.
    """
    problems: list[Problem] = []
    texts: list[tuple[str, str]] | None = None  # the audit's texts, read only to name a field
    for docx in staged.values():
        pdf = docx.with_suffix(".pdf")
        if not pdf.is_file():
            continue
        notdef, shown, embedded = _font_facts(pdf)
        boxed = {c for text in notdef for c in text}
        # A font the reader supplies (not embedded, no ToUnicode: the test converter's STSong)
        # has no map to compare with; LibreOffice embeds every font it uses, with its map.
        dropped = {c for c in set(_docx_text(docx)) - shown if _printed(c)} if embedded else set()
        for char in sorted(c for c in boxed | dropped if _printed(c)):
            texts = input_texts(audit) if texts is None else texts
            fields = [path for path, text in texts if char in text] or ["模板或认证机构配置中的文字"]
            problems.append(
                Problem(
                    f"{docx.name.split('-', 1)[-1].removesuffix('.docx')}：{'、'.join(fields[:3])}",
                    f"字符 {describe_character(char)} 在 PDF 中没有字形（显示为空白方框或缺失）；"
                    "请改用常用字，或请管理员安装含该字的字体（如 fonts-hanazono）",
                )
            )
    if problems:
        raise CertdocsError(problems, source=audit_source(audit))
