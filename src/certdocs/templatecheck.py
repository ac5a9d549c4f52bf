"""The template checker: every problem in the Word templates at once, in Chinese, before a render.

A template is read the way docxtpl reads it (``DocxTemplate.patch_xml``): the text of each
paragraph, a ``{%tr …%}`` / ``{%tc …%}`` / ``{%p …%}`` tag standing for its whole row, cell or
paragraph, Word's curly quotes inside tags made straight. Each paragraph becomes one line of a
virtual Jinja source, so a Jinja line number is a place office staff can find ("第3段",
"表格2 第4行第1列", "页眉 第1段"). What docxtpl repairs silently (a tag split over runs with
different formatting, curly quotes in pairs) is not reported; what it cannot (a tag split
across a hyperlink, tracked change or field, which its repair turns into broken XML) is.

Checked: Jinja syntax; tag pairs ({%tr for%}…{%tr endfor%} in one table, {%p if%}…{%p endif%}
beside each other); variables against the documented context (:func:`known_context`); images
whose parts are missing or only linked; Chinese fonts fontconfig cannot find even through
certdocs' alias file. Latin fonts are not reported (they fall back to DejaVu without tofu), nor
fontTable entries (Word lists every font it offers there, not the fonts used).
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree  # type: ignore[import-untyped]

from certdocs.errors import CertdocsError, Problem

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEADER, _FOOTER = f"{_R}/header", f"{_R}/footer"
_CORE_PROPS = {"title": "标题", "subject": "主题", "creator": "作者", "description": "备注",
               "identifier": "标识符", "language": "语言"}  # the properties docxtpl renders
_SPECIAL = re.compile(r"(\{%|\{\{)(tr|tc|p|r) ([^}%]*(?:%\}|\}\}))")
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_CURLY = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})
_FULLWIDTH = re.compile(r"[，。：；（）【】｛｝％！＝＜＞｜＂＇、]")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_CJK_LATIN_NAMES = {"simsun", "nsimsun", "simhei", "fangsong", "fangsong_gb2312", "kaiti", "kaiti_gb2312",
                    "microsoft yahei", "dengxian", "stsong", "stzhongsong", "stkaiti", "stfangsong", "stheiti",
                    "mingliu", "pmingliu", "ms mincho", "ms gothic", "yu mincho", "yu gothic", "malgun gothic"}
_OPENERS = {"for": "endfor", "if": "endif", "with": "endwith", "filter": "endfilter", "macro": "endmacro",
            "call": "endcall", "block": "endblock", "autoescape": "endautoescape", "set": "endset"}
_CONTAINERS = {"tr": "同一个表格", "tc": "同一表格行", "p": "同一位置（同一单元格或正文）", "": "同一段落"}
_LOOP_KEYS = ("index", "index0", "revindex", "revindex0", "first", "last", "length", "cycle", "depth",
              "depth0", "previtem", "nextitem", "changed")
# Templates come from outside the program: no entity expansion, no network.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
_LIST_FILTERS = {"selectattr", "rejectattr", "sort", "reverse", "list", "unique"}


def _w(tag: str) -> str:
    return f"{{{_W}}}{tag}"


# ---------------------------------------------------------------- the documented context


@dataclass(frozen=True)
class _List:
    item: Any  # the shape of each element


_ANY = "any"  # a value whose inside is not known (loop helpers, set variables, the QR image)


def known_context() -> dict[str, Any]:
    """The documented context as a key tree: dicts of keys, ``[element]`` for lists, type names for leaves.

    Built by :func:`certdocs.context.build_context` on sample audits of every bundled scheme
    (so it is the real context, not a copy of the docs), plus ``certificate.qr`` that rendering adds.
    """
    tree: dict[str, Any] = _plain(_context_shape())
    return tree


def _plain(shape: Any) -> Any:
    if isinstance(shape, dict):
        return {key: _plain(value) for key, value in shape.items()}
    if isinstance(shape, _List):
        return [] if shape.item == _ANY else [_plain(shape.item)]
    return shape


def _shape_of(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _shape_of(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        shape: Any = _ANY
        for element in value:
            shape = _merge(shape, _shape_of(element))
        return _List(shape)
    return "bool" if isinstance(value, bool) else "str" if isinstance(value, str) else _ANY


def _merge(a: Any, b: Any) -> Any:
    if a == _ANY:
        return b
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: _merge(a.get(k, _ANY), b.get(k, _ANY)) for k in sorted(a.keys() | b.keys())}
    if isinstance(a, _List) and isinstance(b, _List):
        return _List(_merge(a.item, b.item))
    return a if a == b else _ANY


@cache
def _context_shape() -> dict[str, Any]:
    from certdocs.scheme import get_scheme, scheme_ids

    shape: Any = _ANY
    for scheme_id in scheme_ids():
        shape = _merge(shape, _shape_of(_sample_context(get_scheme(scheme_id))))
    if not isinstance(shape, dict):  # pragma: no cover - there are always bundled schemes
        raise CertdocsError("没有可用的评价方案，无法确定模板变量")
    shape["certificate"]["qr"] = _ANY  # an InlineImage, added by certdocs.render
    return dict(shape)


def _sample_context(scheme: Any) -> dict[str, Any]:
    """A context with every list filled: one deduction, one exclusion, report lists, a full team."""
    from dataclasses import fields

    from certdocs.audit import parse_audit
    from certdocs.context import CertificateFacts, SurveillanceFacts, build_context
    from certdocs.dates import SurveillanceWindow
    from certdocs.profile import Profile, profile_for_scheme
    from certdocs.scoring import score_audit

    items: dict[str, Any] = {}
    for n, item in enumerate(scheme.items):
        if scheme.veto is not None and item.id == scheme.veto.item:
            items[item.id] = {"compliant": True}
        elif scheme.method == "levels":
            items[item.id] = {"level": 3, "evidence": "示例", "finding": "示例"}
        elif n == 1 and scheme.exclusions_allowed:
            items[item.id] = {"not_applicable": "示例理由"}
        else:
            items[item.id] = {"score": 0 if n == 0 else item.points or 0, "evidence": "示例", "finding": "示例"}
    team = [{"name": name, "role": role, "qualification": "示例"} for name, role in
            (("甲", "leader"), ("乙", "member"), ("丙", "expert"), ("丁", "observer"))]
    doc = {"scheme": scheme.id, "scope": "示例", "items": items,
           "organization": {"name": "示例", "uscc": "91110108MA01HT5W3Y", "registered_address": "示例",
                            "audit_address": "示例", "legal_representative": "示例",
                            "contact": {"name": "示例", "title": "示例", "phone": "示例", "email": "示例"}},
           "audit": {"type": "initial", "start_date": "2026-11-10", "end_date": "2026-11-11", "mode": "onsite",
                     "person_days": 3, "team": team, "documents_to_prepare": ["示例"]},
           "report": {"overview": "示例", "strengths": ["示例"], "weaknesses": ["示例"], "recommendations": ["示例"]}}
    if scheme.prerequisites:
        doc["prerequisites"] = {p.field: p.value for p in scheme.prerequisites}
    audit = parse_audit(doc, scheme=scheme, source="sample")
    try:
        profile = profile_for_scheme(scheme.id)
    except CertdocsError:  # no bundled body for this scheme: the key tree does not depend on it
        placeholder: dict[str, Any] = {f.name: {} if f.name == "templates" else "{scope}" for f in fields(Profile)}
        profile = Profile(**placeholder)
    day = date(2026, 11, 22)
    return build_context(audit=audit, scheme=scheme, score=score_audit(audit, scheme), profile=profile,
                         certificate=CertificateFacts("示例", day, day, day, "示例"), issued_on=day,
                         surveillance=SurveillanceFacts(SurveillanceWindow(1, day, day), Decimal(1), "示例"))


# ---------------------------------------------------------------- reading the package


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
class _Part:
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


def _rels(package: zipfile.ZipFile, part: str) -> list[tuple[str, str, str, bool]]:
    """(id, type, zip path or URL, external) of a part's relationships."""
    name = str(PurePosixPath(part).parent / "_rels" / (PurePosixPath(part).name + ".rels"))
    if name not in package.namelist():
        return []
    out = []
    for rel in etree.fromstring(package.read(name), _PARSER).iter(f"{{{_RELS}}}Relationship"):
        external = rel.get("TargetMode") == "External"
        target = rel.get("Target", "")
        out.append((rel.get("Id", ""), rel.get("Type", ""), target if external else _zip_path(part, target),
                    external))
    return out


