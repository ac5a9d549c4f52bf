"""Status changes with their letters: the register, the letter (Word and PDF), the public site.

A change is checked completely before anything is written (the certificate, the transition, the
suspension period against the body's maximum, the letter's template, the audit result the letter
quotes). Then, in this order: the register records the change; the verification site is rebuilt
when the output folder has one (the public page never contradicts the register); the letter is
written by the one document stage (:func:`certdocs.documents.write_documents`) into the
certificate's folder and recorded against it. A letter that fails leaves the change recorded
and says how to write the letter again (``certdocs register letter NUMBER``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from certdocs._validate import line_problems
from certdocs.audit import AuditResult, load_audit
from certdocs.context import PrintedCertificate, build_context
from certdocs.convert import Converter
from certdocs.errors import CertdocsError, DocumentError, Problem, RegisterError, TemplateError, os_error_text
from certdocs.glyphcheck import uncovered_characters
from certdocs.letters._context import LETTERS, LetterKind, letter_context, longest_suspension
from certdocs.profile import Profile, profile_for_scheme
from certdocs.register import CertificateRecord, Register, Status, StatusChange
from certdocs.scheme import Scheme
from certdocs.scoring import score_audit
from certdocs.site import SiteReport, build_site

if TYPE_CHECKING:
    from certdocs.documents import Document, Written
    from certdocs.pipeline import Workspace

# The document stage (Word, PDF and LibreOffice libraries) is imported by the functions that
# write: ended_suspensions (certdocs surveillance due) reads only the register.


@dataclass(frozen=True)
class StatusOutcome:
    """A recorded status change, its letter (PDF and Word) and the site rebuild, if there was one."""

    change: StatusChange
    pdf: Path
    word: Path
    site: SiteReport | None
    site_errors: tuple[str, ...] = ()  # the site could not be rebuilt: run certdocs site build


@dataclass(frozen=True)
class _Basis:
    record: CertificateRecord
    audit: AuditResult
    scheme: Scheme
    profile: Profile
    template: Path


def site_folder(workspace: Workspace) -> Path:
    """Where the verification site of an output folder is (``<output>/site``)."""
    return workspace.output / "site"


def letter_template(workspace: Workspace, profile: Profile, kind: LetterKind) -> Path:
    """The letter's Word template: the profile's choice, else ``templates/<kind>.docx``."""
    return workspace.templates / profile.templates.get(kind.kind, f"{kind.kind}.docx")


def _basis(record: CertificateRecord, kind: LetterKind, workspace: Workspace) -> _Basis:
    from certdocs.templatecheck import check_templates

    audit, scheme = load_audit(Path(record.facts.audit_path), schemes_dir=workspace.schemes)
    profile = profile_for_scheme(scheme.id, folder=workspace.profiles)
    template = letter_template(workspace, profile, kind)
    if not template.is_file():
        raise TemplateError([Problem(str(template), f"没有{kind.title}的模板")])
    problems = check_templates(template.parent, names=[template.name])
    if problems:
        raise TemplateError(problems, source=str(template))
    return _Basis(record, audit, scheme, profile, template)


def _document(basis: _Basis, kind: LetterKind, *, sequence: int, change: StatusChange) -> Document:
    from certdocs.documents import Document, built_from
    from certdocs.pdf import PdfMetadata

    rec, profile = basis.record, basis.profile
    suspended = next((h for h in reversed(rec.history[:sequence]) if h.status == Status.SUSPENDED), None)
    context: dict[str, Any] = build_context(
        audit=basis.audit,
        scheme=basis.scheme,
        score=score_audit(basis.audit, basis.scheme),
        profile=profile,
        certificate=PrintedCertificate(
            rec.number,
            rec.facts.first_issue_date,
            rec.facts.issue_date,
            rec.facts.valid_until,
            profile.verification_url(rec.number),
        ),
        issued_on=change.on,
    )
    context["letter"] = letter_context(
        kind.action,
        number=rec.number,
        sequence=sequence,
        on=change.on,
        reason=change.reason,
        profile=profile,
        until=change.until,
        suspended_since=suspended.on if suspended and kind.action == "restore" else None,
    )
    built = built_from(basis.template, audit=basis.audit.digest, scheme=basis.scheme.digest, profile=profile.digest)
    return Document(
        f"{kind.kind}-{sequence}",
        basis.template,
        context,
        PdfMetadata(
            title=f"{kind.title}：{rec.facts.organization_name}",
            subject=rec.number,
            author=profile.name,
            keywords=f"{rec.facts.scheme}, {kind.title}",
            created=change.on,
            built_from=tuple(built.items()),
        ),
    )


def _write(
    basis: _Basis, document: Document, *, workspace: Workspace, register: Register, converter: Converter
) -> Written:
    from certdocs.documents import DocumentSet, write_documents

    (written,) = write_documents(
        [DocumentSet(workspace.output / basis.record.number, (document,), number=basis.record.number)],
        converter=converter,
        register=register,
        within=workspace.output,
    )
    return written


def suspension_end(on: date, until: date | None, profile: Profile) -> date:
    """The last day of a suspension from ``on``: ``until`` if given, else the body's maximum; refuses a longer one."""
    limit = longest_suspension(on, profile)
    if until is None:
        return limit
    if until < on:
        raise CertdocsError([Problem("--until", f"暂停期限 {until} 早于暂停日期 {on}")])
    if until > limit:
        rule = (
            f"暂停期限 {until} 超过{profile.name}规定的最长暂停期 {profile.suspension_max_months} 个月"
            f"（自 {on} 起最迟至 {limit}）"
        )
        raise CertdocsError([Problem("--until", rule)])
    return until


