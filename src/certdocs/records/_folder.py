"""The records folder: the register and the archive, kept apart from generated output.

Generated documents can always be rebuilt; the register and the archive of signed documents
cannot, so they live in a folder of their own (default ``records/``) that clearing or
rebuilding output never touches::

    records/register.sqlite3    the certificate register (with -wal/-shm while in use)
    records/archive/            write-once BagIt bags of signed documents

The register remembers where the output lives (the ``output`` setting), so a later command
without ``--output`` finds it. An office that still has ``output/register.sqlite3`` and
``output/archive/`` from an older certdocs gets them moved here the first time: copied and
verified, renamed into place, and only then removed from ``output/``. A marker file records a
move in progress, so a run killed at any step is finished by the next one without loss.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from certdocs.errors import OutputMismatch, Problem, RecordsError, os_error_text
from certdocs.register import Register
from certdocs.register._postgres import redact
from certdocs.register._sqlite_file import backup_to, count_rows, remove_database

DEFAULT_FOLDER = Path("records")
DEFAULT_OUTPUT = Path("output")
REGISTER_NAME = "register.sqlite3"
ARCHIVE_NAME = "archive"
OUTPUT_SETTING = "output"
MARKER = ".moving-from-output.json"
_LOCK = ".records.lock"
_PART = ".part"


@dataclass(frozen=True)
class Records:
    """Where an office's records are: the folder, its register file and its archive.

    ``url`` is set when the register is a shared PostgreSQL database (``postgresql://…``):
    then ``register`` (the file) is not used, and nothing is moved into or remembered by it.
    """

    folder: Path
    register: Path
    archive: Path
    url: str | None = None

    @property
    def location(self) -> Path | str:
        """The register to open: the PostgreSQL URL, else the SQLite file."""
        return self.url if self.url is not None else self.register

    @property
    def shown(self) -> str:
        """The register as messages name it: the SQLite file, or the PostgreSQL URL without its password."""
        return redact(self.url) if self.url is not None else str(self.register)


def locate(*, folder: Path | None = None, register: Path | str | None = None, archive: Path | None = None) -> Records:
    """The records to use: ``register`` and ``archive`` as given, else those of ``folder``.

    A register given on its own (``--register FILE``) makes its folder the records folder, so
    its archive is the ``archive`` folder beside it.
    """
    if isinstance(register, str):  # a postgresql:// URL: the records folder keeps the archive
        folder = folder if folder is not None else DEFAULT_FOLDER
        archive = archive if archive is not None else folder / ARCHIVE_NAME
        return Records(folder, folder / REGISTER_NAME, archive, register)
    if folder is None:
        folder = register.parent if register is not None else DEFAULT_FOLDER
    return Records(
        folder=folder,
        register=register if register is not None else folder / REGISTER_NAME,
        archive=archive if archive is not None else folder / ARCHIVE_NAME,
    )


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies within it (both resolved)."""
    return path.resolve().is_relative_to(folder.resolve())


# -- the output folder the register remembers -------------------------------------------------


def stored_output(register: Register) -> Path | None:
    """The output folder the register remembers, or None when it was never told."""
    value = register.setting(OUTPUT_SETTING)
    return None if value is None else _shown(Path(value))


def remember_output(register: Register, output: Path) -> None:
    """Store ``output`` (as an absolute path) as the register's output folder."""
    register.set_setting(OUTPUT_SETTING, str(output.resolve()))


def output_for(register: Register, records: Records, *, given: Path | None) -> Path:
    """The output folder to use: ``given`` (which must agree with the register), else the stored one.

    A register that knows no output folder yet is told ``given`` (or ``output/``). An output
    folder given that differs from the one the register knows is refused: documents recorded
    in one place and written in another would split an office's certificates.
    """
    if records.url is not None:
        return given if given is not None else DEFAULT_OUTPUT  # each computer mounts it elsewhere
    stored = stored_output(register)
    if given is None:
        output = stored if stored is not None else DEFAULT_OUTPUT
    else:
        output = given
        if stored is not None and stored.resolve() != given.resolve():
            raise OutputMismatch(
                [
                    Problem(
                        "--output",
                        f"登记簿 {records.register} 记录的输出文件夹是 {stored}，本次给出的是 {given}。"
                        f"若输出文件夹确已搬到 {given}，请先运行 certdocs register set-output {given}；"
                        "否则去掉 --output（或 CERTDOCS_OUTPUT）即可使用登记簿记录的文件夹",
                    )
                ]
            )
    if stored is None:
        remember_output(register, output)
    return output


def exposed(records: Records, output: Path) -> str | None:
    """A warning when the records lie inside the output folder (clearing output would delete them)."""
    if (records.url is None and inside(records.register, output)) or inside(records.archive, output):
        return f"注意：证书记录（{records.register}）位于输出文件夹 {output} 之内，清理输出（make clean）会把它删除"
    return None


def _shown(path: Path) -> Path:
    """``path`` relative to the working folder when it lies inside it (shorter to read)."""
    with contextlib.suppress(ValueError):
        return path.relative_to(Path.cwd().resolve())
    return path


# -- moving an older office's records out of output/ ------------------------------------------


@dataclass(frozen=True)
class Moved:
    """What :func:`move_from_output` moved, for the one line that says so."""

    source: Path
    records: Records
    register: bool
    bags: int

    def message(self) -> str:
        """One Chinese line for office staff."""
        parts = []
        if self.register:
            parts.append(f"证书登记簿 → {self.records.register}")
        if self.bags or not self.register:
            parts.append(f"归档（{self.bags} 个归档包）→ {self.records.archive}")
        return f"已将证书记录从输出文件夹 {self.source} 移到记录文件夹：{'；'.join(parts)}（已校验，原处已删除）"


def move_from_output(records: Records, *, output: Path) -> Moved | None:
    """Move ``output/register.sqlite3`` and ``output/archive/`` into the records folder, if there.

    Each is copied beside its new place (the register with SQLite's backup API), checked
    against the original, renamed into place, and only then removed from ``output``. Returns
    None when there is nothing to move. Refuses (:class:`RecordsError`) when the records folder
    already holds a register or archive of its own, naming both.
    """
    try:
        return _move_from_output(records, output=output)
    except OSError as exc:
        where = exc.filename or str(output)
        raise RecordsError(
            [
                Problem(
                    str(where),
                    f"无法检查或移动证书记录：{os_error_text(exc)}（未做任何改动的部分保持原样，修正后重新运行即可继续）",
                )
            ]
        ) from exc


def _move_from_output(records: Records, *, output: Path) -> Moved | None:
    if records.url is not None:
        return None  # a PostgreSQL register: an old SQLite file is copied with register migrate
    old_register, old_archive = output / REGISTER_NAME, output / ARCHIVE_NAME
    marker = records.folder / MARKER
    if not _movable(records, old_register, old_archive, marker):
        return None
    records.folder.mkdir(parents=True, exist_ok=True)
    with _locked(records.folder / _LOCK):
        if not _movable(records, old_register, old_archive, marker):
            return None  # another process moved them meanwhile
        if not marker.exists():
            _refuse_two_places(records, old_register, old_archive)
            _write_marker(marker, output)
        bags = _move_archive(old_archive, records.archive)
        moved_register = _move_register(old_register, records.register)
        with Register.open(records.register) as register:
            remember_output(register, output)  # where the records were is where the output is
        marker.unlink()
        _fsync_dir(records.folder)
    return Moved(source=output, records=records, register=moved_register, bags=bags)


def _movable(records: Records, old_register: Path, old_archive: Path, marker: Path) -> bool:
    if marker.exists():
        return True
    if records.register.name != REGISTER_NAME or inside(records.folder, old_register.parent):
        return False  # the records are (or are inside) the old output folder: nothing to move
    return old_register.exists() or old_archive.is_dir()


def _refuse_two_places(records: Records, old_register: Path, old_archive: Path) -> None:
    problems = []
    if old_register.exists() and records.register.exists():
        problems.append(Problem(str(old_register), f"记录文件夹中已有登记簿 {records.register}，两者不能自动合并"))
    if old_archive.is_dir() and records.archive.exists():
        problems.append(Problem(str(old_archive), f"记录文件夹中已有归档 {records.archive}，两者不能自动合并"))
    if problems:
        problems.append(Problem("", "请确认哪一份是正式记录，把另一份移出输出文件夹后再运行（任何一份都未改动）"))
        raise RecordsError(problems)


def _write_marker(marker: Path, output: Path) -> None:
    data = json.dumps({"from": str(output.resolve())}, ensure_ascii=False).encode("utf-8")
    tmp = marker.with_name(marker.name + _PART)
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, marker)
    _fsync_dir(marker.parent)


