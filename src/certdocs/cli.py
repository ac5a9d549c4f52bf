"""The ``certdocs`` command: parses arguments, calls one library function, prints.

Errors become Chinese messages on stderr and exit codes: 2 invalid input or usage, 1 some
records of a batch failed (or an outside tool failed).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import date, datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from certdocs import __version__
from certdocs import regenerate as regeneration
from certdocs.audit import load_audit
from certdocs.batch import run_batch
from certdocs.convert import LibreOfficeConverter
from certdocs.dates import chinese_date, format_days
from certdocs.decisions import load_meeting
from certdocs.errors import ArchiveError, CertdocsError, TemplateError
from certdocs.pipeline import SINGLE_DECISION, Issuer, IssueRequest, Outcome, Workspace
from certdocs.profile import DOCUMENT_TITLES
from certdocs.register import Register, Status
from certdocs.scoring import score_audit
from certdocs.surveillance import due_list, write_notices
from certdocs.textreport import pad, score_table

F = TypeVar("F", bound=Callable[..., Any])


def _reports_errors(func: F) -> F:
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


@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text：中文评分表；json：CONTRACT 第 3 节的 JSON 对象。")
@_reports_errors
def score(file: Path, fmt: str) -> None:
    """按审核结果文件所用的评价方案评分。"""
    audit, scheme = load_audit(file)
    result = score_audit(audit, scheme)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        click.echo(score_table(result, audit, scheme))


# -- shared options ------------------------------------------------------------------------

def _workspace_options(func: F) -> F:
    """--output, --register, --templates, --profiles, --schemes (with environment defaults)."""
    options = [
        click.option("--output", type=click.Path(path_type=Path, file_okay=False), envvar="CERTDOCS_OUTPUT",
                     default=Path("output"), show_default=True, help="输出文件夹。"),
        click.option("--register", "register_path", type=click.Path(path_type=Path, dir_okay=False),
                     envvar="CERTDOCS_REGISTER", default=None,
                     help="证书登记簿（SQLite），默认 <输出文件夹>/register.sqlite3。"),
        click.option("--templates", type=click.Path(path_type=Path, file_okay=False), envvar="CERTDOCS_TEMPLATES",
                     default=Path("templates"), show_default=True, help="Word 模板文件夹。"),
        click.option("--profiles", type=click.Path(path_type=Path, file_okay=False), envvar="CERTDOCS_PROFILES",
                     default=None, help="认证机构配置文件夹（默认使用内置配置）。"),
        click.option("--schemes", type=click.Path(path_type=Path, file_okay=False), envvar="CERTDOCS_SCHEMES",
                     default=None, help="额外评价方案文件夹（<方案编号>.json）。"),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _workspace(output: Path, register_path: Path | None, templates: Path, profiles: Path | None,
               schemes: Path | None) -> Workspace:
    return Workspace(output=output, register=register_path or output / "register.sqlite3",
                     templates=templates, profiles=profiles, schemes=schemes)


class _Progress:
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


def _today() -> date:
    return date.today()


def _print_outcome(outcome: Outcome) -> None:
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


# -- certificate ---------------------------------------------------------------------------

@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--issue-date", type=click.DateTime(["%Y-%m-%d"]), envvar="ISSUE_DATE", default=None,
              help="本次发证日期 YYYY-MM-DD（默认今天）。")
@click.option("--decision-meeting", default=SINGLE_DECISION, show_default=True, help="认证决定（会议）名称。")
@_workspace_options
@_reports_errors
def certificate(file: Path, issue_date: datetime | None, decision_meeting: str, output: Path,
                register_path: Path | None, templates: Path, profiles: Path | None, schemes: Path | None) -> None:
    """评分并出具一份审核结果的全部文件：证书、审核报告、打分表、审核计划及发证资料包。"""
    ws = _workspace(output, register_path, templates, profiles, schemes)
    day = issue_date.date() if issue_date else _today()
    load_audit(file, schemes_dir=schemes)  # invalid input: exit 2 before anything is written
    _check_templates_or_fail(templates)
    with LibreOfficeConverter() as converter, Register.open(ws.register) as register:
        issuer = Issuer(ws, converter=converter, register=register, today=_today(), progress=_Progress())
        (outcome,) = issuer.issue([IssueRequest(file, decision_meeting, day, day)])
    _print_outcome(outcome)
    if outcome.status in ("refused", "failed"):
        sys.exit(1)


# -- batch ---------------------------------------------------------------------------------

@main.command()
@click.argument("decisions", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--meeting", default=None, help="会议名称（CSV/XLSX 必填）。")
@click.option("--meeting-date", type=click.DateTime(["%Y-%m-%d"]), default=None, help="会议日期（CSV/XLSX 必填）。")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json：结束时输出 CONTRACT 第 5 节的汇总对象。")
@_workspace_options
@_reports_errors
def batch(decisions: Path, meeting: str | None, meeting_date: datetime | None, fmt: str, output: Path,
          register_path: Path | None, templates: Path, profiles: Path | None, schemes: Path | None) -> None:
    """按认证决定会议的决定批量发证：批准的发证，不批准和暂缓的只登记。"""
    ws = _workspace(output, register_path, templates, profiles, schemes)
    plan = load_meeting(decisions, meeting=meeting, meeting_date=meeting_date.date() if meeting_date else None)
    _check_templates_or_fail(templates)
    with LibreOfficeConverter() as converter, Register.open(ws.register) as register:
        issuer = Issuer(ws, converter=converter, register=register, today=_today(), progress=_Progress())
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
    if summary.failed:
        sys.exit(1)


# -- register ------------------------------------------------------------------------------

@main.group("register")
def register_group() -> None:
    """证书登记簿：查询与状态变更（暂停、恢复、撤销、注销）。"""


def _open_register(output: Path, register_path: Path | None) -> Register:
    return Register.open(register_path or output / "register.sqlite3")


_REGISTER_OPTIONS = [
    click.option("--output", type=click.Path(path_type=Path, file_okay=False), envvar="CERTDOCS_OUTPUT",
                 default=Path("output"), show_default=True, help="输出文件夹。"),
    click.option("--register", "register_path", type=click.Path(path_type=Path, dir_okay=False),
                 envvar="CERTDOCS_REGISTER", default=None, help="证书登记簿路径。"),
]


def _register_options(func: F) -> F:
    for option in reversed(_REGISTER_OPTIONS):
        func = option(func)
    return func


@register_group.command("list")
@click.option("--status", type=click.Choice([s.value for s in Status]), default=None, help="只列出该状态。")
@_register_options
@_reports_errors
def register_list(status: str | None, output: Path, register_path: Path | None) -> None:
    """列出登记簿中的证书。"""
    with _open_register(output, register_path) as register:
        records = register.list(status=status, today=_today())
    click.echo(pad("证书编号", 20) + pad("组织", 36) + pad("等级", 10) + pad("有效期至", 14) + "状态")
    for r in records:
        click.echo(pad(r.number, 20) + pad(r.organization_name, 36) + pad(r.grade, 10)
                   + pad(r.valid_until.isoformat(), 14) + (r.status or ""))
    click.echo(f"共 {len(records)} 张证书")


@register_group.command("show")
@click.argument("number")
@_register_options
@_reports_errors
def register_show(number: str, output: Path, register_path: Path | None) -> None:
    """显示一张证书的登记信息、文件和状态历史。"""
    with _open_register(output, register_path) as register:
        r = register.get(number, today=_today())
    rows = [("证书编号", r.number), ("组织", r.organization_name), ("统一社会信用代码", r.uscc),
            ("评价方案", r.scheme), ("等级", r.grade), ("得分", str(r.score or "")),
            ("首次发证日期", chinese_date(r.first_issue_date)), ("本次发证日期", chinese_date(r.issue_date)),
            ("有效期至", chinese_date(r.valid_until)), ("状态", r.status or "编号已预留"),
            ("认证决定", f"{r.decision_meeting}（{chinese_date(r.decision_date)}）"),
            ("审核结果", f"{r.audit_path}（SHA-256 {r.audit_sha256[:12]}…）"),
            ("换发为", r.superseded_by or "")]
    for label, value in rows:
        click.echo(pad(label, 18) + value)
    click.echo("文件：")
    for d in r.documents:
        click.echo(f"  {pad(d.kind, 34)}{d.path}")
    click.echo("状态历史：")
    for h in r.history:
        click.echo(f"  {h.on.isoformat()} {h.status} {h.reason}（{h.actor}）")


def _transition(action: str, label: str) -> None:
    @register_group.command(action, help=f"{label}证书（须写明理由）。")
    @click.argument("number")
    @click.option("--reason", required=True, help="理由。")
    @click.option("--by", "actor", required=True, help="经办人。")
    @click.option("--on", "on", type=click.DateTime(["%Y-%m-%d"]), default=None, help="日期（默认今天）。")
    @_register_options
    @_reports_errors
    def command(number: str, reason: str, actor: str, on: datetime | None, output: Path,
                register_path: Path | None) -> None:
        with _open_register(output, register_path) as register:
            change = getattr(register, action)(number, reason=reason, actor=actor,
                                               on=on.date() if on else _today())
        click.echo(f"证书 {number}：{change.status}（{change.on.isoformat()}，{reason}）")


for _action, _label in (("suspend", "暂停"), ("restore", "恢复"), ("withdraw", "撤销"), ("cancel", "注销")):
    _transition(_action, _label)


# -- surveillance --------------------------------------------------------------------------

@main.group("surveillance")
def surveillance_group() -> None:
    """监督审核：到期清单与监督审核通知书。"""


@surveillance_group.command("due")
@click.option("--within", type=int, default=None, help="只列出这么多天内到期的（含已逾期）。")
@_workspace_options
@_reports_errors
def surveillance_due(within: int | None, output: Path, register_path: Path | None, templates: Path,
                     profiles: Path | None, schemes: Path | None) -> None:
    """按到期日列出应进行监督审核（或再认证申请）的证书；逾期的标出，提请暂停决定。"""
    today = _today()
    with _open_register(output, register_path) as register:
        items = due_list(register, today=today, within=within, schemes_dir=schemes)
    click.echo(pad("证书编号", 20) + pad("组织", 32) + pad("事项", 14) + pad("窗口", 26) + pad("人日", 6) + "状态")
    for i in items:
        what = f"{i.window.ordinal}监督" if i.window else "再认证申请"
        window = f"{i.window.start}—{i.window.end}" if i.window else f"截至 {i.due}"
        state = "逾期，提请暂停决定" if i.overdue else f"{(i.due - today).days} 天后到期"
        click.echo(pad(i.record.number, 20) + pad(i.record.organization_name, 32) + pad(what, 14)
                   + pad(window, 26) + pad(format_days(i.person_days), 6) + state)
    click.echo(f"共 {len(items)} 项，逾期 {sum(1 for i in items if i.overdue)} 项")


@surveillance_group.command("notices")
@click.option("--within", type=int, default=60, show_default=True, help="为这么多天内到期的证书出具通知书。")
@_workspace_options
@_reports_errors
def surveillance_notices(within: int, output: Path, register_path: Path | None, templates: Path,
                         profiles: Path | None, schemes: Path | None) -> None:
    """为即将到期的监督审核出具监督审核通知书（Word 与 PDF）。"""
    ws = _workspace(output, register_path, templates, profiles, schemes)
    today = _today()
    _check_templates_or_fail(templates)
    with Register.open(ws.register) as register:
        items = due_list(register, today=today, within=within, schemes_dir=schemes)
        with LibreOfficeConverter() as converter:
            written = write_notices(items, workspace=ws, register=register, converter=converter, today=today)
    for number, path in written.items():
        click.echo(f"{number}：{path}")
    click.echo(f"共出具 {len(written)} 份监督审核通知书")


# -- regenerate ----------------------------------------------------------------------------

@main.command()
@click.option("--dry-run", is_flag=True, help="只报告将重新生成哪些文件及原因，不写任何文件。")
@_workspace_options
@_reports_errors
def regenerate(dry_run: bool, output: Path, register_path: Path | None, templates: Path, profiles: Path | None,
               schemes: Path | None) -> None:
    """重新生成模板、认证机构配置、评价方案或审核结果有改动的已发证文件（证书编号和日期不变）。"""
    ws = _workspace(output, register_path, templates, profiles, schemes)
    today = _today()
    _check_templates_or_fail(templates)
    with Register.open(ws.register) as register:
        changes = regeneration.plan(workspace=ws, register=register, today=today)
        for change in changes:
            click.echo(f"{change.record.number}：{'、'.join(change.kinds)}（{'；'.join(change.reasons)}）")
        if not changes:
            click.echo("没有需要重新生成的文件。")
            return
        if dry_run:
            click.echo(f"共 {len(changes)} 张证书的文件需要重新生成（--dry-run，未写入）。")
            return
        with LibreOfficeConverter() as converter:
            issuer = Issuer(ws, converter=converter, register=register, today=today, progress=_Progress())
            outcomes = regeneration.regenerate(changes, issuer=issuer)
    failed = [o for o in outcomes if o.status == "failed"]
    for outcome in failed:
        _print_outcome(outcome)
    click.echo(f"已重新生成 {len(outcomes) - len(failed)} 张证书的文件，失败 {len(failed)}。")
    if failed:
        sys.exit(1)


# -- templates -----------------------------------------------------------------------------

@main.group("templates")
def templates_group() -> None:
    """Word 模板：检查。"""


@templates_group.command("check")
@click.option("--templates", type=click.Path(path_type=Path, file_okay=False), envvar="CERTDOCS_TEMPLATES",
              default=Path("templates"), show_default=True, help="Word 模板文件夹。")
@_reports_errors
def templates_check(templates: Path) -> None:
    """打开每个模板，一次报告全部问题：Jinja 语法、被 Word 拆开或改成弯引号的标签、{%tr %}/{%p %} 不成对、
    文档上下文没有的变量、缺失的图片或字体。"""
    _check_templates_or_fail(templates)
    click.echo(f"模板检查通过：{templates}")


def _check_templates_or_fail(folder: Path) -> None:
    from certdocs.templatecheck import check_templates

    problems = check_templates(folder)
    if problems:
        raise TemplateError(problems, source=str(folder))


# -- sign ----------------------------------------------------------------------------------

@main.command()
@click.argument("pdf", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--pkcs12", type=click.Path(path_type=Path, dir_okay=False, exists=True), required=True,
              help="认证机构的数字证书（PKCS#12，.p12/.pfx）。")
@click.option("--passphrase-env", default="CERTDOCS_P12_PASSPHRASE", show_default=True,
              help="存放证书口令的环境变量名（口令不出现在命令行上）。")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="签名后的文件（默认 <原文件名>-signed.pdf）。")
@click.option("--reason", default="认证证书签发", show_default=True, help="签名理由。")
@click.option("--visible/--invisible", default=False, help="在末页右下角加可见签名框（中文）。")
@click.option("--signer-text", default="", help="可见签名框的文字（默认：认证机构名称 + 签发时间）。")
@_reports_errors
def sign(pdf: Path, pkcs12: Path, passphrase_env: str, out: Path | None, reason: str, visible: bool,
         signer_text: str) -> None:
    """以认证机构的数字证书对 PDF 加 PAdES 签名（签名是对文件的最后一次改动）。"""
    from certdocs.sign import VisibleBox, sign_pdf

    secret = os.environ.get(passphrase_env)
    box = VisibleBox(left_mm=120, top_mm=240, width_mm=70, height_mm=22,
                     text=signer_text or "数字签名\n签发：%(ts)s") if visible else None
    target = out or pdf.with_name(f"{pdf.stem}-signed.pdf")
    sign_pdf(pdf, out=target, pkcs12=pkcs12, passphrase=secret.encode("utf-8") if secret else None,
             reason=reason, visible=box)
    click.echo(f"已签名：{target}")


# -- archive -------------------------------------------------------------------------------

class _ArchiveGroup(click.Group):
    """``certdocs archive FILES…`` archives; ``certdocs archive verify`` checks the archive."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None,
                                                                             list[str]]:
        if args and args[0] not in self.commands:
            return "add", self.commands["add"], args
        return super().resolve_command(ctx, args)