def _paragraph_lines(root: Any, part_label: str) -> list[_Line]:
    """One line per paragraph, in document order, with docxtpl's whole-row/cell/paragraph tags applied."""
    tree = root.getroottree()
    paras = list(root.iter(_w("p")))
    tables = {tbl: n for n, tbl in enumerate(root.iter(_w("tbl")), 1)}
    numbers: dict[Any, int] = {}
    lines: dict[Any, _Line] = {}
    for p in paras:
        text = "".join(t.text or "" for t in p.iter(_w("t")) if next(t.iterancestors(_w("p")), None) is p)
        where = ""
        for anc in p.iterancestors(_w("tc"), _w("txbxContent")):
            if anc.tag == _w("tc"):
                tr = next(anc.iterancestors(_w("tr")))
                tbl = next(tr.iterancestors(_w("tbl")))
                where = f"表格{tables.get(tbl, '?')} 第{_position(tbl, tr)}行第{_position(tr, anc)}列"
            else:
                anchor = next(anc.iterancestors(_w("p")), None)
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
            unit = p if kind == "p" else next(p.iterancestors(_w(kind)), None)
            if unit is None:
                continue  # left as is: Jinja reports the unknown tag, with the hint below
            line = lines[p]
            line.source, line.prefix = f"{match.group(1)} {match.group(3)}", kind
            line.container = tree.getpath(unit.getparent())
            dropped = [lines[q].text for q in unit.iter(_w("p")) if q is not p and q not in consumed]
            dropped.append(line.text[: match.start()] + line.text[match.end():])
            line.text = line.text if not "".join(dropped).strip() else line.text + "\x00" + "".join(dropped)
            consumed.update(unit.iter(_w("p")))
    for p in paras:
        if lines[p].prefix == "" and p in consumed:
            lines[p].source, lines[p].text = "", ""
        elif lines[p].prefix == "":
            lines[p].source = _inline_source(lines[p].text)
    return [lines[p] for p in paras]


