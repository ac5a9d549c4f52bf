"""Ordered, named schema migrations of the register, the pending ones applied in one transaction.

Applied versions are recorded in ``schema_migrations(version, name, applied_at)``. A migration
is never edited once released: a schema change is a new entry at the end of ``MIGRATIONS``.
Decimals and dates are TEXT: the column affinity stores even a stray float as text, and a
CHECK keeps anything but an ISO ``YYYY-MM-DD`` out of the date columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from certdocs.errors import Problem, RegisterError
from certdocs.register._backend import Backend, Db
from certdocs.register._dialect import NOW

_NOW = f"({NOW})"
_ISO_DATE = "GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'"


@dataclass(frozen=True)
class Migration:
    """One schema change: its version (1, 2, …), a short name and the SQL statements."""

    version: int
    name: str
    statements: tuple[str, ...]


def _date(column: str, *, null: bool = False) -> str:
    if null:
        return f"{column} TEXT CHECK ({column} IS NULL OR {column} {_ISO_DATE})"
    return f"{column} TEXT NOT NULL CHECK ({column} {_ISO_DATE})"


def _decimal(column: str, *, null: bool = False) -> str:
    # TEXT affinity (never NUMERIC/DECIMAL, which would turn "86.10" into the REAL 86.1).
    return f"{column} TEXT" if null else f"{column} TEXT NOT NULL"


_STORED_STATUSES = "('有效', '暂停', '撤销', '注销')"
_AUDIT_TYPES = "('initial', 'surveillance', 'recertification')"
# A reservation key made by certdocs from an audit of ``type``: "…|type|YYYY-MM-DD".
_KEY_OF = "*|{type}|[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"

_CERTIFICATES = f"""
CREATE TABLE certificates (
    id                  INTEGER PRIMARY KEY,
    number              TEXT NOT NULL UNIQUE,
    reservation_key     TEXT NOT NULL UNIQUE,
    series              TEXT NOT NULL REFERENCES number_series (series),
    serial              INTEGER NOT NULL CHECK (serial >= 1),
    state               TEXT NOT NULL DEFAULT 'reserved' CHECK (state IN ('reserved', 'issued')),
    status              TEXT CHECK (status IN {_STORED_STATUSES}),
    organization_name   TEXT NOT NULL,
    uscc                TEXT NOT NULL,
    scheme              TEXT NOT NULL,
    grade               TEXT NOT NULL,
    stars               INTEGER CHECK (stars BETWEEN 1 AND 5),
    level               INTEGER CHECK (level BETWEEN 1 AND 5),
    {_decimal("score", null=True)},
    {_date("first_issue_date")},
    {_date("issue_date")},
    {_date("valid_until")},
    decision_meeting    TEXT NOT NULL,
    {_date("decision_date")},
    audit_path          TEXT NOT NULL,
    audit_sha256        TEXT NOT NULL,
    last_audit_type     TEXT NOT NULL
        CHECK (last_audit_type IN ('initial', 'surveillance', 'recertification')),
    {_date("last_audit_end_date")},
    {_decimal("initial_person_days")},
    superseded_by       TEXT REFERENCES certificates (number),
    reserved_at         TEXT NOT NULL DEFAULT {_NOW},
    issued_at           TEXT,
    UNIQUE (series, serial),
    CHECK ((state = 'reserved') = (status IS NULL))
)"""

_DOCUMENTS = f"""
CREATE TABLE documents (
    certificate_id  INTEGER NOT NULL REFERENCES certificates (id),
    kind            TEXT NOT NULL,
    path            TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    built_from      TEXT NOT NULL,
    recorded_at     TEXT NOT NULL DEFAULT {_NOW},
    PRIMARY KEY (certificate_id, kind)
)"""

_STATUS_HISTORY = f"""
CREATE TABLE status_history (
    id              INTEGER PRIMARY KEY,
    certificate_id  INTEGER NOT NULL REFERENCES certificates (id),
    status          TEXT NOT NULL CHECK (status IN {_STORED_STATUSES}),
    {_date("on_date")},
    reason          TEXT NOT NULL,
    actor           TEXT NOT NULL,
    recorded_at     TEXT NOT NULL DEFAULT {_NOW}
)"""

_DECISIONS = f"""
CREATE TABLE decisions (
    id              INTEGER PRIMARY KEY,
    meeting         TEXT NOT NULL,
    {_date("meeting_date")},
    audit_path      TEXT NOT NULL,
    decision        TEXT NOT NULL CHECK (decision IN ('approve', 'reject', 'defer')),
    reason          TEXT,
    recorded_at     TEXT NOT NULL DEFAULT {_NOW},
    UNIQUE (meeting, audit_path)
)"""

_ARCHIVE_ENTRIES = """
CREATE TABLE archive_entries (
    id                  INTEGER PRIMARY KEY,
    certificate_number  TEXT NOT NULL REFERENCES certificates (number),
    kind                TEXT NOT NULL,
    bag_path            TEXT NOT NULL,
    sha256              TEXT NOT NULL,
    archived_at         TEXT NOT NULL,
    superseded          INTEGER NOT NULL DEFAULT 0 CHECK (superseded IN (0, 1)),
    supersede_reason    TEXT,
    CHECK ((superseded = 1) = (supersede_reason IS NOT NULL))
)"""

_SETTINGS = f"""
CREATE TABLE settings (
    name         TEXT PRIMARY KEY,
    value        TEXT NOT NULL,
    recorded_at  TEXT NOT NULL DEFAULT {_NOW}
)"""

# A reserved number's story until it ends issued or voided: why a run failed after reserving
# it ('failure', as many as there were) and the decision that it will never be issued ('void').
_NUMBER_NOTES = f"""
CREATE TABLE number_notes (
    id              INTEGER PRIMARY KEY,
    certificate_id  INTEGER NOT NULL REFERENCES certificates (id),
    kind            TEXT NOT NULL CHECK (kind IN ('failure', 'void')),
    reason          TEXT NOT NULL,
    actor           TEXT NOT NULL,
    recorded_at     TEXT NOT NULL DEFAULT {_NOW}
)"""

_SCHEMA_MIGRATIONS = f"""
CREATE TABLE schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_at  TEXT NOT NULL DEFAULT {_NOW}
)"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "certificates",
        (
            """CREATE TABLE number_series (
                series       TEXT PRIMARY KEY,
                last_serial  INTEGER NOT NULL CHECK (last_serial >= 0)
            )""",
            _CERTIFICATES,
            "CREATE INDEX certificates_by_organization ON certificates (uscc, scheme)",
            _DOCUMENTS,
            _STATUS_HISTORY,
            "CREATE INDEX status_history_by_certificate ON status_history (certificate_id, id)",
            _DECISIONS,
        ),
    ),
    Migration(
        2,
        "archive_entries",
        (
            _ARCHIVE_ENTRIES,
            # At most one current (not superseded) archive entry per certificate and kind.
            """CREATE UNIQUE INDEX archive_entries_current
                ON archive_entries (certificate_number, kind) WHERE superseded = 0""",
        ),
    ),
    Migration(
        3,
        "settings_and_number_notes",
        (
            _SETTINGS,
            _NUMBER_NOTES,
            "CREATE INDEX number_notes_by_certificate ON number_notes (certificate_id, id)",
            # A number is voided once, for good.
            "CREATE UNIQUE INDEX number_notes_one_void ON number_notes (certificate_id) WHERE kind = 'void'",
        ),
    ),
    Migration(
        4,
        "suspension_period",
        # The last day of a suspension (暂停期限); NULL for every other change.
        (f"ALTER TABLE status_history ADD COLUMN {_date('until_date', null=True)}",),
    ),
    Migration(
        5,
        "issuing_audit",
        # The issuing audit's type and last day, kept apart from last_audit_* (the latest audit,
        # which surveillance moves on). NULL only where a register made before this migration no
        # longer knows them; every reservation from now on stores them (docs/records.md).
        (
            "ALTER TABLE certificates ADD COLUMN audit_type TEXT"
            f" CHECK (audit_type IS NULL OR audit_type IN {_AUDIT_TYPES})",
            f"ALTER TABLE certificates ADD COLUMN {_date('audit_end_date', null=True)}",
            # No surveillance recorded yet: the latest audit is still the issuing one.
            """UPDATE certificates SET audit_type = last_audit_type, audit_end_date = last_audit_end_date
                WHERE last_audit_type <> 'surveillance'""",
            # Surveillance has overwritten both. The type is still in the register's own records: the
            # reservation key names the audit ("scheme|uscc|type|start date", kept after "void:…:"),
            # and a certificate that superseded another was a recertification. The end date is nowhere
            # in the register, so it stays NULL rather than guessed.
            f"""UPDATE certificates SET audit_type = CASE
                    WHEN reservation_key GLOB '{_KEY_OF.format(type="initial")}' THEN 'initial'
                    WHEN reservation_key GLOB '{_KEY_OF.format(type="recertification")}' THEN 'recertification'
                    WHEN EXISTS (SELECT 1 FROM certificates AS earlier
                                 WHERE earlier.superseded_by = certificates.number) THEN 'recertification'
                END
                WHERE last_audit_type = 'surveillance'""",
        ),
    ),
)


