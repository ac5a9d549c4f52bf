"""Help pages (``-h``/``--help``) are Chinese, fit an 80-column terminal and cut no command's help."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from certdocs import __version__, cli
from certdocs.cli._usage import display_width, wrap_by_width


def _commands(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(cli.main))
CLICK_ENGLISH = (
    "Usage:",
    "Options:",
    "Commands:",
    "Show this message",
    "Show the version",
    "[default:",
    "[env var:",
    "[required]",
    "[OPTIONS]",
    "COMMAND [ARGS]",
    " TEXT ",
    " DIRECTORY ",
    " INTEGER ",
    "%Y-%m-%d",
)


@functools.cache
def _help(path: tuple[str, ...]) -> str:
    """The help page of the command at ``path``, on a 78-column terminal.

    Made once per test process and read by each test that checks something of it: a page
    depends on nothing a test changes (no path, date or environment value is shown in it).
    """
    result = CliRunner().invoke(cli.main, [*path, "--help"], prog_name="certdocs", terminal_width=78)
    assert result.exit_code == 0, result.output
    return result.output


def test_every_command_has_a_help_page() -> None:
    assert len(COMMANDS) > 20
    assert ("register", "suspend") in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_a_help_page_has_no_english_of_click(path: tuple[str, ...]) -> None:
    text = _help(path)
    assert text.startswith(f"用法：{' '.join(('certdocs', *path))} [选项]")
    for english in CLICK_ENGLISH:
        assert english not in text


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_a_help_page_fits_an_80_column_terminal(path: tuple[str, ...]) -> None:
    # click writes 78 columns on an 80-column terminal; one closing punctuation mark may hang past them.
    wide = [line for line in _help(path).splitlines() if display_width(line) > 80]
    assert wide == []


@pytest.mark.parametrize("path", [(), ("register",), ("surveillance",)], ids=" ".join)
def test_a_command_list_shows_each_commands_help_whole(path: tuple[str, ...]) -> None:
    listed = _help(path).split("命令：\n", 1)[1]
    assert "..." not in listed


def test_a_long_command_help_is_wrapped_not_cut() -> None:
    listed = _help(()).split("命令：\n", 1)[1]
    assert "批准的发证，不批准和暂缓的只登记。" in re.sub(r"\s", "", listed)


def test_option_notes_and_value_kinds_are_chinese() -> None:
    text = _help(("certificate",))
    assert re.search(r"--issue-date YYYY-MM-DD\s", text)
    assert "[环境变量：CERTDOCS_ISSUE_DATE]" in text
    assert "[默认：templates]" in text
    assert "--output 文件夹" in text
    assert "-h, --help" in text
    assert "显示本帮助并退出。" in text
    assert "[必填]" in _help(("register", "suspend"))


def test_the_version_is_the_package_version() -> None:
    result = CliRunner().invoke(cli.main, ["--version"], prog_name="certdocs")
    assert result.output == f"certdocs {__version__}\n"


_TEXT = st.text(st.sampled_from([*"证书登记簿审核", *"abcXYZ/<>@.", " ", *"，。（）《》：；"]), max_size=120)


@given(text=_TEXT, width=st.integers(10, 90))
def test_wrapping_keeps_every_character_in_order(text: str, width: int) -> None:
    lines = wrap_by_width(text, width)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


@given(text=_TEXT, width=st.integers(10, 90))
def test_a_wrapped_line_is_no_wider_than_asked_but_for_one_hanging_mark_or_one_long_word(text: str, width: int) -> None:
    for line in wrap_by_width(text, width):
        longest_piece = max((display_width(p) for p in re.findall(r"[^\s\u1100-\uffff]+", line)), default=0)
        assert display_width(line) <= max(width + 2, longest_piece)


def test_closing_punctuation_does_not_start_a_line_and_opening_does_not_end_one() -> None:
    text = "允许晚于今天的发证日期或会议日期（须办公室明确决定）。"
    for width in range(20, 56):
        lines = wrap_by_width(text, width)
        assert all(line[0] not in "）。，" for line in lines[1:]), (width, lines)
        assert all(line[-1] != "（" for line in lines[:-1]), (width, lines)


@pytest.mark.parametrize("path", [(), ("register",), ("surveillance",)], ids=" ".join)
def test_a_group_given_no_command_shows_its_help_page_not_a_mistake(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli.main, list(path), prog_name="certdocs", terminal_width=78)
    assert result.exit_code == 2  # click's status for a group called without its command
    assert result.output.startswith(f"用法：{' '.join(('certdocs', *path))} [选项] 命令 [参数]...\n")
    assert "命令行有误" not in result.output
    assert "命令：" in result.output