def change_status(
    action: str,
    number: str,
    *,
    reason: str,
    actor: str,
    on: date,
    workspace: Workspace,
    register: Register,
    converter: Converter,
    today: date,
    until: date | None = None,
) -> StatusOutcome:
    """Suspend, restore, withdraw or cancel a certificate and write the letter that announces it.

    Raises :class:`RegisterError` (nothing written) for a change the register or the body's rules
    refuse, :class:`TemplateError` for a letter template with problems, and
    :class:`DocumentError` when the change was recorded but its letter could not be written.
    """
    kind = LETTERS[action]
    record = register.get(number, today=today)
    if until is not None and action != "suspend":
        raise CertdocsError([Problem("--until", "只有暂停可以指定期限")])
    if on > today:
        raise CertdocsError([Problem("--on", f"决定日期 {on} 晚于今天 {today}：状态变更在作出决定之日登记")])
    _check_typed_text(reason=reason, actor=actor)
    basis = _basis(record, kind, workspace)
    if action == "suspend":
        until = suspension_end(on, until, basis.profile)
        change = register.suspend(number, reason=reason, actor=actor, on=on, until=until)
    else:
        change = getattr(register, action)(number, reason=reason, actor=actor, on=on)
    site: SiteReport | None = None
    site_errors: tuple[str, ...] = ()
    if site_folder(workspace).is_dir():
        # A site that cannot be rebuilt must not keep the letter from being written: reported after it.
        try:
            site = build_site(
                register,
                site=site_folder(workspace),
                today=today,
                profiles_dir=workspace.profiles,
                schemes_dir=workspace.schemes,
            )
        except CertdocsError as exc:
            site_errors = tuple(str(p) for p in exc.problems)
    written = _letter(
        basis, kind, change, sequence=len(record.history), workspace=workspace, register=register, converter=converter
    )
    return StatusOutcome(
        change,
        written.pdfs[f"{kind.kind}-{len(record.history)}"],
        written.word[f"{kind.kind}-{len(record.history)}"],
        site,
        site_errors,
    )


# The longest reason a letter prints: with it every kind of letter still fits on two pages
# (measured with real LibreOffice for all four); a reason is a sentence or two.
REASON_MAX = 500


def _check_typed_text(*, reason: str, actor: str) -> None:
    """Refuse a reason or actor that prints differently from how it reads, or a reason too long or unprintable.

    The letter prints the reason and the verification site shows both; the register refuses
    the same characters, but only after this could name the options they were typed into.
    """
    problems = line_problems(("--reason", reason), ("--by", actor))
    if len(reason) > REASON_MAX:
        rule = f"理由有 {len(reason)} 个字符，最多 {REASON_MAX} 个（通知书不超过两页）；详细情况请另附说明"
        problems.append(Problem("--reason", rule))
    if not problems:
        problems = uncovered_characters([("--reason", reason)])
    if problems:
        raise CertdocsError(problems)


def _letter(
    basis: _Basis,
    kind: LetterKind,
    change: StatusChange,
    *,
    sequence: int,
    workspace: Workspace,
    register: Register,
    converter: Converter,
) -> Written:
    number = basis.record.number
    again = f"排除问题后运行 certdocs register letter {number} 重新生成"
    try:
        written = _write(
            basis,
            _document(basis, kind, sequence=sequence, change=change),
            workspace=workspace,
            register=register,
            converter=converter,
        )
    except OSError as exc:
        problem = Problem(str(exc.filename or ""), os_error_text(exc))
        raise DocumentError([problem, Problem("", again)], source=f"证书 {number} 已{kind.decision}") from exc
    if not written.ok:
        problems = [Problem("", e) for e in written.errors] + [Problem("", again)]
        raise DocumentError(problems, source=f"证书 {number} 已{kind.decision}，但{kind.title}未能生成")
    return written


def rewrite_letter(
    number: str, *, workspace: Workspace, register: Register, converter: Converter, today: date
) -> StatusOutcome:
    """Write again the letter of a certificate's latest status change (after a failed attempt, or a template edit)."""
    record = register.get(number, today=today)
    sequence = len(record.history) - 1
    if sequence < 1:
        raise RegisterError([Problem(f"证书 {number}", "发证以来没有状态变更，没有通知书可生成")])
    change = record.history[sequence]
    previous = record.history[sequence - 1].status
    action = {
        Status.SUSPENDED: "suspend",
        Status.WITHDRAWN: "withdraw",
        Status.CANCELLED: "cancel",
        Status.VALID: "restore" if previous == Status.SUSPENDED else "",
    }.get(change.status, "")
    if not action:
        raise RegisterError([Problem(f"证书 {number}", f"最近一次状态变更（{change.status}）没有对应的通知书")])
    kind = LETTERS[action]
    basis = _basis(record, kind, workspace)
    written = _letter(
        basis, kind, change, sequence=sequence, workspace=workspace, register=register, converter=converter
    )
    name = f"{kind.kind}-{sequence}"
    return StatusOutcome(change, written.pdfs[name], written.word[name], None)


def ended_suspensions(register: Register, *, today: date) -> list[tuple[CertificateRecord, StatusChange]]:
    """Suspended certificates whose suspension period ended before ``today`` without a restoration.

    They wait for the office's withdrawal decision (``register withdraw``); the oldest end first.
    """
    found = []
    for record in register.list(status=Status.SUSPENDED, today=today):
        change = record.history[-1]
        if change.status == Status.SUSPENDED and change.until is not None and change.until < today:
            found.append((record, change))
    return sorted(found, key=lambda pair: (pair[1].until or today, pair[0].number))