def _part(name: str, root: Any) -> _Part:
    lines = _paragraph_lines(root, f"{name} " if name else "")
    where_of = dict(zip(root.iter(_w("p")), (line.where for line in lines), strict=True))
    return _Part(name, lines, etree.tostring(root, encoding="unicode"), where_of)


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
    joined = re.sub(r"{%(?:(?!%}).)*|{#(?:(?!#}).)*|{{(?:(?!}}).)*",
                    lambda m: re.sub(r"</w:t>.*?(<w:t>|<w:t [^>]*>)", "", m.group(0), flags=re.S), joined, flags=re.S)
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


def _read(path: Path, problems: list[Problem]) -> tuple[list[_Part], dict[str, Any]] | None:
    """The template's Jinja-bearing parts and every parsed XML part by zip name."""
    name = path.name
    try:
        package = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        problems.append(Problem(name, f"不是有效的 Word（.docx）文件：{exc}"))
        return None
    with package:
        main: str = next((t for _, kind, t, ext in _rels(package, "") if kind.endswith("/officeDocument")
                          and not ext), "word/document.xml")
        xml: dict[str, Any] = {}
        for member in package.namelist():
            if member.endswith((".xml", ".rels")):
                try:
                    xml[member] = etree.fromstring(package.read(member), _PARSER)
                except etree.XMLSyntaxError as exc:
                    problems.append(Problem(f"{name}（{member}）", f"文件内部的 XML 已损坏：{exc}"))
        if main not in xml:
            problems.append(Problem(name, "不是有效的 Word（.docx）文件：缺少正文 word/document.xml"))
            return None
        rels = {part: _rels(package, part) for part in xml if not part.endswith(".rels")}
        xml["\x00rels"], xml["\x00main"], xml["\x00names"] = rels, main, set(package.namelist())
    parts = [_part("", xml[main].find(_w("body")))]
    counts = {_HEADER: 0, _FOOTER: 0}
    for _, kind, target, external in rels.get(main, []):
        if kind in counts and not external and target in xml:
            counts[kind] += 1
            label = ("页眉" if kind == _HEADER else "页脚") + (str(counts[kind]) if counts[kind] > 1 else "")
            parts.append(_part(label, xml[target]))
    notes = next((t for _, kind, t, _ in rels.get(main, []) if kind.endswith("/footnotes")), "")
    if notes in xml:
        parts.append(_part("脚注", xml[notes]))
    core = xml.get("docProps/core.xml")
    if core is not None:
        props = _Part("文档属性")
        for el in core:
            label = _CORE_PROPS.get(etree.QName(el).localname, "")
            if label and el.text and ("{" in el.text):
                props.lines.append(_Line(f"文档属性（{label}）", el.text, source=el.text, container=label))
        parts.append(props)
    return parts, xml


# ---------------------------------------------------------------- one part's Jinja


@dataclass(frozen=True)
class _Tag:
    text: str
    start: int
    end: int
    line: int  # 0-based index into the part's lines
    end_line: int
    keyword: str  # first word of a block tag; "" for {{ }}; "#" for comments


