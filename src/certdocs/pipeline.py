"""The one place that wires the pipeline: audit → score → context → Word → PDF → issue pack → register.

Issuing is done for many audits at once so that LibreOffice converts every document of a run
in a few parallel calls (the cost of a batch is LibreOffice). Each certificate goes through:

1. validate and score; refuse (report and scoresheet only) when it does not pass;
2. reserve its number in the register, keyed by the audit's identity (reruns reuse it);
3. render its Word documents into a staging folder beside the output;
4. convert all staged documents of the run together;
5. make the PDFs reproducible, merge the issue pack, move every file into
   ``output/<number>/`` by atomic rename, and record the documents with their hashes.

A run killed anywhere leaves whole files and a reserved number that the next run completes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from certdocs import __version__
from certdocs._fs import input_digest, safe_name, sha256_file, staging_dir
from certdocs.audit import AuditResult, load_audit
from certdocs.context import CertificateFacts, build_context
from certdocs.convert import Converter
from certdocs.dates import initial_expiry, recertification_expiry
from certdocs.errors import CertdocsError, Problem, RegisterError
from certdocs.glyphcheck import check_pdfs, check_printable
from certdocs.pdf import PdfMetadata, merge_issue_pack, normalize_pdf
from certdocs.profile import DOCUMENT_TITLES, Profile, profile_for_scheme
from certdocs.qr import qr_png
from certdocs.register import CertificateFacts as RegisterFacts
from certdocs.register import CertificateRecord, NewDocument, Register, State, Status
from certdocs.render import render_docx
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
    staged: dict[str, Path] = field(default_factory=dict)
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
    ) -> None:
        self.workspace = workspace
        self.converter = converter
        self.register = register
        self.today = today
        self._progress = progress or (lambda _stage, _done, _total: None)
        self.group_documents = group_documents  # documents per converter call (its workers split it)

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
        """Render, convert and finish every job, overlapping the three.

        Jobs go in groups of about :attr:`group_documents` documents: while LibreOffice
        converts one group (with its own parallel workers), the next is rendered, then the
        PDFs of converted groups are made reproducible, merged, moved into place and recorded.
        """
        outcomes: dict[int, Outcome] = {}
        if not jobs:
            return outcomes
        groups: list[list[tuple[int, _Job]]] = [[]]
        for n, job in jobs.items():
            if len(groups[-1]) * 4 >= self.group_documents:
                groups.append([])
            groups[-1].append((n, job))
        total = len(jobs)
        with (
            staging_dir(self.workspace.output) as staging,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="certdocs-convert") as converting,
        ):
            conversions = []
            rendered = 0
            for group in groups:
                for n, job in group:
                    self._progress("生成 Word 文件", rendered, total)
                    self._render(job, staging, prefix=f"{n:05d}-")
                    rendered += 1
                conversions.append(converting.submit(self._convert, [job for _, job in group]))
            self._progress("转换 PDF（LibreOffice）", 0, total)
            # While LibreOffice converts the later groups (in its own processes), the PDFs of
            # each converted group are finished here; the register is written in order.
            for group, conversion in zip(groups, conversions, strict=True):
                conversion.result()
                for n, job in group:
                    self._progress("合并发证资料包并登记", len(outcomes), total)
                    if not job.errors:
                        try:
                            check_pdfs(job.staged, audit=job.audit)  # no character drawn as an empty box
                            _finish_pdfs(*self._pdf_work(job))
                        except CertdocsError as exc:
                            job.errors += [str(p) for p in exc.problems]
                    outcomes[n] = self._finish(job)
            self._progress("完成", total, total)
        return outcomes

    # -- steps ---------------------------------------------------------------------------

    def _prepare(self, request: IssueRequest) -> _Job:
        audit, scheme = load_audit(request.audit_path, schemes_dir=self.workspace.schemes)
        score = score_audit(audit, scheme)
        profile = profile_for_scheme(scheme.id, folder=self.workspace.profiles)
        issue_date = request.issue_date or request.decision_date
        if issue_date < request.decision_date:
            rule = f"发证日期 {issue_date} 早于认证决定日期 {request.decision_date}"
            raise CertdocsError([Problem("issue_date", rule)])
        check_printable(audit=audit, score=score, profile=profile)  # glyphs and one page, before a number
        if not score.passed:
            folder = self.workspace.output / "未通过" / safe_name(f"{audit.organization.uscc}_{audit.audit.start_date}")
            return _Job(request, audit, scheme, score, profile, folder)
        if audit.audit.type == "surveillance":
            raise CertdocsError([Problem("audit.type", "监督审核不换发证书；请用 certdocs surveillance 相关命令处理")])
        first_issue, expiry, previous = issue_date, initial_expiry(issue_date), ""
        if audit.audit.type == "recertification":
            held = self.register.find_by_key(audit.key, today=self.today)
            current = self.register.find_current(audit.organization.uscc, scheme.id, today=self.today)
            if held is not None:  # a rerun: keep what the first run decided
                first_issue, expiry = held.first_issue_date, held.valid_until
                if current is not None and current.number != held.number:
                    previous = current.number
            elif current is None:
                raise RegisterError(
                    [
                        Problem(
                            "audit.type",
                            f"再认证须有原证书：登记簿中没有 {audit.organization.uscc} 在方案 {scheme.id} 下的证书",
                        )
                    ]
                )
            elif current.status in (Status.WITHDRAWN, Status.CANCELLED):
                raise RegisterError(
                    [
                        Problem(
                            "audit.type",
                            f"原证书 {current.number} 已{current.status}，不能再认证换发；请按初次认证办理",
                        )
                    ]
                )
            else:
                first_issue, expiry = current.first_issue_date, recertification_expiry(current.valid_until)
                previous = current.number
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
        folder = self.workspace.output / safe_name(number)
        job = _Job(request, audit, scheme, score, profile, folder, number=number, previous=previous)
        job.facts = CertificateFacts(
            number, record.first_issue_date, record.issue_date, record.valid_until, profile.verification_url(number)
        )
        return job

    def _built_from(self, job: _Job, kind: str) -> dict[str, str]:
        template = self.workspace.templates / job.profile.templates[kind]
        return {
            "audit": job.audit.digest,
            "template": input_digest(template),
            "template_name": template.name,
            "scheme": job.scheme.digest,
            "profile": job.profile.digest,
            "certdocs": __version__,
        }

    def _pack_built_from(self, job: _Job) -> dict[str, str]:
        built = self._built_from(job, "certificate")
        built["template"] = "+".join(self._built_from(job, k)["template"][:16] for k in PACK_ORDER)
        built["template_name"] = "+".join(job.profile.templates[k] for k in PACK_ORDER)
        return built

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
                self.workspace.output / safe_name(record.number),
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
                if doc is None or dict(doc.built_from) != self._built_from(job, kind):
                    return False
                path = Path(doc.path)
                if not path.is_file() or sha256_file(path) != doc.sha256:
                    return False
        pack = docs.get("issue_pack.pdf")
        return pack is not None and Path(pack.path).is_file() and sha256_file(Path(pack.path)) == pack.sha256

    def _render(self, job: _Job, staging: Path, *, prefix: str) -> None:
        issued_on = job.facts.issue_date if job.facts else job.request.decision_date
        context = build_context(
            audit=job.audit,
            scheme=job.scheme,
            score=job.score,
            profile=job.profile,
            certificate=job.facts,
            issued_on=issued_on,
        )
        qr = qr_png(job.facts.verify_url) if job.facts else None
        for kind in job.kinds:
            template = self.workspace.templates / job.profile.templates[kind]
            out = staging / f"{prefix}{kind}.docx"
            try:
                render_docx(template, context, out=out, qr_png=qr if kind == "certificate" else None)
            except CertdocsError as exc:
                job.errors += [str(p) for p in exc.problems]
                continue
            job.staged[kind] = out

    def _convert(self, jobs: list[_Job]) -> None:
        """All staged documents in one converter call (it runs its own parallel workers)."""
        sources = [p for job in jobs if not job.errors for p in job.staged.values()]
        if not sources:
            return
        # Failures name the audit and the document, never a staged file's temporary name.
        labels = {
            p: f"{job.request.audit_path} 的{DOCUMENT_TITLES[kind]}" for job in jobs for kind, p in job.staged.items()
        }
        try:
            self.converter.convert(sources, outdir=sources[0].parent, labels=labels)
        except CertdocsError as exc:
            # Each problem names its source: those jobs fail, the others go on.
            failed = {p.where: str(p) for p in exc.problems}
            for job in jobs:
                job.errors += [failed[labels[p]] for p in job.staged.values() if labels[p] in failed]
                missing = [p for p in job.staged.values() if not job.errors and not p.with_suffix(".pdf").is_file()]
                if missing:
                    try:
                        self.converter.convert(missing, outdir=missing[0].parent, labels=labels)
                    except CertdocsError as again:
                        job.errors += [str(p) for p in again.problems]

    def _pdf_work(
        self, job: _Job
    ) -> tuple[list[tuple[Path, PdfMetadata]], tuple[Path, list[tuple[str, Path]], PdfMetadata] | None]:
        """What to do to a job's PDFs: normalize each, then merge the issue pack."""
        body, created = job.profile.name, job.facts.issue_date if job.facts else job.request.decision_date
        pdfs = {kind: job.staged[kind].with_suffix(".pdf") for kind in job.kinds}
        normalize = [
            (
                pdf,
                PdfMetadata(
                    title=f"{DOCUMENT_TITLES[kind]}：{job.audit.organization.name}",
                    subject=job.number or "",
                    author=body,
                    keywords=f"{job.scheme.standard_code}, {job.score.grade}, {kind}",
                    created=created,
                    built_from=tuple(sorted(self._built_from(job, kind).items())),
                ),
            )
            for kind, pdf in pdfs.items()
        ]
        pack = _pack_path(job)
        if pack is None:
            return normalize, None
        parts = [(DOCUMENT_TITLES[k], pdfs.get(k, job.folder / f"{k}.pdf")) for k in PACK_ORDER]
        return normalize, (
            pack,
            parts,
            PdfMetadata(
                title=f"发证资料包：{job.audit.organization.name}",
                subject=job.number,
                author=body,
                keywords=f"{job.scheme.standard_code}, {job.score.grade}, {job.number}",
                created=created,
                built_from=tuple(sorted(self._pack_built_from(job).items())),
            ),
        )

    def _finish(self, job: _Job) -> Outcome:
        """Move a job's finished files into place and record them (the pack is ready if issued)."""
        if job.errors:
            return Outcome(
                job.request.audit_path, "failed", number=job.number, grade=job.score.grade, errors=tuple(job.errors)
            )
        new_docs: list[NewDocument] = []
        folder = job.folder
        pack = _pack_path(job)
        folder.mkdir(parents=True, exist_ok=True)
        word: dict[str, Path] = {}
        final_pdfs: dict[str, Path] = {}
        for kind in job.kinds:
            built = self._built_from(job, kind)
            for suffix, store in (("docx", word), ("pdf", final_pdfs)):
                src = job.staged[kind].with_suffix(f".{suffix}")
                dest = folder / f"{kind}.{suffix}"
                src.replace(dest)  # same file system: an atomic rename
                store[kind] = dest
                new_docs.append(NewDocument(f"{kind}.{suffix}", str(dest), sha256_file(dest), built))
        final_pack = None
        if pack is not None:
            final_pack = folder / "issue_pack.pdf"
            pack.replace(final_pack)
            new_docs.append(
                NewDocument("issue_pack.pdf", str(final_pack), sha256_file(final_pack), self._pack_built_from(job))
            )
        if job.facts is None:
            return Outcome(
                job.request.audit_path,
                "refused",
                grade=job.score.grade,
                folder=folder,
                documents=final_pdfs,
                word=word,
                errors=(_refusal(job.score),),
            )
        self.register.complete(job.number, documents=new_docs)
        if job.previous:
            self.register.supersede(job.previous, new_number=job.number, on=job.facts.issue_date)
        return Outcome(
            job.request.audit_path,
            "issued",
            number=job.number,
            grade=job.score.grade,
            folder=folder,
            documents=final_pdfs,
            word=word,
            issue_pack=final_pack,
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


def _pack_path(job: _Job) -> Path | None:
    """Where a job's issue pack is staged, if it has one (issued, and a part was rebuilt)."""
    if job.facts is None or not set(PACK_ORDER) & set(job.kinds):
        return None
    first = job.staged[job.kinds[0]]
    return first.with_name(first.name.replace(job.kinds[0], "pack")).with_suffix(".pdf")


def _finish_pdfs(
    normalize: list[tuple[Path, PdfMetadata]], pack: tuple[Path, list[tuple[str, Path]], PdfMetadata] | None
) -> None:
    """Normalize a job's PDFs and merge its issue pack."""
    for path, metadata in normalize:
        normalize_pdf(path, metadata=metadata)
    if pack is not None:
        merge_issue_pack(pack[1], out=pack[0], metadata=pack[2])


def _refusal(score: Score) -> str:
    if score.veto:
        return "否决项不符合（一票否决）"
    if score.unmet_prerequisites:
        return "未满足认证前提条件：" + "；".join(score.unmet_prerequisites)
    return f"最终得分 {score.score}，评定为{score.grade}，未达到发证要求"
