"""The one document-writing stage: render → convert → normalise → place → record.

Every document certdocs writes goes through :func:`write_documents`: certificates and their
issue packs, the reports of refused audits, surveillance notices and records, regenerated
documents, status letters. The caller says what to write as :class:`DocumentSet` values (the
documents that stand or fall together, for example one certificate's four documents and its
issue pack); the stage

1. renders each Word document into a private staging folder inside the output folder;
2. converts them to PDF in groups, LibreOffice converting one group while the next is rendered;
3. makes every PDF reproducible (the same inputs give the same bytes) and merges issue packs;
4. moves each set's files into its folder by atomic rename (same file system);
5. records them, with their SHA-256 and what they were built from, against the set's
   certificate in the register.

A failure (a template that does not render, a document LibreOffice cannot convert, a PDF that
cannot be rewritten, a folder that cannot be written, a register that refuses) fails only the
set it belongs to: nothing of that set is recorded, the other sets go on.

What a document was built from is defined once here (:func:`built_from`) and compared once
(:func:`stale_inputs`); the formats are in ``docs/documents.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from certdocs import __version__
from certdocs._fs import input_digest, move_durably, safe_name, sha256_file, staging_dir
from certdocs.convert import Converter
from certdocs.errors import CertdocsError, Problem, os_error_text
from certdocs.pdf import PdfMetadata, merge_issue_pack, normalize_pdf
from certdocs.register import NewDocument, Register
from certdocs.render import RenderContext, prepare_context, render_docx

#: The inputs whose change makes a document out of date (``regenerate`` rebuilds it, ``certificate``
#: refuses to rewrite it). The certdocs version is recorded with every document but does not
#: count: an upgrade never rewrites certificates already issued, signed and sent
#: (docs/documents.md, "What a document was built from").
COUNTED_INPUTS = ("audit", "template", "scheme", "profile")

Progress = Callable[[str, int, int], None]


def built_from(
    template: Path, *, audit: str | None = None, scheme: str | None = None, profile: str | None = None
) -> dict[str, str]:
    """What a document is built from: SHA-256 of each input given, the template's name, the version.

    ``audit``, ``scheme`` and ``profile`` are the digests of those inputs (``AuditResult.digest``,
    ``Scheme.digest``, ``Profile.digest``); one left out is not part of the document (a status
    letter is built from no audit). Raises ``OSError`` when the template cannot be read.
    """
    built = {"template": input_digest(template), "template_name": template.name}
    for name, digest in (("audit", audit), ("scheme", scheme), ("profile", profile)):
        if digest is not None:
            built[name] = digest
    built["certdocs"] = __version__
    return dict(sorted(built.items()))


def pack_built_from(parts: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """What an issue pack is built from: its parts' inputs, their templates joined in pack order."""
    if not parts:
        raise ValueError("an issue pack has at least one part")
    built = dict(parts[0])
    built["template"] = "+".join(p["template"][:16] for p in parts)
    built["template_name"] = "+".join(p["template_name"] for p in parts)
    return dict(sorted(built.items()))


def stale_inputs(recorded: Mapping[str, str], current: Mapping[str, str]) -> tuple[str, ...]:
    """The counted inputs (:data:`COUNTED_INPUTS`) in which ``recorded`` differs from ``current``.

    Only inputs the current document is built from are compared; the version never is.
    """
    return tuple(k for k in COUNTED_INPUTS if k in current and recorded.get(k) != current[k])


def stale_reasons(names: Sequence[str], *, template: str, scheme: str, profile: str) -> list[str]:
    """:func:`stale_inputs` in the office's words (``template``, ``scheme``, ``profile``: their names)."""
    labels = {
        "audit": "审核结果文件已修改",
        "template": f"模板 {template} 已修改",
        "scheme": f"评价方案 {scheme} 已修改",
        "profile": f"认证机构配置 {profile} 已修改",
    }
    return [labels[name] for name in names]


@dataclass(frozen=True)
class Document:
    """One Word document to write, and its PDF.

    ``kind`` names both the files (``<folder>/<kind>.docx`` and ``.pdf``; it may contain one
    ``/`` for a subfolder) and the register's records of them (``<kind>.docx``, ``<kind>.pdf``).
    ``metadata.built_from`` is what the document was built from (see :func:`built_from`).
    """

    kind: str
    template: Path
    context: Mapping[str, Any]
    metadata: PdfMetadata
    qr_png: bytes | None = None
    label: str = ""  # how a failure names it for office staff ("audits/a.json 的认证证书"); default its kind

    @property
    def built_from(self) -> dict[str, str]:
        """What the document was built from, as the register records it."""
        return dict(self.metadata.built_from)


@dataclass(frozen=True)
class Pack:
    """A PDF merged from PDFs of its set (or, for a part not in the set, the one already in its folder)."""

    kind: str  # the file <folder>/<kind>.pdf, e.g. "issue_pack"
    parts: tuple[tuple[str, str], ...]  # (bookmark title, document kind) in order
    metadata: PdfMetadata