def _move_archive(old: Path, new: Path) -> int:
    """Copy, verify and rename the archive into place, then remove the old one; the bag count."""
    if old.is_dir() and not new.exists():
        part = new.with_name(f".{new.name}{_PART}")
        _remove_tree(part)  # a copy a killed run left half made
        _copy_tree(old, part)
        differences = _tree_differences(old, part)
        if differences:
            _remove_tree(part)
            raise RecordsError([Problem(str(old), f"归档复制后校验不一致，未移动：{'；'.join(differences[:5])}")])
        _fsync_tree(part)
        os.rename(part, new)
        _fsync_dir(new.parent)
    bags = _count_bags(new)
    _remove_tree(old)
    return bags


def _copy_tree(old: Path, new: Path) -> None:
    shutil.copytree(old, new, symlinks=True)


def _move_register(old: Path, new: Path) -> bool:
    """Copy (backup API), verify and rename the register into place, then remove the old one."""
    moved = False
    if old.exists() and not new.exists():
        backup_to(old, new)  # checked with integrity_check and row counts before the rename
        moved = True
    elif old.exists() and count_rows(old) != count_rows(new):
        raise RecordsError([Problem(str(old), f"与已移到 {new} 的登记簿内容不一致，未删除原登记簿，请人工核对")])
    remove_database(old)
    return moved or new.exists()


