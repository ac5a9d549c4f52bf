"""A template read the way docxtpl reads it: one line of Jinja source per paragraph, with its place."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from certdocs._kept import Kept, digest
from certdocs.errors import Problem

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
HEADER, FOOTER = f"{R_NS}/header", f"{R_NS}/footer"
_CORE_PROPS = {
    "title": "标题",
    "subject": "主题",
    "creator": "作者",
    "description": "备注",
    "identifier": "标识符",
    "language": "语言",
}  # the properties docxtpl renders
_SPECIAL = re.compile(r"(\{%|\{\{)(tr|tc|p|r) ([^}%]*(?:%\}|\}\}))")
_CURLY = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})
# Templates come from outside the program: no entity expansion, no network.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def w_tag(tag: str) -> str:
    """The Clark name of a WordprocessingML element (``w:p`` → ``{…/main}p``)."""
    return f"{{{_W}}}{tag}"


@dataclass
class _Line:
    """One paragraph as docxtpl sees it, and where office staff find it."""

    where: str
    text: str  # as Word shows it
    source: str = ""  # as Jinja will parse it
    container: str = ""  # what the line's block tags must share with their partners
    prefix: str = ""  # "tr", "tc" or "p" when the line stands for a whole row, cell or paragraph
    split: bool = False  # a tag Word split in a way docxtpl's repair turns into broken XML


@dataclass
class Part:
    name: str  # "" for the body, 页眉 / 页脚 / 脚注 / 文档属性
    lines: list[_Line] = field(default_factory=list)
    xml: str = ""  # the part's XML as docxtpl serialises it, for the final cross-check
    where_of: dict[Any, str] = field(default_factory=dict)  # paragraph element → its place


def _zip_path(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    parts: list[str] = []
    for piece in (PurePosixPath(base).parent / target).parts:
        if piece == "..":
            parts = parts[:-1]
        elif piece != ".":
            parts.append(piece)
    return "/".join(parts)


def _rels(xml: dict[str, Any], part: str) -> list[tuple[str, str, str, bool]]:
    """(id, type, zip path or URL, external) of a part's relationships (none if its .rels is missing or damaged)."""
    root = xml.get(str(PurePosixPath(part).parent / "_rels" / (PurePosixPath(part).name + ".rels")))
    if root is None:
        return []
    out = []
    for rel in root.iter(f"{{{_RELS}}}Relationship"):
        external = rel.get("TargetMode") == "External"
        target = rel.get("Target", "")
        out.append((rel.get("Id", ""), rel.get("Type", ""), target if external else _zip_path(part, target), external))
    return out


def _paragraph_lines(root: Any, part_label: str) -> list[_Line]:
    """One line per paragraph, in document order, with docxtpl's whole-row/cell/paragraph tags applied."""
    tree = root.getroottree()
    paras = list(root.iter(w_tag("p")))
    tables = {tbl: n for n, tbl in enumerate(root.iter(w_tag("tbl")), 1)}
    numbers: dict[Any, int] = {}
    lines: dict[Any, _Line] = {}
    for p in paras:
        text = "".join(t.text or "" for t in p.iter(w_tag("t")) if next(t.iterancestors(w_tag("p")), None) is p)
        where = ""
        for anc in p.iterancestors(w_tag("tc"), w_tag("txbxContent")):
            if anc.tag == w_tag("tc"):
                tr = next(anc.iterancestors(w_tag("tr")))
                tbl = next(tr.iterancestors(w_tag("tbl")))
                where = f"表格{tables.get(tbl, '?')} 第{_position(tbl, tr)}行第{_position(tr, anc)}列"
            else:
                anchor = next(anc.iterancestors(w_tag("p")), None)
                where = f"文本框（第{numbers.get(anchor, '?')}段）"
            break
        if not where:
            numbers[p] = len(numbers) + 1
            where = f"第{numbers[p]}段"
        lines[p] = _Line(f"{part_label}{where}", text, container=tree.getpath(p), split=_split_badly(p, text))
    consumed: set[Any] = set()
    for kind in ("tr", "tc", "p"):  # docxtpl's order
        for p in paras:
            match = next((m for m in _SPECIAL.finditer(lines[p].text) if m.group(2) == kind), None)
            if p in consumed or match is None:
                continue
            unit = p if kind == "p" else next(p.iterancestors(w_tag(kind)), None)
            if unit is None:
                continue  # left as is: Jinja reports the unknown tag, with the hint below
            line = lines[p]
            line.source, line.prefix = f"{match.group(1)} {match.group(3)}", kind
            line.container = tree.getpath(unit.getparent())
            dropped = [lines[q].text for q in unit.iter(w_tag("p")) if q is not p and q not in consumed]
            dropped.append(line.text[: match.start()] + line.text[match.end() :])
            line.text = line.text if not "".join(dropped).strip() else line.text + "\x00" + "".join(dropped)
            consumed.update(unit.iter(w_tag("p")))
    for p in paras:
        if lines[p].prefix == "" and p in consumed:
            lines[p].source, lines[p].text = "", ""
        elif lines[p].prefix == "":
            lines[p].source = _inline_source(lines[p].text)
    return [lines[p] for p in paras]


