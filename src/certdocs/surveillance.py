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

from certdocs._fs import sha256_file, staging_dir
from certdocs.audit import load_audit
from certdocs.context import CertificateFacts as DocumentCertificate
from certdocs.context import SurveillanceFacts, build_context
from certdocs.convert import Converter
from certdocs.dates import (
    SURVEILLANCES_PER_CYCLE,
    SurveillanceWindow,
    add_months,
    recertification_due,
    surveillance_person_days,
    surveillance_window,
)
from certdocs.errors import CertdocsError, Problem
from certdocs.pdf import PdfMetadata, normalize_pdf
from certdocs.pipeline import Workspace
from certdocs.profile import DOCUMENT_TITLES, profile_for_scheme
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
        second = surveillance_window(scheme, number=2, issue_date=record.issue_date,
                                     last_audit_end=record.last_audit_end_date)
        return 2 if record.last_audit_end_date >= second.start else 1
    # Counted from the last audit: a second surveillance ends more than 15 months after issue.
    return 2 if record.last_audit_end_date > add_months(record.issue_date, 15) else 1


def next_due(record: CertificateRecord, *, today: date, schemes_dir: Path | None = None) -> DueItem:
    """The next surveillance (or recertification) of one certificate."""
    scheme = get_scheme(record.scheme, extra_dir=schemes_dir)
    done = surveillances_done(record, scheme)
    days = surveillance_person_days(record.initial_person_days)
    if done >= SURVEILLANCES_PER_CYCLE:
        due = recertification_due(record.valid_until)
        return DueItem(record, "recertification", None, due, today > due, days)
    window = surveillance_window(scheme, number=done + 1, issue_date=record.issue_date,
                                 last_audit_end=record.last_audit_end_date)
    return DueItem(record, "surveillance", window, window.end, today > window.end, days)


def due_list(register: Register, *, today: date, within: int | None = None,
             schemes_dir: Path | None = None) -> list[DueItem]:
    """Certificates in force, by due date; with ``within`` only those due within so many days."""
    items = [next_due(r, today=today, schemes_dir=schemes_dir) for r in register.list_active(today)]
    if within is not None:
        items = [i for i in items if (i.due - today).days <= within]
    return sorted(items, key=lambda i: (i.due, i.record.number))


def write_notices(items: list[DueItem], *, workspace: Workspace, register: Register, converter: Converter,
                  today: date) -> dict[str, Path]:
    """A 监督审核通知书 (docx and PDF) for each due surveillance; returns number → PDF path.

    The notice is built from the certificate's own audit result (its path is in the register).
    """
    notices = [i for i in items if i.kind == "surveillance" and i.window is not None]
    problems: list[Problem] = []
    staged: list[tuple[DueItem, Path, dict[str, str], str]] = []
    with staging_dir(workspace.output) as tmp:
        for n, item in enumerate(notices):
            rec = item.record
            try:
                audit, scheme = load_audit(Path(rec.audit_path), schemes_dir=workspace.schemes)
                profile = profile_for_scheme(scheme.id, folder=workspace.profiles)
                score = score_audit(audit, scheme)
                assert item.window is not None
                context = build_context(
                    audit=audit, scheme=scheme, score=score, profile=profile, issued_on=today,
                    certificate=DocumentCertificate(rec.number, rec.first_issue_date, rec.issue_date,
                                                    rec.valid_until, profile.verification_url(rec.number)),
                    surveillance=SurveillanceFacts(item.window, item.person_days))
                template = workspace.templates / profile.templates["surveillance_notice"]
                out = tmp / f"{n:05d}-surveillance_notice.docx"
                render_docx(template, context, out=out)
            except CertdocsError as exc:
                problems += [Problem(f"证书 {rec.number}", str(p)) for p in exc.problems]
                continue
            built = {"audit": audit.digest, "template": sha256_file(template), "template_name": template.name,
                     "scheme": scheme.digest, "profile": profile.digest}
            staged.append((item, out, built, profile.name))
        if staged:
            converter.convert([out for _, out, _, _ in staged], outdir=tmp)
        written: dict[str, Path] = {}
        for item, out, built, body in staged:
            rec = item.record
            assert item.window is not None
            kind = f"surveillance_notice-{item.window.number}"
            pdf = out.with_suffix(".pdf")
            normalize_pdf(pdf, metadata=PdfMetadata(
                title=f"{DOCUMENT_TITLES['surveillance_notice']}：{rec.organization_name}", subject=rec.number,
                author=body, keywords=f"监督审核, {item.window.ordinal}", created=today))
            folder = workspace.output / rec.number
            folder.mkdir(parents=True, exist_ok=True)
            for suffix in ("docx", "pdf"):
                dest = folder / f"{kind}.{suffix}"
                out.with_suffix(f".{suffix}").replace(dest)
                register.record_document(rec.number, kind=f"{kind}.{suffix}", path=str(dest),
                                         sha256=sha256_file(dest), built_from=built)
            written[rec.number] = folder / f"{kind}.pdf"
    if problems:
        raise CertdocsError(problems)
    return written
