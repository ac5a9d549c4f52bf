"""The command line in Chinese: click's usage errors and help pages, said again for office staff.

click raises :class:`click.UsageError` and its kinds (a missing argument, an unknown option, a
value its type refuses) with English text. :class:`ChineseGroup` catches them where the whole
command line is parsed and raises the same error again with Chinese text; click then prints it
and exits 2 as usual. Its help pages (``-h``/``--help``) have Chinese headings, usage line and
option notes (default, environment variable, required) through :class:`ChineseHelpFormatter`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any

import click
from click.exceptions import NoArgsIsHelpError

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


_HEADINGS = {"Options": "选项", "Commands": "命令", "Positional arguments": "参数"}
_OWN_HELP = {"Show this message and exit.": "显示本帮助并退出。", "Show the version and exit.": "显示版本号并退出。"}
# What click appends to an option's help: "  [env var: X; default: Y; required]".
_NOTES = re.compile(r"(?P<space>\s*)\[(?P<items>[^\[\]]*)\]$")
_NOTE_NAMES = (("env var: ", "环境变量："), ("default: ", "默认："))
# The kind of value an option takes, as click names it after the option ("--output DIRECTORY").
_VALUE_KINDS = {
    "TEXT": "文字",
    "DIRECTORY": "文件夹",
    "FILE": "文件",
    "PATH": "路径",
    "INTEGER": "整数",
    "[%Y-%m-%d]": "YYYY-MM-DD",
    "INTEGER RANGE": "整数",
}
# Made from _VALUE_KINDS, the longest first ("INTEGER RANGE" before "INTEGER").
_KIND = re.compile(f" (?P<kind>{'|'.join(map(re.escape, sorted(_VALUE_KINDS, key=len, reverse=True)))})$")


def chinese_help(text: str) -> str:
    """An option's or command's help text with click's own English (its notes, its help options) in Chinese."""
    text = _OWN_HELP.get(text, text)
    found = _NOTES.search(text)
    if found is None:
        return text
    items = [_note(item) for item in found["items"].split("; ")]
    return f"{text[: found.start()]}{found['space']}[{'；'.join(items)}]"


def _term(term: str) -> str:
    """An option as listed (``--output DIRECTORY``), the kind of its value in Chinese."""
    found = _KIND.search(term)
    if found is None or not term.startswith("-"):
        return term
    return f"{term[: found.start()]} {_VALUE_KINDS[found['kind']]}"


