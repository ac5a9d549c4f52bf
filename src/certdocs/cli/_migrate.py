"""``certdocs register migrate --to postgresql://…``: move an office's register into PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import click

from certdocs.cli import _app as app
from certdocs.cli._app import register_options, reports_errors
from certdocs.cli._register import register_group
from certdocs.register import copy_register, is_postgres

TABLE_TITLES = {
    "certificates": "证书",
    "number_series": "编号系列",
    "documents": "文件记录",
    "status_history": "状态历史",
    "decisions": "认证决定",
    "archive_entries": "归档记录",
    "number_notes": "编号备注",
    "settings": "设置",
    "schema_migrations": "迁移记录",
}


@register_group.command("migrate")
@click.option("--to", "target", required=True, help="目标 PostgreSQL 数据库：postgresql://用户@主机/数据库（应为空）。")
@register_options
@reports_errors
def register_migrate(target: str, output: Path, register_path: str | None) -> None:
    """把 SQLite 登记簿复制到 PostgreSQL，逐行核对；原 SQLite 文件不作任何改动。"""
    records = app.prepare_records(output, register_path)
    if records.url is not None:
        raise click.BadParameter("应为 SQLite 登记簿文件", param_hint="--register")
    source = records.register
    if not is_postgres(target):
        raise click.BadParameter("应为 postgresql://用户@主机/数据库", param_hint="--to")
    report = copy_register(source, target)
    click.echo(f"已复制到 {report.target}，逐行核对一致：")
    for table, count in report.rows.items():
        click.echo(f"  {TABLE_TITLES.get(table, table)}（{table}）{count} 行")
    click.echo(f"原登记簿 {report.source} 未改动。以后请用 --register 或 CERTDOCS_REGISTER 指向新的数据库。")