def _part(name: str, root: Any) -> Part:
    lines = _paragraph_lines(root, f"{name} " if name else "")
    where_of = dict(zip(root.iter(w_tag("p")), (line.where for line in lines), strict=True))
    return Part(name, lines, etree.tostring(root, encoding="unicode"), where_of)


def _position(outer: Any, inner: Any) -> int:
    """1-based position of a row in its table, or of a cell in its row (content controls may wrap them)."""
    same = [el for el in outer.iter(inner.tag) if next(el.iterancestors(outer.tag), None) is outer]
    return same.index(inner) + 1


def _split_badly(p: Any, text: str) -> bool:
    """Whether docxtpl's joining of split tags (its first two rewrites) breaks this paragraph's XML."""
    if "{" not in text:
        return False
    raw = etree.tostring(p, encoding="unicode")
    joined = re.sub(r"(?<={)(<[^>]*>)+(?=[\{%\#])|(?<=[%\}\#])(<[^>]*>)+(?=\})", "", raw, flags=re.S)
    joined = re.sub(
        r"{%(?:(?!%}).)*|{#(?:(?!#}).)*|{{(?:(?!}}).)*",
        lambda m: re.sub(r"</w:t>.*?(<w:t>|<w:t [^>]*>)", "", m.group(0), flags=re.S),
        joined,
        flags=re.S,
    )
    if joined == raw:
        return False
    try:
        etree.fromstring(joined, _PARSER)
    except etree.XMLSyntaxError:
        return True
    return False


def _inline_source(text: str) -> str:
    """docxtpl's inline rewrites: {{r x}} → {{ x}}, colspan/cellbg → values, vm/hm → loop use, quotes."""
    text = _SPECIAL.sub(lambda m: f"{m.group(1)} {m.group(3)}" if m.group(2) == "r" else m.group(0), text)
    text = re.sub(r"\{%\s*(?:colspan|cellbg)\s+([^%]*)%\}", r"{{ \1 }}", text)
    text = re.sub(r"\{%\s*[vh]m\s*%\}", "{{ loop.first }}", text)
    return re.sub(r"(?<=\{[{%])(.*?)(?=[}%]\})", lambda m: m.group(1).translate(_CURLY), text)


# Parsed parts by name and content. Templates made from one Word template share their styles,
# theme, numbering and settings byte for byte (every bundled template does), and these are most
# of a template's XML: python-docx's blank document carries 800 kB of styles, 20 ms to parse.
# The checks only read the trees. Kept up to about 16 MB of XML (a part of 4 MB or less), the least
# recently used first out.
_PARSED: Kept[Any] = Kept(entries=1 << 12, budget=16 << 20)


def _parsed(package: zipfile.ZipFile, data: bytes, info: zipfile.ZipInfo) -> Any:
    """The root element of the XML part ``info`` of ``package`` (``etree.XMLSyntaxError`` if it does not parse).

    Known by the part's bytes as stored in the file (``data``), when they can be found: the
    same stored bytes, compression, size and CRC-32 always unpack to the same XML, and a known
    part is then neither unpacked nor hashed whole again (800 kB of styles, 3 ms a template).
    """
    stored = _stored_bytes(data, info)
    if stored is not None:
        key: tuple[Any, ...] = (info.filename, info.compress_type, info.file_size, info.CRC, digest(stored))
        found = _PARSED.get(key)
        if found is not None:
            return found
        xml = package.read(info)
    else:
        xml = package.read(info)
        key = (info.filename, digest(xml))
        found = _PARSED.get(key)
        if found is not None:
            return found
    root = etree.fromstring(xml, _PARSER)
    if len(xml) > 4 << 20:  # one huge part is not kept at the cost of all the others
        return root
    return _PARSED.put(key, root, size=len(xml))


def _stored_bytes(data: bytes, info: zipfile.ZipInfo) -> bytes | None:
    """The bytes of a zip member as stored (compressed), or None if its local header is not where it should be."""
    if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return None  # encrypted, or a compression read elsewhere: left to zipfile
    at = info.header_offset
    if at < 0 or data[at : at + 4] != b"PK\x03\x04" or len(data) < at + 30:
        return None
    name, extra = struct.unpack_from("<HH", data, at + 26)
    start = at + 30 + name + extra
    if start + info.compress_size > len(data):
        return None
    return data[start : start + info.compress_size]


