"""Where the register is kept: an SQLite file or a PostgreSQL database, behind one interface.

The query modules write one SQL text for both: ``?`` and ``:name`` placeholders,
``ON CONFLICT … DO …``, ``RETURNING``, ``TRUE`` and :data:`certdocs.register._dialect.NOW`.
A :class:`Db` is the handle of one transaction; it runs that SQL on its backend, and ``db.lock``
is the row-lock clause to append to a SELECT of a row about to change (``FOR UPDATE`` on
PostgreSQL in a write; nothing on SQLite, whose ``BEGIN IMMEDIATE`` admits one writer at a time).

Migrations are written in SQLite's dialect; :func:`certdocs.register._pgsql.postgres_ddl`
translates them for PostgreSQL, so a new migration is written once.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from certdocs.errors import Problem, RegisterError
from certdocs.register._filesystem import network_filesystem
from certdocs.register._sqlite_file import quick_check

BUSY_TIMEOUT_SECONDS = 30
MEMORY = ":memory:"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")

Params = Sequence[object] | Mapping[str, object]


class Row(Protocol):
    """One result row, by column name or position (``sqlite3.Row`` and its PostgreSQL twin)."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    """The result of one statement."""

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Db(Protocol):
    """The handle of one open transaction: run portable SQL, know how to lock a row."""

    dialect: str
    lock: str

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        """Run one portable statement (``?`` or ``:name`` placeholders)."""
        ...


class Backend(Protocol):
    """One register database: its connection, transactions, locks, errors and DDL dialect."""

    dialect: str
    where: str
    errors: tuple[type[Exception], ...]

    def begin(self, *, write: bool) -> Db:
        """Start a transaction (a writer's or a consistent reader's) and return its handle."""
        ...

    def commit(self) -> None:
        """Commit the open transaction."""
        ...

    def rollback(self) -> None:
        """Roll the open transaction back, never raising (the first error matters)."""
        ...

    def lock_schema(self, db: Db) -> None:
        """Inside a write transaction: be the only process migrating until it ends."""
        ...

    def table_exists(self, db: Db, name: str) -> bool:
        """Whether the database has a table ``name``."""
        ...

    def quick_check(self) -> None:
        """Refuse a damaged database before it is written (SQLite's ``PRAGMA quick_check``)."""
        ...

    def ddl(self, statement: str) -> str:
        """A migration statement (SQLite dialect) in this backend's dialect."""
        ...

    def integrity_problems(self) -> list[Problem]:
        """What the database's own integrity checks find wrong (empty when sound)."""
        ...

    def wrap(self, exc: Exception) -> RegisterError:
        """A database failure as a RegisterError in Chinese, naming the database (never a password)."""
        ...

    def close(self) -> None:
        """Close the connection; closing twice is harmless."""
        ...


def is_postgres(target: Path | str) -> bool:
    """Whether ``target`` names a PostgreSQL database (a ``postgresql://`` URL) rather than a file."""
    return isinstance(target, str) and target.lower().startswith(POSTGRES_SCHEMES)


def register_location(text: str | Path) -> Path | str:
    """Where a register is, from the text a user gave: a ``postgresql://`` URL, else a file path."""
    return str(text) if is_postgres(str(text)) else Path(text)


def open_backend(target: Path | str) -> Backend:
    """The backend for ``target``: a PostgreSQL URL, else an SQLite file path (or ``:memory:``)."""
    if is_postgres(target):
        from certdocs.register._postgres import PostgresBackend

        return PostgresBackend.connect(str(target))
    return SqliteBackend.connect(target)


# -- SQLite ----------------------------------------------------------------------------------

NETWORK_REFUSAL = (
    "登记簿文件在网络文件系统（{kind}）上：SQLite 的文件锁和 WAL 日志在网络共享上不可靠，"
    "多台计算机写入会损坏登记簿或发出重复编号。请把记录文件夹放在本机硬盘"
    "（用 certdocs register backup 备份到共享文件夹），多台计算机共用则改用 PostgreSQL 登记簿（docs/postgresql.md）"
)


class SqliteDb:
    """A transaction on an SQLite connection; SQLite reads ``?`` and ``:name`` itself."""

    dialect = "sqlite"
    lock = ""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        return self._conn.execute(sql, params)


class SqliteBackend:
    """A register in one SQLite file: WAL journal, 30 s busy timeout, foreign keys on."""

    dialect = "sqlite"
    errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def __init__(self, conn: sqlite3.Connection, *, where: str) -> None:
        self._conn: sqlite3.Connection | None = conn
        self.where = where

    @classmethod
    def connect(cls, path: Path | str) -> SqliteBackend:
        """The SQLite database at ``path`` (created, with its folder, when missing)."""
        where = str(path)
        if where != MEMORY:
            file = Path(path)
            if kind := network_filesystem(file):
                raise RegisterError([Problem(where, NETWORK_REFUSAL.format(kind=kind))], source=where)
            if file.exists() and not file.is_file():
                # SQLite would open a device and leave its journal beside it (/dev/null-journal).
                what = "文件夹" if file.is_dir() else "设备或特殊文件"
                raise RegisterError([Problem(where, f"这是{what}，不是登记簿文件")], source=where)
            file.parent.mkdir(parents=True, exist_ok=True)
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(where, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
            conn.execute("PRAGMA foreign_keys = ON")
            if where != MEMORY:
                _enable_wal(conn, where=where)
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise sqlite_error(exc, where=where) from exc
        return cls(conn, where=where)

    @property
    def connection(self) -> sqlite3.Connection:
        """The open sqlite3 connection (refuses a closed register)."""
        if self._conn is None:
            raise RegisterError([Problem("登记簿", "登记簿已关闭")], source=self.where)
        return self._conn

    def begin(self, *, write: bool) -> Db:
        # BEGIN IMMEDIATE takes the write lock at once so that writers queue, never deadlock.
        conn = self.connection
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN DEFERRED")
        return SqliteDb(conn)

    def commit(self) -> None:
        self.connection.execute("COMMIT")

    def rollback(self) -> None:
        if self._conn is not None and self._conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self._conn.rollback()

    def lock_schema(self, db: Db) -> None:
        pass  # BEGIN IMMEDIATE already excludes every other writer

    def table_exists(self, db: Db, name: str) -> bool:
        found = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
        return found is not None

    def ddl(self, statement: str) -> str:
        return statement

    def quick_check(self) -> None:
        quick_check(self.connection, where=self.where)

    def integrity_problems(self) -> list[Problem]:
        conn = self.connection
        problems = [
            Problem("integrity_check", str(row[0]))
            for row in conn.execute("PRAGMA integrity_check").fetchall()
            if row[0] != "ok"
        ]
        problems += [
            Problem(f"{row[0]} 第 {row[1]} 行", f"外键指向 {row[2]} 中不存在的记录")
            for row in conn.execute("PRAGMA foreign_key_check").fetchall()
        ]
        return problems

    def wrap(self, exc: Exception) -> RegisterError:
        return sqlite_error(exc, where=self.where)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


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


def sqlite_error(exc: Exception, *, where: str) -> RegisterError:
    """An SQLite failure as a RegisterError in Chinese, naming the database path."""
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
