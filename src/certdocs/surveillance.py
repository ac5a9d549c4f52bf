"""Surveillance: which certificates are due, and their notices (监督审核通知书).

Windows follow the scheme data (docs/dates.md): ``fw01-2021`` 9–12 months after the last
audit, the others within each 12 months of the issue date; after the second surveillance the
next thing due is the recertification application, three months before expiry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from certdocs._fs import safe_name
from certdocs.audit import AuditResult, load_audit
from certdocs.context import PrintedCertificate, SurveillanceFacts, build_context
from certdocs.convert import Converter
from certdocs.dates import (
    SURVEILLANCES_PER_CYCLE,
    SurveillanceWindow,
    add_months,
    recertification_due,
    recertification_person_days,
    surveillance_person_days,
    surveillance_window,
)
from certdocs.errors import CertdocsError, DocumentError, InvalidAuditResult, Problem, RegisterError, os_error_text
from certdocs.profile import DOCUMENT_TITLES, Profile, profile_for_scheme
from certdocs.register import CertificateRecord, Register
from certdocs.scheme import Scheme, get_scheme
from certdocs.scoring import score_audit

if TYPE_CHECKING:
    from certdocs.documents import Document
    from certdocs.pipeline import Workspace

# The document stage (Word, PDF and LibreOffice libraries) is imported by the functions that
# write: listing what is due (certdocs surveillance due) reads only the register.


@dataclass(frozen=True)
class DueItem:
    """What a certificate owes next: a surveillance audit or a recertification application."""

    record: CertificateRecord
    kind: str  # "surveillance" or "recertification"
    window: SurveillanceWindow | None
    due: date
    overdue: bool
    person_days: Decimal


def surveillances_done(record: CertificateRecord, scheme: Scheme) -> int:
    """How many surveillance audits of this cycle the register's last audit shows as done."""
    if record.last_audit_type != "surveillance":
        return 0
    if scheme.surveillance.basis_date == "issue_date":
        second = surveillance_window(
            scheme, number=2, issue_date=record.facts.issue_date, last_audit_end=record.last_audit_end_date
        )
        return 2 if record.last_audit_end_date >= second.start else 1
    # Counted from the last audit: a second surveillance ends more than 15 months after issue.
    return 2 if record.last_audit_end_date > add_months(record.facts.issue_date, 15) else 1


def next_due(record: CertificateRecord, *, today: date, schemes_dir: Path | None = None) -> DueItem:
    """The next surveillance (or recertification) of one certificate."""
    scheme = get_scheme(record.facts.scheme, extra_dir=schemes_dir)
    done = surveillances_done(record, scheme)
    if done >= SURVEILLANCES_PER_CYCLE:
        due = recertification_due(record.facts.valid_until)
        return DueItem(
            record,
            "recertification",
            None,
            due,
            today > due,
            recertification_person_days(record.facts.initial_person_days),
        )
    window = surveillance_window(
        scheme, number=done + 1, issue_date=record.facts.issue_date, last_audit_end=record.last_audit_end_date
    )
    return DueItem(
        record,
        "surveillance",
        window,
        window.end,
        today > window.end,
        surveillance_person_days(record.facts.initial_person_days),
    )


def due_list(
    register: Register, *, today: date, within: int | None = None, schemes_dir: Path | None = None
) -> list[DueItem]:
    """Certificates in force, by due date; with ``within`` only those due within so many days."""
    items = [next_due(r, today=today, schemes_dir=schemes_dir) for r in register.list_active(today)]
    if within is not None:
        items = [i for i in items if (i.due - today).days <= within]
    return sorted(items, key=lambda i: (i.due, i.record.number))


def _document(
    kind: str,
    template: Path,
    title: str,
    *,
    record: CertificateRecord,
    context: dict[str, Any],
    audit: AuditResult,
    scheme: Scheme,
    profile: Profile,
    today: date,
) -> Document:
    """One document about a registered certificate, built from its audit, scheme and profile."""
    from certdocs.documents import Document, built_from
    from certdocs.pdf import PdfMetadata

    built = built_from(template, audit=audit.digest, scheme=scheme.digest, profile=profile.digest)
    return Document(
        kind,
        template,
        context,
        PdfMetadata(
            title=f"{title}：{record.facts.organization_name}",
            subject=record.number,
            author=profile.name,
            keywords=f"{record.facts.scheme}, {title}",
            created=today,
            built_from=tuple(built.items()),
        ),
        label=f"证书 {record.number} 的{title}",
    )


def _facts(rec: CertificateRecord, profile: Profile) -> PrintedCertificate:
    return PrintedCertificate(
        rec.number,
        rec.facts.first_issue_date,
        rec.facts.issue_date,
        rec.facts.valid_until,
        profile.verification_url(rec.number),
    )


@dataclass(frozen=True)
class Notices:
    """The notices written (certificate number → PDF) and those that failed (number → problems)."""

    written: dict[str, Path]
    failed: dict[str, tuple[str, ...]]


