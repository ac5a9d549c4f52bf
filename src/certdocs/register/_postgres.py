"""The register in a PostgreSQL database (psycopg 3), for an office with several computers.

Writers run in READ COMMITTED transactions and lock what they change: the number series row
(``SELECT … FOR UPDATE``) before a serial is taken, the certificate row before its status or
documents change. Readers get one REPEATABLE READ snapshot. Locks wait up to 30 s, as SQLite's
busy timeout does. A connection lost between operations is opened again by the next one; an
operation it interrupted is rolled back by the server, whole.

The password comes from the URL, ``PGPASSWORD`` or ``~/.pgpass`` (libpq reads the last two
itself) and is never part of a message: the database is named by :func:`redact`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from certdocs.errors import Problem, RegisterError
from certdocs.register._backend import BUSY_TIMEOUT_SECONDS, Cursor, Db, Params
from certdocs.register._dialect import postgres_ddl, postgres_sql

if TYPE_CHECKING:
    import psycopg

CONNECT_TIMEOUT_SECONDS = 10
_SCHEMA_LOCK = 0x63657274  # "cert": the advisory lock held while migrating
_SECRET_KEYS = {"password", "passfile", "sslpassword"}


class PgRow:
    """One result row, by column name or position, as ``sqlite3.Row`` offers it."""

    __slots__ = ("_names", "_values")

    def __init__(self, values: Sequence[Any], names: dict[str, int]) -> None:
        self._values = tuple(values)
        self._names = names

    def __getitem__(self, key: int | str, /) -> Any:
        return self._values[self._names[key] if isinstance(key, str) else key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def keys(self) -> list[str]:
        return list(self._names)


def _row_factory(cursor: psycopg.Cursor[Any]) -> Any:
    names = {column.name: n for n, column in enumerate(cursor.description or ())}
    return lambda values: PgRow(values, names)


class PostgresDb:
    """A transaction on a PostgreSQL connection, running the register's portable SQL."""

    dialect = "postgresql"

    def __init__(self, conn: psycopg.Connection[Any], *, write: bool) -> None:
        self._conn = conn
        self.lock = " FOR UPDATE" if write else ""

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        if not params:
            # Without parameters psycopg sends the text as it is: no placeholders, no %% escapes.
            return self._conn.execute(postgres_sql(sql, bound=False))
        return self._conn.execute(postgres_sql(sql), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        """Run one portable statement once per row of parameters, in one round of the protocol."""
        with self._conn.cursor() as cursor:
            cursor.executemany(postgres_sql(sql), rows)


class PostgresBackend:
    """A register in a PostgreSQL database named by a ``postgresql://`` URL."""

    dialect = "postgresql"

    def __init__(self, url: str, conn: psycopg.Connection[Any], errors: tuple[type[Exception], ...]) -> None:
        self._url = url
        self._conn: psycopg.Connection[Any] | None = conn
        self.where = redact(url)
        self.errors = errors

    @classmethod
    def connect(cls, url: str) -> PostgresBackend:
        """The database at ``url``; refuses one that is unreachable or not UTF-8."""
        try:
            import psycopg
        except ImportError as exc:
            raise RegisterError(
                [Problem("PostgreSQL", "未安装 PostgreSQL 驱动 psycopg，请安装 certdocs[postgresql]")],
                source=redact(url),
            ) from exc
        return cls(url, _open(url), (psycopg.Error,))

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            raise RegisterError([Problem("登记簿", "登记簿已关闭")], source=self.where)
        if self._conn.closed or self._conn.broken:
            # The server restarted or the network dropped since the last operation: whatever
            # that operation did was committed or rolled back whole, so simply connect again.
            self._conn.close()
            self._conn = _open(self._url)
        return self._conn

    def begin(self, *, write: bool) -> Db:
        import psycopg

        isolation = "READ COMMITTED" if write else "REPEATABLE READ READ ONLY"
        statement = f"BEGIN ISOLATION LEVEL {isolation}"
        conn = self._connection()
        try:
            conn.execute(statement)
        except psycopg.OperationalError:
            if not (conn.closed or conn.broken):
                raise
            # The server went away while this connection sat idle (a restart between two
            # operations): nothing was begun, so connecting again and beginning is safe.
            conn = self._connection()
            conn.execute(statement)
        return PostgresDb(conn, write=write)

    def commit(self) -> None:
        self._connection().execute("COMMIT")

    def rollback(self) -> None:
        conn = self._conn
        if conn is None or conn.closed:
            return
        with contextlib.suppress(Exception):
            conn.execute("ROLLBACK")

    def lock_schema(self, db: Db) -> None:
        db.execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))

    def table_exists(self, db: Db, name: str) -> bool:
        # The catalog read with a fresh snapshot: to_regclass() could answer from this session's
        # cache and miss the table another computer created while we waited for the schema lock.
        row = db.execute(
            "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = ?",
            (name,),
        ).fetchone()
        return bool(row[0])

    def ddl(self, statement: str) -> str:
        return postgres_ddl(statement)

    def quick_check(self) -> None:
        pass  # the server checks its own pages (and checksums them when initdb was told to)

    def integrity_problems(self) -> list[Problem]:
        # The server enforces every constraint on every write and checksums pages itself;
        # there is no file here that a copy or a network share could have torn.
        return []

    def wrap(self, exc: Exception) -> RegisterError:
        return postgres_error(exc, url=self._url)

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


