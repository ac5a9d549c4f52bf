"""One audit on its way to its documents: the job, what to write for it, how it differs from what was issued.

Pure apart from hashing templates (:func:`certdocs.documents.built_from`) and resolving the audit's
path (:func:`stored_audit_path`); the register and the converter are the
:class:`~certdocs.pipeline.Issuer`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from certdocs._validate import printable, text_problem
from certdocs.audit import AuditResult
from certdocs.context import PrintedCertificate, build_context
from certdocs.documents import Document, DocumentSet, Pack, built_from, pack_built_from, stale_inputs, stale_reasons
from certdocs.errors import InvalidAuditResult, Problem
from certdocs.glyphcheck import check_pdfs
from certdocs.pdf import PdfMetadata
from certdocs.profile import DOCUMENT_TITLES, Profile
from certdocs.qr import qr_png
from certdocs.scheme import Scheme
from certdocs.scoring import Score

ISSUED_KINDS = ("audit_plan", "scoresheet", "report", "certificate")
REFUSED_KINDS = ("audit_plan", "scoresheet", "report")
PACK_ORDER = ("certificate", "report", "scoresheet")


@dataclass(frozen=True)
class Job:
    """One audit to write documents for: an approved certificate, a refused audit, or a rebuild.

    ``certificate`` is ``None`` for a refused audit (its reports only, no number). ``reserved``
    says the number is only reserved (a failure is then noted against it in the register);
    ``only`` limits a rebuild to some kinds.
    """

    audit_path: Path
    audit: AuditResult
    scheme: Scheme
    score: Score
    profile: Profile
    folder: Path
    issued_on: date
    certificate: PrintedCertificate | None = None
    replaces: str = ""  # the certificate a recertification supersedes
    reserved: bool = False
    only: tuple[str, ...] = ()

    @property
    def number(self) -> str:
        """The certificate number ("" for a refused audit)."""
        return self.certificate.number if self.certificate is not None else ""

    @property
    def kinds(self) -> tuple[str, ...]:
        """The documents to write, in order."""
        kinds = ISSUED_KINDS if self.certificate is not None else REFUSED_KINDS
        return tuple(k for k in kinds if k in self.only) if self.only else kinds

    def built_from(self, kind: str, templates: Path) -> dict[str, str]:
        """What the document of ``kind`` is built from (raises ``OSError`` for a missing template)."""
        return built_from(
            templates / self.profile.templates[kind],
            audit=self.audit.digest,
            scheme=self.scheme.digest,
            profile=self.profile.digest,
        )


def document_set(job: Job, templates: Path) -> DocumentSet:
    """What to write for a job: its documents and (for a certificate) its issue pack."""
    context = build_context(
        audit=job.audit,
        scheme=job.scheme,
        score=job.score,
        profile=job.profile,
        certificate=job.certificate,
        issued_on=job.issued_on,
    )
    qr = qr_png(job.certificate.verify_url) if job.certificate is not None else None
    name, body, code, grade = job.audit.organization.name, job.profile.name, job.scheme.standard_code, job.score.grade

    def metadata(title: str, keywords: str, built: Mapping[str, str]) -> PdfMetadata:
        return PdfMetadata(
            title=f"{title}：{name}",
            subject=job.number,
            author=body,
            keywords=f"{code}, {grade}, {keywords}",
            created=job.issued_on,
            built_from=tuple(sorted(built.items())),
        )

    documents = tuple(
        Document(
            kind,
            templates / job.profile.templates[kind],
            context,
            metadata(DOCUMENT_TITLES[kind], kind, job.built_from(kind, templates)),
            qr_png=qr if kind == "certificate" else None,
            label=f"{job.audit_path} 的{DOCUMENT_TITLES[kind]}",
        )
        for kind in job.kinds
    )
    pack = None
    if job.certificate is not None and set(PACK_ORDER) & set(job.kinds):
        built = pack_built_from([job.built_from(k, templates) for k in PACK_ORDER])
        parts = tuple((DOCUMENT_TITLES[k], k) for k in PACK_ORDER)
        pack = Pack("issue_pack", parts, metadata("发证资料包", job.number, built))
    return DocumentSet(
        job.folder,
        documents,
        number=job.number,
        pack=pack,
        check=lambda staged: check_pdfs(staged, audit=job.audit),  # no character drawn as an empty box
    )


def differences(job: Job, recorded: Mapping[str, Mapping[str, str]], templates: Path) -> list[str]:
    """How the job's inputs differ from those its recorded documents (kind → built from) were built from.

    The comparison ``regenerate`` makes (:func:`certdocs.documents.stale_inputs`), in its words.
    """
    reasons: list[str] = []
    for kind in job.kinds:
        current = job.built_from(kind, templates)
        for suffix in ("docx", "pdf"):
            built = recorded.get(f"{kind}.{suffix}")
            if built is None:
                continue
            names = stale_inputs(built, current)
            reasons += stale_reasons(
                names, template=current["template_name"], scheme=job.scheme.id, profile=job.profile.id
            )
    return list(dict.fromkeys(reasons))


def default_person_days(audit: AuditResult) -> Decimal:
    """Person-days of the initial audit, of which surveillance and recertification take a share.

    As the file says (``initial_person_days`` on a later audit, ``person_days`` on an initial
    one), else estimated as audit days × auditors (observers excluded).
    """
    info = audit.audit
    if info.type != "initial" and info.initial_person_days is not None:
        return info.initial_person_days
    if info.type == "initial" and info.person_days is not None:
        return info.person_days
    days = (info.end_date - info.start_date).days + 1
    auditors = sum(1 for m in info.team if m.role != "observer") or 1
    return Decimal(days * auditors)


def refusal(score: Score) -> str:
    """Why an audit that does not pass gets no certificate."""
    if score.veto:
        return "否决项不符合（一票否决）"
    if score.unmet_prerequisites:
        return "未满足认证前提条件：" + "；".join(score.unmet_prerequisites)
    return f"最终得分 {score.score}，评定为{score.grade}，未达到发证要求"


def joined(errors: Iterable[str]) -> str:
    """Errors as one line (a reason noted in the register)."""
    return "；".join(errors)


def stored_audit_path(path: Path) -> str:
    """The audit result's absolute path as the register keeps it (and its commands show it).

    Refused (:class:`InvalidAuditResult`) when it would print differently from how it reads: a
    control character or a bidirectional override in a file or folder name.
    """
    stored = str(path.resolve())
    if rule := text_problem(stored, multiline=False):
        raise InvalidAuditResult([Problem(printable(stored), f"文件路径的{rule}（给文件或所在文件夹改名）")])
    return stored
