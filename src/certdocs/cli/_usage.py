"""Command-line usage errors in Chinese: click's own messages, said again for office staff.

click raises :class:`click.UsageError` and its kinds (a missing argument, an unknown option, a
value its type refuses) with English text. :class:`ChineseGroup` catches them where the whole
command line is parsed and raises the same error again with Chinese text; click then prints it
and exits 2 as usual.
"""

from __future__ import annotations

import re
from typing import IO, Any

import click

_TYPE_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"(?P<v>'.*') does not match the formats? (?P<f>.*)\."),
        "{v} 不是日期，应写成 YYYY-MM-DD（如 2026-11-22）",
    ),
    (
        re.compile(r"(?P<v>'.*') is not (?:one of|a valid choice)[^:]*?:? ?(?P<c>.*?)\.?$"),
        "{v} 不是可选值（可选：{c}）",
    ),
    (re.compile(r"(?P<v>'.*') is not a valid integer( range)?\."), "{v} 不是整数"),
    (re.compile(r"(?P<v>'.*') is not a valid float( range)?\."), "{v} 不是数字"),
    (re.compile(r"(?P<v>.*) is not in the range (?P<r>.*)\."), "{v} 不在允许的范围 {r} 内"),
    (re.compile(r"(?:File|Directory|Path) (?P<v>'.*') does not exist\."), "{v} 不存在"),
    (re.compile(r"(?:File|Directory|Path) (?P<v>'.*') is a directory\."), "{v} 是文件夹，这里需要文件"),
    (re.compile(r"(?:File|Directory|Path) (?P<v>'.*') is a file\."), "{v} 是文件，这里需要文件夹"),
    (re.compile(r"(?:File|Directory|Path) (?P<v>'.*') is not readable\."), "{v} 没有读取权限"),
    (re.compile(r"(?:File|Directory|Path) (?P<v>'.*') is not writable\."), "{v} 没有写入权限"),
)
_USAGE_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Got unexpected extra arguments? \((?P<v>.*)\)"), "多余的参数：{v}"),
    (re.compile(r"No such command '(?P<v>.*)'\."), "没有这个命令：{v}"),
    (re.compile(r"Missing command\."), "缺少命令"),
    (re.compile(r"Option '(?P<v>.*)' requires an argument\."), "选项 {v} 后面需要给出一个值"),
    (re.compile(r"Option '(?P<v>.*)' requires (?P<n>\d+) arguments\."), "选项 {v} 后面需要给出 {n} 个值"),
    (re.compile(r"Option '(?P<v>.*)' does not take a value\."), "选项 {v} 不带值"),
)


class ChineseUsageError(click.UsageError):
    """A usage error whose message and framing are Chinese; exit status 2."""

    def show(self, file: IO[Any] | None = None) -> None:
        """Print usage line, help hint and the error, in Chinese, on stderr."""
        echo = click.echo
        ctx = self.ctx
        if ctx is not None:
            pieces = " ".join(ctx.command.collect_usage_pieces(ctx))
            echo(f"用法：{ctx.command_path} {pieces}".rstrip(), file=file, err=file is None)
            help_names = ctx.help_option_names
            if ctx.command.get_help_option(ctx) is not None and help_names:
                echo(f"查看帮助：{ctx.command_path} {help_names[-1]}", file=file, err=file is None)
            echo("", file=file, err=file is None)
        echo(f"命令行有误：{self.format_message()}", file=file, err=file is None)


def chinese(exc: click.UsageError) -> ChineseUsageError:
    """``exc`` said in Chinese."""
    return ChineseUsageError(_message(exc), ctx=exc.ctx)


def _message(exc: click.UsageError) -> str:
    if isinstance(exc, click.MissingParameter):
        param = exc.param
        name = _hint(exc.param_hint, param, exc.ctx)
        if isinstance(param, click.Argument):
            return f"缺少参数 {name}"
        if isinstance(param, click.Option):
            return f"缺少选项 {name}（必须给出）"
        return f"缺少 {name}"
    if isinstance(exc, click.NoSuchOption):
        guess = f"；是否想用 {' / '.join(sorted(exc.possibilities))}？" if exc.possibilities else ""
        return f"没有这个选项：{exc.option_name}{guess}"
    if isinstance(exc, click.BadParameter):
        name = _hint(exc.param_hint, exc.param, exc.ctx)
        text = _translate(exc.message, _TYPE_MESSAGES)
        return f"{name} 的值无效：{text}" if name else f"值无效：{text}"
    return _translate(exc.message, _USAGE_MESSAGES)


def _hint(hint: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
    if hint is None and param is not None:
        hint = param.get_error_hint(ctx) if ctx is not None else param.name
    if isinstance(hint, (list, tuple)):
        hint = " / ".join(str(h) for h in hint)
    return str(hint or "").replace("'", "")


def _translate(message: str, table: tuple[tuple[re.Pattern[str], str], ...]) -> str:
    for pattern, chinese_text in table:
        found = pattern.search(message)
        if found:
            return chinese_text.format(**found.groupdict())
    return message


class ChineseGroup(click.Group):
    """A command group whose usage errors, at any depth below it, are told in Chinese."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except ChineseUsageError:
            raise
        except click.UsageError as exc:
            raise chinese(exc) from exc

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ChineseUsageError:
            raise
        except click.UsageError as exc:
            raise chinese(exc) from exc