def _tree_differences(a: Path, b: Path) -> list[str]:
    """Files that differ between two folders (missing, extra, or with other content)."""
    files_a, files_b = _files(a), _files(b)
    out = [f"{rel} 未复制" for rel in sorted(files_a.keys() - files_b.keys())]
    out += [f"{rel} 多出" for rel in sorted(files_b.keys() - files_a.keys())]
    out += [f"{rel} 内容不同" for rel in sorted(files_a.keys() & files_b.keys()) if files_a[rel] != files_b[rel]]
    return out


def _files(root: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            found[path.relative_to(root).as_posix()] = _sha256(path)
    return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _count_bags(archive: Path) -> int:
    if not archive.is_dir():
        return 0
    return sum(1 for folder in archive.iterdir() if folder.is_dir() for bag in folder.iterdir() if bag.is_dir())


def _remove_tree(path: Path) -> None:
    """Delete a folder of read-only bags (made writable first); a missing one is fine."""
    if not path.exists():
        return
    for root, dirs, _ in os.walk(path):
        for name in [".", *dirs]:
            with contextlib.suppress(OSError):
                os.chmod(Path(root) / name, stat.S_IRWXU)
    shutil.rmtree(path)


def _fsync_tree(root: Path) -> None:
    for folder, _, files in os.walk(root):
        for name in files:
            with open(Path(folder) / name, "rb") as fh:
                os.fsync(fh.fileno())
        _fsync_dir(Path(folder))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path``: two runs starting at once move the records once."""
    with open(path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