class _PartChecker:
    """Every Jinja problem in one part: syntax, tag pairs, variables."""

    def __init__(self, file: str, part: _Part, report: Callable[[Problem], None]) -> None:
        self.file, self.part, self.report = file, part, report
        self.source = "\n".join(line.source for line in part.lines)
        self.env = SandboxedEnvironment()
        self.found = 0

    def where(self, index: int, focus: str = "") -> str:
        line = self.part.lines[min(max(index, 0), len(self.part.lines) - 1)]
        text = " ".join(line.text.split("\x00")[0].split())
        at = max(0, text.find(focus)) if focus else 0
        start = max(0, at - 15) if len(text) > 50 else 0
        snippet = ("…" if start else "") + text[start:start + 50] + ("…" if len(text) > start + 50 else "")
        return f"{self.file} {line.where}" + (f"「{snippet}」" if snippet else "")

    def problem(self, index: int, rule: str, focus: str = "") -> None:
        self.found += 1
        self.report(Problem(self.where(index, focus), rule))

    def run(self) -> None:
        if not self.part.lines:
            return
        tags = self._scan()
        invalid = [tag for tag in tags if not self._syntax_ok(tag)]
        fixes, unclosed = self._pairs([t for t in tags if t.keyword not in ("", "#")])
        for index, line in enumerate(self.part.lines):
            if "\x00" in line.text:
                kept, dropped = line.text.split("\x00", 1)
                unit, one = {"tr": ("整行", "行"), "tc": ("整个单元格", "格"), "p": ("整段", "段")}[line.prefix]
                self.problem(index, f"{{%{line.prefix} …%}} 所在的{unit}在生成时会被删除，其中的其他内容"
                             f"「{' '.join(dropped.split())[:30]}」不会出现在文件中；"
                             f"请让 {{%{line.prefix} …%}} 标签单独占一{one}", kept)
        for index, line in enumerate(self.part.lines):
            if line.split:
                self.problem(index, "这段的模板标签被 Word 拆开，且各部分分属不同的结构（超链接、修订、域或内容控件），"
                                    "docxtpl 无法正确合并，会破坏文档；"
                                    "请关闭修订，删除该标签后一次性重新输入（不要带格式粘贴）")
        # The rest is checked on a repaired source: broken tags neutralised (a broken loop still
        # binds its variable), stray end tags dropped, misspelt ones corrected, missing ones added.
        replace = {tag: _neutral(tag) for tag in invalid} | fixes
        clean, at = [], 0
        for tag in sorted(replace, key=lambda t: t.start):
            clean += [self.source[at:tag.start], replace[tag], "\n" * tag.text.count("\n")]
            at = tag.end
        clean += [self.source[at:], *("{% " + _OPENERS[t.keyword] + " %}" for t in reversed(unclosed))]
        try:
            tree = self.env.parse("".join(clean))
        except jinja2.TemplateSyntaxError as exc:
            if not self.found:
                self.problem((exc.lineno or 1) - 1, f"模板语法错误：{_explain(exc.message or str(exc), '')}")
            return
        _Variables(self).visit(tree, {})
        if not self.found and self.part.xml:
            self._docxtpl_cross_check()

    def _scan(self) -> list[_Tag]:
        tags, covered = [], []
        for m in _TAG.finditer(self.source):
            line, end_line = self.source.count("\n", 0, m.start()), self.source.count("\n", 0, m.end())
            kind = m.group(0)[1]
            keyword = "#" if kind == "#" else "" if kind == "{" else (m.group(0)[2:-2].strip(" -+").split() or [""])[0]
            tag = _Tag(m.group(0), m.start(), m.end(), line, end_line, keyword)
            covered.append((m.start(), m.end()))
            if end_line != line and keyword != "#":
                self.problem(line, f"标签「{' '.join(tag.text.split())[:40]}」跨越了两个段落（或单元格），"
                                   "docxtpl 会把这些段落合并；请把整个标签写在同一段内", tag.text[:6])
                continue
            tags.append(tag)
        outside = self.source
        for start, end in reversed(covered):
            outside = outside[:start] + " " * (end - start) + outside[end:]
        for m in re.finditer(r"\{[{%]|[}%]\}|\{\s+[{%]|[}%]\s+\}|[｛{][｛％]|[｝％][｝}]", outside):
            index = outside.count("\n", 0, m.start())
            rule = ("标签缺少结束符 }} 或 %}" if m.group(0) in ("{{", "{%") else
                    "多余的标签结束符（缺少开头的 {{ 或 {%）" if m.group(0) in ("}}", "%}") else
                    "标签的括号用了中文全角符号 ｛ ｝ ％，请改为英文半角 { } %" if re.search("[｛｝％]", m.group(0))
                    else
                    "标签的两个括号之间有空格，应连写为 {{ 、}}、{% 、%}")
            self.problem(index, rule, m.group(0).strip())
        return tags

    def _syntax_ok(self, tag: _Tag) -> bool:
        word = tag.keyword
        if word == "#" or _is_end(word):
            return True
        inner = tag.text[2:-2]
        if word in ("include", "import", "from", "extends"):
            self.problem(tag.line, "模板不得引用其他模板文件（include/import/extends）", tag.text)
            return False
        probe = tag.text
        if word in _OPENERS and not (word == "set" and "=" in inner):
            probe += "{% " + _OPENERS[word] + " %}"
        elif word in ("elif", "else"):
            probe = "{% if x %}" + probe + "{% endif %}"
        try:
            self.env.parse(probe)
        except jinja2.TemplateSyntaxError as exc:
            raw = self.part.lines[tag.line].text
            self.problem(tag.line, f"模板语法错误：{_explain(exc.message or str(exc), tag.text, raw)}", tag.text)
            return False
        return True

    def _pairs(self, tags: list[_Tag]) -> tuple[dict[_Tag, str], list[_Tag]]:
        """Reports block tags that do not pair up or whose partner is in another row, table or paragraph.

        Returns replacements for stray or misspelt end tags, and the openers left unclosed.
        """
        fixes: dict[_Tag, str] = {}
        stack: list[_Tag] = []

        def container(tag: _Tag) -> tuple[str, str]:
            line = self.part.lines[tag.line]
            return line.prefix, line.container

        def show(tag: _Tag) -> str:
            prefix = self.part.lines[tag.line].prefix
            return "{%" + prefix + " " + tag.text[2:-2].strip(" -+") + " %}" if prefix else tag.text

        for tag in tags:
            word = tag.keyword
            if word in _OPENERS and not (word == "set" and "=" in tag.text):
                stack.append(tag)
            elif word in ("elif", "else") or _is_end(word):
                opener = stack[-1] if stack else None
                if opener is not None and _is_end(word) and word not in _OPENERS.values():
                    word = _OPENERS[opener.keyword]  # a misspelt end tag closes the open block
                    right = "{%" + self.part.lines[tag.line].prefix + " " + word + " %}"
                    self.problem(tag.line, f"「{show(tag)}」不是有效的结束标签，应为 {right}", tag.text)
                    fixes[tag] = "{% " + word + " %}"
                wanted = (opener is not None and (_OPENERS[opener.keyword] == word or (
                    word in ("elif", "else") and opener.keyword in ("if", "for"))))
                if opener is None or not wanted:
                    fixes[tag] = ""
                    latest = f"（最近未结束的是{self.where(opener.line)} 的「{show(opener)}」）" if opener else ""
                    self.problem(tag.line, f"「{show(tag)}」没有对应的开头标签{latest}", tag.text)
                    continue
                if container(tag) != container(opener):
                    kind = container(opener)[0]
                    self.problem(opener.line, f"「{show(opener)}」与「{show(tag)}」（{self.where(tag.line)}）不在"
                                 f"{_CONTAINERS[kind]}中，生成的文档结构会被破坏" + (
                                     "；跨段落的条件或循环请用 {%p if %}…{%p endif %}，各占一段" if kind == "" else ""),
                                 opener.text)
                if _is_end(word):
                    stack.pop()
        for tag in stack:
            end = "{%" + (self.part.lines[tag.line].prefix or "") + " " + _OPENERS[tag.keyword] + " %}"
            self.problem(tag.line, f"「{show(tag)}」没有对应的结束标签 {end}", tag.text)
        return fixes, stack

    def _docxtpl_cross_check(self) -> None:
        """The real docxtpl rewrite must parse too (guards this model of it)."""
        from docxtpl import DocxTemplate

        patched = DocxTemplate.patch_xml(DocxTemplate.__new__(DocxTemplate), self.part.xml)
        try:
            self.env.parse(re.sub(r"<w:p([ >])", r"\n<w:p\1", patched))
        except jinja2.TemplateSyntaxError as exc:
            lines = re.sub(r"<w:p([ >])", r"\n<w:p\1", patched).splitlines()
            text = re.sub(r"<[^>]+>", "", lines[(exc.lineno or 1) - 1]) if lines else ""
            self.report(Problem(f"{self.file} {self.part.name or '正文'}「{text[:50]}」",
                                f"模板语法错误：{_explain(exc.message or str(exc), '')}"))


