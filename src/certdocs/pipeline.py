"""The one place that wires issuing: audit → score → dates → number → documents → register.

Issuing is done for many audits at once so that LibreOffice converts every document of a run
in a few parallel calls (the cost of a batch is LibreOffice). Each certificate goes through:

1. validate and score; refuse (report and scoresheet only) when it does not pass;
2. check its dates (:mod:`certdocs.issuance`) and reserve its number in the register, keyed
   by the audit's identity (reruns reuse it);
3. write its documents and issue pack into ``output/<number>/`` through the one document
   stage (:mod:`certdocs.documents`: render, convert together, normalise, place, record).

A run killed anywhere leaves whole files and a reserved number that the next run completes; a
run that fails after reserving notes why against the number. An issued certificate is never
rewritten by issuing again: the same inputs give "unchanged" (missing files are restored),
changed ones are refused with what differs, and only ``regenerate`` rebuilds them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path

from certdocs._fs import safe_name, sha256_file
from certdocs._issue_job import (
    ISSUED_KINDS,
    PACK_ORDER,
    REFUSED_KINDS,
    Job,
    default_person_days,
    differences,
    document_set,
    joined,
    refusal,
    stored_audit_path,
)
from certdocs.audit import AuditResult, load_audit
from certdocs.context import PrintedCertificate
from certdocs.convert import Converter
from certdocs.decisions import SINGLE_DECISION
from certdocs.documents import DocumentSet, Written, write_documents
from certdocs.errors import CertdocsError, DateError, Problem, RegisterError, os_error_text
from certdocs.glyphcheck import check_printable
from certdocs.issuance import DateRefusal, HeldCertificate, certificate_dates, issue_date_problems
from certdocs.profile import profile_for_scheme
from certdocs.register import CertificateFacts, CertificateRecord, Register, State
from certdocs.scheme import Scheme
from certdocs.scoring import score_audit


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
    """One approved audit to issue: its file and the certification decision behind it.

    ``issue_date`` is the date asked for; without it the certificate is dated the decision
    date (and a rerun keeps the date it was issued with).
    """

    audit_path: Path
    decision_meeting: str
    decision_date: date
    issue_date: date | None = None


class OutcomeStatus(StrEnum):
    """What became of one request."""

    ISSUED = "issued"
    UNCHANGED = "unchanged"  # issued before from the same inputs; nothing rewritten
    REFUSED = "refused"  # did not pass: reports only, no number
    FAILED = "failed"


@dataclass(frozen=True)
class Outcome:
    """What became of one request."""

    audit_path: Path
    status: OutcomeStatus
    number: str = ""
    grade: str = ""
    folder: Path | None = None
    documents: dict[str, Path] = field(default_factory=dict)  # kind → PDF
    word: dict[str, Path] = field(default_factory=dict)  # kind → .docx
    issue_pack: Path | None = None
    errors: tuple[str, ...] = ()


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
        group_documents: int | None = None,
        allow_future_date: bool = False,
    ) -> None:
        self.workspace = workspace
        self.converter = converter
        self.register = register
        self.today = today
        self._progress = progress or (lambda _stage, _done, _total: None)
        self.group_documents = group_documents  # documents per converter call; None: the converter's choice
        self.allow_future_date = allow_future_date  # the office's explicit word for a later issue date

    # -- public --------------------------------------------------------------------------

    def issue(self, requests: Sequence[IssueRequest]) -> list[Outcome]:
        """Issue every request; one that fails is reported and does not stop the others."""
        # Optional: LibreOffice starts while the other audits are read, once there is something to
        # convert (not for a register that refuses every number, nor a rerun that rewrites nothing).
        warm_up = getattr(self.converter, "warm_up", None)
        outcomes: dict[int, Outcome] = {}
        jobs: dict[int, Job] = {}
        for n, request in enumerate(requests):
            try:
                job, issued = self._prepare(request)
            except CertdocsError as exc:
                outcomes[n] = _failed(request.audit_path, errors=[str(p) for p in exc.problems])
                continue
            except OSError as exc:
                outcomes[n] = _failed(request.audit_path, errors=[_os_problem(exc, request.audit_path)])
                continue
            if issued is not None:
                refused = self._conflicts(job, issued, request)
                if refused:
                    outcomes[n] = _failed(request.audit_path, number=job.number, grade=job.score.grade, errors=refused)
                    continue
                if self._intact(job):
                    if job.replaces and job.certificate is not None:  # a run killed before superseding
                        self.register.supersede(job.replaces, new_number=job.number, on=job.certificate.issue_date)
                    outcomes[n] = _as_found(job)
                    continue
            jobs[n] = job
            if warm_up is not None:
                warm_up()
                warm_up = None
        outcomes.update(self._write(jobs))
        return [outcomes[n] for n in range(len(requests))]

    def rebuild(self, targets: Sequence[tuple[CertificateRecord, tuple[str, ...]]]) -> list[Outcome]:
        """Rebuild some documents of issued certificates, keeping numbers and dates from the register.

        An audit result changed so that its grade or score differs needs a new decision and is
        not rebuilt.
        """
        outcomes: dict[int, Outcome] = {}
        jobs: dict[int, Job] = {}
        for n, (record, kinds) in enumerate(targets):
            path = Path(record.facts.audit_path)
            try:
                job = self._job_of_record(record, path, only=kinds)
            except CertdocsError as exc:
                outcomes[n] = _failed(path, number=record.number, errors=[str(p) for p in exc.problems])
                continue
            jobs[n] = job
        outcomes.update(self._write(jobs))
        return [outcomes[n] for n in range(len(targets))]

    # -- steps ---------------------------------------------------------------------------

    def _prepare(self, request: IssueRequest) -> tuple[Job, CertificateRecord | None]:
        """The job for a request, and the certificate already issued for its audit (if any).

        Dates are checked before anything is reserved; a new or still-reserved certificate's
        number is reserved (with the facts given now); an issued one is taken as registered.
        """
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
        check_printable(audit=audit, score=score, profile=profile)  # glyphs and one page, before a number
        stored_path = stored_audit_path(request.audit_path)
        if not score.passed:
            folder = self.workspace.output / "未通过" / safe_name(f"{audit.organization.uscc}_{audit.audit.start_date}")
            return Job(request.audit_path, audit, scheme, score, profile, folder, request.decision_date), None
        if audit.audit.type == "surveillance":
            raise CertdocsError([Problem("audit.type", "监督审核不换发证书；请用 certdocs surveillance 相关命令处理")])
        held = self.register.find_by_key(audit.key, today=self.today)
        dates = certificate_dates(
            audit_type=audit.audit.type,
            issue_date=issue_date,
            organization=audit.organization.uscc,
            scheme=scheme.id,
            rerun=_held(held),
            current=_held(self.register.find_current(audit.organization.uscc, scheme.id, today=self.today)),
        )
        if isinstance(dates, DateRefusal):
            raise RegisterError([dates.problem])
        if held is not None and held.state == State.ISSUED:
            job = self._job_of_record(held, request.audit_path, replaces=dates.replaces, audit=(audit, scheme))
            return job, held
        facts = CertificateFacts(
            organization_name=audit.organization.name,
            uscc=audit.organization.uscc,
            scheme=scheme.id,
            grade=score.grade,
            stars=score.stars,
            level=score.level,
            score=score.score,
            first_issue_date=dates.first_issue_date,
            issue_date=dates.issue_date,
            valid_until=dates.valid_until,
            decision_meeting=request.decision_meeting,
            decision_date=request.decision_date,
            audit_path=stored_path,
            audit_sha256=audit.digest,
            audit_type=audit.audit.type,
            audit_end_date=audit.audit.end_date,
            initial_person_days=default_person_days(audit),
        )
        number = self.register.reserve(
            audit.key, pattern=profile.number_pattern, year=issue_date.year, facts=facts
        ).number
        printed = PrintedCertificate(
            number, dates.first_issue_date, dates.issue_date, dates.valid_until, profile.verification_url(number)
        )
        folder = self.workspace.output / safe_name(number)
        job = Job(request.audit_path, audit, scheme, score, profile, folder, issue_date, printed, dates.replaces, True)
        return job, None

    def _job_of_record(
        self,
        record: CertificateRecord,
        path: Path,
        *,
        only: tuple[str, ...] = (),
        replaces: str = "",
        audit: tuple[AuditResult, Scheme] | None = None,
    ) -> Job:
        """The job of an issued certificate: number and dates as registered."""
        result, scheme = audit or load_audit(path, schemes_dir=self.workspace.schemes)
        score = score_audit(result, scheme)
        if (score.grade, score.score) != (record.facts.grade, record.facts.score):
            rule = (
                f"审核结果改动后评定为{score.grade}（{score.score}），与登记的{record.facts.grade}（{record.facts.score}）不同，"
                "须重新作出认证决定，不能仅重新生成文件"
            )
            raise CertdocsError([Problem(str(path), rule)])
        profile = profile_for_scheme(scheme.id, folder=self.workspace.profiles)
        printed = PrintedCertificate(
            record.number,
            record.facts.first_issue_date,
            record.facts.issue_date,
            record.facts.valid_until,
            profile.verification_url(record.number),
        )
        folder = self.workspace.output / safe_name(record.number)
        return Job(path, result, scheme, score, profile, folder, record.facts.issue_date, printed, replaces, only=only)

    def _conflicts(self, job: Job, issued: CertificateRecord, request: IssueRequest) -> list[str]:
        """Why issuing ``request`` again would change the issued certificate (empty: it would not)."""
        recorded = {d.kind: d.built_from for d in self.register.documents_of(job.number)}
        try:
            reasons = differences(job, recorded, self.workspace.templates)
        except OSError as exc:
            return [_os_problem(exc, self.workspace.templates)]
        if request.issue_date is not None and request.issue_date != issued.facts.issue_date:
            reasons.append(f"发证日期 {request.issue_date} 与已登记的 {issued.facts.issue_date} 不同")
        if not reasons:
            return []
        return [
            f"证书 {job.number} 已于 {issued.facts.issue_date} 发证，本次输入与发证时不同：{joined(reasons)}",
            "已发证证书的文件只能用 certdocs regenerate 重新生成（证书编号和日期不变）；"
            "发证日期不能更改，如须更改请撤销后重新作出认证决定",
        ]

    def _intact(self, job: Job) -> bool:
        """Every document and the issue pack recorded, present and as recorded (a rerun rewrites nothing)."""
        docs = {d.kind: d for d in self.register.documents_of(job.number)}
        names = [f"{k}.{s}" for k in job.kinds for s in ("docx", "pdf")] + ["issue_pack.pdf"]
        for name in names:
            doc = docs.get(name)
            if doc is None or not Path(doc.path).is_file() or sha256_file(Path(doc.path)) != doc.sha256:
                return False
        return True

    def _write(self, jobs: dict[int, Job]) -> dict[int, Outcome]:
        """Write every job's documents through the one document stage; supersede, or note failures."""
        sets: dict[int, DocumentSet] = {}
        early: dict[int, list[str]] = {}
        for n, job in jobs.items():
            try:
                sets[n] = document_set(job, self.workspace.templates)
            except CertdocsError as exc:
                early[n] = [str(p) for p in exc.problems]
            except OSError as exc:
                early[n] = [_os_problem(exc, job.folder)]
        written = write_documents(
            list(sets.values()),
            converter=self.converter,
            register=self.register,
            within=self.workspace.output,
            group_documents=self.group_documents,
            progress=self._progress,
        )
        results = dict(zip(sets, written, strict=True))
        outcomes: dict[int, Outcome] = {}
        for n, job in jobs.items():
            result = results.get(n)
            if result is None or not result.ok:
                errors = early.get(n, []) + list(result.errors if result is not None else ())
                self._note_failure(job, errors)
                outcomes[n] = _failed(job.audit_path, number=job.number, grade=job.score.grade, errors=errors)
                continue
            if job.replaces and job.certificate is not None:
                self.register.supersede(job.replaces, new_number=job.number, on=job.certificate.issue_date)
            outcomes[n] = _written(job, result)
        return outcomes

    def _note_failure(self, job: Job, errors: Sequence[str]) -> None:
        """Keep a reserved number visible with why it was not issued (it stays reserved for its audit)."""
        if not (job.reserved and job.number):
            return
        # The failure itself is reported in the outcome; the register may be what failed.
        with contextlib.suppress(CertdocsError):
            self.register.note_failure(job.number, reason=joined(errors))