_ARCHIVE_OPTIONS = [
    click.option("--archive-root", type=click.Path(path_type=Path, file_okay=False), envvar="CERTDOCS_ARCHIVE",
                 default=None, help="归档文件夹（默认 <输出文件夹>/archive）。"),
    click.option("--trust-root", "trust_roots", multiple=True, type=click.Path(path_type=Path, exists=True),
                 help="可信根证书（PEM/DER），验证数字签名用；可多次给出。"),
]


def _archive_options(func: F) -> F:
    for option in reversed(_ARCHIVE_OPTIONS + _REGISTER_OPTIONS):
        func = option(func)
    return func


@main.group("archive", cls=_ArchiveGroup, invoke_without_command=False)
def archive_group() -> None:
    """归档已签名的 PDF（数字签名或手签盖章后扫描）为只写一次的 BagIt 包；archive verify 复核全部归档。"""


@archive_group.command("add", hidden=True)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--supersede", "supersede_reason", default=None,
              help="同一文件已归档时，写明理由以另存新版本（旧版本保留）。")
@_archive_options
@_reports_errors
def archive_add(files: tuple[Path, ...], supersede_reason: str | None, archive_root: Path | None,
                trust_roots: tuple[Path, ...], output: Path, register_path: Path | None) -> None:
    """归档已签名的 PDF。"""
    from certdocs.archive import archive_files, refusals

    with _open_register(output, register_path) as register:
        results = archive_files(list(files), register=register, archive_root=archive_root or output / "archive",
                                today=_today(), supersede_reason=supersede_reason, trust_roots=list(trust_roots))
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
@_reports_errors
def archive_verify(archive_root: Path | None, trust_roots: tuple[Path, ...], output: Path,
                   register_path: Path | None) -> None:
    """复核每个归档包、每个数字签名，报告任何改动或缺失。"""
    from certdocs.archive import verify_archive

    with _open_register(output, register_path) as register:
        problems = verify_archive(archive_root or output / "archive", register=register,
                                  trust_roots=list(trust_roots))
    if problems:
        raise ArchiveError(problems, source=str(archive_root or output / "archive"))
    click.echo("归档完好：所有包与签名均未改动。")
