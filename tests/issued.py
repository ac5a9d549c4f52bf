"""Issued folders built once per test process and copied for each test that starts from them.

Issuing a few certificates takes about a second of CPU; dozens of tests start from the same
issued folder (output and register) and change it. :func:`issued_folders` builds each such
folder once per test process, and each test gets its own copy, as if it had issued there:
every absolute path the build recorded in an SQLite register (document paths, the remembered
output folder) is rewritten to the copy's, and a copy still naming the build's folder anywhere
fails the test instead of letting it touch another test's files.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

_SQLITE_HEADER = b"SQLite format 3\x00"


class IssuedFolders:
    """Folders built once (by name) and copied into a test's own folder."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._built: dict[str, Path] = {}

    def copy(self, name: str, into: Path, build: Callable[[Path], object]) -> Path:
        """Copy into ``into`` what ``build(folder)`` made (once per process under ``name``); ``into``.

        ``build`` writes only below the folder it is given and is the same function for a name.
        """
        source = self._built.get(name)
        if source is None:
            source = self._root / name
            source.mkdir()
            build(source)
            self._built[name] = source
        shutil.copytree(source, into, symlinks=True, dirs_exist_ok=True)
        old, new = str(source), str(into)
        for path in into.rglob("*"):
            if path.is_file() and path.read_bytes()[: len(_SQLITE_HEADER)] == _SQLITE_HEADER:
                _rebase(path, old, new)
        leftovers = [str(p) for p in into.rglob("*") if p.is_file() and old.encode() in p.read_bytes()]
        assert not leftovers, f"still naming the shared build folder {old}: {leftovers}"
        return into


def _rebase(database: Path, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in every text value of every table of an SQLite file."""
    conn = sqlite3.connect(database)
    try:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            if table.startswith("sqlite_"):
                continue
            columns = [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]
            for column in columns:
                conn.execute(
                    f'UPDATE "{table}" SET "{column}" = replace("{column}", ?, ?) '
                    f'WHERE typeof("{column}") = \'text\' AND instr("{column}", ?) > 0',
                    (old, new, old),
                )
        conn.commit()
        conn.execute("VACUUM")  # no old page keeps the old text
    finally:
        conn.close()


@pytest.fixture(scope="session")
def issued_folders(tmp_path_factory: pytest.TempPathFactory) -> IssuedFolders:
    """Issued folders shared by the tests of one process (see :class:`IssuedFolders`)."""
    return IssuedFolders(tmp_path_factory.mktemp("issued"))
