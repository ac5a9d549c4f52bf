"""Copying an SQLite register into PostgreSQL, row for row, verified before it is committed.

The SQLite file is only ever read: a consistent snapshot of it is taken with SQLite's backup
API into a temporary file, which is brought up to this certdocs's schema there. The copy into
PostgreSQL is one transaction: every table of the register (certificates, number series,
documents, status history, decisions, archive entries, …, and the migration records with their
original dates), then every row read back and compared with the snapshot. Any difference rolls
the whole copy back, leaving the PostgreSQL database as it was.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from certdocs.errors import Problem, RegisterError
from certdocs.register._backend import SqliteBackend, is_postgres
from certdocs.register._migrations import migrate
from certdocs.register._postgres import PostgresBackend, PostgresDb


@dataclass(frozen=True)
class CopyReport:
    """What :func:`copy_register` copied: rows per table, each read back and found equal."""

    source: str
    target: str
    rows: dict[str, int]


def copy_register(source: Path, target: str) -> CopyReport:
    """Copy the SQLite register at ``source`` into the empty PostgreSQL register at ``target``.

    Refuses a target that already holds certificates, decisions or anything else recorded;
    the source file is opened read-only and never changed.
    """
    if not is_postgres(target):
        raise RegisterError([Problem("--to", "应为 postgresql://用户@主机/数据库")], source=target)
    if not source.is_file():
        raise RegisterError([Problem(str(source), "SQLite 登记簿文件不存在")], source=str(source))
    with tempfile.TemporaryDirectory(prefix="certdocs-copy-") as tmp:
        snapshot = Path(tmp) / "snapshot.sqlite3"
        _snapshot(source, snapshot)
        local = SqliteBackend.connect(snapshot)
        try:
            migrate(local)
            problems = local.integrity_problems()
            if problems:
                raise RegisterError(problems, source=str(source))
            tables = _tables(local.connection)
            pg = PostgresBackend.connect(target)
            try:
                migrate(pg)
                rows = _copy(local.connection, pg, tables)
            except BaseException as exc:
                pg.rollback()
                if isinstance(exc, pg.errors):
                    raise pg.wrap(exc) from exc
                raise
            finally:
                pg.close()
        except sqlite3.Error as exc:
            raise local.wrap(exc) from exc
        finally:
            local.close()
    return CopyReport(str(source), pg.where, rows)


@dataclass(frozen=True)
class _Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]  # the primary key, by which rows are copied and compared in order


def _snapshot(source: Path, snapshot: Path) -> None:
    """A consistent copy of ``source`` at ``snapshot``, reading ``source`` only."""
    try:
        reader = sqlite3.connect(f"file:{quote(str(source.resolve()))}?mode=ro", uri=True)
        try:
            writer = sqlite3.connect(snapshot)
            with writer:
                reader.backup(writer)
            writer.close()
        finally:
            reader.close()
    except sqlite3.Error as exc:
        raise RegisterError(
            [Problem(str(source), f"无法读取 SQLite 登记簿（{exc}）")],
            source=str(source),
        ) from exc


def _tables(conn: sqlite3.Connection) -> list[_Table]:
    names = [
        str(row[0])
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    tables = []
    for name in names:
        info = conn.execute(f'PRAGMA table_info("{name}")').fetchall()
        columns = tuple(str(row["name"]) for row in info)
        key = tuple(str(row["name"]) for row in sorted(info, key=lambda row: row["pk"]) if row["pk"] > 0)
        tables.append(_Table(name, columns, key or columns))
    return tables


def _select(table: _Table) -> str:
    columns = ", ".join(f'"{c}"' for c in table.columns)
    order = ", ".join(f'"{c}"' for c in table.key)
    return f'SELECT {columns} FROM "{table.name}" ORDER BY {order}'


def _copy(local: sqlite3.Connection, pg: PostgresBackend, tables: Sequence[_Table]) -> dict[str, int]:
    db = pg.begin(write=True)
    assert isinstance(db, PostgresDb)
    pg.lock_schema(db)
    problems: list[Problem] = []
    for table in tables:
        found = {str(row[0]) for row in db.execute(_COLUMNS, (table.name,)).fetchall()}
        missing = set(table.columns) - found
        if missing:
            problems.append(Problem(table.name, f"PostgreSQL 中缺少列 {', '.join(sorted(missing))}"))
        elif table.name != "schema_migrations" and db.execute(f'SELECT count(*) FROM "{table.name}"').fetchone()[0]:
            problems.append(Problem(table.name, "目标数据库中已有登记数据，只能复制到空的登记簿"))
    if problems:
        raise RegisterError(problems, source=pg.where)
    # The copy inserts a certificate before the newer one that superseded it.
    db.execute("SET CONSTRAINTS ALL DEFERRED")
    db.execute("DELETE FROM schema_migrations")
    counts: dict[str, int] = {}
    for table in tables:
        rows = [tuple(row) for row in local.execute(_select(table))]
        columns = ", ".join(f'"{c}"' for c in table.columns)
        marks = ", ".join("?" for _ in table.columns)
        db.executemany(f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})', rows)
        counts[table.name] = len(rows)
        if "id" in table.columns and table.key == ("id",):
            # The identity goes on after the copied ids, not from 1 into them.
            db.execute(
                f"SELECT setval(pg_get_serial_sequence(?, 'id'), (SELECT max(id) FROM \"{table.name}\"))"
                f' WHERE EXISTS (SELECT 1 FROM "{table.name}")',
                (table.name,),
            )
    db.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for table in tables:
        expected = [tuple(row) for row in local.execute(_select(table))]
        copied = [tuple(row) for row in db.execute(_select(table)).fetchall()]
        if copied != expected:
            differing = sum(1 for a, b in zip(copied, expected, strict=False) if a != b)
            differing += abs(len(copied) - len(expected))
            problems.append(Problem(table.name, f"复制后核对不一致（{differing} 行不同），已全部撤回"))
    if problems:
        raise RegisterError(problems, source=pg.where)
    pg.commit()
    return counts


_COLUMNS = "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?"
