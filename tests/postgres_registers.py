"""Empty PostgreSQL registers for the tests of what a register does, emptied for the next test
instead of made anew.

A new database for each test (``CREATE DATABASE`` copying a register the server migrated once,
:meth:`tests.postgres_server.PostgresServer.new_register`) cost the server 15–30 ms of CPU and a
connection of its own, about half of such a test's time. A database a test has finished with
is emptied (no rows, identity sequences back at their start) and handed to the next test only
if it is then indistinguishable from a new copy: the same
catalog (schemas, tables with their kinds, grants and options, columns with their types,
defaults and identities, constraints, indexes, sequences and where they stand, functions,
triggers, types, comments, extensions, the database's settings) and the same
``schema_migrations`` rows as a new copy. Anything else (a test that changed the schema, or
left a lock that keeps the emptying from running) and the database is dropped: the next test
gets a new copy. The tests of migrations themselves keep new, empty databases.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import psycopg

    from certdocs.register import Register
    from tests.postgres_server import PostgresServer

# Everything a test could change in a register's database other than the rows of its tables,
# as one text; compared with a new copy's before the database is handed on.
_FINGERPRINT = """
SELECT string_agg(x, E'\\n' ORDER BY x) FROM (
  SELECT 'schema ' || nspname AS x FROM pg_namespace
  UNION ALL
  SELECT 'relation ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' ' || c.relpersistence::text
         || ' ' || coalesce(c.relacl::text, '') || ' ' || coalesce(c.reloptions::text, '')
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  UNION ALL
  SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
         || ' ' || a.attnotnull::text || ' ' || a.attidentity::text
         || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
  UNION ALL
  SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL
  SELECT 'sequence ' || schemaname || '.' || sequencename || ' ' || coalesce(last_value::text, 'new')
         || ' ' || data_type::text || ' ' || start_value::text || ' ' || min_value::text || ' ' || max_value::text
         || ' ' || increment_by::text || ' ' || cycle::text || ' ' || cache_size::text FROM pg_sequences
  UNION ALL
  SELECT 'function ' || oid::regprocedure::text FROM pg_proc
   WHERE pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
  UNION ALL
  SELECT 'trigger ' || tgrelid::regclass::text || ' ' || tgname FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL
  SELECT 'type ' || oid::regtype::text || ' ' || typtype::text FROM pg_type
   WHERE typnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace, 'pg_toast'::regnamespace)
  UNION ALL
  SELECT 'comment ' || classoid::regclass::text || ' ' || objoid::text || ' ' || objsubid::text || ' ' || description
    FROM pg_description WHERE objoid >= 16384  -- the database's own objects, not the system's
  UNION ALL
  SELECT 'extension ' || extname || ' ' || extversion FROM pg_extension
  UNION ALL
  SELECT 'setting ' || coalesce(array_to_string(setconfig, ' '), '') FROM pg_db_role_setting
   WHERE setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
  UNION ALL
  SELECT 'migration ' || version::text || ' ' || name || ' ' || applied_at::text FROM schema_migrations
) AS found
"""


class RegisterDatabases:
    """Empty, up-to-date register databases on one test server, handed out one per test."""

    def __init__(self, server: PostgresServer, *, lock_timeout: str = "2s") -> None:
        self._server = server
        self._lock_timeout = lock_timeout
        self._free: list[tuple[str, psycopg.Connection[tuple[object, ...]]]] = []
        self._new: str | None = None  # the fingerprint of a new copy
        self._emptying = ""  # the statements that empty a register database (see _copy)

    @contextmanager
    def empty(self) -> Iterator[str]:
        """The URL of an empty register database no other test is using, emptied again after."""
        name, conn = self._free.pop() if self._free else self._copy()
        try:
            yield self._server.url(name)
        finally:
            if self._emptied(conn):
                self._free.append((name, conn))
            else:
                conn.close()
                self._server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def close(self) -> None:
        """Close the connections kept to the free databases."""
        for _, conn in self._free:
            conn.close()
        self._free.clear()

    def _copy(self) -> tuple[str, psycopg.Connection[tuple[object, ...]]]:
        import psycopg

        name = self._server.new_register()
        conn = psycopg.connect(self._server.url(name), autocommit=True)
        try:
            # A lock a test left behind makes the emptying fail rather than wait for it.
            conn.execute(f"SET lock_timeout = '{self._lock_timeout}'")
            if self._new is None:
                self._new = _fingerprint(conn)
                self._emptying = _emptying(conn)
        except BaseException:
            conn.close()
            raise
        return name, conn

    def _emptied(self, conn: psycopg.Connection[tuple[object, ...]]) -> bool:
        """Whether the database could be emptied back to a new copy's state."""
        import psycopg

        try:
            conn.execute(self._emptying)
            return _fingerprint(conn) == self._new
        except psycopg.Error:
            with contextlib.suppress(psycopg.Error):
                conn.execute("ROLLBACK")
            return False


