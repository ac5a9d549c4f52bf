"""Scoring and issuing: score, certificate, batch, regenerate."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from certdocs.audit import load_audit
from certdocs.cli import _app as app
from certdocs.cli._app import (
    Progress,
    main,
    print_outcome,
    reports_errors,
    workspace,
    workspace_options,
)
from certdocs.dates import chinese_date
from certdocs.decisions import SINGLE_DECISION, load_meeting
from certdocs.scoring import score_audit
from certdocs.textreport import pad, score_table


@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text：中文评分表；json：JSON 对象（docs/score.md）。",
)
@reports_errors
def score(file: Path, fmt: str) -> None:
    """按审核结果文件所用的评价方案评分。"""
    audit, scheme = load_audit(file)
    result = score_audit(audit, scheme)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        click.echo(score_table(result, audit, scheme))


# -- certificate ---------------------------------------------------------------------------


ALLOW_FUTURE = click.option(
    "--allow-future-date",
    is_flag=True,
    help="允许晚于今天的发证日期或会议日期（须办公室明确决定）。",
)


@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--issue-date",
    type=click.DateTime(["%Y-%m-%d"]),
    envvar="CERTDOCS_ISSUE_DATE",
    show_envvar=True,
    default=None,
    help="本次发证日期 YYYY-MM-DD（默认今天；不早于审核结束日期，不晚于今天）。",
)
@click.option("--decision-meeting", default=SINGLE_DECISION, show_default=True, help="认证决定（会议）名称。")
@ALLOW_FUTURE
@workspace_options
@reports_errors
def certificate(
    file: Path,
    issue_date: datetime | None,
    decision_meeting: str,
    allow_future_date: bool,
    output: Path,
    register_path: str | None,
    templates: Path,
    profiles: Path | None,
    schemes: Path | None,
) -> None:
    """评分并出具一份审核结果的全部文件：证书、审核报告、打分表、审核计划及发证资料包。"""
    from certdocs import issuing  # Word, PDF and LibreOffice libraries: only for the commands that issue

    outcome = issuing.issue_certificate(
        file,
        workspace=workspace(output, register_path, templates, profiles, schemes),
        today=app.today(),
        issue_date=issue_date.date() if issue_date else None,
        decision_meeting=decision_meeting,
        allow_future_date=allow_future_date,
        converter=app.converter,
        progress=Progress(),
    )
    print_outcome(outcome)
    if outcome.status in ("refused", "failed"):
        sys.exit(1)


# -- batch ---------------------------------------------------------------------------------


@main.command()
@click.argument("decisions", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--meeting", default=None, help="会议名称（CSV/XLSX 必填）。")
@click.option("--meeting-date", type=click.DateTime(["%Y-%m-%d"]), default=None, help="会议日期（CSV/XLSX 必填）。")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json：结束时输出汇总对象（docs/decisions.md）。",
)
@ALLOW_FUTURE
@workspace_options
@reports_errors
def batch(
    decisions: Path,
    meeting: str | None,
    meeting_date: datetime | None,
    fmt: str,
    allow_future_date: bool,
    output: Path,
    register_path: str | None,
    templates: Path,
    profiles: Path | None,
    schemes: Path | None,
) -> None:
    """按认证决定会议的决定批量发证：批准的发证，不批准和暂缓的只登记。"""
    from certdocs import issuing

    plan = load_meeting(decisions, meeting=meeting, meeting_date=meeting_date.date() if meeting_date else None)
    summary = issuing.issue_batch(
        plan,
        workspace=workspace(output, register_path, templates, profiles, schemes),
        today=app.today(),
        allow_future_date=allow_future_date,
        converter=app.converter,
        progress=Progress(),
    )
    if fmt == "json":
        click.echo(json.dumps(summary.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(f"{plan.name}（{chinese_date(plan.date)}）")
        click.echo(pad("审核结果", 40) + pad("结果", 12) + pad("证书编号", 20) + "等级")
        for row in summary.rows:
            outcome = row.outcome
            if outcome is None:
                click.echo(pad(row.audit, 40) + row.reason)
                continue
            label = {"issued": "已发证", "unchanged": "已发证(未变)", "refused": "不予发证", "failed": "失败"}
            click.echo(pad(row.audit, 40) + pad(label[outcome.status], 12) + pad(outcome.number, 20) + outcome.grade)
            for error in outcome.errors if outcome.status == "failed" else ():
                click.echo(f"    {error}", err=True)
        data = summary.to_json()
        click.echo(f"发证 {len(data['issued'])}，跳过 {len(data['skipped'])}，失败 {len(data['failed'])}")
    for action in summary.actions:
        click.echo(f"须处理：{action.why}；请作出撤销决定后执行 {action.command}", err=True)
    if summary.failed:
        sys.exit(1)


# -- regenerate ----------------------------------------------------------------------------


@main.command()
@click.option("--dry-run", is_flag=True, help="只报告将重新生成哪些文件及原因，不写任何文件。")
@workspace_options
@reports_errors
def regenerate(
    dry_run: bool,
    output: Path,
    register_path: str | None,
    templates: Path,
    profiles: Path | None,
    schemes: Path | None,
) -> None:
    """重新生成模板、认证机构配置、评价方案或审核结果有改动的已发证文件（证书编号和日期不变）。"""
    from certdocs import issuing

    result = issuing.regenerate_documents(
        workspace=workspace(output, register_path, templates, profiles, schemes),
        today=app.today(),
        dry_run=dry_run,
        converter=app.converter,
        progress=Progress(),
    )
    for change in result.changes:
        click.echo(f"{change.record.number}：{'、'.join(change.kinds)}（{'；'.join(change.reasons)}）")
    if not result.changes:
        click.echo("没有需要重新生成的文件。")
        return
    if dry_run:
        click.echo(f"共 {len(result.changes)} 张证书的文件需要重新生成（--dry-run，未写入）。")
        return
    for outcome in result.failed:
        print_outcome(outcome)
    click.echo(f"已重新生成 {len(result.outcomes) - len(result.failed)} 张证书的文件，失败 {len(result.failed)}。")
    if result.failed:
        sys.exit(1)
