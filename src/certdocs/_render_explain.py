"""A failed render explained in Chinese: the template, the part and paragraph, the rule broken."""

from __future__ import annotations

import re
import traceback

import jinja2

from certdocs.errors import Problem

_TAG_PLACES = {"tr": "表格行", "tc": "表格单元格", "p": "单独的段落", "r": "文字段（run）"}


class NoneValue(Exception):
    """A template printed a value that is None (the context promises "" instead)."""


def explain(exc: BaseException, template: str, part: str, source: str) -> Problem:
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
    elif isinstance(exc, NoneValue):
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