def _is_end(word: str) -> bool:
    """Whether a block tag's word is an end tag, or a misspelling of one (``endfr``, ``edif``)."""
    if word in _OPENERS or word in ("elif", "else"):
        return False
    return word.startswith("end") or bool(difflib.get_close_matches(word, list(_OPENERS.values()), cutoff=0.75))


def _neutral(tag: _Tag) -> str:
    """A tag that parses and keeps the block structure of a broken one."""
    word = tag.keyword
    if word == "for":
        target = re.match(r"\{%[-+]?\s*for\s+([A-Za-z_][\w\s,]*?)\s+in\b", tag.text)
        return "{% for " + (target.group(1) if target else "_") + " in () %}"
    neutral = {"if": "if 1", "elif": "elif 1", "with": "with", "filter": "filter string", "macro": "macro _m()",
               "call": "call _m()", "block": f"block _b{tag.start}", "autoescape": "autoescape true", "set": "set _s"}
    if word in neutral and not (word == "set" and "=" in tag.text):
        return "{% " + neutral[word] + " %}"
    return ""


def _explain(message: str, tag: str, raw: str = "") -> str:
    """A Jinja syntax message as advice for office staff (the original message in brackets)."""
    odd = _FULLWIDTH.search(tag)
    if re.search(r"\{[{%][^}%]*[“”‘’]", raw) or re.search("[“”‘’]", tag):
        hint = ("标签中含有 Word 自动更正的弯引号 “ ” ‘ ’：docxtpl 会把它们换成英文引号，换后引号不成对，"
                "或字符串本身要打印中文引号，标签就出错了。请在标签里改用英文直引号 \" '，中文引号写在标签外")
    elif odd:
        hint = f"标签中有中文全角符号「{odd.group(0)}」，请改为英文半角符号"
    elif re.search(r"[{}%]\s+[{}]|\{\s+%", tag):
        hint = "标签的两个括号之间有空格，应连写为 {{ 、}}、{% 、%}"
    elif m := re.search(r"unknown tag '(tr|tc|p|r)'", message):
        hint = f"{{%{m.group(1)} …%}} 只能写在表格行、单元格或段落中，且标签内不能含有 % 或 }}"
    elif "unknown tag" in message:
        hint = "未知的标签名称"
    elif "Unexpected end of template" in message:
        hint = "标签没有写完（缺少结束标签或括号）"
    else:
        hint = "标签写法有误"
    return f"{hint}（{message}）"


