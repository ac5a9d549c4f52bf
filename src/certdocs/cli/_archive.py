"""Templates, signing and the archive: templates check, sign, archive, archive verify."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from certdocs.cli import _app as app
from certdocs.cli._app import (
    ARCHIVE_ROOT_OPTION,
    REGISTER_OPTIONS,
    TRUST_ROOT_OPTION,
    F,
    main,
    reports_errors,
)
from certdocs.cli._usage import ChineseGroup
from certdocs.errors import ArchiveError
from certdocs.register import Register

# -- templates -----------------------------------------------------------------------------


@main.group("templates")
def templates_group() -> None:
    """Word 模板：检查。"""


@templates_group.command("check")
@click.option(
    "--templates",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="CERTDOCS_TEMPLATES",
    default=Path("templates"),
    show_default=True,
    help="Word 模板文件夹。",
)
@reports_errors
def templates_check(templates: Path) -> None:
    """打开每个模板，一次报告全部问题：Jinja 语法、被 Word 拆开或改成弯引号的标签、{%tr %}/{%p %} 不成对、
    文档上下文没有的变量、缺失的图片或字体。"""
    app.check_templates_or_fail(templates)
    click.echo(f"模板检查通过：{templates}")


# -- sign ----------------------------------------------------------------------------------


@main.command()
@click.argument("pdf", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--pkcs12",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    required=True,
    help="认证机构的数字证书（PKCS#12，.p12/.pfx）。",
)
@click.option(
    "--passphrase-env",
    default="CERTDOCS_P12_PASSPHRASE",
    show_default=True,
    help="存放证书口令的环境变量名（口令不出现在命令行上）。",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="签名后的文件（默认 <原文件名>-signed.pdf）。",
)
@click.option("--reason", default="认证证书签发", show_default=True, help="签名理由。")
@click.option("--visible/--invisible", default=False, help="在末页右下角加可见签名框（中文）。")
@click.option(
    "--signer-text",
    default="",
    help="可见签名框的文字，可含 %(ts)s（签发时间）；默认：认证机构名称 + 签发时间（北京时间）。",
)
@reports_errors
def sign(
    pdf: Path, pkcs12: Path, passphrase_env: str, out: Path | None, reason: str, visible: bool, signer_text: str
) -> None:
    """以认证机构的数字证书对 PDF 加 PAdES 签名（签名是对文件的最后一次改动）。"""
    from certdocs.sign import VisibleBox, sign_pdf

    secret = os.environ.get(passphrase_env)
    # No --signer-text: the box shows the body's name and the signing time, as --help says.
    box = VisibleBox(left_mm=120, top_mm=240, width_mm=70, height_mm=22, text=signer_text) if visible else None
    target = out or pdf.with_name(f"{pdf.stem}-signed.pdf")
    sign_pdf(
        pdf,
        out=target,
        pkcs12=pkcs12,
        passphrase=secret.encode("utf-8") if secret else None,
        reason=reason,
        visible=box,
    )
    click.echo(f"已签名：{target}")


# -- archive -------------------------------------------------------------------------------


class _ArchiveGroup(ChineseGroup):
    """``certdocs archive FILES…`` archives; ``certdocs archive verify`` checks the archive."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands:
            return "add", self.commands["add"], args
        return super().resolve_command(ctx, args)


def _archive_options(func: F) -> F:
    for option in reversed([ARCHIVE_ROOT_OPTION, TRUST_ROOT_OPTION, *REGISTER_OPTIONS]):
        func = option(func)
    return func


@main.group("archive", cls=_ArchiveGroup, invoke_without_command=False)
def archive_group() -> None:
    """归档已签名的 PDF（数字签名或手签盖章后扫描）为只写一次的 BagIt 包；archive verify 复核全部归档。"""


@archive_group.command("add", hidden=True)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--supersede", "supersede_reason", default=None, help="同一文件已归档时，写明理由以另存新版本（旧版本保留）。"
)
@_archive_options
@reports_errors
def archive_add(
    files: tuple[Path, ...],
    supersede_reason: str | None,
    archive_root: Path | None,
    trust_roots: tuple[Path, ...],
    output: Path,
    register_path: str | None,
) -> None:
    """归档已签名的 PDF。"""
    from certdocs.archive import archive_files, refusals

    records = app.prepare_records(output, register_path, archive_root)
    with Register.open(records.location) as register:
        results = archive_files(
            list(files),
            register=register,
            archive_root=records.archive,
            today=app.today(),
            supersede_reason=supersede_reason,
            trust_roots=list(trust_roots),
        )
    for r in results:
        if r.status == "archived":
            how = "数字签名" if r.signature == "digital" else "扫描件"
            again = "（已归档，未重复写入）" if r.already_archived else ""
            click.echo(f"已归档：{r.path} → 证书 {r.number} {r.kind}（{how}）{r.bag}{again}")
    refused = refusals(results)
    if refused is not None:
        click.echo(refused.render(), err=True)
        sys.exit(1)


@archive_group.command("verify")
@_archive_options
@reports_errors
def archive_verify(
    archive_root: Path | None, trust_roots: tuple[Path, ...], output: Path, register_path: str | None
) -> None:
    """复核每个归档包、每个数字签名，报告任何改动或缺失。"""
    from certdocs.archive import verify_archive

    records = app.prepare_records(output, register_path, archive_root)
    with Register.open(records.location) as register:
        problems = verify_archive(records.archive, register=register, trust_roots=list(trust_roots))
        numbers = sorted({d.number for d in register.all_documents()})
        entries = [e for n in numbers for e in register.archive_entries(n) if not e.superseded]
    for e in entries:
        click.echo(f"证书 {e.number} {e.kind}：{records.archive / e.bag_path}（{e.archived_at:%Y-%m-%d}）")
    if problems:
        raise ArchiveError(problems, source=str(records.archive))
    click.echo(f"归档完好：{len(entries)} 个归档包与签名均未改动。")
