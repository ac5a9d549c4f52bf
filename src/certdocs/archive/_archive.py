"""Archiving signed PDFs: identify, check against the register, bag write-once, record."""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import bagit

from certdocs._validate import line_problems, printable
from certdocs.archive._bag import (
    bag_pdfs,
    certificate_folder,
    certificate_json,
    next_bag_name,
    remove_bag,
    sha256_file,
    write_bag,
)
from certdocs.archive._identify import CREATOR, TITLES, Identity, identify, metadata_text
from certdocs.archive._verify import check_bag_contents
from certdocs.errors import ArchiveError, CertdocsError, Problem, ProfileError, os_error_text
from certdocs.profile import profile_for_scheme
from certdocs.register import ArchiveEntry, CertificateRecord, DocumentRecord, Register

if TYPE_CHECKING:  # pypdf is loaded when a file is archived (see _identify), not by importing certdocs
    from pypdf import PdfReader

Status = Literal["archived", "refused"]
Signature = Literal["digital", "scan"]


@dataclass(frozen=True)
class ArchiveResult:
    """What became of one file given to :func:`archive_files`.

    ``status`` is ``"archived"`` (``bag`` holds it; ``already_archived`` when this very file
    was archived before) or ``"refused"`` with every reason in ``problems``.
    """

    path: Path
    status: Status
    number: str | None = None
    kind: str | None = None
    signature: Signature | None = None
    sha256: str | None = None
    bag: Path | None = None
    already_archived: bool = False
    problems: tuple[Problem, ...] = ()


def archive_files(
    files: Sequence[Path],
    *,
    register: Register,
    archive_root: Path,
    today: date,
    supersede_reason: str | None = None,
    trust_roots: Sequence[Path] = (),
) -> list[ArchiveResult]:
    """Archive each signed PDF of ``files`` as a BagIt bag; one result a file, in order.

    A file is refused, and the others still archived, when it cannot be identified, its
    digital signature does not hold or signs another file than the one issued, it is neither
    signed nor a scan, or its document is archived already and no ``supersede_reason`` is
    given. Raises :class:`ArchiveError` only when the call itself cannot be carried out.
    """
    problems: list[Problem] = []
    if not files:
        problems.append(Problem("文件", "没有给出要归档的文件"))
    if supersede_reason is not None and not supersede_reason.strip():
        problems.append(Problem("替换原因", "替换已归档文件时须写明原因"))
    elif supersede_reason is not None:
        # bag-info.txt holds it on one line: a line break would be folded into a space unannounced.
        problems += line_problems(("替换原因", supersede_reason))
    if archive_root.exists() and not archive_root.is_dir():
        problems.append(Problem(str(archive_root), "归档目录已存在但不是文件夹"))
    if problems:
        raise ArchiveError(problems)
    try:
        archive_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArchiveError([Problem(str(archive_root), f"无法创建归档目录：{os_error_text(exc)}")]) from exc
    job = _Job(register, archive_root, today, supersede_reason, tuple(trust_roots))
    return [job.archive(Path(path)) for path in files]


def refusals(results: Sequence[ArchiveResult]) -> ArchiveError | None:
    """Every refusal of an archive run as one :class:`ArchiveError`; ``None`` if none."""
    problems = [problem for result in results if result.status == "refused" for problem in result.problems]
    return ArchiveError(problems) if problems else None


