"""One part's Jinja: syntax, tag pairs (rows, cells, paragraphs) and variables against the context."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from certdocs.errors import Problem
from certdocs.templatecheck._source import Part
from certdocs.templatecheck._variables import Variables

_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_FULLWIDTH = re.compile(r"[，。：；（）【】｛｝％！＝＜＞｜＂＇、]")
_OPENERS = {
    "for": "endfor",
    "if": "endif",
    "with": "endwith",
    "filter": "endfilter",
    "macro": "endmacro",
    "call": "endcall",
    "block": "endblock",
    "autoescape": "endautoescape",
    "set": "endset",
}
_CONTAINERS = {"tr": "同一个表格", "tc": "同一表格行", "p": "同一位置（同一单元格或正文）", "": "同一段落"}


@dataclass(frozen=True)
class _Tag:
    text: str
    start: int
    end: int
    line: int  # 0-based index into the part's lines
    end_line: int
    keyword: str  # first word of a block tag; "" for {{ }}; "#" for comments


class PartChecker:
    """Every Jinja problem in one part: syntax, tag pairs, variables."""

    def __init__(self, file: str, part: Part, report: Callable[[Problem], None]) -> None:
        self.file, self.part, self.report = file, part, report
        self.source = "\n".join(line.source for line in part.lines)
        self.env = SandboxedEnvironment()
        self.found = 0

    def where(self, index: int, focus: str = "") -> str:
        line = self.part.lines[min(max(index, 0), len(self.part.lines) - 1)]
        text = " ".join(line.text.split("\x00")[0].split())
        at = max(0, text.find(focus)) if focus else 0
        start = max(0, at - 15) if len(text) > 50 else 0
        snippet = ("…" if start else "") + text[start : start + 50] + ("…" if len(text) > start + 50 else "")
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
                self.problem(
                    index,
                    f"{{%{line.prefix} …%}} 所在的{unit}在生成时会被删除，其中的其他内容"
                    f"「{' '.join(dropped.split())[:30]}」不会出现在文件中；"
                    f"请让 {{%{line.prefix} …%}} 标签单独占一{one}",
                    kept,
                )
        for index, line in enumerate(self.part.lines):
            if line.split:
                self.problem(
                    index,
                    "这段的模板标签被 Word 拆开，且各部分分属不同的结构（超链接、修订、域或内容控件），"
                    "docxtpl 无法正确合并，会破坏文档；"
                    "请关闭修订，删除该标签后一次性重新输入（不要带格式粘贴）",
                )
        # The rest is checked on a repaired source: broken tags neutralised (a broken loop still
        # binds its variable), stray end tags dropped, misspelt ones corrected, missing ones added.
        replace = {tag: _neutral(tag) for tag in invalid} | fixes
        clean, at = [], 0
        for tag in sorted(replace, key=lambda t: t.start):
            clean += [self.source[at : tag.start], replace[tag], "\n" * tag.text.count("\n")]
            at = tag.end
        clean += [self.source[at:], *("{% " + _OPENERS[t.keyword] + " %}" for t in reversed(unclosed))]
        try:
            tree = self.env.parse("".join(clean))
        except jinja2.TemplateSyntaxError as exc:
            if not self.found:
                self.problem((exc.lineno or 1) - 1, f"模板语法错误：{_explain(exc.message or str(exc), '')}")
            return
        Variables(self).visit(tree, {})
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
                self.problem(
                    line,
                    f"标签「{' '.join(tag.text.split())[:40]}」跨越了两个段落（或单元格），"
                    "docxtpl 会把这些段落合并；请把整个标签写在同一段内",
                    tag.text[:6],
                )
                continue
            tags.append(tag)
        outside = self.source
        for start, end in reversed(covered):
            outside = outside[:start] + " " * (end - start) + outside[end:]
        for m in re.finditer(r"\{[{%]|[}%]\}|\{\s+[{%]|[}%]\s+\}|[｛{][｛％]|[｝％][｝}]", outside):
            index = outside.count("\n", 0, m.start())
            rule = (
                "标签缺少结束符 }} 或 %}"
                if m.group(0) in ("{{", "{%")
                else "多余的标签结束符（缺少开头的 {{ 或 {%）"
                if m.group(0) in ("}}", "%}")
                else "标签的括号用了中文全角符号 ｛ ｝ ％，请改为英文半角 { } %"
                if re.search("[｛｝％]", m.group(0))
                else "标签的两个括号之间有空格，应连写为 {{ 、}}、{% 、%}"
            )
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
        error = _syntax_error(probe)
        if error is not None:
            raw = self.part.lines[tag.line].text
            self.problem(tag.line, f"模板语法错误：{_explain(error, tag.text, raw)}", tag.text)
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
                wanted = opener is not None and (
                    _OPENERS[opener.keyword] == word or (word in ("elif", "else") and opener.keyword in ("if", "for"))
                )
                if opener is None or not wanted:
                    fixes[tag] = ""
                    latest = f"（最近未结束的是{self.where(opener.line)} 的「{show(opener)}」）" if opener else ""
                    self.problem(tag.line, f"「{show(tag)}」没有对应的开头标签{latest}", tag.text)
                    continue
                if container(tag) != container(opener):
                    kind = container(opener)[0]
                    self.problem(
                        opener.line,
                        f"「{show(opener)}」与「{show(tag)}」（{self.where(tag.line)}）不在"
                        f"{_CONTAINERS[kind]}中，生成的文档结构会被破坏"
                        + ("；跨段落的条件或循环请用 {%p if %}…{%p endif %}，各占一段" if kind == "" else ""),
                        opener.text,
                    )
                if _is_end(word):
                    stack.pop()
        for tag in stack:
            end = "{%" + (self.part.lines[tag.line].prefix or "") + " " + _OPENERS[tag.keyword] + " %}"
            self.problem(tag.line, f"「{show(tag)}」没有对应的结束标签 {end}", tag.text)
        return fixes, stack

    def _docxtpl_cross_check(self) -> None:
        """The real docxtpl rewrite must parse too (guards this model of it)."""
        from certdocs.render import docxtpl_source  # its caches: rendering patches the same parts

        source = docxtpl_source(self.part.xml)
        try:
            self.env.parse(source)
        except jinja2.TemplateSyntaxError as exc:
            lines = source.splitlines()
            text = re.sub(r"<[^>]+>", "", lines[(exc.lineno or 1) - 1]) if lines else ""
            self.report(
                Problem(
                    f"{self.file} {self.part.name or '正文'}「{text[:50]}」",
                    f"模板语法错误：{_explain(exc.message or str(exc), '')}",
                )
            )


# Jinja's parser for single tags. A template repeats its tags (``{{ org.name }}``) and so do the
# templates of one office: each tag is parsed once a process (a tag of a sane length is kept).
_PARSING = SandboxedEnvironment()
_KEPT_TAG = 1000


def _syntax_error(source: str) -> str | None:
    """Jinja's message for the template ``source``, or None when it parses."""
    return _kept_syntax_error(source) if len(source) <= _KEPT_TAG else _parse_error(source)


