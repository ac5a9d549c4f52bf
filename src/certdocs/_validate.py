"""The one validation toolkit: walk a parsed JSON object, collect every problem with its path.

Audit results, schemes, profiles and decision meetings are all checked with a :class:`Checker`:
each accessor reads one field, reports what is wrong with it in Chinese under its JSON path
(``organization.uscc``, ``items["5.1.2.2"].score``, ``categories[0].groups[1].points``) and
returns a harmless default, so one pass finds every problem and nothing raises half-way.
Text is accepted only when it prints as it reads (:func:`text_problem`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import date
from decimal import Decimal
from typing import Any

from certdocs._paths import jp
from certdocs.errors import Problem

_INVISIBLE = {  # characters that change how text prints without showing themselves
    **{chr(c): "双向文本控制符" for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)},
    "\u2028": "行分隔符",
    "\u2029": "段分隔符",
}
_LARGEST = 10**12  # no count, point or person-day in a data file comes near; beyond, arithmetic and pages break
_BAD_CHAR = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")
# The same set less the newline, for multi-line fields: one regex search over the whole text (in C)
# instead of a Python loop over its characters; text is checked hundreds of times per audit.
_BAD_IN_MULTILINE = re.compile(_BAD_CHAR.pattern.replace("\x00-\x1f", "\x00-\x09\x0b-\x1f"))


def _describe(ch: str) -> str:
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:
        return f"U+{code:04X}（不成对的代理码元，不是有效字符）"
    if ch in _INVISIBLE:
        return f"U+{code:04X}（{_INVISIBLE[ch]}，{unicodedata.name(ch, '')}）"
    names = {"\t": "制表符", "\n": "换行", "\r": "回车", "\v": "垂直制表符", "\f": "换页符", "\x00": "空字符 NUL"}
    return f"U+{code:04X}（{names.get(ch, '控制字符')}）"


def text_problem(value: str, *, multiline: bool) -> str:
    """Why ``value`` would print differently from how it reads, or ``""`` when it is plain text.

    Refused: bidirectional overrides, embeddings, isolates and marks (they reorder what is
    printed), C0/C1 control characters (a vertical tab split a name over two lines; NUL was
    stored in the register), line and paragraph separators, and lone surrogates. A newline is
    allowed in multi-line fields only.
    """
    found = (_BAD_IN_MULTILINE if multiline else _BAD_CHAR).search(value)
    if found is None:
        return ""
    return f"第 {found.start() + 1} 个字符是 {_describe(found[0])}，打印出来与看到的不同；请删除该字符"


def line_problems(*fields: tuple[str, str]) -> list[Problem]:
    """A Problem for each ``(where, text)`` that would not print as it reads on one line.

    For single-line text typed outside a data file (a command-line reason, a file's path), where
    no :class:`Checker` walks a document.
    """
    return [Problem(where, rule) for where, text in fields if (rule := text_problem(text, multiline=False))]


def printable(text: str) -> str:
    """``text`` with every character :func:`text_problem` refuses shown as an escape (for messages)."""
    return _BAD_CHAR.sub(lambda m: m[0].encode("unicode_escape", "backslashreplace").decode("ascii"), text)


class Checker:
    """Collects problems while walking one document."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def bad(self, where: str, rule: str) -> None:
        """Record one problem."""
        self.problems.append(Problem(where, rule))

    def _missing(self, parent: Mapping[str, Any], key: str, where: str, required: bool, what: str = "") -> bool:
        if parent.get(key) is not None:
            return False
        if required:
            self.bad(where, f"缺少必填字段{what}")
        return True

    def obj(self, parent: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> dict[str, Any]:
        """A JSON object field (``{}`` when absent or wrong)."""
        if self._missing(parent, key, where, required, "（对象）"):
            return {}
        value = parent[key]
        if not isinstance(value, dict):
            self.bad(where, "应为 JSON 对象")
            return {}
        return value

    def array(self, parent: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> list[Any]:
        """A JSON list field (``[]`` when absent or wrong)."""
        if self._missing(parent, key, where, required, "（列表）"):
            return []
        value = parent[key]
        if not isinstance(value, list):
            self.bad(where, "应为列表")
            return []
        return value

    def text(
        self, parent: Mapping[str, Any], key: str, where: str, *, required: bool = True, multiline: bool = False
    ) -> str:
        """A text field, stripped; refused when empty (if required) or when it would not print as it reads."""
        if self._missing(parent, key, where, required):
            return ""
        value = parent[key]
        if not isinstance(value, str):
            self.bad(where, "应为文本")
            return ""
        rule = text_problem(value, multiline=multiline)
        if rule:
            self.bad(where, rule)
            return ""
        if required and not value.strip():
            self.bad(where, "不能为空")
        return value.strip()

    def texts(self, parent: Mapping[str, Any], key: str, where: str, *, multiline: bool = False) -> tuple[str, ...]:
        """A list of texts (one text is not a list: ``"GB/T 27922"`` is refused, not split into characters)."""
        value = parent.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.bad(where, '应为文本列表，如 ["…", "…"]')
            return ()
        out = []
        for n, v in enumerate(value):
            rule = text_problem(v, multiline=multiline)
            if rule:
                self.bad(f"{where}[{n}]", rule)
            elif v.strip():
                out.append(v.strip())
        return tuple(out)

    def number(self, parent: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> Decimal | None:
        """A number as :class:`~decimal.Decimal` (``None`` when absent or wrong)."""
        if self._missing(parent, key, where, required, "（数字）"):
            return None
        value = parent[key]
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            self.bad(where, "应为数字")
            return None
        # A float (from Python callers; files are parsed to Decimal) is taken by its shortest text.
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite() or abs(number) > _LARGEST:  # 1e999999 would break the arithmetic
            self.bad(where, "数值过大或不是有限的数字")
            return None
        return number

    def integer(self, parent: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> int | None:
        """An integer field (``None`` when absent or wrong)."""
        if self._missing(parent, key, where, required, "（整数）"):
            return None
        value = parent[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.bad(where, "应为整数")
            return None
        if abs(value) > _LARGEST:
            self.bad(where, "数值过大")
            return None
        return value

    def boolean(self, parent: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> bool | None:
        """A true/false field (``None`` when absent or wrong)."""
        if self._missing(parent, key, where, required, "（true 或 false）"):
            return None
        value = parent[key]
        if not isinstance(value, bool):
            self.bad(where, "应为 true 或 false")
            return None
        return value

    def choice(
        self, parent: Mapping[str, Any], key: str, where: str, options: Sequence[str], *, default: str | None = None
    ) -> str:
        """One of ``options`` (``default``, or the first option, when absent or wrong)."""
        value = parent.get(key, default)
        if value in options:
            return str(value)
        if value is None:
            self.bad(where, f"缺少必填字段（可选：{'、'.join(options)}）")
        else:
            shown = printable(value) if isinstance(value, str) else value
            self.bad(where, f"{shown!r} 无效，只能是 {'、'.join(options)}")
        return default or options[0]

    def day(self, parent: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> date | None:
        """A date written YYYY-MM-DD (``None`` when absent or wrong)."""
        if self._missing(parent, key, where, False):
            if required:
                self.bad(where, "缺少日期（格式 YYYY-MM-DD）")
            return None
        value = parent[key]
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            shown = printable(value) if isinstance(value, str) else value
            self.bad(where, f"日期 {shown!r} 格式不正确，应为 YYYY-MM-DD")
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.bad(where, f"日期 {value} 不存在")
            return None

    def unknown(self, obj: Mapping[str, Any], allowed: AbstractSet[str], where: str) -> None:
        """Report every key of ``obj`` not in ``allowed`` (keys starting with ``_`` are comments)."""
        for key in obj:
            if key not in allowed and not key.startswith("_"):
                self.bad(jp(where, printable(key)), "未知字段（拼写错误？以 _ 开头的字段可作备注）")

    def entries(self, value: Any, where: str, allowed: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        """The objects of a list field with their paths; what is not an object is reported."""
        if not isinstance(value, list):
            self.bad(where, "应为列表")
            return
        for n, entry in enumerate(value):
            here = f"{where}[{n}]"
            if not isinstance(entry, dict):
                self.bad(here, "应为 JSON 对象")
                continue
            self.unknown(entry, allowed, here)
            yield here, entry
