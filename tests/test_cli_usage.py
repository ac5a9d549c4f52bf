"""Command-line mistakes are told in Chinese, with exit status 2, whatever click found wrong; Ctrl+C too (exit 1)."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from certdocs import cli


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.main, list(args), prog_name="certdocs")
    return result.exit_code, result.output


MISTAKES = {
    "a missing argument": (("certificate",), "缺少参数 FILE"),
    "a misspelt option": (("register", "list", "--statuss", "有效"), "没有这个选项：--statuss；是否想用 --status？"),
    "an impossible date": (("certificate", "a.json", "--issue-date", "2026-13-01"), "不是日期，应写成 YYYY-MM-DD"),
    "a value not offered": (("register", "list", "--status", "坏"), "不是可选值"),
    "a missing required option": (("register", "suspend", "X-1", "--by", "李文"), "缺少选项 --reason"),
    "an option without its value": (("register", "suspend", "X-1", "--reason"), "选项 --reason 后面需要给出一个值"),
    "an unknown command": (("registr", "list"), "没有这个命令：registr"),
    "an extra argument": (("register", "list", "多余"), "多余的参数：多余"),
    "not a number": (("surveillance", "due", "--within", "三十"), "不是整数"),
    "a file that is not there": (("sign", "nope.pdf", "--pkcs12", "nope.p12"), "不存在"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_usage_error_is_told_in_chinese_with_exit_2(mistake: str) -> None:
    args, expected = MISTAKES[mistake]
    code, text = run(*args)
    assert code == 2
    assert expected in text
    assert "命令行有误" in text


def test_a_usage_error_shows_the_command_usage_in_chinese() -> None:
    _, text = run("register", "list", "--statuss", "有效")
    assert text.splitlines()[:2] == [
        "用法：certdocs register list [选项]",
        "查看帮助：certdocs register list --help",
    ]


@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_usage_error_shows_no_english_framing(mistake: str) -> None:
    args, _ = MISTAKES[mistake]
    _, text = run(*args)
    for english in ("Usage:", "Error:", "Try '", "Missing", "No such", "Invalid value", "does not"):
        assert english not in text


def test_help_still_works() -> None:
    code, text = run("register", "void", "--help")
    assert code == 0
    assert "作废" in text


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, EOFError])
def test_ctrl_c_is_told_in_chinese_with_exit_1(interruption: type[BaseException]) -> None:
    from certdocs.cli._usage import ChineseGroup

    @click.group(cls=ChineseGroup)
    def group() -> None:
        """A group."""

    @group.command()
    def work() -> None:
        """A command the office interrupts."""
        raise interruption

    result = CliRunner().invoke(group, ["work"], prog_name="certdocs")
    assert result.exit_code == 1
    assert "已中止（Ctrl+C）" in result.output
    assert "Aborted" not in result.output
    assert "Error" not in result.output
