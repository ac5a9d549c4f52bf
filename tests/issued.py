"""Issued folders built once per test process and copied for each test that starts from them.

Issuing a few certificates takes about a second of CPU; dozens of tests start from the same
issued folder (output and register) and change it. :func:`issued_folders` builds each such
folder once per test process, and each test gets its own copy, as if it had issued there:
every absolute path the build recorded in an SQLite register (document paths, the remembered
output folder) is rewritten to the copy's, and a copy still naming the build's folder anywhere
fails the test instead of letting it touch another test's files.

A build is read once, when it is made (:class:`_Build`): its files' bytes, modes and times,
which of them are SQLite databases and which of their columns name the build folder. A copy
writes those bytes back (as ``shutil.copytree`` with ``copy2`` would: bytes, modes, the files' times) and
rewrites only those columns, in memory: no file of the build is read again, no fsync is waited
for, and a copy costs about a third of what copying and rewriting on disk did.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

_SQLITE_HEADER = b"SQLite format 3\x00"
# Bytes 18 and 19 of an SQLite file: 2 for a database in WAL mode. An in-memory database cannot
# be in WAL mode, so a copy is rewritten with 1 there and given the build's value back.
_FORMAT_VERSIONS = slice(18, 20)


@dataclass(frozen=True)
class _File:
    """One regular file of a build: where (relative), its bytes, mode and times."""

    relative: str
    data: bytes
    mode: int
    times_ns: tuple[int, int]
    columns: tuple[tuple[str, str], ...] | None  # an SQLite file's (table, column) naming the build, else None


@dataclass(frozen=True)
class _Build:
    """What one build left, read once."""

    folder: Path
    directories: tuple[tuple[str, int], ...]  # (relative, mode), parents first
    links: tuple[tuple[str, str], ...]  # (relative, target) of each symbolic link
    files: tuple[_File, ...]
    leftovers: tuple[str, ...]  # relative paths of non-SQLite files naming the build folder


def _read_build(folder: Path) -> _Build:
    old = str(folder)
    directories: list[tuple[str, int]] = []
    links: list[tuple[str, str]] = []
    files: list[_File] = []
    leftovers: list[str] = []
    for path in sorted(folder.rglob("*")):
        relative = str(path.relative_to(folder))
        if path.is_symlink():
            links.append((relative, os.readlink(path)))
            continue
        if path.is_dir():
            directories.append((relative, path.stat().st_mode & 0o7777))
            continue
        data = path.read_bytes()
        status = path.stat()
        columns = None
        if data[: len(_SQLITE_HEADER)] == _SQLITE_HEADER:
            columns = _naming_columns(data, old)
        elif old.encode() in data:
            leftovers.append(relative)
        files.append(_File(relative, data, status.st_mode & 0o7777, (status.st_atime_ns, status.st_mtime_ns), columns))
    return _Build(folder, tuple(directories), tuple(links), tuple(files), tuple(leftovers))


class IssuedFolders:
    """Folders built once (by name) and copied into a test's own folder."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._built: dict[str, _Build] = {}

    def copy(self, name: str, into: Path, build: Callable[[Path], object]) -> Path:
        """Copy into ``into`` what ``build(folder)`` made (once per process under ``name``); ``into``.

        ``build`` writes only below the folder it is given and is the same function for a name.
        """
        built = self._built.get(name)
        if built is None:
            source = self._root / name
            source.mkdir()
            build(source)
            built = self._built[name] = _read_build(source)
        old, new = str(built.folder), str(into)
        into.mkdir(parents=True, exist_ok=True)
        for relative, _ in built.directories:
            (into / relative).mkdir(exist_ok=True)
        for relative, target in built.links:
            (into / relative).symlink_to(target)
        leftovers = [str(into / relative) for relative in built.leftovers]
        for file in built.files:
            path = into / file.relative
            data = file.data if file.columns is None else _rebased(file.data, file.columns, old, new)
            path.write_bytes(data)
            os.chmod(path, file.mode)
            os.utime(path, ns=file.times_ns)
            if file.columns is not None and old.encode() in data:
                leftovers.append(str(path))
        for relative, mode in built.directories:
            os.chmod(into / relative, mode)
        assert not leftovers, f"still naming the shared build folder {old}: {leftovers}"
        return into


def _in_memory(data: bytes) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    image = bytearray(data)
    image[_FORMAT_VERSIONS] = b"\x01\x01"
    conn.deserialize(bytes(image))
    return conn


def _naming_columns(data: bytes, old: str) -> tuple[tuple[str, str], ...]:
    """The (table, column) pairs of an SQLite file holding a text value that contains ``old``."""
    conn = _in_memory(data)
    try:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        found = []
        for table in tables:
            if table.startswith("sqlite_"):
                continue
            for column in [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]:
                hit = conn.execute(
                    f'SELECT 1 FROM "{table}" WHERE typeof("{column}") = \'text\' AND instr("{column}", ?) > 0 LIMIT 1',
                    (old,),
                ).fetchone()
                if hit is not None:
                    found.append((table, column))
        return tuple(found)
    finally:
        conn.close()


def _rebased(data: bytes, columns: tuple[tuple[str, str], ...], old: str, new: str) -> bytes:
    """The SQLite file ``data`` with ``old`` replaced by ``new`` in every text value of ``columns``."""
    conn = _in_memory(data)
    try:
        # SQLite zeroes what an update frees (the old text's cells and pages), so no old text
        # stays behind; a VACUUM rebuilding the whole database for that was half of a copy.
        conn.execute("PRAGMA secure_delete = ON")
        for table, column in columns:
            conn.execute(
                f'UPDATE "{table}" SET "{column}" = replace("{column}", ?, ?) '
                f'WHERE typeof("{column}") = \'text\' AND instr("{column}", ?) > 0',
                (old, new, old),
            )
        conn.commit()
        image = bytearray(conn.serialize())
    finally:
        conn.close()
    image[_FORMAT_VERSIONS] = data[_FORMAT_VERSIONS]
    return bytes(image)


@pytest.fixture(scope="session")
def issued_folders(tmp_path_factory: pytest.TempPathFactory) -> IssuedFolders:
    """Issued folders shared by the tests of one process (see :class:`IssuedFolders`)."""
    return IssuedFolders(tmp_path_factory.mktemp("issued"))