def migrate(backend: Backend, *, migrations: Sequence[Migration] = MIGRATIONS) -> tuple[int, ...]:
    """Apply the pending ``migrations`` in order; return the versions applied by this call.

    The pending migrations run together in one write transaction, holding the backend's schema
    lock, after re-reading what is recorded: a register is left at its old version or the new
    one, never between (a new one is made with one commit, not one per migration), and two
    processes (or two computers) opening a new database at once apply each migration exactly
    once. On PostgreSQL the statements are translated from SQLite's dialect
    (:func:`certdocs.register._dialect.postgres_ddl`).
    """
    where = backend.where
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise RegisterError("迁移版本号应从 1 起连续编号", source=where)
    db = backend.begin(write=False)
    recorded = _recorded_if_any(backend, db)
    backend.commit()
    if recorded is not None:
        _refuse_unknown(recorded, migrations, where=where)
        if set(recorded) == set(versions):
            return ()  # up to date: opening the register needs no write lock
    applied: list[int] = []
    db = backend.begin(write=True)
    try:
        backend.lock_schema(db)
        recorded = _recorded(backend, db)
        _refuse_unknown(recorded, migrations, where=where)
        for migration in migrations:
            if migration.version in recorded:
                continue
            for statement in migration.statements:
                db.execute(backend.ddl(statement))
            db.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                (migration.version, migration.name),
            )
            applied.append(migration.version)
    except BaseException:
        backend.rollback()
        raise
    backend.commit()
    return tuple(applied)