def _open(url: str) -> psycopg.Connection[Any]:
    import psycopg

    try:
        conn: psycopg.Connection[Any] = psycopg.connect(
            url,
            autocommit=True,
            row_factory=_row_factory,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            application_name="certdocs",
            client_encoding="UTF8",
        )
    except psycopg.Error as exc:
        raise postgres_error(exc, url=url, connecting=True) from exc
    try:
        conn.execute(f"SET lock_timeout = '{BUSY_TIMEOUT_SECONDS}s'")
        # The server reports its encoding when the connection starts: no round trip to ask.
        encoding = conn.info.parameter_status("server_encoding")
        if encoding is None:  # a server or pooler that did not report it
            row = conn.execute("SHOW server_encoding").fetchone()
            encoding = str(row[0]) if row else ""
    except psycopg.Error as exc:
        conn.close()
        raise postgres_error(exc, url=url) from exc
    if encoding.upper() not in ("UTF8", "UTF-8"):
        conn.close()
        raise RegisterError(
            [Problem("数据库编码", f"为 {encoding}，应为 UTF8（CREATE DATABASE … ENCODING 'UTF8'）")],
            source=redact(url),
        )
    return conn


def redact(url: str) -> str:
    """``url`` without its password (in the user part or as a ``password=`` parameter)."""
    try:
        parts = urlsplit(url)
        if not _password(url) and "password" not in parts.query.lower():
            return url
        netloc = parts.netloc
        if "@" in netloc:
            user, _, host = netloc.rpartition("@")
            netloc = f"{user.split(':', 1)[0]}@{host}"
        kept = [p for p in parts.query.split("&") if p and unquote(p.partition("=")[0]).lower() not in _SECRET_KEYS]
        query = "&".join(kept)
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return "postgresql://…"


def _password(url: str) -> str:
    with contextlib.suppress(ValueError):
        parts = urlsplit(url)
        found = [v for k, v in parse_qsl(parts.query) if k.lower() == "password"]
        return parts.password or (found[0] if found else "")
    return ""


def postgres_error(exc: Exception, *, url: str, connecting: bool = False) -> RegisterError:
    """A PostgreSQL failure as a RegisterError in Chinese, naming the database without its password."""
    import psycopg
    from psycopg import errors as pg

    text = " ".join(str(exc).split())
    secret = _password(url)
    if secret:
        text = text.replace(secret, "***")
    if connecting:
        rule = f"无法连接 PostgreSQL 数据库，请检查服务器是否运行、地址、端口、用户名和密码（{text}）"
    elif isinstance(exc, pg.LockNotAvailable | pg.DeadlockDetected | pg.SerializationFailure):
        rule = f"数据库中的记录被其他计算机锁定，超时未释放，请稍后重试（{text}）"
    elif isinstance(exc, psycopg.IntegrityError):
        rule = f"数据违反登记簿的约束（{text}）"
    elif isinstance(exc, psycopg.OperationalError):
        rule = f"与 PostgreSQL 数据库的连接中断，未完成的操作已整体撤回，请检查服务器后重新运行（{text}）"
    else:
        rule = f"数据库操作失败（{type(exc).__name__}：{text}）"
    return RegisterError([Problem("数据库", rule)], source=redact(url))
