"""Looking after the records: a consistent backup, and the full check of register and archive."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import bagit

from certdocs.archive import verify_archive, verify_bags
from certdocs.archive._bag import PART_SUFFIX, sha256_file
from certdocs.errors import CertdocsError, Problem, RecordsError, RegisterError, os_error_text
from certdocs.records._folder import (
    ARCHIVE_NAME,
    DEFAULT_OUTPUT,
    REGISTER_NAME,
    Records,
    _fsync_tree,
    _remove_tree,
    inside,
    stored_output,
)
from certdocs.register import Register
from certdocs.register._sqlite_file import backup_to, count_rows, integrity_findings_at


@dataclass(frozen=True)
class Backup:
    """A finished backup: where it is, what it holds, and anything found wrong while making it."""

    folder: Path
    certificates: int
    bags: int
    problems: tuple[Problem, ...]


def backup(records: Records, dest: Path) -> Backup:
    """Copy the register (online backup API: consistent while batches run) and every bag to ``dest``.

    ``dest`` must not exist yet (or be an empty folder); the backup is built beside it and
    renamed into place when complete, so a backup folder is never half a backup. Each copied
    bag is validated against its manifests; a bag already damaged in the records is still
    copied and reported in ``problems``.
    """
    if records.url is not None:
        raise RegisterError([Problem(records.shown, "PostgreSQL 登记簿请用 pg_dump 备份（见 docs/postgresql.md）")])
    if not records.register.is_file():
        raise RegisterError([Problem(str(records.register), "登记簿文件不存在，无可备份")])
    for kept in (records.folder, records.archive):
        if inside(dest, kept):
            # A copy beside the originals is lost with them, and bags in the archive folder would
            # be taken for archived documents.
            rule = f"备份不能放在证书记录文件夹 {kept} 之内；请放到另一个文件夹，最好在另一块磁盘上"
            raise RecordsError([Problem(str(dest), rule)])
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise RecordsError([Problem(str(dest), "备份目标已存在且不是空文件夹；备份从不覆盖已有文件，请换一个新文件夹")])
    part = dest.with_name(f".{dest.name}{PART_SUFFIX}")
    try:
        _remove_tree(part)
        part.mkdir(parents=True)
        backup_to(records.register, part / REGISTER_NAME)
        certificates = count_rows(part / REGISTER_NAME).get("certificates", 0)
        problems: list[Problem] = []
        bags = 0
        if records.archive.is_dir():
            for bag in _bags(records.archive):
                rel = bag.relative_to(records.archive)
                copy = part / ARCHIVE_NAME / rel
                shutil.copytree(bag, copy)
                bags += 1
                problems += _copied_bag_problems(bag, copy)
        _fsync_tree(part)
        if dest.exists():
            dest.rmdir()  # the empty folder the office made for it
        os.rename(part, dest)
    except OSError as exc:
        _remove_tree(part)
        where = exc.filename or str(dest)
        raise RecordsError([Problem(str(where), f"备份失败：{os_error_text(exc)}")]) from exc
    except BaseException:
        _remove_tree(part)
        raise
    return Backup(dest, certificates, bags, tuple(problems))


def _bags(archive: Path) -> list[Path]:
    return sorted(
        bag
        for folder in archive.iterdir()
        if folder.is_dir()
        for bag in folder.iterdir()
        if bag.is_dir() and not bag.name.endswith(PART_SUFFIX)
    )


def _copied_bag_problems(original: Path, copy: Path) -> list[Problem]:
    try:
        bagit.Bag(str(copy)).validate(processes=1)
    except (bagit.BagError, OSError, UnicodeError, ValueError) as exc:
        return [Problem(str(original), f"归档包校验失败，已照原样备份，请用 certdocs archive verify 查看：{exc}")]
    for path in sorted(original.rglob("*")):
        if path.is_file() and sha256_file(path) != sha256_file(copy / path.relative_to(original)):
            return [Problem(str(original), f"复制件与原件不一致：{path.relative_to(original)}")]
    return []


@dataclass(frozen=True)
class Findings:
    """What :func:`check` found: damage (``problems``) and issued documents no longer in output.

    A missing document is no damage to the records: output may be cleared and rebuilt
    (``certdocs regenerate``). A changed one is: an issued document differs from what was issued.
    """

    problems: tuple[Problem, ...]
    missing: tuple[str, ...]
    documents: int


def check(records: Records, *, output: Path | None = None, trust_roots: Sequence[Path] = ()) -> Findings:
    """Everything wrong with the records; no problems when register, documents and archive are whole.

    ``PRAGMA integrity_check`` on the register, every recorded document's SHA-256 against its
    file, and every archive bag against its manifests and the register (and its signature too
    when ``trust_roots`` are given). Documents are looked for in ``output``, else in the output
    folder the register remembers (they are recorded relative to it).
    """
    where = str(records.location)
    problems: list[Problem] = []
    if records.url is None:
        if not records.register.is_file():
            return Findings((Problem(where, "登记簿文件不存在"),), (), 0)
        problems = [Problem(where, f"登记簿完整性检查未通过：{f}") for f in integrity_findings_at(records.register)]
    if problems:
        return Findings(tuple(problems), (), 0)  # a damaged register's rows cannot be trusted further
    missing: list[str] = []
    documents = 0
    try:
        if output is None and records.url is None:
            with Register.open(records.register) as register:
                output = stored_output(register)
        with Register.open(records.location, documents_root=output or DEFAULT_OUTPUT) as register:
            for doc in register.all_documents():
                documents += 1
                path = Path(doc.path)
                if not path.is_file():
                    missing.append(f"证书 {doc.number} 的 {doc.kind}（{path}）")
                    continue
                problems += _document_problems(doc.number, doc.kind, path, doc.sha256)
            if trust_roots:
                problems += verify_archive(records.archive, register=register, trust_roots=trust_roots)
            else:
                problems += verify_bags(records.archive, register=register)
    except CertdocsError as exc:
        problems += exc.problems
    return Findings(tuple(problems), tuple(missing), documents)


def _document_problems(number: str, kind: str, path: Path, sha256: str) -> list[Problem]:
    where = f"证书 {number} 的 {kind}（{path}）"
    try:
        actual = sha256_file(path)
    except OSError as exc:
        return [Problem(where, f"无法读取：{os_error_text(exc)}")]
    if actual != sha256:
        return [Problem(where, f"文件已被改动：登记簿记录的 SHA-256 为 {sha256}，现为 {actual}")]
    return []
