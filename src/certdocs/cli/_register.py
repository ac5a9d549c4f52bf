"""The certificate register and surveillance: register …, surveillance …."""

from __future__ import annotations

import getpass
import sys
from datetime import date, datetime
from pathlib import Path

import click

from certdocs._clock import shown
from certdocs._validate import printable
from certdocs.audit import AUDIT_TYPES
from certdocs.cli import _app as app
from certdocs.cli._app import (
    main,
    register_options,
    reports_errors,
    workspace,
    workspace_options,
)
from certdocs.dates import chinese_date, format_days
from certdocs.errors import RecordsError
from certdocs.letters import LETTERS, change_status, ended_suspensions, rewrite_letter
from certdocs.profile import DOCUMENT_TITLES
from certdocs.register import CertificateRecord, Register, State, Status
from certdocs.surveillance import due_list, record_surveillance, write_notices
from certdocs.textreport import pad


@main.group("register")
def register_group() -> None:
    """证书登记簿：查询、状态变更（暂停、恢复、撤销、注销）、编号作废、备份与检查。"""


_RESERVED, _VOIDED = "预留", "作废"


@register_group.command("list")
@click.option(
    "--status",
    type=click.Choice([*(s.value for s in Status), _RESERVED, _VOIDED]),
    default=None,
    help="只列出该状态（预留：已占用编号但未发证；作废：编号永不发证）。",
)
@register_options
@reports_errors
def register_list(status: str | None, output: Path, register_path: str | None) -> None:
    """列出登记簿中的证书，以及已占用但未发证（预留、作废）的编号及原因。"""
    today = app.today()
    with app.open_register(output, register_path) as register:
        issued = register.list(status=status, today=today) if status not in (_RESERVED, _VOIDED) else ()
        unissued = register.unissued(today=today) if status in (None, _RESERVED, _VOIDED) else ()
    unissued = tuple(r for r in unissued if status is None or _state_label(r) == status)
    click.echo(pad("证书编号", 20) + pad("组织", 36) + pad("等级", 10) + pad("有效期至", 14) + "状态")
    for r in sorted((*issued, *unissued), key=lambda r: (r.series, r.serial)):
        _echo(
            pad(r.number, 20)
            + pad(r.facts.organization_name, 36)
            + pad(r.facts.grade, 10)
            + pad(r.facts.valid_until.isoformat(), 14)
            + (r.status or _state_label(r))
        )
        if r.state != State.ISSUED:
            _echo(f"    {_unissued_detail(r)}")
    reserved = sum(1 for r in unissued if r.state == State.RESERVED)
    voided = len(unissued) - reserved
    tail = f"；另有预留未发证编号 {reserved} 个、作废编号 {voided} 个" if unissued else ""
    click.echo(f"共 {len(issued)} 张证书{tail}")


def _echo(line: str) -> None:
    """One line of what the register holds, escaped where it would not print as it reads.

    A register written before such text was refused (or by a program) may hold a control
    character, an escape sequence or a right-to-left override; the terminal shows ``\\u202e``.
    """
    click.echo(printable(line))


def _audit(audit_type: str | None, end_date: date | None) -> str:
    """An audit's type and last day; a register made before migration 5 may lack the issuing one's."""
    kind = AUDIT_TYPES.get(audit_type, "类型未记录") if audit_type else "类型未记录"
    return f"{kind}，{chinese_date(end_date)}结束" if end_date else f"{kind}，结束日期未记录"


def _state_label(r: CertificateRecord) -> str:
    return _VOIDED if r.state == State.VOIDED else _RESERVED


def _unissued_detail(r: CertificateRecord) -> str:
    """Audit and why a number is not issued: its void reason, its last failure, or nothing yet."""
    audit = f"审核结果 {r.facts.audit_path}（{r.facts.decision_meeting}）"
    if r.state == State.VOIDED:
        note = next(n for n in r.notes if n.kind == "void")
        return f"{audit}；作废：{note.reason}（{note.actor}，{shown(note.recorded_at)}）"
    failure = r.last_failure
    if failure is not None:
        return (
            f"{audit}；发证失败（{shown(failure.recorded_at)}）：{failure.reason}；"
            "修正后重新发证，或用 certdocs register void 作废"
        )
    return f"{audit}；编号于 {shown(r.reserved_at)} 预留，尚未完成发证（运行中断或仍在进行）"