_DAMAGED = "文件已损坏"
_REMEDY = "请用 Word 打开该模板后另存为 .docx，或从备份恢复该模板"
# What zipfile raises for a part whose bytes in the file are damaged: a wrong CRC-32 or a bad
# local header (BadZipFile), deflate data that does not inflate (zlib.error), data cut short
# (EOFError), a compression method it lacks (NotImplementedError), encryption (RuntimeError), a
# part said to start before the file does (ValueError: a negative seek).
_UNREADABLE = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError)


def _unreadable(exc: BaseException) -> str:
    """Why zipfile could not read a part, in Chinese for office staff."""
    if isinstance(exc, zipfile.BadZipFile):
        return "校验和（CRC-32）不符，内容已被改动" if "CRC" in str(exc) else "该部分的文件头已损坏"
    if isinstance(exc, zlib.error):
        return "压缩数据无法解压"
    if isinstance(exc, EOFError):
        return "数据不完整（文件被截断）"
    if isinstance(exc, NotImplementedError):
        return "使用了不支持的压缩方式"
    if isinstance(exc, RuntimeError):
        return "该部分已加密"
    return "该部分的文件头已损坏"


def _xml_parts(name: str, package: zipfile.ZipFile, data: bytes, problems: list[Problem]) -> dict[str, Any]:
    """Every XML part of template file ``name`` that parses, by zip name; each damaged part is a problem."""
    xml: dict[str, Any] = {}
    for member, count in Counter(package.namelist()).items():
        where = f"{name}（{member}）"
        if count > 1:  # zipfile reads the last copy; Word refuses the file
            rule = f"{_DAMAGED}：该部分在文件中出现了 {count} 次，Word 文件的每个部分只能有一份；{_REMEDY}"
            problems.append(Problem(where, rule))
        try:
            if member.endswith((".xml", ".rels")):
                xml[member] = _parsed(package, data, package.getinfo(member))
            else:  # an image or embedded object: read now, so that a damaged one stops the check, not the render
                package.read(member)
        except etree.XMLSyntaxError as exc:
            line, column = exc.position
            problems.append(Problem(where, f"文件内部的 XML 已损坏（第 {line} 行第 {column} 列）；{_REMEDY}"))
        except _UNREADABLE as exc:
            problems.append(Problem(where, f"{_DAMAGED}：{_unreadable(exc)}，无法读取该部分；{_REMEDY}"))
    return xml


def read_template(name: str, data: bytes, problems: list[Problem]) -> tuple[list[Part], dict[str, Any]] | None:
    """The Jinja-bearing parts and every parsed XML part (by zip name) of template file ``name`` (``data``)."""
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:  # not a zip at all, or cut short before its directory
        rule = "不是 .docx 格式（.docx 是 zip 压缩包），可能文件不完整，或是 .doc 等其他文件改了扩展名"
        problems.append(Problem(name, f"不是有效的 Word（.docx）文件：{rule}；请用 Word 打开后另存为 .docx"))
        return None
    except (ValueError, NotImplementedError, EOFError):  # a damaged directory: offsets or versions out of range
        problems.append(Problem(name, f"不是有效的 Word（.docx）文件：{_DAMAGED}，文件目录无法读取；{_REMEDY}"))
        return None
    with package:
        names = package.namelist()
        xml = _xml_parts(name, package, data, problems)
        main: str = next(
            (t for _, kind, t, ext in _rels(xml, "") if kind.endswith("/officeDocument") and not ext),
            "word/document.xml",
        )
        body = xml[main].find(w_tag("body")) if main in xml else None
        if body is None:
            if main not in names:
                problems.append(Problem(name, f"不是有效的 Word（.docx）文件：缺少正文 {main}"))
            elif main in xml:  # XML, but not a Word document's body (a damaged one is reported above)
                problems.append(Problem(f"{name}（{main}）", f"{_DAMAGED}：正文中没有 w:body 元素；{_REMEDY}"))
            return None
        rels = {part: _rels(xml, part) for part in xml if not part.endswith(".rels")}
        xml["\x00rels"], xml["\x00main"], xml["\x00names"] = rels, main, set(names)
    parts = [_part("", body)]
    counts = {HEADER: 0, FOOTER: 0}
    for _, kind, target, external in rels.get(main, []):
        if kind in counts and not external and target in xml:
            counts[kind] += 1
            label = ("页眉" if kind == HEADER else "页脚") + (str(counts[kind]) if counts[kind] > 1 else "")
            parts.append(_part(label, xml[target]))
    notes = next((t for _, kind, t, _ in rels.get(main, []) if kind.endswith("/footnotes")), "")
    if notes in xml:
        parts.append(_part("脚注", xml[notes]))
    core = xml.get("docProps/core.xml")
    if core is not None:
        props = Part("文档属性")
        for el in core:
            label = _CORE_PROPS.get(etree.QName(el).localname, "")
            if label and el.text and ("{" in el.text):
                props.lines.append(_Line(f"文档属性（{label}）", el.text, source=el.text, container=label))
        parts.append(props)
    return parts, xml
