"""Register migrations that change recorded rows: migration 5 keeps the issuing audit apart.

A register made at migration 4 is built here with that version's schema and rows written as
certdocs of that version wrote them (a surveillance audit overwrote ``last_audit_*``), then
opened by this certdocs, on SQLite and on PostgreSQL, and copied by ``register migrate --to``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from certdocs._fs import sha256_file
from certdocs.cli import main
from certdocs.errors import RegisterError
from certdocs.register import MIGRATIONS, CertificateRecord, Register
from certdocs.register._backend import open_backend
from certdocs.register._migrations import Migration, migrate
from tests.postgres_registers import empty_register, postgres_registers  # noqa: F401  (fixture)
from tests.postgres_server import PostgresServer
from tests.test_register import document, facts

TODAY = date(2027, 1, 1)
BEFORE = 4  # the last migration before the issuing audit had columns of its own
INITIAL_KEY = "xbht-s04-2025|91350200MA2YJ1XR9G|initial|2026-11-09"  # as pipeline keys are made
TABLES = ("number_series", "certificates", "documents", "status_history", "number_notes", "schema_migrations")


def _old_row(serial: int, key: str, **changes: Any) -> dict[str, Any]:
    """A ``certificates`` row as migration 4's certdocs wrote it at reservation."""
    row: dict[str, Any] = {
        "number": f"BZ2026SC{serial:04d}",
        "reservation_key": key,
        "series": "BZ2026SC",
        "serial": serial,
        "state": "issued",
        "status": "有效",
        "organization_name": "杭州某电器股份有限公司",
        "uscc": "91350200MA2YJ1XR9G",
        "scheme": "xbht-s04-2025",
        "grade": "四星级",
        "stars": 4,
        "level": None,
        "score": "86.10",
        "first_issue_date": "2026-11-22",
        "issue_date": "2026-11-22",
        "valid_until": "2029-11-21",
        "decision_meeting": "2026年第47次认证决定会议",
        "decision_date": "2026-11-20",
        "audit_path": "audits/a.json",
        "audit_sha256": "a" * 64,
        "last_audit_type": "initial",
        "last_audit_end_date": "2026-11-11",
        "initial_person_days": "2.5",
    }
    return row | changes


def _build_old_register(target: Path | str) -> None:
    """A register at migration 4: five certificates, three of them since surveilled.

    0001 initial (a certdocs key), surveilled; 0002 initial, never surveilled, later superseded
    by 0004; 0003 only reserved, with a failure note; 0004 a recertification, surveilled; 0005
    initial under a key certdocs did not make, surveilled.
    """
    backend = open_backend(target)
    try:
        assert migrate(backend, migrations=MIGRATIONS[:BEFORE]) == tuple(range(1, BEFORE + 1))
        db = backend.begin(write=True)
        db.execute("INSERT INTO number_series (series, last_serial) VALUES ('BZ2026SC', 5)")
        rows = [
            _old_row(1, INITIAL_KEY),
            _old_row(2, "k2"),
            _old_row(3, "k3", state="reserved", status=None),
            _old_row(
                4,
                "k4",
                first_issue_date="2026-11-22",
                issue_date="2029-11-01",
                valid_until="2032-11-21",
                decision_date="2029-10-28",
                last_audit_type="recertification",
                last_audit_end_date="2029-10-20",
            ),
            _old_row(5, "k5", organization_name="宁波某公司", uscc="91330106MA2CFXY80X"),
        ]
        for row in rows:
            names = ", ".join(row)
            db.execute(f"INSERT INTO certificates ({names}) VALUES ({', '.join(':' + n for n in row)})", row)
        ids = {n: db.execute("SELECT id FROM certificates WHERE serial = ?", (n,)).fetchone()[0] for n in range(1, 6)}
        for serial in (1, 2, 4, 5):
            db.execute(
                "INSERT INTO status_history (certificate_id, status, on_date, reason, actor)"
                " VALUES (?, '有效', ?, ?, ?)",
                (ids[serial], "2026-11-22", "认证决定", "certdocs"),
            )
            db.execute(
                "INSERT INTO documents (certificate_id, kind, path, sha256, built_from) VALUES (?, ?, ?, ?, '{}')",
                (ids[serial], "certificate.pdf", f"BZ2026SC{serial:04d}/certificate.pdf", "b" * 64),
            )
        db.execute(
            "INSERT INTO number_notes (certificate_id, kind, reason, actor) VALUES (?, 'failure', ?, ?)",
            (ids[3], "LibreOffice 超时", "certdocs"),
        )
        # What migration 4's record_last_audit and supersede did.
        surveilled = {1: "2027-09-01", 4: "2030-09-01", 5: "2027-09-05"}
        for serial, end in surveilled.items():
            db.execute(
                "UPDATE certificates SET last_audit_type = 'surveillance', last_audit_end_date = ? WHERE id = ?",
                (end, ids[serial]),
            )
        db.execute("UPDATE certificates SET status = '注销', superseded_by = 'BZ2026SC0004' WHERE id = ?", (ids[2],))
        backend.commit()
    finally:
        backend.close()