@register_group.command("show")
@click.argument("number")
@register_options
@reports_errors
def register_show(number: str, output: Path, register_path: str | None) -> None:
    """显示一张证书的登记信息、文件和状态历史。"""
    with app.open_register(output, register_path) as register:
        r = register.get(number, today=app.today())
    rows = [
        ("证书编号", r.number),
        ("组织", r.facts.organization_name),
        ("统一社会信用代码", r.facts.uscc),
        ("评价方案", r.facts.scheme),
        ("等级", r.facts.grade),
        ("得分", str(r.facts.score or "")),
        ("首次发证日期", chinese_date(r.facts.first_issue_date)),
        ("本次发证日期", chinese_date(r.facts.issue_date)),
        ("有效期至", chinese_date(r.facts.valid_until)),
        ("状态", r.status or ("作废" if r.state == State.VOIDED else "编号已预留，未发证")),
        ("认证决定", f"{r.facts.decision_meeting}（{chinese_date(r.facts.decision_date)}）"),
        ("审核结果", f"{r.facts.audit_path}（SHA-256 {r.facts.audit_sha256[:12]}…）"),
        ("发证审核", _audit(r.facts.audit_type, r.facts.audit_end_date)),
        ("最近一次审核", _audit(r.last_audit_type, r.last_audit_end_date)),
        ("换发为", r.superseded_by or ""),
    ]
    for label, value in rows:
        _echo(pad(label, 18) + value)
    click.echo("文件：")
    for d in r.documents:
        _echo(f"  {pad(d.kind, 34)}{d.path}")
    click.echo("状态历史：")
    for h in r.history:
        until = f"，暂停期至 {h.until.isoformat()}" if h.until else ""
        _echo(f"  {h.on.isoformat()} {h.status} {h.reason}（{h.actor}{until}）")
    if r.notes:
        click.echo("编号记录：")
        for n in r.notes:
            label = "作废" if n.kind == "void" else "发证失败"
            _echo(f"  {shown(n.recorded_at)} {label} {n.reason}（{n.actor}）")


@register_group.command("void")
@click.argument("number")
@click.option("--reason", required=True, help="作废理由（写入登记簿）。")
@click.option("--by", "actor", default=None, help="经办人（默认当前登录用户）。")
@register_options
@reports_errors
def register_void(number: str, reason: str, actor: str | None, output: Path, register_path: str | None) -> None:
    """作废一个已预留、永不发证的编号（已发证的证书请用 withdraw 或 cancel）。"""
    with app.open_register(output, register_path) as register:
        note = register.void(number, reason=reason, actor=actor or _login())
    click.echo(f"编号 {number} 已作废（{shown(note.recorded_at)}，{note.reason}，{note.actor}）")


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in a bare container
        return "certdocs"


@register_group.command("backup")
@click.argument("dest", type=click.Path(path_type=Path, file_okay=False))
@app.ARCHIVE_ROOT_OPTION
@register_options
@reports_errors
def register_backup(dest: Path, archive_root: Path | None, output: Path, register_path: str | None) -> None:
    """把登记簿（在线备份，批量发证进行中也一致）和全部归档包复制到新文件夹 DEST，并逐一校验。"""
    from certdocs.records import backup

    records = app.prepare_records(output, register_path, archive_root)
    done = backup(records, dest)
    click.echo(f"已备份到 {done.folder}：登记簿（{done.certificates} 个编号）、归档包 {done.bags} 个，均已校验")
    if done.problems:
        raise RecordsError(done.problems, source=str(records.folder))


@register_group.command("check")
@app.ARCHIVE_ROOT_OPTION
@app.TRUST_ROOT_OPTION
@register_options
@reports_errors
def register_check(
    archive_root: Path | None, trust_roots: tuple[Path, ...], output: Path, register_path: str | None
) -> None:
    """全面检查：登记簿完整性（integrity_check）、每份登记文件的 SHA-256、每个归档包。"""
    from certdocs.records import check

    records = app.prepare_records(output, register_path, archive_root)
    found = check(records, output=app.given_output(output), trust_roots=list(trust_roots))
    if found.missing:
        click.echo(
            f"{len(found.missing)} 份登记的文件不在输出文件夹中（输出已清理或移走；certdocs regenerate 可重新生成），"
            f"首份：{found.missing[0]}"
        )
    if found.problems:
        raise RecordsError(found.problems, source=str(records.folder))
    present = found.documents - len(found.missing)
    click.echo(f"检查通过：{records.shown} 完整，{present} 份登记的文件与全部归档包均未改动。")


