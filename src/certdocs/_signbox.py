"""The visible signature box: its font (Noto Sans CJK SC out of its collection file), its text, its style.

Debian ships the font only as a ``.ttc`` collection, which pyHanko's ``GlyphAccumulatorFactory``
cannot open, so the one face is taken out of it first. The text is checked before anything is
signed: a character the font draws as its empty glyph made pyHanko fail with "invalid literal
for int()", and control or direction characters print other than they read.
"""

from __future__ import annotations

import io
import re
import struct
import subprocess
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from certdocs.errors import Problem, SigningError

#: Font family of the visible signature's text (apt: fonts-noto-cjk).
CJK_FONT_FAMILY = "Noto Sans CJK SC"

#: The smallest type, in points, a visible box may print its text in. pyHanko shrinks a text that
#: does not fit its box until it does; below this a printed box is hard to read (小六 is 6.5 pt).
MIN_BOX_TEXT_PT = 6

#: PDF points per millimetre.
PT_PER_MM = 72 / 25.4


def _listed(shown: Iterable[str], most: int = 10) -> str:
    """The first ``most`` characters named, and how many more there are (a pasted text may hold thousands)."""
    names = list(shown)
    more = f" 等共 {len(names)} 个" if len(names) > most else ""
    return "、".join(names[:most]) + more


def box_problems(
    text: str, *, where: str, given: bool, font_size: int, box: tuple[int, int, int, int], ts: str
) -> list[Problem]:
    """Every reason the box's ``text`` (``ts`` its signing time) would not print as it reads, at a readable size.

    ``box`` is the box in PDF points (left, bottom, right, top), as pyHanko is given it.
    """
    problems = box_text_problems(text, where=where, given=given)
    try:
        printed = text % {"ts": ts}  # as pyHanko fills it: only %(ts)s and %% are meant
    except (ValueError, KeyError, TypeError):
        printed = text  # a lone % is a problem of its own, above
    if not printed.strip():  # nothing to fit (only blanks: a problem of its own, above)
        return problems
    width, height = box[2] - box[0], box[3] - box[1]
    shrunk = box_size_problem(printed, where=where, font_size=font_size, width_pt=width, height_pt=height, given=given)
    return [*problems, shrunk] if shrunk else problems


def box_text_problems(text: str, *, where: str, given: bool) -> list[Problem]:
    """What in the visible box's text cannot be printed as it reads, each kind one problem."""
    from certdocs._validate import text_problem

    if given and not text.strip():
        return [Problem(where, "只有空白；不填写签名框文字则显示认证机构名称和签发时间")]
    problems: list[Problem] = []
    if "%" in re.sub(r"%%|%\(ts\)s", "", text):  # left to right, as Python's % reads it: %%(ts)s is text
        problems.append(Problem(where, "含有单独的 %：百分号请写成 %%，签发时间写成 %(ts)s"))
    # Controls, direction marks, separators and lone surrogates, as in every text certdocs prints.
    unfit = text_problem(text, multiline=True)
    if unfit:
        problems.append(Problem(where, unfit))
    refused = {ord(c): None for c in set(text) if text_problem(c, multiline=True)}
    try:
        from certdocs._pyhanko_parts import notdef_characters

        missing = notdef_characters(cjk_font_bytes(), text.translate(refused))
    except ImportError as exc:
        raise SigningError("可见签名需要安装 pyhanko[opentype]（fonttools、uharfbuzz）") from exc
    if missing:
        from certdocs.glyphcheck import describe_character  # here: glyphcheck brings scoring and the context along

        shown = _listed(describe_character(c) if c.isprintable() else f"U+{ord(c):04X}" for c in missing)
        problems.append(
            Problem(
                where,
                f"含有签名框字体 {CJK_FONT_FAMILY} 没有的字符 {shown}，签名框中无法显示；"
                "请删除这些字符或改用常用字（签名框只用这一种字体）",
            )
        )
    return problems


def _text_margin() -> int:
    """The margin pyHanko keeps around a box's text, in points: its own constant, so the check follows it."""
    from pyhanko.pdf_utils.text import DEFAULT_TEXT_BOX_MARGIN

    return int(DEFAULT_TEXT_BOX_MARGIN)


def box_text_scale(text: str, *, font_size: int, width_pt: float, height_pt: float) -> float:
    """The factor pyHanko shrinks ``text`` (as printed) by to fit a box of this size: at most 1.

    pyHanko's layout of a text stamp: the lines' widths as shaped, one line a font size high,
    a margin all round, scaled down (never up) to fit the box, keeping its proportions.
    """
    from certdocs._pyhanko_parts import line_advances

    margin = _text_margin()
    advances = line_advances(cjk_font_bytes(), text.split("\n"))
    width = max(round(advance * font_size) for advance in advances) + 2 * margin
    height = font_size * len(advances) + 2 * margin
    return min(1.0, width_pt / width, height_pt / height)