def pending(backend: Backend, *, migrations: Sequence[Migration] = MIGRATIONS) -> bool:
    """Whether the database lacks some of ``migrations`` (a new, or an older, register)."""
    db = backend.begin(write=False)
    try:
        recorded = _recorded_if_any(backend, db)
    finally:
        backend.commit()
    if recorded is None:
        return bool(migrations)
    _refuse_unknown(recorded, migrations, where=backend.where)
    return set(recorded) != {m.version for m in migrations}


def schema_version(conn: Db) -> int:
    """The highest migration version recorded in the database (0 for a new one)."""
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0])


def _recorded_if_any(backend: Backend, db: Db) -> dict[int, str] | None:
    """The recorded migrations, or None while there is no ``schema_migrations`` table yet."""
    if not backend.table_exists(db, "schema_migrations"):
        return None
    rows = db.execute("SELECT version, name FROM schema_migrations").fetchall()
    return {int(version): str(name) for version, name in rows}


def _recorded(backend: Backend, db: Db) -> dict[int, str]:
    if not backend.table_exists(db, "schema_migrations"):
        db.execute(backend.ddl(_SCHEMA_MIGRATIONS))
    rows = db.execute("SELECT version, name FROM schema_migrations").fetchall()
    return {int(version): str(name) for version, name in rows}


def _refuse_unknown(recorded: dict[int, str], migrations: Sequence[Migration], *, where: str) -> None:
    known = {m.version: m.name for m in migrations}
    newest = max(known, default=0)
    if recorded and max(recorded) > newest:
        raise RegisterError(
            [
                Problem(
                    "schema_migrations",
                    f"数据库结构版本为 {max(recorded)}，高于本程序支持的 {newest}，请使用更新版本的 certdocs 打开",
                )
            ],
            source=where,
        )
    for version, name in sorted(recorded.items()):
        if known.get(version) != name:
            raise RegisterError(
                [
                    Problem(
                        "schema_migrations",
                        f"已记录的迁移 {version}「{name}」与本程序的迁移「{known.get(version)}」不一致",
                    )
                ],
                source=where,
            )