class _Variables:
    """Walks a template's syntax tree, checking every variable path against the context's shape."""

    def __init__(self, checker: _PartChecker) -> None:
        self.checker, self.context = checker, _context_shape()
        self.origin: dict[str, str] = {}  # loop variable → the list it runs over
        self.lenient = 0  # inside ``is defined`` / ``|default``: a missing name is intended

    def unknown(self, node: nodes.Node, path: str, available: Sequence[str]) -> None:
        if self.lenient:
            return
        close = difflib.get_close_matches(path, available, n=1, cutoff=0.6)
        root = path.split(".")[0]
        about = f"{root} 是 {self.origin[root]} 中的一项；" if root in self.origin else ""
        shown = "、".join(available[:8]) + ("…" if len(available) > 8 else "")
        guess = f"是否应为 {close[0]}？" if close else ""
        rule = f"模板使用了未定义的变量 {path}（{about}{guess}可用：{shown}）"
        self.checker.problem(node.lineno - 1, rule, path.split(".")[-1])

    def visit(self, node: nodes.Node, scope: dict[str, Any]) -> None:
        if isinstance(node, nodes.For):
            inner = dict(scope)
            listed = self.expr(node.iter, scope)
            self.bind(node.target, listed[0].item if isinstance(listed[0], _List) else _ANY, inner)
            if isinstance(node.target, nodes.Name):
                self.origin[node.target.name] = listed[1] or "列表"
            inner["loop"] = ({k: _ANY for k in _LOOP_KEYS}, "loop")
            for child in [node.test] if node.test else []:
                self.expr(child, inner)
            for child in node.body:
                self.visit(child, inner)
            for child in node.else_:
                self.visit(child, scope)
        elif isinstance(node, nodes.Assign | nodes.AssignBlock):
            shape = self.expr(node.node, scope)[0] if isinstance(node, nodes.Assign) else _ANY
            for child in node.body if isinstance(node, nodes.AssignBlock) else []:
                self.visit(child, scope)
            self.bind(node.target, shape, scope)
        elif isinstance(node, nodes.With | nodes.Macro | nodes.CallBlock):
            inner = dict(scope)
            if isinstance(node, nodes.With):
                for target, value in zip(node.targets, node.values, strict=True):
                    self.bind(target, self.expr(value, scope)[0], inner)
            else:
                if isinstance(node, nodes.Macro):
                    scope[node.name] = (_ANY, node.name)
                else:
                    self.expr(node.call, scope)
                for arg in [*node.args, *node.defaults]:
                    self.bind(arg, _ANY, inner) if isinstance(arg, nodes.Name) else self.expr(arg, scope)
                for name in ("caller", "varargs", "kwargs"):
                    inner[name] = (_ANY, name)
            for child in node.body:
                self.visit(child, inner)
        elif isinstance(node, nodes.Include | nodes.Import | nodes.FromImport | nodes.Extends):
            self.checker.problem(node.lineno - 1, "模板不得引用其他模板文件（include/import/extends）")
        elif isinstance(node, nodes.Expr):
            self.expr(node, scope)
        else:
            for child in node.iter_child_nodes():
                self.visit(child, scope)

    def bind(self, target: nodes.Node, shape: Any, scope: dict[str, Any]) -> None:
        if isinstance(target, nodes.Name):
            scope[target.name] = (shape, target.name)
            self.origin.pop(target.name, None)
        elif isinstance(target, nodes.Tuple):
            for item in target.items:
                self.bind(item, _ANY, scope)

    def expr(self, node: nodes.Node, scope: dict[str, Any]) -> tuple[Any, str]:
        """The shape of an expression's value and its dotted path ("" when not a plain path)."""
        if isinstance(node, nodes.Name):
            if node.name in scope:
                return scope[node.name]  # type: ignore[no-any-return]
            if node.name in self.context:
                return self.context[node.name], node.name
            if node.name not in self.checker.env.globals:
                self.unknown(node, node.name, sorted(self.context))
            return _ANY, ""
        if isinstance(node, nodes.Getattr | nodes.Getitem):
            base, path = self.expr(node.node, scope)
            key = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
            if isinstance(node, nodes.Getitem) and not isinstance(key, str):
                self.expr(node.arg, scope)
                return (base.item if isinstance(base, _List) and isinstance(key, int) else
                        base if isinstance(base, _List) and isinstance(node.arg, nodes.Slice) else _ANY), ""
            return self.attribute(node, base, path, str(key))
        if isinstance(node, nodes.Filter | nodes.Test):
            lenient = node.name in (("default", "d") if isinstance(node, nodes.Filter) else ("defined", "undefined"))
            self.lenient += lenient
            base = self.expr(node.node, scope)[0] if node.node is not None else _ANY
            self.lenient -= lenient
            for child in [*node.args, *node.kwargs, *(n for n in (node.dyn_args, node.dyn_kwargs) if n)]:
                self.expr(child, scope)
            if isinstance(node, nodes.Filter) and isinstance(base, _List):
                return (base if node.name in _LIST_FILTERS else
                        base.item if node.name in ("first", "last") else _ANY), ""
            return (base if lenient and isinstance(node, nodes.Filter) else _ANY), ""
        for child in node.iter_child_nodes():
            self.expr(child, scope) if isinstance(child, nodes.Expr) else self.visit(child, scope)
        return _ANY, ""

    def attribute(self, node: nodes.Node, base: Any, path: str, key: str) -> tuple[Any, str]:
        here = f"{path}.{key}" if path else key
        if isinstance(base, dict):
            if key in base:
                return base[key], here
            self.unknown(node, here, [f"{path}.{k}" for k in base] if path else sorted(base))
        elif isinstance(base, _List) and path and not self.lenient:
            rule = f"{path} 是列表，不能直接取 .{key}；请用 {{% for x in {path} %}} 逐项取用"
            self.checker.problem(node.lineno - 1, rule, key)
        elif base in ("str", "bool") and path and not hasattr({"str": str, "bool": bool}[base], key):
            self.unknown(node, here, [])
        return _ANY, ""


