"""The register's connection: opening, migrating, transactions and error wrapping, on either backend."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Self

from certdocs.errors import Problem, RegisterError, UnknownCertificate
from certdocs.register._backend import BUSY_TIMEOUT_SECONDS, MEMORY, Backend, Db, Row, open_backend
from certdocs.register._location import DocumentPaths
from certdocs.register._migrations import MIGRATIONS, migrate, pending, schema_version

__all__ = ["BUSY_TIMEOUT_SECONDS", "MEMORY", "Connection"]


class Connection:
    """An open register database; see :class:`certdocs.register.Register` for its operations."""

    def __init__(self, backend: Backend, *, documents_root: Path | None = None) -> None:
        """Wrap an already connected and migrated backend; use :meth:`open` instead."""
        self._backend: Backend | None = backend
        self._where = backend.where
        self._checked = False
        self._paths = DocumentPaths(documents_root)

    @classmethod
    def open(cls, target: Path | str, *, documents_root: Path | None = None) -> Self:
        """The register at ``target``, migrated: an SQLite file (``":memory:"`` for a throwaway
        one) or a PostgreSQL database given as ``postgresql://user@host/dbname``.

        With ``documents_root`` (the output folder), documents inside it are recorded relative
        to it and handed back joined to it, so that computers mounting a shared output folder
        in different places all find them.

        Pending migrations are applied in order; a database written by a newer certdocs is
        refused. An SQLite file is journalled in WAL mode so readers never block the one
        writer; on either backend a lock held by another process is waited for up to 30 s.
        """
        backend = open_backend(target)
        try:
            # An up-to-date register (every open but the first of a version) costs one read.
            if pending(backend, migrations=MIGRATIONS):
                backend.quick_check()  # never migrate a damaged register
                migrate(backend)
        except BaseException as exc:
            backend.rollback()
            backend.close()
            if isinstance(exc, backend.errors):
                raise backend.wrap(exc) from exc
            raise
        return cls(backend, documents_root=documents_root)

    @property
    def where(self) -> str:
        """The database as given to :meth:`open` (a URL without its password)."""
        return self._where

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._open_backend().dialect

    @property
    def schema_version(self) -> int:
        """The highest migration version applied to the database."""
        with self._read() as conn:
            return schema_version(conn)

    def integrity_problems(self) -> list[Problem]:
        """What the database's own integrity checks find wrong (empty when sound)."""
        backend = self._open_backend()
        try:
            return backend.integrity_problems()
        except backend.errors as exc:
            raise backend.wrap(exc) from exc

    def close(self) -> None:
        """Close the database; closing twice is harmless."""
        if self._backend is not None:
            self._backend.close()
            self._backend = None

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
        """Refuse, naming the register, one whose pages are damaged (SQLite's ``PRAGMA quick_check``)."""
        backend = self._open_backend()
        try:
            backend.quick_check()
        except backend.errors as exc:
            raise backend.wrap(exc) from exc
        self._checked = True

    @contextlib.contextmanager
    def _write(self) -> Iterator[Db]:
        """A write transaction: one writer at a time (SQLite) or row locks on what it changes.

        The first write of a connection is preceded by a quick check: a register with a damaged
        page is refused rather than written over as if whole.
        """
        if not self._checked:
            self.check_quick()
        with self._transaction(write=True) as conn:
            yield conn

    @contextlib.contextmanager
    def _read(self) -> Iterator[Db]:
        """A read transaction: one consistent snapshot across several queries."""
        with self._transaction(write=False) as conn:
            yield conn

    @contextlib.contextmanager
    def _transaction(self, *, write: bool) -> Iterator[Db]:
        backend = self._open_backend()
        try:
            conn = backend.begin(write=write)
        except backend.errors as exc:
            backend.rollback()
            raise backend.wrap(exc) from exc
        try:
            yield conn
        except backend.errors as exc:
            backend.rollback()
            raise backend.wrap(exc) from exc
        except BaseException:
            backend.rollback()
            raise
        try:
            backend.commit()
        except backend.errors as exc:
            backend.rollback()
            raise backend.wrap(exc) from exc

    def _open_backend(self) -> Backend:
        if self._backend is None:
            raise self._error("登记簿", "登记簿已关闭")
        return self._backend

    def _error(self, where: str, rule: str) -> RegisterError:
        """A refusal naming ``where`` (a certificate, a field) and the rule, for this database."""
        return RegisterError([Problem(where, rule)], source=self._where)

    def _certificate_row(self, conn: Db, number: str) -> Row:
        """The ``certificates`` row of ``number`` (locked in a write); refuses an unknown number."""
        row: Row | None = conn.execute(f"SELECT * FROM certificates WHERE number = ?{conn.lock}", (number,)).fetchone()
        if row is None:
            raise unknown(number, where=self._where)
        return row


def unknown(number: str, *, where: str) -> UnknownCertificate:
    """The refusal of a certificate number the register does not hold (an input error)."""
    return UnknownCertificate([Problem(f"证书 {number}", "登记簿中没有这个证书编号")], source=where)
