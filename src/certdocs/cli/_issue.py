"""Scoring and issuing: score, certificate, batch, regenerate."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from certdocs import regenerate as regeneration
from certdocs._validate import text_problem
from certdocs.audit import load_audit
from certdocs.batch import run_batch
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
from certdocs.decisions import load_meeting
from certdocs.errors import DecisionError, Problem
from certdocs.glyphcheck import check_audit_file
from certdocs.pipeline import SINGLE_DECISION, Issuer, IssueRequest
from certdocs.profile import load_profiles, profile_for_scheme
from certdocs.register import Register
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
    help="text：中文评分表；json：CONTRACT 第 3 节的 JSON 对象。",
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


@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--issue-date",
    type=click.DateTime(["%Y-%m-%d"]),
    envvar="ISSUE_DATE",
    default=None,
    help="本次发证日期 YYYY-MM-DD（默认今天）。",
)
@click.option("--decision-meeting", default=SINGLE_DECISION, show_default=True, help="认证决定（会议）名称。")
@workspace_options
@reports_errors
def certificate(
    file: Path,
    issue_date: datetime | None,
    decision_meeting: str,
    output: Path,
    register_path: str | None,
    templates: Path,
    profiles: Path | None,
    schemes: Path | None,
) -> None:
    """评分并出具一份审核结果的全部文件：证书、审核报告、打分表、审核计划及发证资料包。"""
    ws = workspace(output, register_path, templates, profiles, schemes)
    day = issue_date.date() if issue_date else app.today()
    _audit, scheme = load_audit(file, schemes_dir=schemes)  # invalid input: exit 2 before anything is written
    profile_for_scheme(scheme.id, folder=profiles)  # so is an invalid profile (a number pattern with "/")
    if rule := text_problem(decision_meeting, multiline=False):  # stored in the register, printed on documents
        raise DecisionError([Problem("--decision-meeting", rule)])
    check_audit_file(file, schemes=schemes, profiles=profiles)  # glyphs, and fields too long for the certificate
    app.check_templates_or_fail(templates, profiles)
    with app.converter() as converter, Register.open(ws.register, documents_root=ws.output) as register:
        issuer = Issuer(ws, converter=converter, register=register, today=app.today(), progress=Progress())
        (outcome,) = issuer.issue([IssueRequest(file, decision_meeting, day, day)])
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
    help="json：结束时输出 CONTRACT 第 5 节的汇总对象。",
)
@workspace_options
@reports_errors
def batch(
    decisions: Path,
    meeting: str | None,
    meeting_date: datetime | None,
    fmt: str,
    output: Path,
    register_path: str | None,
    templates: Path,
    profiles: Path | None,
    schemes: Path | None,
) -> None:
    """按认证决定会议的决定批量发证：批准的发证，不批准和暂缓的只登记。"""
    ws = workspace(output, register_path, templates, profiles, schemes)
    plan = load_meeting(decisions, meeting=meeting, meeting_date=meeting_date.date() if meeting_date else None)
    load_profiles(profiles)  # an invalid profile is invalid input: exit 2 before anything is written
    app.check_templates_or_fail(templates, profiles)
    with app.converter() as converter, Register.open(ws.register, documents_root=ws.output) as register:
        issuer = Issuer(ws, converter=converter, register=register, today=app.today(), progress=Progress())
        summary = run_batch(plan, issuer=issuer, register=register)
    if fmt == "json":
        click.echo(json.dumps(summary.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(f"{plan.name}（{chinese_date(plan.date)}）")
        click.echo(pad("审核结果", 40) + pad("结果", 12) + pad("证书编号", 20) + "等级")
        for audit, outcome, reason in summary.outcomes:
            if outcome is None:
                click.echo(pad(audit, 40) + reason)
                continue
            label = {"issued": "已发证", "unchanged": "已发证(未变)", "refused": "不予发证", "failed": "失败"}
            click.echo(pad(audit, 40) + pad(label[outcome.status], 12) + pad(outcome.number, 20) + outcome.grade)
            for error in outcome.errors if outcome.status == "failed" else ():
                click.echo(f"    {error}", err=True)
        data = summary.to_json()
        click.echo(f"发证 {len(data['issued'])}，跳过 {len(data['skipped'])}，失败 {len(data['failed'])}")
    # Exit 1 for every record the summary lists under "failed" (a refused audit too, not only
    # an outside tool's failure), as CONTRACT section 5 promises.
    if summary.to_json()["failed"]:
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
    ws = workspace(output, register_path, templates, profiles, schemes)
    today = app.today()
    app.check_templates_or_fail(templates, profiles)
    with Register.open(ws.register, documents_root=ws.output) as register:
        changes = regeneration.plan(workspace=ws, register=register, today=today)
        for change in changes:
            click.echo(f"{change.record.number}：{'、'.join(change.kinds)}（{'；'.join(change.reasons)}）")
        if not changes:
            click.echo("没有需要重新生成的文件。")
            return
        if dry_run:
            click.echo(f"共 {len(changes)} 张证书的文件需要重新生成（--dry-run，未写入）。")
            return
        with app.converter() as converter:
            issuer = Issuer(ws, converter=converter, register=register, today=today, progress=Progress())
            outcomes = regeneration.regenerate(changes, issuer=issuer)
    failed = [o for o in outcomes if o.status == "failed"]
    for outcome in failed:
        print_outcome(outcome)
    click.echo(f"已重新生成 {len(outcomes) - len(failed)} 张证书的文件，失败 {len(failed)}。")
    if failed:
        sys.exit(1)
