"""The one place that wires the pipeline: audit → score → context → Word → PDF → issue pack → register.

Issuing is done for many audits at once so that LibreOffice converts every document of a run
in a few parallel calls (the cost of a batch is LibreOffice). Each certificate goes through:

1. validate and score; refuse (report and scoresheet only) when it does not pass;
2. reserve its number in the register, keyed by the audit's identity (reruns reuse it);
3. write its documents and issue pack into ``output/<number>/`` through the one document
   stage (:mod:`certdocs.documents`: render, convert together, normalise, place, record).

A run killed anywhere leaves whole files and a reserved number that the next run completes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from certdocs._fs import sha256_file
from certdocs.audit import AuditResult, load_audit
from certdocs.context import CertificateFacts, build_context
from certdocs.convert import Converter
from certdocs.documents import (
    Document,
    DocumentSet,
    Pack,
    Written,
    built_from,
    pack_built_from,
    stale_inputs,
    write_documents,
)
from certdocs.errors import CertdocsError, DateError, Problem, RegisterError, os_error_text
from certdocs.issuance import DateRefusal, HeldCertificate, certificate_dates, issue_date_problems
from certdocs.pdf import PdfMetadata
from certdocs.profile import DOCUMENT_TITLES, Profile, profile_for_scheme
from certdocs.qr import qr_png
from certdocs.register import CertificateFacts as RegisterFacts
from certdocs.register import CertificateRecord, Register, State
from certdocs.scheme import Scheme
from certdocs.scoring import Score, score_audit

ISSUED_KINDS = ("audit_plan", "scoresheet", "report", "certificate")
REFUSED_KINDS = ("audit_plan", "scoresheet", "report")
PACK_ORDER = ("certificate", "report", "scoresheet")
SINGLE_DECISION = "单项认证决定"


@dataclass(frozen=True)
class Workspace:
    """Where things are: output folder, register database, templates, optional data folders."""

    output: Path
    register: Path | str  # an SQLite file, or a postgresql:// URL
    templates: Path
    profiles: Path | None = None
    schemes: Path | None = None


@dataclass(frozen=True)
class IssueRequest:
    """One approved audit to issue: its file and the certification decision behind it."""

    audit_path: Path
    decision_meeting: str
    decision_date: date
    issue_date: date | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of one request."""

    audit_path: Path
    status: str  # "issued", "unchanged", "refused", "failed"
    number: str = ""
    grade: str = ""
    folder: Path | None = None
    documents: dict[str, Path] = field(default_factory=dict)  # kind → PDF
    word: dict[str, Path] = field(default_factory=dict)  # kind → .docx
    issue_pack: Path | None = None
    errors: tuple[str, ...] = ()


@dataclass
class _Job:
    request: IssueRequest
    audit: AuditResult
    scheme: Scheme
    score: Score
    profile: Profile
    folder: Path
    number: str = ""
    previous: str = ""  # the certificate a recertification replaces
    facts: CertificateFacts | None = None
    errors: list[str] = field(default_factory=list)
    only: tuple[str, ...] = ()  # regeneration: rebuild just these kinds

    @property
    def kinds(self) -> tuple[str, ...]:
        kinds = ISSUED_KINDS if self.facts is not None else REFUSED_KINDS
        return tuple(k for k in kinds if k in self.only) if self.only else kinds


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