def _note(item: str) -> str:
    if item == "required":
        return "必填"
    for english, chinese_name in _NOTE_NAMES:
        if item.startswith(english):
            return chinese_name + item[len(english) :]
    return item


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: two for a wide (Chinese) character, one for the others."""
    if text.isascii():  # no ASCII character is wide: the common case, without a lookup per character
        return len(text)
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


# A wide character is a piece of its own; other characters go in runs up to a space, but for
# closing punctuation starting a run (">/register.sqlite3"), which may not start a line.
_PIECES = re.compile(r"\s+|[)\]>,.;:!?](?=[^\s\u1100-\uffff])|[^\s\u1100-\uffff]+|.", re.DOTALL)
_NO_LINE_START = frozenset("，。、；：！？）》」』】”’,.;:!?)]>")
_NO_LINE_END = frozenset("（《「『【“‘([<")


def wrap_by_width(text: str, width: int) -> list[str]:
    """``text`` (one paragraph) in lines of at most ``width`` columns.

    Lines break between Chinese characters or at spaces. Closing punctuation never starts a
    line (one such character may hang past the end; more take the character before them onto
    the next line), and opening punctuation never ends one.
    """
    lines: list[list[str]] = [[]]
    used = 0  # the display width of the last line, kept as pieces are added rather than measured again
    for piece in _PIECES.findall(" ".join(text.split())):
        line = lines[-1]
        if piece.isspace():
            if line:
                line.append(" ")
                used += 1
            continue
        piece_width = display_width(piece)
        if not line or used + piece_width <= width or (piece in _NO_LINE_START and used <= width):
            line.append(piece)
            used += piece_width
            continue
        following = [piece]
        while len(line) > 1 and (
            line[-1].isspace() or line[-1][-1] in _NO_LINE_END or following[0][0] in _NO_LINE_START
        ):
            moved = line.pop()
            if not moved.isspace():
                following.insert(0, moved)
        lines.append(following)
        used = sum(map(display_width, following))
    return ["".join(line).strip() for line in lines]


class ChineseHelpFormatter(click.HelpFormatter):
    """click's help page layout with Chinese usage line, headings and option notes."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        """The usage line, headed 用法：."""
        super().write_usage(prog, args, prefix="用法：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        """A section heading (选项, 命令), with a full-width colon."""
        self.write(f"{'':>{self.current_indent}}{_HEADINGS.get(heading, heading)}：\n")

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        """A section under a Chinese heading."""
        with super().section(_HEADINGS.get(name, name)):
            yield

    def write_text(self, text: str) -> None:
        """A paragraph of help (a command's description), wrapped by display width."""
        indent = " " * self.current_indent
        width = max(self.width - self.current_indent, 20)
        for number, paragraph in enumerate(p for p in re.split(r"\n\s*\n", text) if p.strip()):
            if number:
                self.write("\n")
            if paragraph.lstrip().startswith("\b"):  # click's mark: keep these lines as written
                lines = [line.strip() for line in paragraph.lstrip()[1:].splitlines() if line.strip()]
            else:
                lines = wrap_by_width(paragraph, width)
            self.write("".join(f"{indent}{line}\n" for line in lines))

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        """Options or commands and their help in two columns, click's own notes in Chinese.

        click measures text in characters; a Chinese character takes two columns of a terminal,
        so the columns are laid out and the help wrapped by display width here.
        """
        rows = [(_term(term), chinese_help(text)) for term, text in rows]
        first = min(max((display_width(term) for term, _ in rows), default=0), col_max) + col_spacing
        indent = " " * self.current_indent
        for term, text in rows:
            self.write(f"{indent}{term}")
            if not text:
                self.write("\n")
                continue
            gap = first - display_width(term)
            self.write(" " * gap if gap >= col_spacing else "\n" + indent + " " * first)
            lines = wrap_by_width(text, max(self.width - self.current_indent - first, 20))
            self.write(f"{lines[0]}\n")
            for line in lines[1:]:
                self.write(f"{indent}{' ' * first}{line}\n")


class ChineseContext(click.Context):
    """A context whose help pages are written by :class:`ChineseHelpFormatter`."""

    formatter_class = ChineseHelpFormatter


class ChineseCommand(click.Command):
    """A command with a Chinese help page and usage line."""

    context_class = ChineseContext

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        super().__init__(*args, **kwargs)


class Interrupted(click.ClickException):
    """Ctrl+C (or end of input where a command asked for some), told in Chinese; exit status 1 as click's own."""

    def __init__(self) -> None:
        super().__init__("已中止（Ctrl+C）。写到一半的文件不会留下。")

    def show(self, file: IO[Any] | None = None) -> None:
        """Print the message alone on stderr (click would put "Aborted!" or "Error:" in front)."""
        click.echo(f"\n{self.message}", file=file, err=file is None)


class ChineseGroup(click.Group):
    """A command group whose usage errors, at any depth below it, are told in Chinese.

    Its commands and groups (``@group.command()``, ``@group.group()``) have Chinese help pages.
    """

    context_class = ChineseContext
    command_class = ChineseCommand
    group_class = type  # subgroups are of the class of their parent

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        kwargs.setdefault("subcommand_metavar", "命令 [参数]...")
        super().__init__(*args, **kwargs)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands and their first paragraph of help, wrapped, not cut.

        click cuts a command's help at a width it counts in characters and at the first word
        ending in "."; a Chinese sentence is one such "word", often cut down to "...".
        """
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1 << 16)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except (ChineseUsageError, NoArgsIsHelpError):  # the latter shows the (Chinese) help page
            raise
        except click.UsageError as exc:
            raise chinese(exc) from exc

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ChineseUsageError, NoArgsIsHelpError):  # the latter shows the (Chinese) help page
            raise
        except click.UsageError as exc:
            raise chinese(exc) from exc
        except (KeyboardInterrupt, EOFError, click.exceptions.Abort) as exc:
            raise Interrupted() from exc
