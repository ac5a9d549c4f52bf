"""Surveillance: which certificates are due, and their notices (监督审核通知书).

Windows follow the scheme data (CONTRACT section 4): ``fw01-2021`` 9–12 months after the last
audit, the others within each 12 months of the issue date; after the second surveillance the
next thing due is the recertification application, three months before expiry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from certdocs._fs import input_digest, safe_name, sha256_file, staging_dir
from certdocs.audit import AuditResult, load_audit
from certdocs.context import CertificateFacts as DocumentCertificate
from certdocs.context import SurveillanceFacts, build_context
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
from certdocs.errors import CertdocsError, InvalidAuditResult, Problem, RegisterError
from certdocs.pdf import PdfMetadata, normalize_pdf
from certdocs.pipeline import Workspace
from certdocs.profile import DOCUMENT_TITLES, Profile, profile_for_scheme
from certdocs.register import CertificateRecord, Register
from certdocs.render import render_docx
from certdocs.scheme import Scheme, get_scheme
from certdocs.scoring import score_audit


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
            scheme, number=2, issue_date=record.issue_date, last_audit_end=record.last_audit_end_date
        )
        return 2 if record.last_audit_end_date >= second.start else 1
    # Counted from the last audit: a second surveillance ends more than 15 months after issue.
    return 2 if record.last_audit_end_date > add_months(record.issue_date, 15) else 1


def next_due(record: CertificateRecord, *, today: date, schemes_dir: Path | None = None) -> DueItem:
    """The next surveillance (or recertification) of one certificate."""
    scheme = get_scheme(record.scheme, extra_dir=schemes_dir)
    done = surveillances_done(record, scheme)
    if done >= SURVEILLANCES_PER_CYCLE:
        due = recertification_due(record.valid_until)
        return DueItem(
            record, "recertification", None, due, today > due, recertification_person_days(record.initial_person_days)
        )
    window = surveillance_window(
        scheme, number=done + 1, issue_date=record.issue_date, last_audit_end=record.last_audit_end_date
    )
    return DueItem(
        record,
        "surveillance",
        window,
        window.end,
        today > window.end,
        surveillance_person_days(record.initial_person_days),
    )


def due_list(
    register: Register, *, today: date, within: int | None = None, schemes_dir: Path | None = None
) -> list[DueItem]:
    """Certificates in force, by due date; with ``within`` only those due within so many days."""
    items = [next_due(r, today=today, schemes_dir=schemes_dir) for r in register.list_active(today)]
    if within is not None:
        items = [i for i in items if (i.due - today).days <= within]
    return sorted(items, key=lambda i: (i.due, i.record.number))


@dataclass(frozen=True)
class _Document:
    """One document to write about a registered certificate."""

    record: CertificateRecord
    template: Path
    context: dict[str, Any]
    name: str  # file stem in the certificate's folder, e.g. surveillance_notice-1
    title: str
    body: str
    built_from: dict[str, str]


def _write(
    documents: list[_Document], *, workspace: Workspace, register: Register, converter: Converter, today: date
) -> dict[str, Path]:
    """Render, convert together, normalize, move into ``output/<number>/`` and record; name → PDF."""
    written: dict[str, Path] = {}
    with staging_dir(workspace.output) as tmp:
        staged = []
        for n, doc in enumerate(documents):
            out = tmp / safe_name(f"{n:05d}-{doc.name.replace('/', '-')}.docx")
            render_docx(doc.template, doc.context, out=out)
            staged.append((doc, out))
        if staged:
            converter.convert([out for _, out in staged], outdir=tmp)
        for doc, out in staged:
            rec = doc.record
            normalize_pdf(
                out.with_suffix(".pdf"),
                metadata=PdfMetadata(
                    title=f"{doc.title}：{rec.organization_name}",
                    subject=rec.number,
                    author=doc.body,
                    keywords=f"{rec.scheme}, {doc.title}",
                    created=today,
                    built_from=tuple(sorted(doc.built_from.items())),
                ),
            )
            for suffix in ("docx", "pdf"):
                dest = workspace.output / safe_name(rec.number) / f"{doc.name}.{suffix}"
                dest.parent.mkdir(parents=True, exist_ok=True)
                out.with_suffix(f".{suffix}").replace(dest)
                register.record_document(
                    rec.number,
                    kind=f"{doc.name}.{suffix}",
                    path=str(dest),
                    sha256=sha256_file(dest),
                    built_from=doc.built_from,
                )
            written[doc.name] = workspace.output / safe_name(rec.number) / f"{doc.name}.pdf"
    return written


def _facts(rec: CertificateRecord, profile: Profile) -> DocumentCertificate:
    return DocumentCertificate(
        rec.number, rec.first_issue_date, rec.issue_date, rec.valid_until, profile.verification_url(rec.number)
    )


def _built(audit: AuditResult, scheme: Scheme, profile: Profile, template: Path) -> dict[str, str]:
    return {
        "audit": audit.digest,
        "template": input_digest(template),
        "template_name": template.name,
        "scheme": scheme.digest,
        "profile": profile.digest,
    }


def write_notices(
    items: list[DueItem], *, workspace: Workspace, register: Register, converter: Converter, today: date
) -> dict[str, Path]:
    """A 监督审核通知书 (docx and PDF) for each due surveillance; returns number → PDF path.

    The notice is built from the certificate's own audit result (its path is in the register).
    """
    problems: list[Problem] = []
    documents: list[_Document] = []
    for item in items:
        if item.kind != "surveillance" or item.window is None:
            continue
        rec = item.record
        try:
            audit, scheme = load_audit(Path(rec.audit_path), schemes_dir=workspace.schemes)
            profile = profile_for_scheme(scheme.id, folder=workspace.profiles)
        except CertdocsError as exc:
            problems += [Problem(f"证书 {rec.number}", str(p)) for p in exc.problems]
            continue
        context = build_context(
            audit=audit,
            scheme=scheme,
            score=score_audit(audit, scheme),
            profile=profile,
            issued_on=today,
            certificate=_facts(rec, profile),
            surveillance=SurveillanceFacts(item.window, item.person_days),
        )
        template = workspace.templates / profile.templates["surveillance_notice"]
        documents.append(
            _Document(
                rec,
                template,
                context,
                f"surveillance_notice-{item.window.number}",
                DOCUMENT_TITLES["surveillance_notice"],
                profile.name,
                _built(audit, scheme, profile, template),
            )
        )
    if problems:
        raise CertdocsError(problems)
    written = _write(documents, workspace=workspace, register=register, converter=converter, today=today)
    return {doc.record.number: written[doc.name] for doc in documents}


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
    """
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
    if (rec.uscc, rec.scheme) != (audit.organization.uscc, scheme.id):
        rule = f"证书 {rec.number} 属于 {rec.uscc}（{rec.scheme}），与本审核结果的组织或方案不符"
        raise RegisterError([Problem("audit.previous_certificate", rule)])
    profile = profile_for_scheme(scheme.id, folder=workspace.profiles)
    score = score_audit(audit, scheme)
    context = build_context(
        audit=audit, scheme=scheme, score=score, profile=profile, issued_on=today, certificate=_facts(rec, profile)
    )
    folder = safe_name(f"surveillance-{audit.audit.end_date.isoformat()}")
    documents = [
        _Document(
            rec,
            workspace.templates / profile.templates[kind],
            context,
            f"{folder}/{kind}",
            f"监督审核{DOCUMENT_TITLES[kind]}",
            profile.name,
            _built(audit, scheme, profile, workspace.templates / profile.templates[kind]),
        )
        for kind in ("scoresheet", "report")
    ]
    written = _write(documents, workspace=workspace, register=register, converter=converter, today=today)
    if score.passed:
        register.record_last_audit(rec.number, audit_type="surveillance", end_date=audit.audit.end_date)
    return SurveillanceResult(
        register.get(rec.number, today=today),
        score.grade,
        score.passed,
        {name.split("/")[1]: pdf for name, pdf in written.items()},
    )
