"""What only an SQLite register file needs: damage checks and consistent copies.

Everything here is SQLite-specific on purpose (``PRAGMA quick_check``/``integrity_check``,
the online backup API, ``-wal``/``-shm`` companions); a register kept elsewhere (PostgreSQL)
has its own tools for the same jobs and never reaches this module.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from certdocs.errors import Problem, RegisterError

#: Files SQLite keeps beside a database in WAL mode; they belong to it and move with it.
COMPANIONS = ("-wal", "-shm")
#: At most this many findings of ``integrity_check`` are reported (it can list thousands).
MAX_FINDINGS = 20

DAMAGED_HINT = "请勿继续写入；用 certdocs register check 查看详情，并从备份（certdocs register backup 所做）恢复"


def quick_check(conn: sqlite3.Connection, *, where: str) -> None:
    """Refuse a damaged database: ``PRAGMA quick_check`` must answer ``ok``.

    The quick check reads every page and index entry but skips the (slow) comparison of index
    contents with their tables; it finds the torn or overwritten pages that would otherwise be
    written over as if whole.
    """
    try:
        findings = [str(row[0]) for row in conn.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.DatabaseError as exc:
        raise damaged(where, [str(exc)]) from exc
    if findings != ["ok"]:
        raise damaged(where, findings)


def integrity_findings(conn: sqlite3.Connection) -> list[str]:
    """What ``PRAGMA integrity_check`` finds wrong (empty when the database is whole)."""
    try:
        findings = [str(row[0]) for row in conn.execute(f"PRAGMA integrity_check({MAX_FINDINGS})").fetchall()]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    return [] if findings == ["ok"] else findings


def integrity_findings_at(path: Path) -> list[str]:
    """What ``PRAGMA integrity_check`` finds wrong with the database file at ``path``."""
    try:
        conn = _open_existing(path)
    except sqlite3.Error as exc:
        return [str(exc)]
    try:
        return integrity_findings(conn)
    finally:
        conn.close()


def damaged(where: str, findings: list[str]) -> RegisterError:
    """The refusal for a damaged register file, naming it."""
    lines = [" ".join(f.replace("*** in database main ***", "").split()) for f in findings]
    shown = "；".join(line for line in lines[:3] if line) + ("……" if len(lines) > 3 else "")
    return RegisterError([Problem(where, f"登记簿文件已损坏（{shown}）。{DAMAGED_HINT}")], source=where)


def backup_to(source: Path, target: Path) -> None:
    """A consistent copy of the database ``source`` at ``target`` (which must not exist).

    SQLite's online backup API copies one snapshot even while other processes write (it
    restarts when they do), reading through the ``-wal`` file. The copy is made beside
    ``target``, checked with ``integrity_check`` and compared table by table with the source,
    then flushed and renamed into place, so ``target`` is only ever whole.
    """
    where = str(source)
    if target.exists():
        raise RegisterError([Problem(str(target), "目标文件已存在，不覆盖")], source=where)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(f".{target.name}.part")
    remove_database(part)
    try:
        src = _open_existing(source)
        try:
            dest = sqlite3.connect(str(part))
            try:
                # One read transaction pins one snapshot for the counts and the copy alike,
                # however many batches commit meanwhile (WAL readers never block writers).
                src.execute("BEGIN")
                before = _counts(src)
                src.backup(dest)
                src.execute("COMMIT")
                findings = integrity_findings(dest)
                if findings:
                    raise RegisterError(
                        [Problem(str(target), f"复制件未通过完整性检查：{'；'.join(findings[:3])}")], source=where
                    )
                differences = _count_differences(before, _counts(dest))
                if differences:
                    raise RegisterError(
                        [Problem(str(target), f"复制件与原登记簿不一致：{'、'.join(differences)}")], source=where
                    )
                # One self-contained file: no -wal needed to read the copy.
                dest.execute("PRAGMA journal_mode = DELETE")
            finally:
                dest.close()
        finally:
            src.close()
        with open(part, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(part, target)
        _fsync_dir(target.parent)
    except sqlite3.DatabaseError as exc:
        remove_database(part)
        raise damaged(where, [str(exc)]) from exc
    except BaseException:
        remove_database(part)
        raise


def count_rows(path: Path) -> dict[str, int]:
    """Rows per table of the database at ``path``, opened read-only."""
    conn = _open_existing(path)
    try:
        return _counts(conn)
    finally:
        conn.close()


def remove_database(path: Path) -> None:
    """Delete a database file and its ``-wal``/``-shm`` companions (missing ones are fine).

    The companions go first: a main file without its log is still a database (the copy was
    taken already), a log without its main file is nothing.
    """
    for suffix in COMPANIONS:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _open_existing(path: Path) -> sqlite3.Connection:
    """A connection to the database at ``path``, never creating one that is not there."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=30, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 30000")
    return conn


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [
        str(row[0])
        for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    ]
    return {name: int(conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]) for name in sorted(names)}


def _count_differences(before: dict[str, int], after: dict[str, int]) -> list[str]:
    if before == after:
        return []
    return [
        f"{name} 原 {before.get(name)} 行、复制件 {after.get(name)} 行" for name in sorted(set(before) | set(after))
    ]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