def write_notices(
    items: list[DueItem], *, workspace: Workspace, register: Register, converter: Converter, today: date
) -> Notices:
    """A 监督审核通知书 (docx and PDF) for each due surveillance, each written or failing on its own.

    The notice is built from the certificate's own audit result (its path is in the register).
    """
    from certdocs.documents import DocumentSet, write_documents

    failed: dict[str, tuple[str, ...]] = {}
    sets: list[DocumentSet] = []
    for item in items:
        if item.kind != "surveillance" or item.window is None:
            continue
        rec = item.record
        try:
            audit, scheme = load_audit(Path(rec.facts.audit_path), schemes_dir=workspace.schemes)
            profile = profile_for_scheme(scheme.id, folder=workspace.profiles)
            context = build_context(
                audit=audit,
                scheme=scheme,
                score=score_audit(audit, scheme),
                profile=profile,
                issued_on=today,
                certificate=_facts(rec, profile),
                surveillance=SurveillanceFacts(item.window, item.person_days),
            )
            notice = _document(
                f"surveillance_notice-{item.window.number}",
                workspace.templates / profile.templates["surveillance_notice"],
                DOCUMENT_TITLES["surveillance_notice"],
                record=rec,
                context=context,
                audit=audit,
                scheme=scheme,
                profile=profile,
                today=today,
            )
        except CertdocsError as exc:
            failed[rec.number] = tuple(str(p) for p in exc.problems)
            continue
        except OSError as exc:
            failed[rec.number] = (str(Problem(str(exc.filename or ""), os_error_text(exc))),)
            continue
        sets.append(DocumentSet(workspace.output / safe_name(rec.number), (notice,), number=rec.number))
    results = write_documents(sets, converter=converter, register=register, within=workspace.output)
    written: dict[str, Path] = {}
    for doc_set, result in zip(sets, results, strict=True):
        if result.ok:
            written[doc_set.number] = next(iter(result.pdfs.values()))
        else:
            failed[doc_set.number] = result.errors
    return Notices(written, failed)


@dataclass(frozen=True)
class SurveillanceResult:
    """A recorded surveillance audit: its certificate, verdict and documents."""

    record: CertificateRecord
    grade: str
    passed: bool
    documents: dict[str, Path]


def record_surveillance(
    path: Path, *, workspace: Workspace, register: Register, converter: Converter, today: date
) -> SurveillanceResult:
    """Score a surveillance audit, write its scoresheet and report, and record it against its certificate.

    The certificate is ``audit.previous_certificate`` or the organisation's current one under the
    scheme. A passed surveillance moves the next window on; a failed one is recorded with its
    documents and left to the office's suspension decision (5.6.6), never suspended here.
    Raises :class:`DocumentError` when the documents cannot be written (nothing is recorded then).
    """
    from certdocs.documents import DocumentSet, write_documents

    audit, scheme = load_audit(path, schemes_dir=workspace.schemes)
    if audit.audit.type != "surveillance":
        rule = "监督审核记录须为 surveillance 类型的审核结果"
        raise InvalidAuditResult([Problem("audit.type", rule)], source=str(path))
    number = audit.audit.previous_certificate
    rec = (
        register.get(number, today=today)
        if number
        else register.find_current(audit.organization.uscc, scheme.id, today=today)
    )
    if rec is None:
        raise RegisterError([Problem(str(path), f"登记簿中没有 {audit.organization.uscc} 在方案 {scheme.id} 下的证书")])
    if (rec.facts.uscc, rec.facts.scheme) != (audit.organization.uscc, scheme.id):
        rule = f"证书 {rec.number} 属于 {rec.facts.uscc}（{rec.facts.scheme}），与本审核结果的组织或方案不符"
        raise RegisterError([Problem("audit.previous_certificate", rule)])
    profile = profile_for_scheme(scheme.id, folder=workspace.profiles)
    score = score_audit(audit, scheme)
    context = build_context(
        audit=audit, scheme=scheme, score=score, profile=profile, issued_on=today, certificate=_facts(rec, profile)
    )
    folder = safe_name(f"surveillance-{audit.audit.end_date.isoformat()}")
    try:
        documents = tuple(
            _document(
                f"{folder}/{kind}",
                workspace.templates / profile.templates[kind],
                f"监督审核{DOCUMENT_TITLES[kind]}",
                record=rec,
                context=context,
                audit=audit,
                scheme=scheme,
                profile=profile,
                today=today,
            )
            for kind in ("scoresheet", "report")
        )
    except OSError as exc:
        raise DocumentError([Problem(str(exc.filename or ""), os_error_text(exc))], source=str(path)) from exc
    (result,) = write_documents(
        [DocumentSet(workspace.output / safe_name(rec.number), documents, number=rec.number)],
        converter=converter,
        register=register,
        within=workspace.output,
    )
    if not result.ok:
        raise DocumentError([Problem(f"证书 {rec.number}", e) for e in result.errors], source=str(path))
    if score.passed:
        register.record_last_audit(rec.number, audit_type="surveillance", end_date=audit.audit.end_date)
    return SurveillanceResult(
        register.get(rec.number, today=today),
        score.grade,
        score.passed,
        {kind.split("/")[1]: pdf for kind, pdf in result.pdfs.items()},
    )
