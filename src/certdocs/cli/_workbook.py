"""The auditor's workbook: make one (blank or from an audit result), import a filled one."""

from __future__ import annotations

from pathlib import Path

import click

from certdocs.cli._app import main, reports_errors
from certdocs.scoring import score_audit


@main.command()
@click.argument("scheme")
@click.option(
    "--output", "-o", type=click.Path(path_type=Path, dir_okay=False), required=True, help="输出的工作簿（.xlsx）。"
)
@click.option(
    "--from",
    "source",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="用已有的审核结果（.json 或 .xlsx）预先填写（监督、再认证审核）。",
)
@click.option(
    "--schemes",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="CERTDOCS_SCHEMES",
    default=None,
    help="额外评价方案文件夹（<方案编号>.json）。",
)
@reports_errors
def workbook(scheme: str, output: Path, source: Path | None, schemes: Path | None) -> None:
    """生成审核员现场打分用的 Excel/WPS 工作簿（带实时得分与等级）。"""
    from certdocs.workbook import make_workbook

    made = make_workbook(scheme, output=output, source=source, schemes_dir=schemes)
    click.echo(f"已生成审核工作簿：{output}（{made.standard_full}）")


@main.command(name="import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--output", "-o", type=click.Path(path_type=Path, dir_okay=False), required=True, help="输出的审核结果（.json）。"
)
@click.option("--scheme", default=None, help="只接受此评价方案的工作簿。")
@click.option(
    "--schemes",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="CERTDOCS_SCHEMES",
    default=None,
    help="额外评价方案文件夹（<方案编号>.json）。",
)
@reports_errors
def import_(file: Path, output: Path, scheme: str | None, schemes: Path | None) -> None:
    """读取填好的审核工作簿，完整校验后写出审核结果 JSON（有任何问题则不写出）。"""
    from certdocs.scheme import get_scheme
    from certdocs.workbook import import_workbook

    audit = import_workbook(file, output=output, schemes_dir=schemes, scheme_id=scheme)
    result = score_audit(audit, get_scheme(audit.scheme_id, extra_dir=schemes))
    figure = "" if result.score is None else f"{result.score} 分，"
    click.echo(f"已导入：{output}（{figure}{result.grade}）")