@dataclass(frozen=True)
class DocumentSet:
    """Documents that stand or fall together, written into one folder.

    With a ``number`` the written files are recorded against that certificate with
    :meth:`Register.complete` (which issues a reserved certificate, and only records documents
    of an issued one); without, nothing is recorded (the reports of a refused audit). ``check``
    is called once the set is converted, with each kind's rendered Word file (its PDF beside it,
    ``.pdf`` for ``.docx``), before the PDFs are normalised; a :class:`CertdocsError` it raises
    fails the set (:func:`certdocs.glyphcheck.check_pdfs`: a character drawn with no glyph).
    """

    folder: Path
    documents: tuple[Document, ...]
    number: str = ""
    pack: Pack | None = None
    check: Callable[[Mapping[str, Path]], None] | None = None

    def __post_init__(self) -> None:
        if not self.documents:
            raise ValueError("a document set has at least one document")
        kinds = [d.kind for d in self.documents] + ([self.pack.kind] if self.pack else [])
        if len(set(kinds)) != len(kinds):
            raise ValueError(f"document kinds repeat within one set: {kinds}")


@dataclass(frozen=True)
class Written:
    """What became of one set: where its files are, or why it failed (then nothing was recorded)."""

    folder: Path
    pdfs: Mapping[str, Path] = field(default_factory=dict)  # document kind → PDF
    word: Mapping[str, Path] = field(default_factory=dict)  # document kind → .docx
    pack: Path | None = None
    errors: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether every file of the set was written (and recorded, if it has a number)."""
        return not self.errors


#: Groups waiting at the converter at once: enough that its workers always have the next document.
CONVERTING_GROUPS = 8


def write_documents(
    sets: Sequence[DocumentSet],
    *,
    converter: Converter,
    register: Register | None,
    within: Path,
    group_documents: int | None = None,
    progress: Progress | None = None,
) -> list[Written]:
    """Write every set (render, convert, normalise, place, record); one :class:`Written` per set, in order.

    Every folder must lie inside ``within`` (the output folder, where the staging folder is
    made, so files move by rename). Sets go in groups of about ``group_documents`` documents
    (by default the converter's ``group_size``, else 40), each handed to the converter as soon
    as it is rendered; several groups wait at the converter at once, so its workers never
    idle between groups, while the PDFs of converted groups are finished, placed and recorded
    here in order.
    ``register`` may be ``None`` only when no set has a number.
    """
    report = progress or (lambda _stage, _done, _total: None)
    jobs = [_Job(n, s) for n, s in enumerate(sets)]
    root = within.resolve()
    for job in jobs:
        kinds = [d.kind for d in job.set.documents] + ([job.set.pack.kind] if job.set.pack else [])
        outside = [k for k in kinds if not (job.set.folder / f"{k}.pdf").resolve().is_relative_to(root)]
        if outside or not job.set.folder.resolve().is_relative_to(root):
            job.fail([Problem(str(job.set.folder / (outside or [""])[0]), f"文件不在输出文件夹 {within} 之内")])
        elif job.set.number and register is None:
            raise ValueError("a set with a certificate number needs a register")
    if not jobs:
        return []
    size: int = group_documents or int(getattr(converter, "group_size", 40))
    groups: list[list[_Job]] = [[]]
    for job in jobs:
        if groups[-1] and sum(len(j.set.documents) for j in groups[-1]) >= size:
            groups.append([])
        groups[-1].append(job)
    total = len(jobs)
    with (
        staging_dir(within) as staging,
        ThreadPoolExecutor(max_workers=CONVERTING_GROUPS, thread_name_prefix="certdocs-convert") as converting,
    ):
        conversions: list[Future[None]] = []
        rendered = 0
        for group in groups:
            for job in group:
                report("生成 Word 文件", rendered, total)
                job.render(staging)
                rendered += 1
            conversions.append(converting.submit(_convert, converter, group))
        report("转换 PDF（LibreOffice）", 0, total)
        done = 0
        # While the converter works on later groups (in its own processes), each converted
        # group is finished here; the register is written in order.
        for group, conversion in zip(groups, conversions, strict=True):
            conversion.result()
            for job in group:
                report("合并发证资料包并登记", done, total)
                job.finish(register)
                done += 1
        report("完成", total, total)
    return [job.result() for job in jobs]


class _Job:
    """One set on its way through the stage."""

    def __init__(self, n: int, documents: DocumentSet) -> None:
        self.n = n
        self.set = documents
        self.staged: dict[str, Path] = {}  # kind → staged .docx
        self.errors: list[str] = []
        self.files: dict[str, Path] = {}

    def fail(self, problems: Sequence[Problem]) -> None:
        self.errors += [str(p) for p in problems]

    def label(self, kind: str) -> str:
        doc = next(d for d in self.set.documents if d.kind == kind)
        return doc.label or kind

    def render(self, staging: Path) -> None:
        if self.errors:
            return
        prepared: dict[int, RenderContext] = {}  # the documents of a set share their context: copy it once
        for doc in self.set.documents:
            out = staging / safe_name(f"{self.n:05d}-{doc.kind.replace('/', '-')}.docx")
            try:
                context = prepared.get(id(doc.context))
                if context is None:
                    context = prepared[id(doc.context)] = prepare_context(doc.context)
                render_docx(doc.template, context, out=out, qr_png=doc.qr_png, durable=False)
            except CertdocsError as exc:
                self.fail(exc.problems)
                continue
            self.staged[doc.kind] = out

    def finish(self, register: Register | None) -> None:
        if self.errors:
            return
        try:
            self._normalise()
            self._place()
            if self.set.number and register is not None:
                register.complete(self.set.number, documents=self._records())
        except CertdocsError as exc:
            self.fail(exc.problems)
        except OSError as exc:
            self.fail([Problem(str(exc.filename or self.set.folder), os_error_text(exc))])

    def _normalise(self) -> None:
        if self.set.check is not None:
            self.set.check(dict(self.staged))
        for doc in self.set.documents:
            normalize_pdf(self.staged[doc.kind].with_suffix(".pdf"), metadata=doc.metadata, durable=False)
        pack = self.set.pack
        if pack is not None:
            parts = [(title, self._pdf(kind)) for title, kind in pack.parts]
            merge_issue_pack(parts, out=self._staged_pack(), metadata=pack.metadata, durable=False)

    def _pdf(self, kind: str) -> Path:
        """A part of the pack: rebuilt now (staged), else the one already in the folder."""
        staged = self.staged.get(kind)
        return staged.with_suffix(".pdf") if staged is not None else self.set.folder / f"{kind}.pdf"

    def _staged_pack(self) -> Path:
        assert self.set.pack is not None
        first = next(iter(self.staged.values()))
        return first.with_name(safe_name(f"{self.n:05d}-{self.set.pack.kind.replace('/', '-')}.pdf"))

    def _place(self) -> None:
        # Staged files are written without fsync; here they are synced back to back, renamed
        # into place and their folders synced, once for the set, before the register records them.
        moves: dict[str, tuple[Path, Path]] = {}
        for doc in self.set.documents:
            for suffix in ("docx", "pdf"):
                name = f"{doc.kind}.{suffix}"
                moves[name] = (self.staged[doc.kind].with_suffix(f".{suffix}"), self.set.folder / name)
        if self.set.pack is not None:
            name = f"{self.set.pack.kind}.pdf"
            moves[name] = (self._staged_pack(), self.set.folder / name)
        for _, dest in moves.values():
            dest.parent.mkdir(parents=True, exist_ok=True)
        move_durably(list(moves.values()))
        self.files.update({name: dest for name, (_, dest) in moves.items()})

    def _records(self) -> list[NewDocument]:
        built = {d.kind: d.built_from for d in self.set.documents}
        if self.set.pack is not None:
            built[self.set.pack.kind] = dict(self.set.pack.metadata.built_from)
        return [
            NewDocument(name, str(path), sha256_file(path), built[name.rsplit(".", 1)[0]])
            for name, path in self.files.items()
        ]

    def result(self) -> Written:
        if self.errors:
            return Written(self.set.folder, errors=tuple(self.errors))
        kinds = [d.kind for d in self.set.documents]
        return Written(
            self.set.folder,
            pdfs={k: self.files[f"{k}.pdf"] for k in kinds},
            word={k: self.files[f"{k}.docx"] for k in kinds},
            pack=self.files[f"{self.set.pack.kind}.pdf"] if self.set.pack else None,
        )


def _convert(converter: Converter, group: list[_Job]) -> None:
    """Every staged document of a group in one converter call (it runs its own parallel workers)."""
    sources = [p for job in group if not job.errors for p in job.staged.values()]
    if not sources:
        return
    # Failures name the document as office staff know it, never a staged file's temporary name;
    # each label names one document, so a failure is never pinned on another set.
    labels = {p: job.label(kind) for job in group for kind, p in job.staged.items()}
    repeated = {label for label in labels.values() if list(labels.values()).count(label) > 1}
    labels = {p: f"{label}（{p.stem}）" if label in repeated else label for p, label in labels.items()}
    try:
        converter.convert(sources, outdir=sources[0].parent, labels=labels)
    except CertdocsError as exc:
        # Each problem names its source file: those sets fail (named for office staff), the others go on.
        failed = {p.where: p.rule for p in exc.problems}
        for job in group:
            if job.errors:
                continue
            for path in job.staged.values():
                rule = failed.get(labels[path]) or failed.get(path.name) or failed.get(str(path))
                if rule is not None:
                    job.fail([Problem(labels[path], rule)])
            missing = [p for p in job.staged.values() if not job.errors and not p.with_suffix(".pdf").is_file()]
            if missing:
                try:
                    converter.convert(missing, outdir=missing[0].parent, labels=labels)
                except CertdocsError as again:
                    job.fail(again.problems)


__all__ = [
    "COUNTED_INPUTS",
    "Document",
    "DocumentSet",
    "Pack",
    "Written",
    "built_from",
    "pack_built_from",
    "stale_inputs",
    "stale_reasons",
    "write_documents",
]