def _emptying(conn: psycopg.Connection[tuple[object, ...]]) -> str:
    """One transaction, sent as one message, that does what ``TRUNCATE … RESTART IDENTITY`` does to the tables.

    Every table but ``schema_migrations`` loses its rows and the identity sequences they own start
    again. The tables are locked first as ``TRUNCATE`` locks them (``ACCESS EXCLUSIVE``, within the
    lock time-out), so a lock a test left behind still fails the emptying; then ``DELETE`` (the
    foreign keys are deferrable: checked at the commit, when every table is empty) instead of
    ``TRUNCATE``, which makes every table and index a new file: 12 ms against 6 ms a test here.
    The sequences start again by ``setval(…, start, false)``, which writes the sequence's one row
    where it is, the state a new sequence is in (its start value, not yet called: the next
    ``nextval`` gives the start), instead of ``ALTER SEQUENCE … RESTART``, which makes each of
    them a new file too: 4.0-4.75 ms against 6.75-8.75 ms of the server's CPU a test, with the
    fingerprint (which compares every sequence's options too, so a test that changed one still
    has its database dropped). Done after the ``DELETE`` s, so a lock a test left stops the
    transaction before any sequence moves (``setval`` is not undone by a rollback).
    """
    tables = [
        f'public."{row[0]}"'
        for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
            " ORDER BY tablename"
        ).fetchall()
    ]
    sequences = [
        (str(row[0]), int(str(row[1])))
        for row in conn.execute(
            "SELECT s.name, q.seqstart FROM ("
            "SELECT pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) AS name"
            "  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relname <> 'schema_migrations' AND a.attidentity <> ''"
            ") AS s JOIN pg_sequence q ON q.seqrelid = s.name::regclass ORDER BY 1"
        ).fetchall()
    ]
    return "; ".join(
        [
            "BEGIN",
            f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE",
            "SET CONSTRAINTS ALL DEFERRED",
            *(f"DELETE FROM {table}" for table in tables),
            *(f"SELECT setval('{sequence}', {start}, false)" for sequence, start in sequences),
            "COMMIT",
        ]
    )


def _fingerprint(conn: psycopg.Connection[tuple[object, ...]]) -> str:
    row = conn.execute(_FINGERPRINT).fetchone()
    assert row is not None
    return str(row[0])


_sqlite_template: list[Register] = []  # one in-memory register this process migrated, never handed out


def _new_sqlite_register() -> Register:
    """A new in-memory SQLite register: a copy (sqlite3's backup) of one this process migrated once.

    As :meth:`RegisterDatabases.empty` for PostgreSQL: the connection is certdocs' own
    (``SqliteBackend.connect``, with its settings), only the migrations are not run again
    (tests/test_register.py and tests/test_register_migrations.py watch them): 0.06 ms against
    3.4 ms of CPU a register.
    """
    from certdocs.register import Register
    from certdocs.register._backend import SqliteBackend

    if not _sqlite_template:
        _sqlite_template.append(Register.open(":memory:"))
    source = _sqlite_template[0]._backend
    assert isinstance(source, SqliteBackend)
    backend = SqliteBackend.connect(":memory:")
    source.connection.backup(backend.connection)
    return Register(backend)


@contextmanager
def empty_register(request: pytest.FixtureRequest) -> Iterator[Register]:
    """An empty register on the backend ``request.param`` names: in-memory SQLite, or PostgreSQL from this pool.

    For the fixtures parametrised over ``["sqlite", "postgresql"]``: the server starts only when
    a PostgreSQL case runs.
    """
    from certdocs.register import Register

    if request.param == "sqlite":
        with _new_sqlite_register() as register:
            yield register
        return
    databases: RegisterDatabases = request.getfixturevalue("postgres_registers")
    with databases.empty() as url, Register.open(url) as register:
        yield register


@pytest.fixture(scope="session")
def postgres_registers(postgres_server: PostgresServer) -> Iterator[RegisterDatabases]:
    """Empty register databases on this test process's server (:class:`RegisterDatabases`)."""
    databases = RegisterDatabases(postgres_server)
    yield databases
    databases.close()
