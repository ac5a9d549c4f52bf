"""Fitting the certificate's long fields on its one page: the type size each field prints at.

Pure: no files, no fonts opened. A field (the organisation's name, its addresses, the certified
scope) has a box on the certificate: a width, a largest and a smallest type size, and a most
number of lines (:class:`FieldLimit`, set per profile in ``certificate_fit``). A text is measured
the way LibreOffice lays it out, erring wide: Chinese characters one em, Latin letters and digits
by the widest of the faces the certificate may use, words kept whole, closing punctuation kept
on its line. The largest size, in half points, at which the text needs no more lines than the
box allows is the size it prints at; a text that does not fit even at the smallest size is
refused before a certificate number is reserved, with the length that would fit.

Why this keeps the page: a field that fits prints no more lines than ``max_lines`` at a size no
larger than ``size``, so it is never taller than ``max_lines`` lines at ``size``; the default
limits are chosen so that every field at that height at once still leaves the page whole
(tests/test_fitting.py renders exactly that case for every profile with LibreOffice).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from certdocs.errors import Problem

#: Points per millimetre.
_PT_PER_MM = Decimal(72) / Decimal("25.4")
#: Measured width is compared with this share of the box: room for rounding and kerning.
_SAFETY = Decimal("0.97")
_HALF = Decimal("0.5")

# Advance widths of the printable ASCII characters (0x20–0x7e), in twentieths of an em rounded
# up, each the widest of DejaVu Serif, DejaVu Sans and Noto Serif/Sans CJK SC (regular and bold):
# the faces LibreOffice may take for the Latin part of a certificate line.
_ASCII_TWENTIETHS = (
    10, 10, 10, 17, 13, 20, 18, 10, 10, 10, 10, 17, 10, 10, 10, 10, 13, 13, 13, 13, 13, 13, 13, 13,
    13, 13, 10, 10, 17, 17, 17, 11, 20, 15, 15, 16, 17, 15, 14, 16, 18, 10, 11, 16, 14, 21, 18, 17,
    14, 17, 16, 14, 14, 17, 15, 22, 15, 15, 14, 10, 10, 10, 17, 12, 13, 13, 14, 12, 14, 13, 10, 13,
    14, 10, 10, 14, 10, 21, 14, 13, 14, 13, 10, 11, 10, 14, 12, 18, 12, 12, 11, 13, 10, 13, 17,
)  # fmt: skip
# A line never starts with these (kept with the character before) …
_CLOSING = set("，。、；：！？）》」』】〕〉’”,.;:!?)]}%％·—…")
# … nor ends with these (kept with the character after).
_OPENING = set("（《「『【〔〈‘“([{")


@dataclass(frozen=True)
class FieldLimit:
    """Where a certificate field prints: box width, type sizes allowed and most lines."""

    width_mm: Decimal
    size: Decimal  # the size it prints at when it fits (points)
    min_size: Decimal  # the smallest size it may shrink to (points)
    max_lines: int


#: The certificate's fields that grow with the audit, as the bundled certificate.docx lays them out
#: (A4, 24 mm side margins; the address and scope column 126 mm less 1.5 mm cell margins).
DEFAULT_LIMITS: Mapping[str, FieldLimit] = {
    "org.name": FieldLimit(Decimal(162), Decimal(17), Decimal(12), 2),
    "org.registered_address": FieldLimit(Decimal(123), Decimal(11), Decimal(9), 2),
    "org.audit_address": FieldLimit(Decimal(123), Decimal(11), Decimal(9), 3),
    "certified_scope": FieldLimit(Decimal(123), Decimal(11), Decimal(9), 3),
}

#: The audit-result field behind each fitted certificate field, for messages.
FIELD_PATHS: Mapping[str, str] = {
    "org.name": "organization.name",
    "org.registered_address": "organization.registered_address",
    "org.audit_address": "organization.audit_address",
    "certified_scope": "scope",
}
_FIELD_NAMES = {
    "org.name": "组织名称",
    "org.registered_address": "注册地址",
    "org.audit_address": "审核地址",
    "certified_scope": "认证范围",
}


def _twentieths(char: str) -> int:
    """The width of one character in twentieths of an em, erring wide.

    Whole twentieths: every width above is one, so the line arithmetic is exact in integers
    (Decimal here cost a millisecond per text measured).
    """
    code = ord(char)
    if 0x20 <= code <= 0x7E:
        return _ASCII_TWENTIETHS[code - 0x20]
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 20  # Chinese, full-width forms, and anything else: a full em at most


#: One unbreakable piece: its width in twentieths of an em, whether it is a space, its text.
_Piece = tuple[int, bool, str]


def _pieces_of(text: str) -> list[_Piece]:
    """Unbreakable pieces of one paragraph."""
    pieces: list[list[Any]] = []
    glue_next = False
    for char in text:
        width = _twentieths(char)
        space = char.isspace()
        latin = char.isascii() and (char.isalnum() or char in "-_/@&'.")
        previous = pieces[-1] if pieces else None
        joins = (
            previous is not None
            and not previous[2]
            and not space
            and (
                glue_next or char in _CLOSING or (latin and previous[3])  # a Latin word is not broken
            )
        )
        if joins and previous is not None:
            previous[0] += char
            previous[1] += width
            previous[3] = latin and previous[3]
        else:
            pieces.append([char, width, space, latin])
        glue_next = char in _OPENING
    return [(p[1], p[2], p[0]) for p in pieces]


_CACHED_LENGTH = 2000


@lru_cache(maxsize=256)
def _pieces(paragraph: str) -> tuple[_Piece, ...]:
    # A text is measured at every half-point size of its box (and a refused one many times over
    # while its longest fitting length is sought): its pieces do not depend on the size.
    return tuple(_pieces_of(paragraph))


def _paragraphs(text: str) -> tuple[tuple[_Piece, ...], ...]:
    # Only paragraphs of a sensible length are kept: a huge one must not stay in memory.
    return tuple(
        _pieces(paragraph) if len(paragraph) <= _CACHED_LENGTH else _pieces.__wrapped__(paragraph)
        for paragraph in text.split("\n")
    )


def _lines(paragraphs: tuple[tuple[_Piece, ...], ...], room: int, *, most: int | None = None) -> int:
    """Lines taken by ``paragraphs`` in a box ``room`` twentieths of an em wide (greedy, as a word processor).

    With ``most``, counting stops as soon as there are more lines than that (a refused text
    of a million characters is not laid out to its end at every size).
    """
    lines = 0
    for pieces in paragraphs:
        lines += 1
        used = 0
        for width, space, text in pieces:
            if space:
                used += width  # a space at the end of a line hangs in the margin
                continue
            # A piece longer than a whole line is broken anywhere, character by character.
            for part_width in map(_twentieths, text) if width > room else (width,):
                if used + part_width > room and used > 0:
                    lines += 1
                    used = 0
                used += part_width
            if most is not None and lines > most:
                return lines
    return lines


def _room(width_em: Decimal) -> int:
    """The most whole twentieths of an em that fit in ``width_em`` (exact, no rounding)."""
    return math.floor(width_em * 20)  # Decimal arithmetic: exact


def line_count(text: str, *, width_em: Decimal) -> int:
    """How many lines ``text`` takes in a box ``width_em`` ems wide (greedy, as a word processor)."""
    return _lines(_paragraphs(text), _room(width_em))


def _width_em(limit: FieldLimit, size: Decimal) -> Decimal:
    return limit.width_mm * _PT_PER_MM * _SAFETY / size


@lru_cache(maxsize=256)
def _rooms(limit: FieldLimit) -> tuple[tuple[Decimal, int], ...]:
    """Each size the box may print at, largest first, with its width in twentieths of an em."""
    sizes = []
    size = limit.size
    while size >= limit.min_size:
        sizes.append((size, _room(_width_em(limit, size))))
        size -= _HALF
    return tuple(sizes)


def line_capacity(limit: FieldLimit, size: Decimal) -> int:
    """How many Chinese characters one line of the box holds at ``size``."""
    return int(_width_em(limit, size))


def fitted_size(text: str, limit: FieldLimit) -> Decimal | None:
    """The largest size (half-point steps, ``min_size``…``size``) at which ``text`` fits; None if none does."""
    paragraphs = _paragraphs(text)
    for size, room in _rooms(limit):
        if _lines(paragraphs, room, most=limit.max_lines) <= limit.max_lines:
            return size
    return None


@lru_cache(maxsize=256)
def longest_fitting(limit: FieldLimit, *, around: tuple[str, str] = ("", "")) -> int:
    """How many Chinese characters fit in the box at its smallest size (between ``around``'s fixed texts)."""
    low, high = -1, 4096
    while low + 1 < high:  # the largest n that fits, by bisection (fitting is monotonic in n)
        mid = (low + high) // 2
        if fitted_size(around[0] + "国" * mid + around[1], limit) is not None:
            low = mid
        else:
            high = mid
    return low


@dataclass(frozen=True)
class Fitting:
    """The size each certificate field prints at, and the fields that cannot fit."""

    sizes: Mapping[str, Decimal]
    problems: tuple[Problem, ...]


def fit_certificate(
    values: Mapping[str, str],
    *,
    limits: Mapping[str, FieldLimit] = DEFAULT_LIMITS,
    scope_around: tuple[str, str] = ("", ""),
) -> Fitting:
    """Sizes for the certificate's fields (``values`` keyed as in :data:`DEFAULT_LIMITS`).

    ``scope_around`` is the profile's wording before and after the audit's ``scope`` inside
    ``certified_scope``, so that a refusal can say how long the scope itself may be.
    """
    sizes: dict[str, Decimal] = {}
    problems: list[Problem] = []
    for key, limit in limits.items():
        text = values.get(key, "")
        size = fitted_size(text, limit)
        if size is not None:
            sizes[key] = size
            continue
        around = scope_around if key == "certified_scope" else ("", "")
        longest = longest_fitting(limit, around=around)
        length = len(text) - len(around[0]) - len(around[1]) if key == "certified_scope" else len(text)
        what = "认证范围中的审核范围文字" if key == "certified_scope" else _FIELD_NAMES[key]
        rule = (
            f"{what}过长（{length} 个字符），证书上{_FIELD_NAMES[key]}一栏最小 {_pt(limit.min_size)} 磅字、"
            f"最多 {limit.max_lines} 行也放不下；"
            + (
                f"最多约 {longest} 个汉字（英文字母和数字约可多一倍），请缩短"
                if longest > 0
                else "该栏固定文字（含组织名称）已占满，请缩短组织名称或认证范围"
            )
        )
        problems.append(Problem(FIELD_PATHS[key], rule))
    return Fitting(sizes, tuple(problems))


def _pt(size: Decimal) -> str:
    return f"{size.normalize():f}"


def parse_limits(data: Any, problems: list[Problem], *, where: str = "certificate_fit") -> dict[str, FieldLimit]:
    """A profile's ``certificate_fit`` object over the defaults; problems are added to ``problems``.

    ``{"org.name": {"width_mm": 162, "size": 17, "min_size": 12, "max_lines": 2}, …}``; a field or
    a key left out keeps its default.
    """
    limits = dict(DEFAULT_LIMITS)
    if data is None:
        return limits
    if not isinstance(data, Mapping):
        problems.append(Problem(where, "应为对象"))
        return limits
    for key, given in data.items():
        if key.startswith("_"):
            continue
        path = f"{where}.{key}"
        if key not in DEFAULT_LIMITS:
            problems.append(Problem(path, f"未知的证书栏目，可用：{'、'.join(DEFAULT_LIMITS)}"))
            continue
        if not isinstance(given, Mapping):
            problems.append(Problem(path, "应为对象"))
            continue
        base = DEFAULT_LIMITS[key]
        values: dict[str, Any] = {
            "width_mm": base.width_mm,
            "size": base.size,
            "min_size": base.min_size,
            "max_lines": base.max_lines,
        }
        for name, value in given.items():
            if name.startswith("_"):
                continue
            if name not in values:
                problems.append(Problem(f"{path}.{name}", "未知的设置，可用：width_mm、size、min_size、max_lines"))
            elif isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                problems.append(Problem(f"{path}.{name}", "应为正数"))
            elif name == "max_lines" and not isinstance(value, int):
                problems.append(Problem(f"{path}.{name}", "应为正整数"))
            elif name in ("size", "min_size") and Decimal(str(value)) * 2 % 1:
                problems.append(Problem(f"{path}.{name}", "字号须为 0.5 磅的整数倍"))
            else:
                values[name] = value if name == "max_lines" else Decimal(str(value))
        if values["min_size"] > values["size"]:
            problems.append(Problem(f"{path}.min_size", f"最小字号 {values['min_size']} 大于字号 {values['size']}"))
        limits[key] = FieldLimit(**values)
    return limits