# ---------------------------------------------------------------- images and fonts


def _check_images(file: str, parts: list[_Part], xml: dict[str, Any], report: Callable[[Problem], None]) -> None:
    rels, names, main = xml["\x00rels"], xml["\x00names"], xml["\x00main"]
    labels = {main: ""} | {t: p.name + " " for p in parts for _, k, t, _ in rels.get(main, [])
                           if p.name and p.name.startswith(("页眉", "页脚")) and k in (_HEADER, _FOOTER)}
    where_of = {k: v for p in parts for k, v in p.where_of.items()}
    for part, part_rels in rels.items():
        known = {rid: (kind, target, external) for rid, kind, target, external in part_rels}
        for rid, kind, target, external in part_rels:
            if not external and target not in names and not kind.endswith("/hyperlink"):
                report(Problem(f"{file}（{part}）", f"文件内缺少 {target}（关系 {rid}），Word 文件已损坏；"
                                                     "请重新插入该图片或对象后另存"))
        root = xml[part]
        for el in root.iter():
            for attr in (f"{{{_R}}}embed", f"{{{_R}}}link", f"{{{_R}}}id"):
                rid = el.get(attr)
                if rid is None or etree.QName(el).localname not in ("blip", "imagedata"):
                    continue
                p = next(el.iterancestors(_w("p")), None)
                where = f"{file} " + (where_of.get(p) or labels.get(part, f"（{part}）").strip())
                if rid not in known:
                    report(Problem(where, f"图片引用的 {rid} 不存在，图片无法显示；请重新插入该图片"))
                elif known[rid][2]:
                    report(Problem(where, f"图片只是链接到外部文件 {known[rid][1]}，生成的文件中不会有这张图片；"
                                          "请用「插入 → 图片」把图片嵌入文档"))


def _fonts_conf() -> Path | None:
    with resources.as_file(resources.files("certdocs") / "fonts" / "fonts.conf") as conf:
        return Path(conf) if Path(conf).is_file() else None


