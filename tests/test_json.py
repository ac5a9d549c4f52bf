"""The one JSON reader of data files: what json would accept silently or crash on is refused."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certdocs._fs import read_json_object
from certdocs._json import JsonProblems, loads
from certdocs._validate import Checker, text_problem
from certdocs.errors import SchemeError


def repr_short(value: object) -> str:
    return repr(value)[:20]


def problems(raw: bytes) -> list[str]:
    with pytest.raises(JsonProblems) as info:
        loads(raw)
    return [str(p) for p in info.value.problems]


def test_fractions_are_read_as_decimals() -> None:
    assert loads(b'{"a": 0.1}') == {"a": Decimal("0.1")}


def test_a_duplicate_key_is_refused_with_its_path() -> None:
    found = problems(b'{"items": {"5.1.1.1": {"score": 1}, "5.1.1.1": {"score": 0}}}')
    assert found == ['items["5.1.1.1"]：字段在同一对象中出现了不止一次（只能出现一次）']


def test_duplicate_keys_inside_lists_are_found_at_every_depth() -> None:
    found = problems(b'{"audit": {"team": [{"name": "a"}, {"name": "b", "name": "c"}]}, "x": 1, "x": 2}')
    assert found == [
        "audit.team[1].name：字段在同一对象中出现了不止一次（只能出现一次）",
        "x：字段在同一对象中出现了不止一次（只能出现一次）",
    ]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused_where_they_stand(constant: str) -> None:
    (found,) = problems(f'{{"a": "NaN Infinity",\n "b": {constant}}}'.encode())
    assert found.startswith("第 2 行第 7 列：")
    assert constant in found


def test_100000_levels_of_nesting_give_a_message_not_a_recursion_error() -> None:
    (found,) = problems(b"[" * 100_000 + b"]" * 100_000)
    assert "嵌套超过 50 层" in found


def test_nesting_that_json_can_read_is_still_refused_beyond_50_levels() -> None:
    (found,) = problems(b'{"a": ' + b"[" * 51 + b"]" * 51 + b"}")
    assert "嵌套超过 50 层" in found


def test_a_syntax_error_is_explained_in_chinese_with_line_and_column() -> None:
    (found,) = problems(b'{\n  "a": 1,\n}')
    assert found == "第 3 行第 1 列：JSON 语法错误：字段名须用英文双引号括起（末尾是否多了逗号？）"


def test_an_unterminated_string_is_explained_in_chinese() -> None:
    (found,) = problems(b'{"a": "abc}')
    assert "缺少结尾的英文双引号" in found


def test_a_gbk_file_is_named_as_gbk() -> None:
    (found,) = problems('{"a": "杭州"}'.encode("gbk"))
    assert "GBK/GB18030" in found


def test_a_byte_order_mark_is_accepted() -> None:
    assert loads(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}


def test_a_lone_surrogate_in_a_key_is_refused_and_shown_escaped() -> None:
    (found,) = problems(b'{"\\ud800x": 1}')
    assert found.startswith('["\\ud800x"]：')


def test_the_reader_gives_each_loader_its_own_error(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(b'{"id": "a", "id": "b"}')
    with pytest.raises(SchemeError) as info:
        read_json_object(path, SchemeError)
    assert info.value.source == str(path)


@pytest.mark.parametrize(
    "char",
    list("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
    + list("\x00\x07\t\v\f\r\x1b\x7f\x85\x9f\u2028\ud800"),
)
def test_text_that_prints_differently_from_how_it_reads_is_refused(char: str) -> None:
    assert f"U+{ord(char):04X}" in text_problem(f"广东{char}澜禾", multiline=True)


def test_a_newline_is_allowed_only_in_multiline_text() -> None:
    assert text_problem("第一行\n第二行", multiline=True) == ""
    assert "U+000A" in text_problem("第一行\n第二行", multiline=False)


def test_plain_chinese_text_with_extension_b_characters_is_accepted() -> None:
    assert text_problem("𠀀𪚥广东澜禾电器股份有限公司（总部）", multiline=False) == ""


def test_the_toolkit_refuses_a_string_where_a_list_of_texts_is_expected() -> None:
    c = Checker()
    assert c.texts({"basis": "GB/T 27922"}, "basis", "standard.basis") == ()
    assert [str(p) for p in c.problems] == ['standard.basis：应为文本列表，如 ["…", "…"]']


def test_the_toolkit_reports_every_problem_at_once() -> None:
    c = Checker()
    c.text({"a": 1}, "a", "a")
    c.integer({"b": "1"}, "b", "b")
    c.choice({"c": "x"}, "c", "c", ("y", "z"))
    c.day({"d": "2026-02-30"}, "d", "d")
    assert [p.where for p in c.problems] == ["a", "b", "c", "d"]


@given(st.binary(max_size=300))
@settings(max_examples=400)
def test_any_bytes_are_read_or_refused_with_problems_never_a_crash(raw: bytes) -> None:
    try:
        loads(raw)
    except JsonProblems as exc:
        assert exc.problems


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_any_json_text_without_fractions_is_read_back_as_written_or_refused_for_a_reason(value: object) -> None:
    raw = json.dumps(value).encode("utf-8")
    try:
        assert loads(raw) == value
    except JsonProblems as exc:  # only a key with a control or bidi character, or a lone surrogate
        assert all("个字符是 U+" in p.rule for p in exc.problems)


@pytest.mark.parametrize(
    "value", [Decimal("1E+999999"), 10**4000, float("inf"), float("nan"), Decimal("NaN")], ids=repr_short
)
def test_absurd_numbers_are_refused_before_any_arithmetic(value: object) -> None:
    c = Checker()
    assert c.number({"n": value}, "n", "n") is None
    assert len(c.problems) == 1


def test_an_absurd_integer_is_refused() -> None:
    c = Checker()
    assert c.integer({"n": 10**13}, "n", "n") is None
    assert [p.rule for p in c.problems] == ["数值过大"]
