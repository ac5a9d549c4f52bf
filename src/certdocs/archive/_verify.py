"""Rechecking the archive: every bag against its manifest, the register and its signature."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import bagit

from certdocs.archive._bag import PART_SUFFIX, TAG_FILES, bag_pdfs, sha256_file
from certdocs.errors import CertdocsError, Problem
from certdocs.register import ArchiveEntry, Register


def verify_archive(archive_root: Path, *, register: Register, trust_roots: Sequence[Path] = ()) -> list[Problem]:
    """Every way the archive differs from what was archived; empty when all is intact.

    Each bag the register records is validated (BagIt manifests, SHA-256), its PDF compared
    with the hash the register holds and its digital signature checked again. Bags deleted,
    files altered, added or removed, and folders the register knows nothing of are reported,
    each with the path of its bag.
    """
    return _verify(archive_root, register, lambda bag, entry: check_bag(bag, entry=entry, trust_roots=trust_roots))


def verify_bags(archive_root: Path, *, register: Register) -> list[Problem]:
    """Like :func:`verify_archive`, without checking signatures (no trust roots needed).

    Every recorded bag against its manifests and the register's hash, and anything under
    ``archive_root`` the register knows nothing of.
    """
    return _verify(archive_root, register, lambda bag, entry: check_bag_contents(bag, entry=entry)[0])


def _verify(
    archive_root: Path, register: Register, check: Callable[[Path, ArchiveEntry], list[Problem]]
) -> list[Problem]:
    numbers = {document.number for document in register.all_documents()}
    numbers |= {_external_identifier(bag) for bag in _bags_on_disk(archive_root)} - {""}
    problems: list[Problem] = []
    entries: list[ArchiveEntry] = []
    for number in sorted(numbers):
        try:
            entries += register.archive_entries(number)
        except CertdocsError:
            problems.append(Problem(str(archive_root / number), f"归档包所属的证书 {number} 不在登记簿中"))
    for entry in entries:
        problems += check(archive_root / entry.bag_path, entry)
    recorded = {(archive_root / entry.bag_path).resolve() for entry in entries}
    problems += _unrecorded(archive_root, recorded)
    return problems


def check_bag(bag_dir: Path, *, entry: ArchiveEntry, trust_roots: Sequence[Path] = ()) -> list[Problem]:
    """How the bag of one archive entry differs from what was archived (empty: intact)."""
    problems, info = check_bag_contents(bag_dir, entry=entry)
    pdfs = bag_pdfs(bag_dir) if bag_dir.is_dir() else []
    if info.get("Certdocs-Signature") == "digital" and len(pdfs) == 1:
        problems += _signature(pdfs[0], original=info.get("Certdocs-Original-SHA256", ""), trust_roots=trust_roots)
    return problems


def check_bag_contents(bag_dir: Path, *, entry: ArchiveEntry) -> tuple[list[Problem], dict[str, str]]:
    """How a bag's files differ from its manifests and the register's hash, and its bag-info."""
    where = str(bag_dir)
    if not bag_dir.is_dir():
        return [Problem(where, f"登记簿记载的归档包不存在（证书 {entry.number} 的 {entry.kind}，已被删除或移走）")], {}
    try:
        bag = bagit.Bag(str(bag_dir))
    except (bagit.BagError, OSError, UnicodeError, ValueError) as exc:
        return [Problem(where, f"不是有效的 BagIt 归档包：{exc}")], {}
    problems = _validate(bag, bag_dir)
    problems += [
        Problem(str(bag_dir / name), "归档包中有多余的文件（不在清单中）")
        for name in sorted(p.name for p in bag_dir.iterdir())
        if name not in TAG_FILES | {"data"}
    ]
    info = {key: value for key, value in bag.info.items() if isinstance(value, str)}
    if info.get("External-Identifier") != entry.number or info.get("Certdocs-Kind") != entry.kind:
        problems.append(
            Problem(
                where,
                f"归档包说明（bag-info.txt）与登记簿不符：登记簿为证书 {entry.number} 的 "
                f"{entry.kind}，归档包为 {info.get('External-Identifier')} 的 "
                f"{info.get('Certdocs-Kind')}",
            )
        )
    pdfs = bag_pdfs(bag_dir)
    if len(pdfs) != 1:
        return [*problems, Problem(where, f"归档包中应有且只有一份 PDF，实有 {len(pdfs)} 份")], info
    actual = sha256_file(pdfs[0])
    if actual != entry.sha256:
        problems.append(
            Problem(str(pdfs[0]), f"归档的 PDF 与登记簿记录不一致：登记簿 SHA-256 为 {entry.sha256}，现为 {actual}")
        )
    return problems, info


def _validate(bag: bagit.Bag, bag_dir: Path) -> list[Problem]:
    try:
        bag.validate(processes=1)
    except bagit.BagValidationError as exc:
        problems = [_detail(bag_dir, detail) for detail in exc.details]
        # The quick Payload-Oxum check fails first and names no file: find them here.
        return problems or _compare(bag, bag_dir) or [Problem(str(bag_dir), f"归档包校验失败：{exc}")]
    except (bagit.BagError, OSError, UnicodeError, ValueError) as exc:
        return [Problem(str(bag_dir), f"归档包校验失败：{exc}")]
    return []


def _detail(bag_dir: Path, detail: bagit.ManifestErrorDetail) -> Problem:
    where = str(bag_dir / str(detail.path))
    if isinstance(detail, bagit.ChecksumMismatch):
        return Problem(where, f"文件内容已被改动：SHA-256 应为 {detail.expected}，现为 {detail.found}")
    if isinstance(detail, bagit.FileMissing):
        return Problem(where, "清单中的文件缺失（已被删除）")
    if isinstance(detail, bagit.UnexpectedFile):
        return Problem(where, "归档包中有多余的文件（不在清单中）")
    return Problem(where, f"归档包校验失败：{detail}")


def _compare(bag: bagit.Bag, bag_dir: Path) -> list[Problem]:
    missing, extra = bag.compare_manifests_with_fs()
    problems = [_detail(bag_dir, bagit.FileMissing(path)) for path in missing]
    problems += [_detail(bag_dir, bagit.UnexpectedFile(path)) for path in extra]
    for rel, hashes in bag.entries.items():
        path = bag_dir / rel
        expected = hashes.get("sha256", "")
        if expected and path.is_file() and (found := sha256_file(path)) != expected:
            problems.append(_detail(bag_dir, bagit.ChecksumMismatch(rel, "sha256", expected, found)))
    return problems


def _signature(pdf: Path, *, original: str, trust_roots: Sequence[Path]) -> list[Problem]:
    from certdocs.sign import verify_pdf_signature

    where = str(pdf)
    try:
        check = verify_pdf_signature(pdf, trust_roots=trust_roots)
    except CertdocsError as exc:
        return list(exc.problems)
    except Exception as exc:  # an archived file damaged this badly is a finding, not a crash
        return [Problem(where, f"无法检查数字签名：{exc}")]
    if not check.signed:
        return [Problem(where, "归档时带数字签名的文件现在没有签名")]
    problems: list[Problem] = []
    if not check.intact:
        problems.append(Problem(where, "数字签名已损坏：签名后文件内容被改动"))
    elif not check.covers_whole_file:
        problems.append(Problem(where, "签名之后文件又被追加修改，签名未覆盖整个文件"))
    if not check.valid:
        problems.append(Problem(where, f"数字签名不再有效或签名证书不受信任（签名人：{check.signer or '未知'}）"))
    if original and check.original_sha256 != original:
        problems.append(
            Problem(where, f"签名前原件与归档时不同：归档时 SHA-256 为 {original}，现为 {check.original_sha256}")
        )
    return problems


def _bags_on_disk(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(bag for folder in root.iterdir() if folder.is_dir() for bag in folder.iterdir() if bag.is_dir())


def _external_identifier(bag: Path) -> str:
    try:
        value = bagit.Bag(str(bag)).info.get("External-Identifier", "")
    except (bagit.BagError, OSError, UnicodeError, ValueError):
        return ""
    return value if isinstance(value, str) else ""


def _unrecorded(root: Path, recorded: set[Path]) -> list[Problem]:
    """Bags, folders and files under ``root`` that no archive entry accounts for."""
    if not root.is_dir():
        return []
    problems: list[Problem] = []
    for folder in sorted(root.iterdir()):
        if not folder.is_dir():
            problems.append(Problem(str(folder), "归档目录中有多余的文件"))
            continue
        for child in sorted(folder.iterdir()):
            if child.resolve() in recorded:
                continue
            if child.name.endswith(PART_SUFFIX):
                rule = "中断的归档留下的临时文件夹（不完整，可删除）"
            elif child.is_dir():
                rule = "归档包未记录在登记簿中"
            else:
                rule = "归档目录中有多余的文件"
            problems.append(Problem(str(child), rule))
    return problems