@register_group.command("set-output")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@register_options
@reports_errors
def register_set_output(folder: Path, output: Path, register_path: str | None) -> None:
    """告诉登记簿输出文件夹已搬到 FOLDER（之后的命令不带 --output 即使用它）。"""
    from certdocs.records import remember_output

    records = app.prepare_records(output, register_path)
    if records.url is not None:
        raise click.BadParameter(
            "共用的 PostgreSQL 登记簿不记录输出文件夹：各计算机用 --output 或 CERTDOCS_OUTPUT 指定"
        )
    with Register.open(records.register) as register:
        remember_output(register, folder)
    click.echo(f"登记簿 {records.register} 的输出文件夹改为 {folder}")


def _transition(action: str, label: str) -> None:
    @register_group.command(action, help=f"{label}证书（须写明理由），并出具{LETTERS[action].title}（Word 与 PDF）。")
    @click.argument("number")
    @click.option("--reason", required=True, help="理由。")
    @click.option("--by", "actor", required=True, help="经办人。")
    @click.option("--on", "on", type=click.DateTime(["%Y-%m-%d"]), default=None, help="决定日期（默认今天）。")
    @workspace_options
    @reports_errors
    def command(
        number: str,
        reason: str,
        actor: str,
        on: datetime | None,
        output: Path,
        register_path: str | None,
        templates: Path,
        profiles: Path | None,
        schemes: Path | None,
        until: datetime | None = None,
    ) -> None:
        ws = workspace(output, register_path, templates, profiles, schemes)
        with Register.open(ws.register, documents_root=ws.output) as register, app.converter() as converter:
            outcome = change_status(
                action,
                number,
                reason=reason,
                actor=actor,
                on=on.date() if on else app.today(),
                until=until.date() if until else None,
                workspace=ws,
                register=register,
                converter=converter,
                today=app.today(),
            )
        change = outcome.change
        period = f"，暂停期至 {change.until.isoformat()}" if change.until else ""
        click.echo(f"证书 {number}：{change.status}（{change.on.isoformat()}，{reason}{period}）")
        click.echo(f"  {pad(LETTERS[action].title, 20)}{outcome.pdf}")
        click.echo(f"  {pad('Word 文件', 20)}{outcome.word}")
        if outcome.site is not None:
            click.echo(f"  {pad('证书查验网站', 20)}{outcome.site.site}（重写 {len(outcome.site.written)} 个文件）")
        if outcome.site_errors:
            click.echo("证书查验网站未能更新（排除问题后运行 certdocs site build）：", err=True)
            for error in outcome.site_errors:
                click.echo(f"  {error}", err=True)
            sys.exit(1)

    if action == "suspend":
        click.option(
            "--until",
            type=click.DateTime(["%Y-%m-%d"]),
            default=None,
            help="暂停期的最后一天（默认并最长为认证机构配置的最长暂停期，通常 6 个月）。",
        )(command)


for _action, _label in (("suspend", "暂停"), ("restore", "恢复"), ("withdraw", "撤销"), ("cancel", "注销")):
    _transition(_action, _label)


@register_group.command("letter")
@click.argument("number")
@workspace_options
@reports_errors
def register_letter(
    number: str, output: Path, register_path: str | None, templates: Path, profiles: Path | None, schemes: Path | None
) -> None:
    """重新出具证书最近一次状态变更的通知书（上次生成失败或模板修改后）。"""
    ws = workspace(output, register_path, templates, profiles, schemes)
    with Register.open(ws.register, documents_root=ws.output) as register, app.converter() as converter:
        outcome = rewrite_letter(number, workspace=ws, register=register, converter=converter, today=app.today())
    click.echo(f"证书 {number}：{outcome.change.status}（{outcome.change.on.isoformat()}）")
    click.echo(f"  {pad('通知书', 20)}{outcome.pdf}")
    click.echo(f"  {pad('Word 文件', 20)}{outcome.word}")


# -- surveillance --------------------------------------------------------------------------


