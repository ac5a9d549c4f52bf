"""The one JSON reader of certdocs' data files: audit results, meetings, schemes, profiles.

It refuses, with a located Chinese message and never a traceback, what :mod:`json` would
accept or crash on: an encoding other than UTF-8 (a byte-order mark is fine), syntax errors,
duplicate keys (the second silently won, changing a score), ``NaN``/``Infinity``, nesting deeper
than any data file needs (100,000 levels raised ``RecursionError``), numbers too long to read,
and lone surrogates or control characters in keys. Numbers with a fraction come back as
:class:`~decimal.Decimal`, so no binary float ever comes near a grade boundary.
"""

from __future__ import annotations

import functools
import json
import re
from decimal import Decimal
from typing import Any

from certdocs._paths import jp
from certdocs._validate import printable, text_problem
from certdocs.errors import Problem

MAX_DEPTH = 50  # the deepest real data file nests 5 levels
_TOO_DEEP = "\0"  # _walk's marker: the document nests deeper than MAX_DEPTH

_SYNTAX = {  # json's messages, as office staff can act on them
    "Expecting value": "此处应为一个值（文本须加双引号；末尾是否多了逗号？）",
    "Expecting ',' delimiter": "缺少逗号 ,（两个值或字段之间须用逗号隔开）",
    "Expecting ':' delimiter": "缺少冒号 :（字段名后须有冒号）",
    "Expecting property name enclosed in double quotes": "字段名须用英文双引号括起（末尾是否多了逗号？）",
    "Unterminated string starting at": "文本缺少结尾的英文双引号",
    "Invalid control character at": "文本中有换行或控制字符（换行请写作 \\n）",
    "Invalid \\escape": "无效的转义符（反斜杠 \\ 须写作 \\\\）",
    "Invalid \\uXXXX escape": "无效的 \\uXXXX 转义符",
    "Extra data": "JSON 已结束，后面却还有内容（是否有两个顶层对象，或多了括号？）",
}
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|(?P<open>[\[{])|(?P<close>[\]}])|(?P<const>-?Infinity|NaN)')
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class JsonProblems(Exception):
    """The problems that stop a data file from being read (a caller wraps them in its own error)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class _Constant(ValueError):
    pass


class _Duplicates(dict[str, Any]):
    """A JSON object that had keys more than once (the last value kept, as json does)."""

    duplicates: tuple[str, ...] = ()


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    dups: list[str] = []
    for key, value in pairs:
        if key in out and key not in dups:
            dups.append(key)
        out[key] = value
    if not dups:
        return out
    marked = _Duplicates(out)
    marked.duplicates = tuple(dups)
    return marked


def _constant(name: str) -> Any:
    raise _Constant(name)


def _line_col(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"第 {line} 行第 {col} 列"


def decode_text(raw: bytes, *, how_to_save: str) -> str:
    """``raw`` as UTF-8 text (a byte-order mark dropped); other encodings refused with how to fix them."""
    if raw.startswith(_UTF16_BOMS):
        raise JsonProblems([Problem("", f"文件是 UTF-16（“Unicode”）编码，不是 UTF-8；{how_to_save}")])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            raw.decode("gb18030")
            rule = f"文件是 GBK/GB18030 编码（中文 Windows 的默认编码），不是 UTF-8；{how_to_save}"
        except UnicodeDecodeError:
            rule = f"文件不是 UTF-8 编码（第 {exc.start + 1} 个字节无法识别）；{how_to_save}"
        raise JsonProblems([Problem("", rule)]) from exc


JSON_HOW_TO_SAVE = "请用记事本或其他编辑器打开，另存为时编码选“UTF-8”"


def loads(raw: bytes) -> Any:
    """The JSON document in ``raw``; :class:`JsonProblems` with every located problem otherwise."""
    text = decode_text(raw, how_to_save=JSON_HOW_TO_SAVE)
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_constant, object_pairs_hook=_pairs)
    except json.JSONDecodeError as exc:
        rule = next((v for k, v in _SYNTAX.items() if exc.msg.startswith(k)), exc.msg)
        raise JsonProblems([Problem(_line_col(text, exc.pos), f"JSON 语法错误：{rule}")]) from None
    except _Constant as exc:
        rule = f"JSON 中不能有 {exc}（不是数字）；请填写一个数字或 null"
        raise JsonProblems([Problem(_first_constant(text), rule)]) from None
    except RecursionError:
        raise JsonProblems([_too_deep(text)]) from None
    except ValueError:  # int() refuses more than 4300 digits
        raise JsonProblems([Problem("", "文件中有位数过多（超过 4300 位）的数字，无法读取")]) from None
    problems = _walk(data)
    if any(p.where == _TOO_DEEP for p in problems):
        problems = [_too_deep(text)]
    if problems:
        raise JsonProblems(problems)
    return data


def _first_constant(text: str) -> str:
    for m in _TOKENS.finditer(text):
        if m["const"]:
            return _line_col(text, m.start())
    return ""


def _too_deep(text: str) -> Problem:
    depth = 0
    for m in _TOKENS.finditer(text):
        if m["open"]:
            depth += 1
            if depth > MAX_DEPTH:
                return Problem(_line_col(text, m.start()), f"嵌套超过 {MAX_DEPTH} 层，不是有效的数据文件")
        elif m["close"]:
            depth -= 1
    return Problem("", f"嵌套超过 {MAX_DEPTH} 层，不是有效的数据文件")


def _walk(data: Any) -> list[Problem]:
    """Duplicate keys and unreadable keys anywhere, by JSON path; a problem with no path: too deep."""
    problems: list[Problem] = []
    # Only containers are visited, and a node's path is built only for a problem: a data file
    # has thousands of values and, nearly always, no problem at all.
    stack: list[tuple[Any, _Link, int]] = [(data, None, 0)] if isinstance(data, (dict, list)) else []
    while stack:
        value, link, depth = stack.pop()
        if depth > MAX_DEPTH or (value and depth == MAX_DEPTH):  # it, or a child of it, too deep
            return [Problem(_TOO_DEEP, "")]
        if isinstance(value, dict):
            for key in getattr(value, "duplicates", ()):
                problems.append(Problem(_path((link, key)), "字段在同一对象中出现了不止一次（只能出现一次）"))
            for key, child in value.items():
                rule = key_problem(key)
                if rule:
                    problems.append(Problem(_path((link, key)), rule))
                if isinstance(child, (dict, list)):
                    stack.append((child, (link, key), depth + 1))
        else:
            stack.extend(
                (child, (link, n), depth + 1) for n, child in enumerate(value) if isinstance(child, (dict, list))
            )
    return sorted(problems, key=lambda p: p.where)


_Link = tuple[Any, "str | int"] | None  # (the parent's link, this key or index); None: the top


def _path(link: _Link) -> str:
    """The JSON path of ``link``, as :func:`path_of` and ``[n]`` build it key by key."""
    steps: list[str | int] = []
    while link is not None:
        link, step = link
        steps.append(step)
    path = ""
    for step in reversed(steps):
        path = f"{path}[{step}]" if isinstance(step, int) else path_of(path, step)
    return path


def path_of(parent: str, key: str) -> str:
    """:func:`~certdocs._paths.jp` with the characters of ``key`` that would not print shown as escapes."""
    return jp(parent, printable(key))


@functools.lru_cache(maxsize=4096)  # the same few keys, thousands of times
def key_problem(key: str) -> str:
    """Why a JSON key cannot be accepted, or ``""``."""
    return text_problem(key, multiline=False)