def box_size_problem(
    text: str, *, where: str, font_size: int, width_pt: float, height_pt: float, given: bool
) -> Problem | None:
    """A problem when the box's text (as printed) would be shrunk below :data:`MIN_BOX_TEXT_PT` to fit."""
    if font_size < MIN_BOX_TEXT_PT:  # a library caller's VisibleBox
        return Problem(where, f"字号 {font_size} 磅小于 {MIN_BOX_TEXT_PT} 磅，打印后难以辨认")
    printed = font_size * box_text_scale(text, font_size=font_size, width_pt=width_pt, height_pt=height_pt)
    if printed >= MIN_BOX_TEXT_PT:
        return None
    # What fits at the smallest size: whole Chinese characters (an em each) a line, and lines.
    scale = min(1.0, MIN_BOX_TEXT_PT / font_size)
    margin = _text_margin()
    per_line = max(0, int((width_pt / scale - 2 * margin) // font_size))
    lines = max(0, int((height_pt / scale - 2 * margin) // font_size))
    size = f"{width_pt / PT_PER_MM:.0f}×{height_pt / PT_PER_MM:.0f} 毫米"
    shrunk = f"{printed:.1f} 磅" if printed >= 0.1 else "0.1 磅以下"
    advice = "请缩短文字或分成几行" if given else "请用签名框文字（--signer-text）分行写出认证机构名称和 %(ts)s"
    return Problem(
        where,
        f"须缩小到 {shrunk}才能放进 {size}的签名框，打印后难以辨认（至少 {MIN_BOX_TEXT_PT} 磅）；"
        f"{advice}（每行至多约 {per_line} 个汉字，至多 {lines} 行）",
    )


def stamp_style(text: str, *, font_size: int) -> Any:
    """pyHanko's stamp style for ``text`` in the box font at ``font_size`` points."""
    from pyhanko.pdf_utils.font.api import FontEngineFactory
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    from certdocs._pyhanko_parts import layout_free_accumulator

    try:
        accumulator = layout_free_accumulator()
    except ImportError as exc:
        raise SigningError("可见签名需要安装 pyhanko[opentype]（fonttools、uharfbuzz）") from exc
    font = cjk_font_bytes()
    size = font_size

    class _Font(FontEngineFactory):
        # GlyphAccumulatorFactory only opens a file name; the face comes out of a .ttc here.
        def create_font_engine(self, writer: Any, obj_stream: Any = None) -> Any:
            return accumulator(writer=writer, font_handle=io.BytesIO(font), font_size=size, obj_stream=obj_stream)

    return TextStampStyle(
        stamp_text=text.replace("%(ts)s", "%(beijing_ts)s"),
        border_width=1,
        text_box_style=TextBoxStyle(font=_Font(), font_size=size),
    )


def find_cjk_font(family: str = CJK_FONT_FAMILY) -> tuple[Path, int]:
    """The font file and face index fontconfig has for ``family`` (``fc-match``)."""
    try:
        done = subprocess.run(
            ["fc-match", "-f", "%{family}\n%{file}\n%{index}", family],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise SigningError(f"无法查找中文字体 {family}：fc-match 不可用（apt: fontconfig）") from exc
    names, file, index = ([*done.stdout.split("\n"), "", ""])[:3]
    if family.lower() not in [n.strip().lower() for n in names.split(",")] or not file:
        raise SigningError(f"未安装中文字体 {family}（apt: fonts-noto-cjk），无法生成可见签名")
    return Path(file), int(index or 0)


@cache
def cjk_font_bytes(family: str = CJK_FONT_FAMILY) -> bytes:
    """The OpenType font program of ``family``, taken out of its collection file if need be."""
    file, index = find_cjk_font(family)
    try:
        data = file.read_bytes()
        return _face_of_collection(data, index) if data[:4] == b"ttcf" else data
    except (OSError, ValueError, struct.error) as exc:
        raise SigningError(f"无法读取中文字体文件 {file}：{exc}") from exc


def _face_of_collection(data: bytes, index: int) -> bytes:
    """Face ``index`` of an OpenType collection (``.ttc``) as a font file of its own.

    The face's tables are copied as they are, behind a new table directory: fontTools' load
    and save did the same in eight times the time (half a second for Noto CJK). The subset
    pyHanko embeds is made and checksummed by fontTools from this file, as before.
    """
    (count,) = struct.unpack_from(">I", data, 8)
    if not 0 <= index < count:
        raise ValueError(f"字体集合中没有第 {index} 个字体（共 {count} 个）")
    (start,) = struct.unpack_from(">I", data, 12 + 4 * index)
    (tables,) = struct.unpack_from(">H", data, start + 4)
    directory = bytearray(data[start : start + 12])
    body = bytearray()
    first = 12 + 16 * tables  # where the table data begins in the new file
    for n in range(tables):
        tag, checksum, offset, length = struct.unpack_from(">4sIII", data, start + 12 + 16 * n)
        if offset + length > len(data):
            raise ValueError(f"字体表 {tag!r} 超出文件末尾")
        directory += struct.pack(">4sIII", tag, checksum, first + len(body), length)
        body += data[offset : offset + length]
        body += bytes(-len(body) % 4)  # tables start on four-byte boundaries
    return bytes(directory + body)