@main.group("surveillance")
def surveillance_group() -> None:
    """监督审核：到期清单与监督审核通知书。"""


@surveillance_group.command("due")
@click.option("--within", type=click.IntRange(min=0), default=None, help="只列出这么多天内到期的（含已逾期）。")
@workspace_options
@reports_errors
def surveillance_due(
    within: int | None,
    output: Path,
    register_path: str | None,
    templates: Path,
    profiles: Path | None,
    schemes: Path | None,
) -> None:
    """按到期日列出应进行监督审核（或再认证申请）的证书；逾期的标出，提请暂停决定。"""
    today = app.today()
    with app.open_register(output, register_path) as register:
        items = due_list(register, today=today, within=within, schemes_dir=schemes)
    click.echo(pad("证书编号", 20) + pad("组织", 32) + pad("事项", 14) + pad("窗口", 26) + pad("人日", 6) + "状态")
    for i in items:
        what = f"{i.window.ordinal}监督" if i.window else "再认证申请"
        window = f"{i.window.start}—{i.window.end}" if i.window else f"截至 {i.due}"
        state = "逾期，提请暂停决定" if i.overdue else f"{(i.due - today).days} 天后到期"
        click.echo(
            pad(i.record.number, 20)
            + pad(i.record.facts.organization_name, 32)
            + pad(what, 14)
            + pad(window, 26)
            + pad(format_days(i.person_days), 6)
            + state
        )
    click.echo(f"共 {len(items)} 项，逾期 {sum(1 for i in items if i.overdue)} 项")
    with app.open_register(output, register_path) as register:
        ended = ended_suspensions(register, today=today)
    if ended:
        click.echo(f"暂停期已满、未恢复的证书 {len(ended)} 张，提请撤销决定（certdocs register withdraw）：")
        for record, change in ended:
            period = f"暂停期 {change.on}—{change.until}（{change.reason}）"
            click.echo(f"  {pad(record.number, 20)}{pad(record.facts.organization_name, 32)}{period}")


@surveillance_group.command("notices")
@click.option(
    "--within", type=click.IntRange(min=0), default=60, show_default=True, help="为这么多天内到期的证书出具通知书。"
)
@workspace_options
@reports_errors
def surveillance_notices(
    within: int, output: Path, register_path: str | None, templates: Path, profiles: Path | None, schemes: Path | None
) -> None:
    """为即将到期的监督审核出具监督审核通知书（Word 与 PDF）。"""
    ws = workspace(output, register_path, templates, profiles, schemes)
    today = app.today()
    app.check_templates_or_fail(templates)
    with Register.open(ws.register, documents_root=ws.output) as register:
        items = due_list(register, today=today, within=within, schemes_dir=schemes)
        with app.converter() as converter:
            notices = write_notices(items, workspace=ws, register=register, converter=converter, today=today)
    for number, path in notices.written.items():
        click.echo(f"{number}：{path}")
    for number, errors in notices.failed.items():
        click.echo(f"{number}：失败", err=True)
        for error in errors:
            click.echo(f"    {error}", err=True)
    click.echo(f"共出具 {len(notices.written)} 份监督审核通知书，失败 {len(notices.failed)}")
    if notices.failed:
        sys.exit(1)


@surveillance_group.command("record")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@workspace_options
@reports_errors
def surveillance_record(
    file: Path, output: Path, register_path: str | None, templates: Path, profiles: Path | None, schemes: Path | None
) -> None:
    """登记一次监督审核：评分，出具监督审核打分表和报告；通过则顺延下次监督期限，未通过则提请暂停决定。"""
    ws = workspace(output, register_path, templates, profiles, schemes)
    app.check_templates_or_fail(templates)
    with Register.open(ws.register, documents_root=ws.output) as register, app.converter() as converter:
        result = record_surveillance(file, workspace=ws, register=register, converter=converter, today=app.today())
    verdict = "通过" if result.passed else "未通过，请作出暂停证书的决定（可用 certdocs register suspend）"
    click.echo(f"证书 {result.record.number}：监督审核{verdict}，{result.grade}")
    for kind, pdf in result.documents.items():
        click.echo(f"  {pad(DOCUMENT_TITLES[kind], 12)}{pdf}")
    if not result.passed:
        sys.exit(1)
