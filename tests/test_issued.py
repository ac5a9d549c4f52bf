"""The shared issued folders of tests/issued.py: each copy is the test's own."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.issued import IssuedFolders


def _with_register(folder: Path) -> None:
    (folder / "out").mkdir()
    (folder / "out" / "a.pdf").write_bytes(b"%PDF")
    with sqlite3.connect(folder / "r.sqlite3") as conn:
        conn.execute("CREATE TABLE documents (path TEXT, size INTEGER)")
        conn.execute("INSERT INTO documents VALUES (?, 4)", (str(folder / "out" / "a.pdf"),))
    conn.close()


def test_a_copy_records_its_own_paths_in_the_register(tmp_path: Path) -> None:
    folders = IssuedFolders(tmp_path / "shared")
    (tmp_path / "shared").mkdir()
    copy = folders.copy("one", tmp_path / "mine", _with_register)
    with sqlite3.connect(copy / "r.sqlite3") as conn:
        (path,) = conn.execute("SELECT path FROM documents").fetchone()
    conn.close()
    assert path == str(copy / "out" / "a.pdf")


def test_the_build_runs_once_and_each_copy_is_separate(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    folders = IssuedFolders(tmp_path / "shared")
    builds: list[Path] = []

    def build(folder: Path) -> None:
        builds.append(folder)
        _with_register(folder)

    first = folders.copy("one", tmp_path / "first", build)
    (first / "out" / "a.pdf").write_bytes(b"changed")
    second = folders.copy("one", tmp_path / "second", build)
    assert len(builds) == 1
    assert (second / "out" / "a.pdf").read_bytes() == b"%PDF"


def test_a_copy_still_naming_the_build_folder_fails(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    folders = IssuedFolders(tmp_path / "shared")

    def build(folder: Path) -> None:
        (folder / "where.txt").write_text(str(folder), encoding="utf-8")

    with pytest.raises(AssertionError, match="still naming the shared build folder"):
        folders.copy("one", tmp_path / "mine", build)
