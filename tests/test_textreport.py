"""The terminal score table: columns that line up with CJK text, figures as the scoresheet prints them."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from certdocs.audit import load_audit
from certdocs.scoring import score_audit
from certdocs.textreport import fmt, pad, score_table, stars_text, width
from tests.conftest import FIXTURES


def test_a_chinese_character_takes_two_terminal_columns() -> None:
    assert width("售后a") == 5


def test_padding_fills_to_the_column_width() -> None:
    assert pad("服务", 6) == "服务  "


def test_right_padding_puts_the_fill_before_the_text() -> None:
    assert pad("1.5", 6, right=True) == "   1.5"


def test_text_too_wide_is_cut_with_an_ellipsis() -> None:
    assert pad("售后服务管理制度", 7) == "售后服…"


@given(st.text(max_size=40), st.integers(min_value=1, max_value=60))
def test_a_padded_cell_is_always_exactly_as_wide_as_its_column(text: str, cols: int) -> None:
    assert width(pad(text, cols)) == cols


def test_whole_points_print_without_decimals() -> None:
    assert fmt(Decimal("3.00")) == "3"


def test_fractional_points_print_without_trailing_zeros() -> None:
    assert fmt(Decimal("83.250")) == "83.25"


def test_no_figure_prints_as_nothing() -> None:
    assert fmt(None) == ""


def test_four_stars_print_as_four_star_signs() -> None:
    assert stars_text(4) == "★★★★"


def test_no_stars_print_as_nothing() -> None:
    assert stars_text(None) == ""


def table_of(scheme_id: str) -> str:
    audit, scheme = load_audit(FIXTURES / scheme_id / "pass.json")
    return score_table(score_audit(audit, scheme), audit, scheme)


def test_the_score_table_ends_with_the_grade_and_the_verdict() -> None:
    table = table_of("xbht-s04-2025")
    assert table.splitlines()[-1] == "评定结果：四星级★★★★（通过）"


def test_the_score_table_states_earned_applicable_and_score() -> None:
    table = table_of("xbht-s04-2025")
    assert "实际得分 87.17，涉及项总分值 99，最终得分 88.1" in table


def test_an_excluded_item_shows_its_reason() -> None:
    table = table_of("xbht-s04-2025")
    assert "删减理由：" in table


def test_the_maturity_table_names_the_lowest_level() -> None:
    table = table_of("bz-ts1008-2025")
    assert "各维度最低等级：" in table
