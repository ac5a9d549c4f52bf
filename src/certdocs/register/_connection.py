"""The register's SQLite connection: opening, migrating, transactions and error wrapping."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Self

from certdocs.errors import Problem, RegisterError, UnknownCertificate
from certdocs.register._migrations import MIGRATIONS, migrate, pending, schema_version
from certdocs.register._sqlite_file import quick_check

BUSY_TIMEOUT_SECONDS = 30
MEMORY = ":memory:"


class Connection:
    """An open register database; see :class:`certdocs.register.Register` for its operations."""

    def __init__(self, conn: sqlite3.Connection, *, where: str) -> None:
        """Wrap an already configured and migrated connection; use :meth:`open` instead."""
        self._conn: sqlite3.Connection | None = conn
        self._where = where
        self._checked = False

    @classmethod
    def open(cls, path: Path | str) -> Self:
        """The register stored at ``path`` (``":memory:"`` for a throwaway one), migrated.

        Pending migrations are applied in order; a database written by a newer certdocs is
        refused. Journal in WAL mode so readers never block the one writer, wait up to 30 s
        for a lock held by another process, and enforce foreign keys.
        """
        where = str(path)
        if where != MEMORY:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(where, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
            conn.execute("PRAGMA foreign_keys = ON")
            if where != MEMORY:
                if pending(conn, where=where, migrations=MIGRATIONS):
                    quick_check(conn, where=where)  # never migrate a damaged register
                _enable_wal(conn, where=where)
            migrate(conn, where=where)
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise _wrap(exc, where=where) from exc
        except BaseException:
            if conn is not None:
                conn.close()
            raise
        return cls(conn, where=where)

    @property
    def where(self) -> str:
        """The database path as given to :meth:`open`."""
        return self._where

    @property
    def schema_version(self) -> int:
        """The highest migration version applied to the database."""
        with self._read() as conn:
            return schema_version(conn)

    def close(self) -> None:
        """Close the database; closing twice is harmless."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def check_quick(self) -> None:
        """Refuse, naming the file, a register whose pages are damaged (``PRAGMA quick_check``)."""
        conn = self._conn
        if conn is None:
            raise self._error("登记簿", "登记簿已关闭")
        quick_check(conn, where=self._where)
        self._checked = True

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, taken with ``BEGIN IMMEDIATE`` so writers queue, never deadlock.

        The first write of a connection is preceded by a quick check: a register with a damaged
        page is refused rather than written over as if whole.
        """
        if not self._checked:
            self.check_quick()
        with self._transaction("IMMEDIATE") as conn:
            yield conn

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: one consistent snapshot across several queries."""
        with self._transaction("DEFERRED") as conn:
            yield conn

    @contextlib.contextmanager
    def _transaction(self, mode: str) -> Iterator[sqlite3.Connection]:
        conn = self._conn
        if conn is None:
            raise self._error("登记簿", "登记簿已关闭")
        try:
            conn.execute(f"BEGIN {mode}")
        except sqlite3.Error as exc:
            raise _wrap(exc, where=self._where) from exc
        try:
            yield conn
        except sqlite3.Error as exc:
            _rollback(conn)
            raise _wrap(exc, where=self._where) from exc
        except BaseException:
            _rollback(conn)
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            _rollback(conn)
            raise _wrap(exc, where=self._where) from exc

    def _error(self, where: str, rule: str) -> RegisterError:
        """A refusal naming ``where`` (a certificate, a field) and the rule, for this database."""
        return RegisterError([Problem(where, rule)], source=self._where)

    def _certificate_row(self, conn: sqlite3.Connection, number: str) -> sqlite3.Row:
        """The ``certificates`` row of ``number``; refuses an unknown number."""
        row: sqlite3.Row | None = conn.execute("SELECT * FROM certificates WHERE number = ?", (number,)).fetchone()
        if row is None:
            raise unknown(number, where=self._where)
        return row


def unknown(number: str, *, where: str) -> UnknownCertificate:
    """The refusal of a certificate number the register does not hold (an input error)."""
    return UnknownCertificate([Problem(f"证书 {number}", "登记簿中没有这个证书编号")], source=where)


def _rollback(conn: sqlite3.Connection) -> None:
    # A failed rollback must not hide the error that made it necessary.
    with contextlib.suppress(sqlite3.Error):
        conn.rollback()


def _enable_wal(conn: sqlite3.Connection, *, where: str) -> None:
    """Switch the database to WAL, waiting for a lock as long as any other operation would."""
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            break
        except sqlite3.OperationalError as exc:
            # Switching a new database to WAL needs an exclusive lock and SQLite does not call
            # the busy handler for it: two runs opening a new register at once would fail.
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    if str(mode).lower() != "wal":
        raise RegisterError([Problem("journal_mode", f"无法启用 WAL 日志模式（当前为 {mode}）")], source=where)


def _wrap(exc: sqlite3.Error, *, where: str) -> RegisterError:
    """A database failure as a RegisterError in Chinese, naming the database path."""
    text = str(exc)
    if "readonly" in text or "read-only" in text:
        rule = f"登记簿文件 {where} 只读，无法写入：请检查该文件及其所在文件夹的写权限（{text}）"
    elif "unable to open" in text:
        rule = f"无法打开登记簿文件 {where}：请检查路径及所在文件夹的读写权限（{text}）"
    elif "malformed" in text or "corrupt" in text:
        rule = f"登记簿文件 {where} 已损坏（{text}）：请用 certdocs register check 查看，并从备份恢复"
    elif "locked" in text or "busy" in text:
        rule = f"数据库被其他进程锁定，超时未释放，请稍后重试（{text}）"
    elif "not a database" in text:
        rule = f"{where} 不是 SQLite 数据库或已损坏（{text}）"
    elif isinstance(exc, sqlite3.IntegrityError):
        rule = f"数据违反登记簿的约束（{text}）"
    else:
        rule = f"登记簿 {where} 操作失败（{type(exc).__name__}：{text}）"
    # The problem names the file itself: callers that keep only the problems (a failed
    # record in a batch) still say which register could not be written.
    return RegisterError([Problem("证书登记簿", rule)], source=where)
