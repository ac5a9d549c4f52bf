"""The ``certdocs`` group and what its commands share: options, error reporting, progress, the clock.

Errors become Chinese messages on stderr and exit codes: 2 invalid input or usage, 1 some
records of a batch failed (or an outside tool failed).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from datetime import date
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.core import ParameterSource

from certdocs import __version__, _clock
from certdocs._validate import printable
from certdocs.cli._usage import ChineseGroup
from certdocs.convert import LibreOfficeConverter
from certdocs.errors import CertdocsError, TemplateError
from certdocs.profile import DOCUMENT_TITLES
from certdocs.records import Records, exposed, locate, move_from_output, output_for
from certdocs.register import Register, register_location
from certdocs.textreport import pad

if TYPE_CHECKING:
    from certdocs.pipeline import Outcome, Workspace

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


@click.group(cls=ChineseGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="certdocs", message="%(prog)s %(version)s", help="显示版本号并退出。")
def main() -> None:
    """售后服务成熟度认证文件流水线：评分、出具文件、批量发证、监督、归档。"""


# -- shared options ------------------------------------------------------------------------


_RECORDS = "certdocs.records"


def _keep_records_folder(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    # Kept in ctx.meta, not passed to the command: every command taking the register options
    # gets --records without a new parameter of its own.
    if value is not None:
        ctx.meta[_RECORDS] = value


RECORDS_OPTION = click.option(
    "--records",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="CERTDOCS_RECORDS",
    default=None,
    expose_value=False,
    is_eager=True,
    callback=_keep_records_folder,
    help="证书记录文件夹（登记簿与归档，清理输出时不受影响），默认 records/。",
)

_REGISTER_HELP = (
    "证书登记簿：SQLite 文件（默认 <记录文件夹>/register.sqlite3），"
    "或多台计算机共用的 PostgreSQL 数据库 postgresql://用户@主机/数据库。"
)


REGISTER_OPTIONS = [
    click.option(
        "--output",
        type=click.Path(path_type=Path, file_okay=False),
        envvar="CERTDOCS_OUTPUT",
        default=Path("output"),
        help="输出文件夹（默认为登记簿记录的输出文件夹，初次为 output/）。",
    ),
    RECORDS_OPTION,
    click.option(
        "--register",
        "register_path",
        type=str,
        envvar="CERTDOCS_REGISTER",
        default=None,
        help=_REGISTER_HELP,
    ),
]


ARCHIVE_ROOT_OPTION = click.option(
    "--archive-root",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="CERTDOCS_ARCHIVE",
    default=None,
    help="归档文件夹（默认 <记录文件夹>/archive）。",
)

TRUST_ROOT_OPTION = click.option(
    "--trust-root",
    "trust_roots",
    multiple=True,
    type=click.Path(path_type=Path, exists=True),
    help="可信根证书（PEM/DER），复核数字签名用；可多次给出。",
)


def workspace_options(func: F) -> F:
    """--output, --records, --register, --templates, --profiles, --schemes (with environment defaults)."""
    options = [
        *REGISTER_OPTIONS,
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
    output: Path, register_path: str | None, templates: Path, profiles: Path | None, schemes: Path | None
) -> Workspace:
    """Where an issuing command works: the records' register, and the output folder it remembers.

    An ``--output`` that differs from the folder the register remembers is refused. A register
    that does not exist yet is not created here (invalid input writes nothing): the output
    folder is remembered when the command ends, if the register then exists.
    """
    from certdocs.pipeline import Workspace  # the issuing libraries: only for a command that issues

    records = prepare_records(output, register_path)
    given = given_output(output)
    if records.url is not None:
        # A shared register: each computer mounts the shared output folder at its own place,
        # so the folder given here (or output/) is used, never one another computer recorded.
        output = given or output
    elif records.register.exists():
        with Register.open(records.register) as register:
            output = output_for(register, records, given=given)
    else:
        ctx = click.get_current_context(silent=True)
        if ctx is not None:
            ctx.call_on_close(lambda: _remember_if_made(records, output))
    warning = exposed(records, output)
    if warning:
        click.echo(warning, err=True)
    return Workspace(output=output, register=records.location, templates=templates, profiles=profiles, schemes=schemes)


def _remember_if_made(records: Records, output: Path) -> None:
    if records.url is None and records.register.exists():
        with contextlib.suppress(CertdocsError), Register.open(records.register) as register:
            output_for(register, records, given=output)


def current_records(register_path: str | Path | None, archive_root: Path | None = None) -> Records:
    """The records this command uses: --records / CERTDOCS_RECORDS, --register, --archive-root."""
    ctx = click.get_current_context(silent=True)
    folder = ctx.meta.get(_RECORDS) if ctx is not None else None
    register = register_location(register_path) if register_path else None
    return locate(folder=folder, register=register, archive=archive_root)


def given_output(output: Path) -> Path | None:
    """``output`` when the office gave it (option or environment), None for the default."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return output
    source = ctx.get_parameter_source("output")
    return None if source in (None, ParameterSource.DEFAULT) else output


def prepare_records(output: Path, register_path: str | Path | None, archive_root: Path | None = None) -> Records:
    """The records, after moving an older office's register and archive out of ``output``."""
    records = current_records(register_path, archive_root)
    moved = move_from_output(records, output=output)
    if moved is not None:
        click.echo(moved.message(), err=True)
    return records


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
    """Today's date in Beijing (:mod:`certdocs._clock`); the commands' one call to it, replaced in tests."""
    return _clock.today()


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
        click.echo(f"失败：{printable(str(outcome.audit_path))}", err=True)
        for error in outcome.errors:
            click.echo(f"  {error}", err=True)


def open_register(output: Path, register_path: str | None) -> Register:
    """The register of the records folder (or the one given with --register)."""
    return Register.open(prepare_records(output, register_path).location, documents_root=output)


def register_options(func: F) -> F:
    """--output, --records and --register."""
    for option in reversed(REGISTER_OPTIONS):
        func = option(func)
    return func


def check_templates_or_fail(folder: Path, profiles: Path | None = None) -> None:
    from certdocs.templatecheck import check_templates

    problems = check_templates(folder, profiles=profiles)
    if problems:
        raise TemplateError(problems, source=str(folder))