@dataclass(frozen=True)
class _Job:
    register: Register
    root: Path
    today: date
    supersede_reason: str | None
    trust_roots: tuple[Path, ...]

    def archive(self, path: Path) -> ArchiveResult:
        try:
            return self._archive(path)
        except CertdocsError as exc:
            return ArchiveResult(path, "refused", problems=exc.problems)
        except OSError as exc:
            return ArchiveResult(path, "refused", problems=(Problem(str(path), f"文件操作失败：{exc}"),))

    def _archive(self, path: Path) -> ArchiveResult:
        where = str(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            return ArchiveResult(path, "refused", problems=(Problem(where, f"无法读取文件：{os_error_text(exc)}"),))
        sha = hashlib.sha256(data).hexdigest()
        from pypdf import PdfReader

        try:
            reader = PdfReader(io.BytesIO(data))
        except Exception as exc:  # pypdf raises many exception types on malformed files
            return ArchiveResult(path, "refused", sha256=sha, problems=(Problem(where, f"不是可读的 PDF 文件：{exc}"),))
        found = identify(path, reader, register=self.register, today=self.today)
        if isinstance(found, list):
            return ArchiveResult(path, "refused", sha256=sha, problems=tuple(found))
        record = self.register.get(found.number, today=self.today)
        issued = next((d for d in record.documents if d.kind == f"{found.kind}.pdf"), None)
        signature, info, problems = self._signature(path, reader, sha=sha, kind=found.kind, issued=issued)
        if issued is None:
            problems.insert(0, Problem(where, f"登记簿中没有证书 {found.number} 的 {found.kind}.pdf 发证记录"))

        def refused(*more: Problem) -> ArchiveResult:
            return ArchiveResult(path, "refused", found.number, found.kind, signature, sha, problems=(*problems, *more))

        if problems or signature is None or issued is None:
            return refused()
        entries = [e for e in self.register.archive_entries(found.number) if e.kind == found.kind]
        current = next((e for e in entries if not e.superseded), None)
        damage = self._damage(current) if current is not None and current.sha256 == sha else []
        if current is not None and current.sha256 == sha and damage and self.supersede_reason is None:
            return refused(
                Problem(
                    where,
                    f"这份文件已归档于 {current.bag_path}，但归档中保存的副本已损坏（{damage[0]}）；"
                    "请用 certdocs archive verify 查看，并用 --supersede 原因 以这份文件重新归档",
                )
            )
        if current is not None and current.sha256 == sha and not damage:
            return ArchiveResult(
                path,
                "archived",
                found.number,
                found.kind,
                signature,
                sha,
                bag=self.root / current.bag_path,
                already_archived=True,
            )
        if current is not None and self.supersede_reason is None:
            return refused(
                Problem(
                    where,
                    f"证书 {found.number} 的{TITLES[found.kind]}已归档于 {current.bag_path}"
                    "（另一份文件）；确需替换时请说明原因（--supersede 原因）",
                )
            )
        folder = self.root / certificate_folder(found.number)
        bag, made = _orphan(folder, found.kind, sha, entries, self.root), False
        if bag is None:
            bag = folder / next_bag_name(folder, found.kind, entries)
            info = self._bag_info(path, found, record, issued, signature, current) | info
            payload = {f"{found.kind}.pdf": data, "certificate.json": certificate_json(record, today=self.today)}
            try:
                write_bag(bag, payload=payload, bag_info=info)
            except (OSError, bagit.BagError) as exc:
                return refused(Problem(str(bag), f"无法写入归档包：{exc}"))
            made = True
        try:
            self.register.record_archive(
                found.number,
                kind=found.kind,
                bag_path=bag.relative_to(self.root).as_posix(),
                sha256=sha,
                archived_at=datetime.now(UTC),
                supersede_reason=self.supersede_reason if current else None,
            )
        except CertdocsError as exc:
            if made:  # the register said no: the bag must not outlive the refusal
                remove_bag(bag)
            return refused(*exc.problems)
        return ArchiveResult(path, "archived", found.number, found.kind, signature, sha, bag=bag)

    def _damage(self, entry: ArchiveEntry) -> list[Problem]:
        """How the stored copy of ``entry`` has been damaged since it was archived (empty: intact)."""
        problems, _ = check_bag_contents(self.root / entry.bag_path, entry=entry)
        return problems

    def _signature(
        self, path: Path, reader: PdfReader, *, sha: str, kind: str, issued: DocumentRecord | None
    ) -> tuple[Signature | None, dict[str, str], list[Problem]]:
        """Digital or scan, the bag-info it adds, and why it cannot be archived."""
        from certdocs.sign import verify_pdf_signature

        where = str(path)
        try:
            check = verify_pdf_signature(path, trust_roots=self.trust_roots)
        except CertdocsError as exc:
            return None, {}, list(exc.problems)
        except Exception as exc:  # a malformed file must be refused, not end the whole run
            return None, {}, [Problem(where, f"无法检查数字签名：{exc}")]
        problems: list[Problem] = []
        if check.signed:
            if not check.intact:
                problems.append(Problem(where, "数字签名已损坏：签名后文件内容被改动"))
            elif not check.covers_whole_file:
                problems.append(Problem(where, "签名之后文件又被追加修改，签名未覆盖整个文件"))
            if not check.valid:
                problems.append(Problem(where, f"数字签名无效或签名证书不受信任（签名人：{check.signer or '未知'}）"))
            original = check.original_sha256
            if not original:
                problems.append(Problem(where, "无法确定签名前的原始文件，不能与发证文件核对"))
            elif issued is not None and original != issued.sha256:
                problems.append(
                    Problem(
                        where,
                        f"签名的不是登记簿记录的发证文件：签名前原件 SHA-256 为 {original}，"
                        f"登记簿记录的 {kind}.pdf 为 {issued.sha256}",
                    )
                )
            info = {
                "Certdocs-Signature": "digital",
                "Certdocs-Original-SHA256": original or "",
                "Certdocs-Signer": check.signer or "",
                "Certdocs-Signed-At": check.signed_at.isoformat() if check.signed_at else "",
            }
            return "digital", {k: v for k, v in info.items() if v}, problems
        try:
            creator = metadata_text(reader, "/Creator")
            imaged = bool(reader.pages) and all(len(page.images) > 0 for page in reader.pages)
        except Exception as exc:  # pypdf raises many exception types on malformed files
            return None, {}, [Problem(where, f"无法读取 PDF 页面：{exc}")]
        if (issued is not None and sha == issued.sha256) or creator == CREATOR:
            problems.append(Problem(where, "这是 certdocs 生成的未签名文件：请先数字签名，或打印签字盖章后扫描再归档"))
        elif not imaged:
            problems.append(Problem(where, "文件既没有数字签名，也不是扫描件（并非每页都是图像）"))
        return "scan", {"Certdocs-Signature": "scan"}, problems

    def _bag_info(
        self,
        path: Path,
        found: Identity,
        record: CertificateRecord,
        issued: DocumentRecord,
        signature: Signature,
        current: ArchiveEntry | None,
    ) -> dict[str, str]:
        body = found.body
        if not body:
            # The body is only "if known": a scheme without a profile still archives.
            with contextlib.suppress(ProfileError):
                body = profile_for_scheme(record.facts.scheme).name
        info = {
            "Source-Organization": body,
            "External-Identifier": found.number,
            "External-Description": f"{TITLES[found.kind]}：{record.facts.organization_name}"
            f"（{'数字签名' if signature == 'digital' else '签章扫描件'}）",
            "Bagging-Date": self.today.isoformat(),
            "Certdocs-Kind": found.kind,
            "Certdocs-Issued-SHA256": issued.sha256,
            "Certdocs-Identified-By": found.found_by,
            # Escaped where it would not print as it reads: bag-info.txt is one line per tag (a line
            # break would be folded into a space) and a bidirectional control would reorder it.
            "Certdocs-Source-File": printable(path.name),
        }
        if current is not None and self.supersede_reason:
            info |= {"Certdocs-Supersedes": current.bag_path, "Certdocs-Supersede-Reason": self.supersede_reason}
        return {k: v for k, v in info.items() if v}


def _orphan(folder: Path, kind: str, sha: str, entries: list[ArchiveEntry], root: Path) -> Path | None:
    """A complete bag of this very file that an interrupted run placed but never recorded."""
    recorded = {entry.bag_path for entry in entries}
    if not folder.is_dir():
        return None
    for bag in sorted(folder.glob(f"{kind}-*")):
        if bag.relative_to(root).as_posix() in recorded or not bag.is_dir():
            continue
        pdfs = bag_pdfs(bag)
        with contextlib.suppress(bagit.BagError, OSError):
            if len(pdfs) == 1 and sha256_file(pdfs[0]) == sha and bagit.Bag(str(bag)).validate():
                return bag
    return None