def _held(record: CertificateRecord | None) -> HeldCertificate | None:
    if record is None:
        return None
    status = record.status.value if record.status is not None else None
    return HeldCertificate(record.number, status, record.facts.first_issue_date, record.facts.valid_until)


def _os_problem(exc: OSError, where: Path) -> str:
    return str(Problem(str(exc.filename or where), os_error_text(exc)))


def _failed(path: Path, *, number: str = "", grade: str = "", errors: Sequence[str]) -> Outcome:
    return Outcome(path, OutcomeStatus.FAILED, number=number, grade=grade, errors=tuple(errors))


def _written(job: Job, written: Written) -> Outcome:
    status = OutcomeStatus.ISSUED if job.certificate is not None else OutcomeStatus.REFUSED
    return Outcome(
        job.audit_path,
        status,
        number=job.number,
        grade=job.score.grade,
        folder=job.folder,
        documents=dict(written.pdfs),
        word=dict(written.word),
        issue_pack=written.pack,
        errors=(refusal(job.score),) if job.certificate is None else (),
    )


def _as_found(job: Job) -> Outcome:
    folder = job.folder
    return Outcome(
        job.audit_path,
        OutcomeStatus.UNCHANGED,
        number=job.number,
        grade=job.score.grade,
        folder=folder,
        documents={k: folder / f"{k}.pdf" for k in job.kinds},
        word={k: folder / f"{k}.docx" for k in job.kinds},
        issue_pack=folder / "issue_pack.pdf",
    )


__all__ = [
    "ISSUED_KINDS",
    "PACK_ORDER",
    "REFUSED_KINDS",
    "SINGLE_DECISION",
    "IssueRequest",
    "Issuer",
    "Outcome",
    "OutcomeStatus",
    "Workspace",
    "default_person_days",
]