class Issuer:
    """Issues certificates into a workspace with one converter and one register."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        converter: Converter,
        register: Register,
        today: date,
        progress: Callable[[str, int, int], None] | None = None,
        group_documents: int = 40,
        allow_future_date: bool = False,
    ) -> None:
        self.workspace = workspace
        self.converter = converter
        self.register = register
        self.today = today
        self._progress = progress or (lambda _stage, _done, _total: None)
        self.group_documents = group_documents  # documents per converter call (its workers split it)
        self.allow_future_date = allow_future_date  # the office's explicit word for a later issue date

    # -- public --------------------------------------------------------------------------

    def issue(self, requests: Sequence[IssueRequest]) -> list[Outcome]:
        """Issue every request; one that fails is reported and does not stop the others."""
        outcomes: dict[int, Outcome] = {}
        jobs: dict[int, _Job] = {}
        for n, request in enumerate(requests):
            try:
                job = self._prepare(request)
            except CertdocsError as exc:
                outcomes[n] = Outcome(request.audit_path, "failed", errors=tuple(str(p) for p in exc.problems))
                continue
            if job.number and self._unchanged(job):
                if job.previous and job.facts is not None:  # a run killed before superseding
                    self.register.supersede(job.previous, new_number=job.number, on=job.facts.issue_date)
                outcomes[n] = self._outcome(job, "unchanged")
                continue
            jobs[n] = job
        outcomes.update(self._run(jobs))
        return [outcomes[n] for n in range(len(requests))]

    def _run(self, jobs: dict[int, _Job]) -> dict[int, Outcome]:
        """Write every job's documents through the one document stage, then supersede what they replace."""
        outcomes: dict[int, Outcome] = {}
        sets: dict[int, DocumentSet] = {}
        for n, job in jobs.items():
            try:
                sets[n] = self._document_set(job)
            except CertdocsError as exc:
                job.errors += [str(p) for p in exc.problems]
            except OSError as exc:
                job.errors.append(str(Problem(str(exc.filename or job.folder), os_error_text(exc))))
        written = write_documents(
            list(sets.values()),
            converter=self.converter,
            register=self.register,
            within=self.workspace.output,
            group_documents=self.group_documents,
            progress=self._progress,
        )
        results = dict(zip(sets, written, strict=True))
        for n, job in jobs.items():
            outcomes[n] = self._finish(job, results.get(n))
        return outcomes

    # -- steps ---------------------------------------------------------------------------

    def _prepare(self, request: IssueRequest) -> _Job:
        audit, scheme = load_audit(request.audit_path, schemes_dir=self.workspace.schemes)
        score = score_audit(audit, scheme)
        profile = profile_for_scheme(scheme.id, folder=self.workspace.profiles)
        issue_date = request.issue_date or request.decision_date
        problems = issue_date_problems(
            where=str(request.audit_path),
            audit_end=audit.audit.end_date,
            decision_date=request.decision_date,
            issue_date=issue_date,
            today=self.today,
            allow_future=self.allow_future_date,
        )
        if problems:
            raise DateError(problems)
        if not score.passed:
            folder = self.workspace.output / "未通过" / f"{audit.organization.uscc}_{audit.audit.start_date}"
            return _Job(request, audit, scheme, score, profile, folder)
        if audit.audit.type == "surveillance":
            raise CertdocsError([Problem("audit.type", "监督审核不换发证书；请用 certdocs surveillance 相关命令处理")])
        dates = certificate_dates(
            audit_type=audit.audit.type,
            issue_date=issue_date,
            organization=audit.organization.uscc,
            scheme=scheme.id,
            rerun=_held(self.register.find_by_key(audit.key, today=self.today)),
            current=_held(self.register.find_current(audit.organization.uscc, scheme.id, today=self.today)),
        )
        if isinstance(dates, DateRefusal):
            raise RegisterError([dates.problem])
        first_issue, expiry, previous = dates.first_issue_date, dates.valid_until, dates.replaces
        facts = RegisterFacts(
            organization_name=audit.organization.name,
            uscc=audit.organization.uscc,
            scheme=scheme.id,
            grade=score.grade,
            stars=score.stars,
            level=score.level,
            score=score.score,
            first_issue_date=first_issue,
            issue_date=issue_date,
            valid_until=expiry,
            decision_meeting=request.decision_meeting,
            decision_date=request.decision_date,
            audit_path=str(request.audit_path.resolve()),
            audit_sha256=audit.digest,
            audit_type=audit.audit.type,
            audit_end_date=audit.audit.end_date,
            initial_person_days=default_person_days(audit),
        )
        number = self.register.reserve(
            audit.key, pattern=profile.number_pattern, year=issue_date.year, facts=facts
        ).number
        record = self.register.get(number, today=self.today)
        job = _Job(
            request, audit, scheme, score, profile, self.workspace.output / number, number=number, previous=previous
        )
        job.facts = CertificateFacts(
            number, record.first_issue_date, record.issue_date, record.valid_until, profile.verification_url(number)
        )
        return job

    def _built_from(self, job: _Job, kind: str) -> dict[str, str]:
        return built_from(
            self.workspace.templates / job.profile.templates[kind],
            audit=job.audit.digest,
            scheme=job.scheme.digest,
            profile=job.profile.digest,
        )

    def rebuild(self, targets: Sequence[tuple[CertificateRecord, tuple[str, ...]]]) -> list[Outcome]:
        """Rebuild some documents of issued certificates, keeping numbers and dates from the register."""
        outcomes: dict[int, Outcome] = {}
        jobs: dict[int, _Job] = {}
        for n, (record, kinds) in enumerate(targets):
            path = Path(record.audit_path)
            try:
                audit, scheme = load_audit(path, schemes_dir=self.workspace.schemes)
                score = score_audit(audit, scheme)
                if (score.grade, score.score) != (record.grade, record.score):
                    raise CertdocsError(
                        [
                            Problem(
                                str(path),
                                f"审核结果改动后评定为{score.grade}（{score.score}），"
                                f"与登记的{record.grade}（{record.score}）不同，"
                                "须重新作出认证决定，不能仅重新生成文件",
                            )
                        ]
                    )
                profile = profile_for_scheme(scheme.id, folder=self.workspace.profiles)
            except CertdocsError as exc:
                outcomes[n] = Outcome(path, "failed", number=record.number, errors=tuple(str(p) for p in exc.problems))
                continue
            request = IssueRequest(path, record.decision_meeting, record.decision_date, record.issue_date)
            job = _Job(
                request,
                audit,
                scheme,
                score,
                profile,
                self.workspace.output / record.number,
                number=record.number,
                only=kinds,
            )
            job.facts = CertificateFacts(
                record.number,
                record.first_issue_date,
                record.issue_date,
                record.valid_until,
                profile.verification_url(record.number),
            )
            jobs[n] = job
        outcomes.update(self._run(jobs))
        return [outcomes[n] for n in range(len(targets))]

    def _unchanged(self, job: _Job) -> bool:
        """Already issued from the same inputs, with every file present and intact."""
        record = self.register.find_by_key(job.audit.key, today=self.today)
        if record is None or record.state != State.ISSUED:
            return False
        docs = {d.kind: d for d in self.register.documents_of(job.number)}
        for kind in job.kinds:
            for suffix in ("docx", "pdf"):
                doc = docs.get(f"{kind}.{suffix}")
                if doc is None or stale_inputs(doc.built_from, self._built_from(job, kind)):
                    return False
                path = Path(doc.path)
                if not path.is_file() or sha256_file(path) != doc.sha256:
                    return False
        pack = docs.get("issue_pack.pdf")
        return pack is not None and Path(pack.path).is_file() and sha256_file(Path(pack.path)) == pack.sha256

    def _document_set(self, job: _Job) -> DocumentSet:
        """What to write for a job: its documents (and issue pack), recorded against its number."""
        created = job.facts.issue_date if job.facts else job.request.decision_date
        context = build_context(
            audit=job.audit,
            scheme=job.scheme,
            score=job.score,
            profile=job.profile,
            certificate=job.facts,
            issued_on=created,
        )
        qr = qr_png(job.facts.verify_url) if job.facts else None
        body, name = job.profile.name, job.audit.organization.name
        built = {kind: self._built_from(job, kind) for kind in job.kinds}
        documents = tuple(
            Document(
                kind,
                self.workspace.templates / job.profile.templates[kind],
                context,
                PdfMetadata(
                    title=f"{DOCUMENT_TITLES[kind]}：{name}",
                    subject=job.number or "",
                    author=body,
                    keywords=f"{job.scheme.standard_code}, {job.score.grade}, {kind}",
                    created=created,
                    built_from=tuple(sorted(built[kind].items())),
                ),
                qr_png=qr if kind == "certificate" else None,
            )
            for kind in job.kinds
        )
        pack = None
        if job.facts is not None and set(PACK_ORDER) & set(job.kinds):
            pack_built = pack_built_from([self._built_from(job, k) for k in PACK_ORDER])
            pack = Pack(
                "issue_pack",
                tuple((DOCUMENT_TITLES[k], k) for k in PACK_ORDER),
                PdfMetadata(
                    title=f"发证资料包：{name}",
                    subject=job.number,
                    author=body,
                    keywords=f"{job.scheme.standard_code}, {job.score.grade}, {job.number}",
                    created=created,
                    built_from=tuple(sorted(pack_built.items())),
                ),
            )
        return DocumentSet(job.folder, documents, number=job.number if job.facts else "", pack=pack)

    def _finish(self, job: _Job, written: Written | None) -> Outcome:
        """The outcome of a written job; an issued one supersedes the certificate it replaces."""
        if written is None or not written.ok:
            errors = tuple(job.errors) + (written.errors if written else ())
            return Outcome(job.request.audit_path, "failed", number=job.number, grade=job.score.grade, errors=errors)
        if job.facts is None:
            return Outcome(
                job.request.audit_path,
                "refused",
                grade=job.score.grade,
                folder=job.folder,
                documents=dict(written.pdfs),
                word=dict(written.word),
                errors=(_refusal(job.score),),
            )
        if job.previous:
            self.register.supersede(job.previous, new_number=job.number, on=job.facts.issue_date)
        return Outcome(
            job.request.audit_path,
            "issued",
            number=job.number,
            grade=job.score.grade,
            folder=job.folder,
            documents=dict(written.pdfs),
            word=dict(written.word),
            issue_pack=written.pack,
        )

    def _outcome(self, job: _Job, status: str) -> Outcome:
        folder = job.folder
        return Outcome(
            job.request.audit_path,
            status,
            number=job.number,
            grade=job.score.grade,
            folder=folder,
            documents={k: folder / f"{k}.pdf" for k in job.kinds},
            word={k: folder / f"{k}.docx" for k in job.kinds},
            issue_pack=folder / "issue_pack.pdf",
        )


def _held(record: CertificateRecord | None) -> HeldCertificate | None:
    if record is None:
        return None
    status = record.status.value if record.status is not None else None
    return HeldCertificate(record.number, status, record.first_issue_date, record.valid_until)


def _refusal(score: Score) -> str:
    if score.veto:
        return "否决项不符合（一票否决）"
    if score.unmet_prerequisites:
        return "未满足认证前提条件：" + "；".join(score.unmet_prerequisites)
    return f"最终得分 {score.score}，评定为{score.grade}，未达到发证要求"