def _rows(target: Path | str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table migration 4 made, its columns as migration 4 had them."""
    old_columns = ", ".join(_old_row(1, "k"))
    backend = open_backend(target)
    try:
        db = backend.begin(write=False)
        found = {
            table: [tuple(r) for r in db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()]
            for table in TABLES
            if table not in ("certificates", "schema_migrations")
        }
        found["certificates"] = [
            tuple(r) for r in db.execute(f"SELECT id, {old_columns} FROM certificates ORDER BY id").fetchall()
        ]
        found["schema_migrations"] = [
            tuple(r) for r in db.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
        ]
        backend.commit()
    finally:
        backend.close()
    return found


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path | str]:
    """Where a register goes: an SQLite file, or a new PostgreSQL database."""
    yield tmp_path / "register.sqlite3" if request.param == "sqlite" else request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def old_register_template(postgres_server: PostgresServer) -> str:
    """A PostgreSQL database holding the register at migration 4 (:func:`_build_old_register`), by name.

    Built once per server; each test copies it (``CREATE DATABASE … TEMPLATE``) rather than
    running migrations 1–4 and writing the rows again.
    """
    name = postgres_server.new_database()
    _build_old_register(postgres_server.url(name))
    return name


@pytest.fixture(params=["sqlite", "postgresql"])
def old_register(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """A register at migration 4: an SQLite file built for the test, or a copy of :func:`old_register_template`."""
    if request.param == "sqlite":
        path = tmp_path / "register.sqlite3"
        _build_old_register(path)
        return path
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.url(server.new_database(template=request.getfixturevalue("old_register_template")))


def _issuing_audits(target: Path | str) -> dict[str, tuple[object, ...]]:
    with Register.open(target) as register:
        records = [*register.list(today=TODAY), *register.unissued(today=TODAY)]
    return {r.number: _audits(r) for r in records}


def _audits(r: CertificateRecord) -> tuple[object, ...]:
    return (r.facts.audit_type, r.facts.audit_end_date, r.last_audit_type, r.last_audit_end_date)


# -- migration 5: the issuing audit ------------------------------------------------------------


def test_migration_5_keeps_every_row_of_a_register_made_at_migration_4(old_register: Path | str) -> None:
    before = _rows(old_register)
    with Register.open(old_register) as register:
        assert register.schema_version == len(MIGRATIONS)
    after = _rows(old_register)
    assert after["schema_migrations"] == [(m.version, m.name) for m in MIGRATIONS]
    assert {t: rows for t, rows in after.items() if t != "schema_migrations"} == {
        t: rows for t, rows in before.items() if t != "schema_migrations"
    }


def test_migration_5_takes_the_issuing_audit_from_what_the_register_still_knows(old_register: Path | str) -> None:
    assert _issuing_audits(old_register) == {
        # The key names the audit type; the end date was overwritten and is not guessed.
        "BZ2026SC0001": ("initial", None, "surveillance", date(2027, 9, 1)),
        # Never surveilled: the latest audit is the issuing one.
        "BZ2026SC0002": ("initial", date(2026, 11, 11), "initial", date(2026, 11, 11)),
        "BZ2026SC0003": ("initial", date(2026, 11, 11), "initial", date(2026, 11, 11)),
        # It superseded 0002, so it was a recertification.
        "BZ2026SC0004": ("recertification", None, "surveillance", date(2030, 9, 1)),
        # Nothing left in the register says how it was issued.
        "BZ2026SC0005": (None, None, "surveillance", date(2027, 9, 5)),
    }


def test_a_migrated_certificate_still_takes_surveillance_and_keeps_its_issuing_facts(old_register: Path | str) -> None:
    with Register.open(old_register) as register:
        register.record_last_audit("BZ2026SC0002", audit_type="surveillance", end_date=date(2027, 10, 1))
        record = register.get("BZ2026SC0002", today=TODAY)
    assert _audits(record) == ("initial", date(2026, 11, 11), "surveillance", date(2027, 10, 1))


def test_a_register_at_a_newer_migration_than_the_code_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "register.sqlite3"
    _build_old_register(path)
    backend = open_backend(path)
    db = backend.begin(write=True)
    db.execute("INSERT INTO schema_migrations (version, name) VALUES (?, 'from_the_future')", (len(MIGRATIONS) + 1,))
    backend.commit()
    backend.close()
    digest = sha256_file(path)
    with pytest.raises(RegisterError, match="高于本程序支持的"):
        Register.open(path)
    assert sha256_file(path) == digest


def test_a_failing_migration_leaves_the_register_at_its_old_version(old_register: Path | str) -> None:
    before = _rows(old_register)
    broken = Migration(len(MIGRATIONS) + 1, "broken", ("CREATE TABLE certificates (id INTEGER)",))
    backend = open_backend(old_register)
    try:
        with pytest.raises(backend.errors):
            migrate(backend, migrations=(*MIGRATIONS, broken))
    finally:
        backend.close()
    # Migration 5 ran before the broken one, in the same transaction: it is undone with it.
    assert _rows(old_register) == before
    with Register.open(old_register) as register:
        assert register.schema_version == len(MIGRATIONS)


def test_an_up_to_date_register_opens_without_migrating(target: Path | str, monkeypatch: pytest.MonkeyPatch) -> None:
    with Register.open(target) as register:
        number = register.reserve("k1", pattern="BZ{year}SC{serial:04d}", year=2026, facts=facts()).number

    def refuse(*_args: object, **_kwargs: object) -> tuple[int, ...]:
        raise AssertionError("an up-to-date register was migrated")

    monkeypatch.setattr("certdocs.register._connection.migrate", refuse)
    with Register.open(target) as register:
        assert register.schema_version == len(MIGRATIONS)
        assert [held.number for held in register.pending_reservations()] == [number]


# -- the record as issued ----------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def register(request: pytest.FixtureRequest) -> Iterator[Register]:
    """An empty register on each backend: in-memory SQLite, PostgreSQL (tests/postgres_registers.py)."""
    with empty_register(request) as reg:
        yield reg


def test_the_records_facts_are_the_facts_given_at_reservation_even_after_surveillance(register: Register) -> None:
    given = facts()
    held = register.reserve("k1", pattern="BZ{year}SC{serial:04d}", year=2026, facts=given)
    register.complete(held.number, documents=[document()])
    register.record_last_audit(held.number, audit_type="surveillance", end_date=date(2027, 9, 1))
    register.record_last_audit(held.number, audit_type="surveillance", end_date=date(2028, 9, 1))
    record = register.get(held.number, today=TODAY)
    assert record.facts == given
    assert (record.last_audit_type, record.last_audit_end_date) == ("surveillance", date(2028, 9, 1))


def test_a_new_reservation_starts_with_the_issuing_audit_as_the_latest(register: Register) -> None:
    held = register.reserve("k1", pattern="BZ{year}SC{serial:04d}", year=2026, facts=facts())
    record = register.get(held.number, today=TODAY)
    assert (record.last_audit_type, record.last_audit_end_date) == ("initial", date(2026, 11, 11))


def test_a_reservation_without_the_issuing_audit_is_refused(register: Register) -> None:
    with pytest.raises(RegisterError) as caught:
        register.reserve(
            "k1", pattern="BZ{year}SC{serial:04d}", year=2026, facts=facts(audit_type=None, audit_end_date=None)
        )
    assert [p.where for p in caught.value.problems] == ["audit_type", "audit_end_date"]
    assert register.pending_reservations() == ()


# -- register migrate --to ---------------------------------------------------------------------


def test_migrate_to_postgresql_copies_a_register_made_at_migration_4_row_for_row(
    tmp_path: Path, postgres_url: str
) -> None:
    source = tmp_path / "register.sqlite3"
    _build_old_register(source)
    digest = sha256_file(source)
    result = CliRunner().invoke(main, ["register", "migrate", "--to", postgres_url, "--register", str(source)])
    assert result.exit_code == 0, result.output
    assert "逐行核对一致" in result.output
    assert "证书（certificates）5 行" in result.output
    assert sha256_file(source) == digest  # the source is only read, and stays at migration 4
    upgraded = tmp_path / "upgraded.sqlite3"
    upgraded.write_bytes(source.read_bytes())
    assert _issuing_audits(postgres_url) == _issuing_audits(upgraded)
    assert _rows(postgres_url) == _rows(upgraded)