@cache
def _aliases() -> frozenset[str]:
    """Family names certdocs' fonts.conf maps to installed Chinese faces (lower case)."""
    conf = _fonts_conf()
    if conf is None:
        return frozenset()
    try:
        root = etree.parse(str(conf)).getroot()
    except (OSError, etree.XMLSyntaxError):
        return frozenset()
    return frozenset((f.text or "").strip().lower() for f in root.iterfind("alias/family"))


@cache
def _font_found(name: str) -> bool | None:
    """Whether fontconfig has ``name`` installed, or certdocs aliases it to a face with Chinese glyphs.

    Anything else is a fallback, whatever face the fallback happens to be (with certdocs'
    configuration every unknown name lands on Noto Sans CJK SC, so the face alone says nothing).
    ``None`` when fontconfig is not installed.
    """
    env = dict(os.environ)
    conf = _fonts_conf()
    if conf is not None:
        env["FONTCONFIG_FILE"] = str(conf)
    try:
        done = subprocess.run(["fc-match", "-f", "%{family}\n%{lang}", name], capture_output=True, text=True,
                              env=env, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    family, _, langs = done.stdout.partition("\n")
    if name.lower() in (f.strip().lower() for f in family.split(",")):
        return True
    return name.lower() in _aliases() and "zh-cn" in langs.split("|")


def _check_fonts(file: str, parts: list[_Part], xml: dict[str, Any], report: Callable[[Problem], None]) -> None:
    rels, main = xml["\x00rels"], xml["\x00main"]
    sources = ["word/styles.xml", main, *(t for _, k, t, _ in rels.get(main, []) if k in (_HEADER, _FOOTER))]
    where_of = {k: v for p in parts for k, v in p.where_of.items()}
    used: dict[str, str] = {}
    for source in sources:
        root = xml.get(source)
        for fonts in root.iter(_w("rFonts")) if root is not None else ():
            for attr in ("ascii", "hAnsi", "eastAsia"):
                name = (fonts.get(_w(attr)) or "").strip()
                if not name or name in used or not (_CJK.search(name) or name.lower() in _CJK_LATIN_NAMES):
                    continue
                style = next(fonts.iterancestors(_w("style")), None)
                p = next(fonts.iterancestors(_w("p")), None)
                used[name] = (f"样式「{style.find(_w('name')).get(_w('val'))}」" if style is not None
                              and style.find(_w("name")) is not None else where_of.get(p, "默认字体"))
    for name, where in used.items():
        found = _font_found(name)
        if found is None:
            report(Problem(file, "无法检查字体：服务器未安装 fontconfig（fc-match）"))
            return
        if not found:
            report(Problem(f"{file} 字体「{name}」（用于{where}）",
                           f"中文字体「{name}」在服务器上没有安装，certdocs 的字体别名（fonts/fonts.conf）中也没有，"
                           "PDF 中会换成其他字体甚至显示为方框；请改用宋体、黑体、仿宋或楷体，或请管理员为它添加别名"))


# ---------------------------------------------------------------- the public face


def check_template(path: Path) -> list[Problem]:
    """Every problem found in one Word template (empty when it is fit to render)."""
    problems: list[Problem] = []

    def report(problem: Problem) -> None:
        if problem not in problems:  # a text box is in the document twice (Word's fallback copy)
            problems.append(problem)

    if not path.is_file():
        return [Problem(str(path), "模板文件不存在")]
    read = _read(path, problems)
    if read is None:
        return problems
    parts, xml = read
    stages: list[Callable[[], None]] = [_PartChecker(path.name, part, report).run for part in parts]
    stages += [lambda: _check_images(path.name, parts, xml, report),
               lambda: _check_fonts(path.name, parts, xml, report)]
    for stage in stages:
        try:
            stage()
        except Exception as exc:  # an odd template must not stop the check of the others
            report(Problem(path.name, f"模板检查未能完成（{type(exc).__name__}: {exc}），请把该模板交给技术人员查看"))
    return problems


def check_templates(folder: Path, *, names: Sequence[str] | None = None) -> list[Problem]:
    """Every problem in the templates of ``folder`` (all ``*.docx``, or the given file names)."""
    if not folder.is_dir():
        return [Problem(str(folder), "模板文件夹不存在")]
    if names is None:
        # ~$name.docx is Word's lock file for a document open in Word, not a template.
        paths = sorted(p for p in folder.glob("*.docx") if not p.name.startswith("~$"))
        if not paths:
            return [Problem(str(folder), "文件夹中没有 .docx 模板")]
    else:
        paths = [folder / name for name in names]
    return [problem for path in paths for problem in check_template(path)]


__all__ = ["check_template", "check_templates", "known_context"]
