"""The ``certdocs`` group and what its commands share: options, error reporting, progress, the clock.

Errors become Chinese messages on stderr and exit codes: 2 invalid input or usage, 1 some
records of a batch failed (or an outside tool failed).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from certdocs import __version__
from certdocs.convert import LibreOfficeConverter
from certdocs.errors import CertdocsError, TemplateError
from certdocs.pipeline import Outcome, Workspace
from certdocs.profile import DOCUMENT_TITLES
from certdocs.register import Register
from certdocs.textreport import pad

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(func: F) -> F:
    """Turn CertdocsError into its Chinese message and exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CertdocsError as exc:
            click.echo(exc.render(), err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="certdocs")
def main() -> None:
    """售后服务成熟度认证文件流水线：评分、出具文件、批量发证、监督、归档。"""


# -- shared options ------------------------------------------------------------------------


def workspace_options(func: F) -> F:
    """--output, --register, --templates, --profiles, --schemes (with environment defaults)."""
    options = [
        click.option(
            "--output",
            type=click.Path(path_type=Path, file_okay=False),
            envvar="CERTDOCS_OUTPUT",
            default=Path("output"),
            show_default=True,
            help="输出文件夹。",
        ),
        click.option(
            "--register",
            "register_path",
            type=click.Path(path_type=Path, dir_okay=False),
            envvar="CERTDOCS_REGISTER",
            default=None,
            help="证书登记簿（SQLite），默认 <输出文件夹>/register.sqlite3。",
        ),
        click.option(
            "--templates",
            type=click.Path(path_type=Path, file_okay=False),
            envvar="CERTDOCS_TEMPLATES",
            default=Path("templates"),
            show_default=True,
            help="Word 模板文件夹。",
        ),
        click.option(
            "--profiles",
            type=click.Path(path_type=Path, file_okay=False),
            envvar="CERTDOCS_PROFILES",
            default=None,
            help="认证机构配置文件夹（默认使用内置配置）。",
        ),
        click.option(
            "--schemes",
            type=click.Path(path_type=Path, file_okay=False),
            envvar="CERTDOCS_SCHEMES",
            default=None,
            help="额外评价方案文件夹（<方案编号>.json）。",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def workspace(
    output: Path, register_path: Path | None, templates: Path, profiles: Path | None, schemes: Path | None
) -> Workspace:
    return Workspace(
        output=output,
        register=register_path or output / "register.sqlite3",
        templates=templates,
        profiles=profiles,
        schemes=schemes,
    )


class Progress:
    """A one-line progress bar on stderr when it is a terminal; silent otherwise."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        width = 30
        filled = width * done // max(total, 1)
        bar = "█" * filled + "░" * (width - filled)
        end = "\n" if stage == "完成" else ""
        click.echo(f"\r{bar} {done}/{total} {stage}\033[K", err=True, nl=False)
        if end:
            click.echo("", err=True)


def today() -> date:
    """Today's date (the one place the commands read the clock)."""
    return date.today()


def converter() -> LibreOfficeConverter:
    """The converter the commands use: LibreOffice."""
    return LibreOfficeConverter()


def print_outcome(outcome: Outcome) -> None:
    if outcome.status in ("issued", "unchanged"):
        head = "已发证" if outcome.status == "issued" else "已发证（输入未变，未重新生成）"
        click.echo(f"{head}：证书编号 {outcome.number}，{outcome.grade}")
        for kind, path in outcome.documents.items():
            click.echo(f"  {pad(DOCUMENT_TITLES[kind], 12)}{path}")
        click.echo(f"  {pad('发证资料包', 12)}{outcome.issue_pack}")
        if outcome.folder is not None:
            click.echo(f"  {pad('Word 文件', 12)}{outcome.folder}/*.docx")
    elif outcome.status == "refused":
        click.echo(f"不予发证：{outcome.errors[0]}")
        for kind, path in outcome.documents.items():
            click.echo(f"  {pad(DOCUMENT_TITLES[kind], 12)}{path}")
    else:
        click.echo(f"失败：{outcome.audit_path}", err=True)
        for error in outcome.errors:
            click.echo(f"  {error}", err=True)


def open_register(output: Path, register_path: Path | None) -> Register:
    """The register given with --register, else the one in the output folder."""
    return Register.open(register_path or output / "register.sqlite3")


REGISTER_OPTIONS = [
    click.option(
        "--output",
        type=click.Path(path_type=Path, file_okay=False),
        envvar="CERTDOCS_OUTPUT",
        default=Path("output"),
        show_default=True,
        help="输出文件夹。",
    ),
    click.option(
        "--register",
        "register_path",
        type=click.Path(path_type=Path, dir_okay=False),
        envvar="CERTDOCS_REGISTER",
        default=None,
        help="证书登记簿路径。",
    ),
]


def register_options(func: F) -> F:
    """--output and --register."""
    for option in reversed(REGISTER_OPTIONS):
        func = option(func)
    return func


def check_templates_or_fail(folder: Path, profiles: Path | None = None) -> None:
    from certdocs.templatecheck import check_templates

    problems = check_templates(folder, profiles=profiles)
    if problems:
        raise TemplateError(problems, source=str(folder))
