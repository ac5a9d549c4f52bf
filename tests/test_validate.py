"""Tests for the validation toolkit's text check (``certdocs._validate.text_problem``)."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from certdocs._validate import text_problem

# Plain text, and every kind of character the check refuses, mixed.
_REFUSED = ["\x00", "\t", "\n", "\v", "\x1f", "\x7f", "\x9f", "\u061c", "\u200e", "\u202e", "\u2066", "\u2028"]
_TEXT = st.lists(st.one_of(st.sampled_from(["国", "a", " ", "é", "😀", *_REFUSED]), st.characters()), max_size=40)


def _first_refused(text: str, *, multiline: bool) -> int:
    """1-based position of the first character that does not print as it reads (0: none), read one by one."""
    for n, ch in enumerate(text, 1):
        code = ord(ch)
        control = code < 0x20 or 0x7F <= code <= 0x9F
        reorders = ch in "\u061c\u200e\u200f\u2028\u2029" or 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069
        surrogate = unicodedata.category(ch) == "Cs"
        if (control or reorders or surrogate) and not (multiline and ch == "\n"):
            return n
    return 0


@given(_TEXT, st.booleans())
def test_the_first_character_that_would_print_differently_is_named_with_its_position(
    chars: list[str], multiline: bool
) -> None:
    text = "".join(chars)
    position = _first_refused(text, multiline=multiline)

    rule = text_problem(text, multiline=multiline)

    if position:
        assert rule.startswith(f"第 {position} 个字符是 U+{ord(text[position - 1]):04X}")
    else:
        assert rule == ""


def test_a_newline_is_refused_on_one_line_and_allowed_on_several() -> None:
    assert text_problem("第一行\n第二行", multiline=False).startswith("第 4 个字符是 U+000A（换行）")
    assert text_problem("第一行\n第二行", multiline=True) == ""


def test_a_huge_text_is_checked_whole() -> None:
    text = "国" * 5_000_000 + "\u202e"

    assert text_problem(text, multiline=True).startswith("第 5000001 个字符是 U+202E")