@functools.lru_cache(maxsize=4096)
def _kept_syntax_error(source: str) -> str | None:
    return _parse_error(source)


def _parse_error(source: str) -> str | None:
    try:
        _PARSING.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        return exc.message or str(exc)
    return None


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
    neutral = {
        "if": "if 1",
        "elif": "elif 1",
        "with": "with",
        "filter": "filter string",
        "macro": "macro _m()",
        "call": "call _m()",
        "block": f"block _b{tag.start}",
        "autoescape": "autoescape true",
        "set": "set _s",
    }
    if word in neutral and not (word == "set" and "=" in tag.text):
        return "{% " + neutral[word] + " %}"
    return ""


def _explain(message: str, tag: str, raw: str = "") -> str:
    """A Jinja syntax message as advice for office staff (the original message in brackets)."""
    odd = _FULLWIDTH.search(tag)
    if re.search(r"\{[{%][^}%]*[“”‘’]", raw) or re.search("[“”‘’]", tag):
        hint = (
            "标签中含有 Word 自动更正的弯引号 “ ” ‘ ’：docxtpl 会把它们换成英文引号，换后引号不成对，"
            "或字符串本身要打印中文引号，标签就出错了。请在标签里改用英文直引号 \" '，中文引号写在标签外"
        )
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
