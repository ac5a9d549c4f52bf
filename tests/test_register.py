"""The certificate register: migrations, number reservation, issuing, documents, meetings."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from certdocs.errors import RegisterError
from certdocs.register import (
    MIGRATIONS,
    Register,
    State,
    Status,
)
from certdocs.register._backend import SqliteBackend
from certdocs.register._migrations import migrate
from tests.postgres_registers import empty_register, postgres_registers  # noqa: F401  (fixture)
from tests.register_data import PATTERN as PATTERN
from tests.register_data import document as document
from tests.register_data import facts as facts
from tests.register_data import issue as issue

TODAY = date(2027, 1, 1)


@pytest.fixture(params=["sqlite", "postgresql"])
def register(request: pytest.FixtureRequest) -> Iterator[Register]:
    """An empty register on each backend: in-memory SQLite, PostgreSQL (tests/postgres_registers.py)."""
    with empty_register(request) as reg:
        yield reg


@pytest.fixture
def sqlite_register() -> Iterator[Register]:
    """An empty in-memory SQLite register, for what only SQLite can show (its statement trace)."""
    with Register.open(":memory:") as reg:
        yield reg


def sqlite_conn(register: Register) -> sqlite3.Connection:
    """The sqlite3 connection under an SQLite register."""
    backend = register._backend
    assert isinstance(backend, SqliteBackend)
    return backend.connection


# -- migrations ------------------------------------------------------------------------------


def test_it_records_every_migration_in_order(tmp_path: Path) -> None:
    path = tmp_path / "register.sqlite"
    Register.open(path).close()
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert rows == [(m.version, m.name) for m in MIGRATIONS]
    assert [version for version, _ in rows] == list(range(1, len(MIGRATIONS) + 1))


def test_reopening_applies_nothing_again_and_keeps_the_data(tmp_path: Path) -> None:
    path = tmp_path / "register.sqlite"
    with Register.open(path) as reg:
        number = issue(reg, "k1")
    with sqlite3.connect(path) as conn:
        stamps = conn.execute("SELECT version, applied_at FROM schema_migrations").fetchall()
    with Register.open(path) as reg:
        assert reg.schema_version == len(MIGRATIONS)
        assert reg.get(number, today=TODAY).status == Status.VALID
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version, applied_at FROM schema_migrations").fetchall() == stamps


def test_migration_2_upgrades_a_database_made_by_migration_1_only(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    backend = SqliteBackend.connect(path)
    assert migrate(backend, migrations=MIGRATIONS[:1]) == (1,)
    found = backend.connection.execute("SELECT name FROM sqlite_master WHERE name = 'archive_entries'").fetchone()
    assert found is None
    backend.close()
    with Register.open(path) as reg:
        assert reg.schema_version == len(MIGRATIONS)
        number = issue(reg, "k1")
        entry = reg.record_archive(
            number,
            kind="certificate",
            bag_path="bags/2026/BZ2026SC0001",
            sha256="d" * 64,
            archived_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        )
    assert entry.number == number
    assert not entry.superseded


def test_it_refuses_a_database_newer_than_the_code(tmp_path: Path) -> None:
    path = tmp_path / "register.sqlite"
    Register.open(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO schema_migrations (version, name) VALUES (?, 'from_the_future')", (len(MIGRATIONS) + 1,)
        )
    with pytest.raises(
        RegisterError, match=f"结构版本为 {len(MIGRATIONS) + 1}，高于本程序支持的 {len(MIGRATIONS)}"
    ) as caught:
        Register.open(path)
    assert str(path) in str(caught.value)


def test_it_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "register.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(RegisterError, match="不是 SQLite 数据库"):
        Register.open(path)


def test_a_file_database_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    with Register.open(tmp_path / "sub" / "register.sqlite") as reg:
        conn = sqlite_conn(reg)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30000


def test_an_up_to_date_register_opens_and_reads_while_another_run_writes(tmp_path: Path) -> None:
    path = tmp_path / "register.sqlite"
    with Register.open(path) as writer:
        number = issue(writer, "k1")
        with writer._write():
            started = time.monotonic()
            with Register.open(path) as reader:
                assert reader.get(number, today=TODAY).status == Status.VALID
            assert time.monotonic() - started < 5


def test_a_closed_register_refuses_further_work(register: Register) -> None:
    register.close()
    register.close()
    with pytest.raises(RegisterError, match="登记簿已关闭"):
        register.list(today=TODAY)


# -- numbers ---------------------------------------------------------------------------------


def test_reserving_the_same_key_twice_gives_the_same_number(register: Register) -> None:
    first = register.reserve("k1", pattern=PATTERN, year=2026, facts=facts())
    again = register.reserve("k1", pattern=PATTERN, year=2026, facts=facts())
    other = register.reserve("k2", pattern=PATTERN, year=2026, facts=facts())
    assert (first.number, first.created, first.state) == ("BZ2026SC0001", True, State.RESERVED)
    assert (again.number, again.created) == ("BZ2026SC0001", False)
    assert other.number == "BZ2026SC0002"


def test_an_issued_key_keeps_its_number_and_state(register: Register) -> None:
    number = issue(register, "k1")
    again = register.reserve("k1", pattern=PATTERN, year=2027, facts=facts(grade="五星级"))
    assert (again.number, again.state, again.created) == (number, State.ISSUED, False)
    assert register.get(number, today=TODAY).facts.grade == "四星级"


def test_a_reserved_row_takes_the_facts_of_the_rerun(register: Register) -> None:
    held = register.reserve("k1", pattern=PATTERN, year=2026, facts=facts())
    register.reserve("k1", pattern=PATTERN, year=2026, facts=facts(issue_date=date(2026, 11, 25)))
    assert register.get(held.number, today=TODAY).facts.issue_date == date(2026, 11, 25)


def test_serials_run_per_series_and_year(register: Register) -> None:
    def number(key: str, pattern: str, year: int) -> str:
        return register.reserve(key, pattern=pattern, year=year, facts=facts()).number

    assert number("a", PATTERN, 2026) == "BZ2026SC0001"
    assert number("b", PATTERN, 2027) == "BZ2027SC0001"
    assert number("c", "ZD-FW-{year}-{serial:05d}", 2026) == "ZD-FW-2026-00001"
    assert number("d", PATTERN, 2026) == "BZ2026SC0002"
    # A wider serial continues the series rather than restarting it.
    assert number("e", "BZ{year}SC{serial:05d}", 2026) == "BZ2026SC00003"
    # Without {year} the series never restarts, so no number can come round again.
    assert number("f", "XB-{serial:06d}", 2026) == "XB-000001"
    assert number("g", "XB-{serial:06d}", 2027) == "XB-000002"


@pytest.mark.parametrize(
    ("pattern", "rule"),
    [
        ("BZ{year}SC", "恰好包含一个 {serial}"),
        ("BZ{year}{serial}{serial}", "恰好包含一个 {serial}"),
        ("BZ{org}{serial}", "不能使用 {org}"),
        ("BZ{serial:.1s}", "无法格式化"),
        ("BZ{serial", "格式有误"),
        ("", "不能为空"),
    ],
)
def test_it_refuses_an_unusable_number_pattern(register: Register, pattern: str, rule: str) -> None:
    with pytest.raises(RegisterError, match=rule):
        register.reserve("k1", pattern=pattern, year=2026, facts=facts())
    assert register.pending_reservations() == ()


def test_it_refuses_a_number_already_taken_by_another_series(register: Register) -> None:
    register.reserve("a", pattern="X{serial:03d}", year=2026, facts=facts())  # X001
    with pytest.raises(RegisterError, match="X001 已被另一编号系列占用"):
        register.reserve("b", pattern="X0{serial:02d}", year=2026, facts=facts())  # X001 again
    assert register.reserve("c", pattern="X{serial:03d}", year=2026, facts=facts()).number == "X002"


def test_it_lists_every_problem_with_the_facts_at_once(register: Register) -> None:
    bad = facts(score=86.1, issue_date=datetime(2026, 11, 22), stars=7, audit_sha256="XYZ", uscc=" ")
    with pytest.raises(RegisterError) as caught:
        register.reserve("k1", pattern=PATTERN, year=2026, facts=bad)
    where = {problem.where for problem in caught.value.problems}
    assert where == {"score", "issue_date", "stars", "audit_sha256", "uscc"}
    assert "Decimal" in caught.value.render()


def test_it_refuses_an_issue_date_before_the_decision(register: Register) -> None:
    with pytest.raises(RegisterError, match="不得早于认证决定日期"):
        register.reserve("k1", pattern=PATTERN, year=2026, facts=facts(issue_date=date(2026, 11, 19)))


@pytest.mark.parametrize("audit_type", ["surveillance", "初次认证审核", ""])
def test_it_refuses_a_certificate_issued_on_anything_but_an_initial_or_recertification_audit(
    register: Register, audit_type: str
) -> None:
    with pytest.raises(RegisterError, match="发证的审核应为 initial / recertification 之一") as caught:
        register.reserve("k1", pattern=PATTERN, year=2026, facts=facts(audit_type=audit_type))
    assert [p.where for p in caught.value.problems] == ["audit_type"]


# -- issuing and reading back ----------------------------------------------------------------


def test_complete_issues_the_certificate_as_valid_from_its_issue_date(register: Register) -> None:
    held = register.reserve("k1", pattern=PATTERN, year=2026, facts=facts())
    assert register.get(held.number, today=TODAY).status is None
    register.complete(held.number, documents=[document("certificate"), document("annex", "e")])
    record = register.get(held.number, today=TODAY)
    assert (record.state, record.status, record.stored_status) == (State.ISSUED, Status.VALID, Status.VALID)
    assert [(h.status, h.on, h.actor) for h in record.history] == [(Status.VALID, date(2026, 11, 22), "certdocs")]
    assert "2026年第47次认证决定会议" in record.history[0].reason
    assert [d.kind for d in record.documents] == ["annex", "certificate"]
    assert record.issued_at is not None
    assert register.pending_reservations() == ()


def test_completing_twice_adds_no_second_history_entry(register: Register) -> None:
    number = issue(register, "k1")
    register.complete(number, documents=[document("certificate", "f")])
    record = register.get(number, today=TODAY)
    assert len(record.history) == 1
    assert record.documents[0].sha256 == "f" * 64


def test_pending_reservations_are_those_never_completed(register: Register) -> None:
    issue(register, "k1")
    held = register.reserve("k2", pattern=PATTERN, year=2026, facts=facts())
    assert [(p.key, p.number) for p in register.pending_reservations()] == [("k2", held.number)]


def test_decimals_and_dates_round_trip_exactly(register: Register) -> None:
    number = issue(register, "k1", score=Decimal("86.10"), initial_person_days=Decimal("0.5"))
    other = issue(
        register,
        "k2",
        score=None,
        stars=None,
        level=3,
        grade="已定义级",
        initial_person_days=Decimal("12345678901234567890.123456789"),
    )
    record = register.get(number, today=TODAY)
    assert record.facts.score == Decimal("86.10")
    assert str(record.facts.score) == "86.10"
    assert str(record.facts.initial_person_days) == "0.5"
    assert record.facts.valid_until == date(2029, 11, 21)
    assert type(record.facts.valid_until) is date
    bz = register.get(other, today=TODAY)
    assert (bz.facts.score, bz.facts.stars, bz.facts.level) == (None, None, 3)
    assert str(bz.facts.initial_person_days) == "12345678901234567890.123456789"
    if register.dialect != "sqlite":
        return  # PostgreSQL has typed columns: TEXT is TEXT
    conn = sqlite_conn(register)
    types = conn.execute("SELECT typeof(score), typeof(initial_person_days) FROM certificates").fetchall()
    assert {tuple(row) for row in types} <= {("text", "text"), ("null", "text")}


def test_the_schema_stores_even_a_stray_float_as_text_and_refuses_a_datetime(sqlite_register: Register) -> None:
    number = issue(sqlite_register, "k1")
    conn = sqlite_conn(sqlite_register)
    conn.execute("UPDATE certificates SET score = 86.1 WHERE number = ?", (number,))
    assert conn.execute("SELECT typeof(score) FROM certificates").fetchone()[0] == "text"
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE certificates SET issue_date = '2026-11-22 00:00:00' WHERE number = ?", (number,))


def test_find_by_key_sees_reserved_and_issued_certificates(register: Register) -> None:
    held = register.reserve("k1", pattern=PATTERN, year=2026, facts=facts())
    found = register.find_by_key("k1", today=TODAY)
    assert found is not None
    assert found.number == held.number
    assert found.state == State.RESERVED
    assert register.find_by_key("nope", today=TODAY) is None


def test_get_refuses_an_unknown_number_naming_it(register: Register) -> None:
    with pytest.raises(RegisterError, match="证书 BZ2026SC9999：登记簿中没有这个证书编号"):
        register.get("BZ2026SC9999", today=TODAY)


def test_list_shows_issued_certificates_only(register: Register) -> None:
    number = issue(register, "k1")
    register.reserve("k2", pattern=PATTERN, year=2026, facts=facts())
    assert [r.number for r in register.list(today=TODAY)] == [number]


# -- documents -------------------------------------------------------------------------------


def test_record_document_replaces_the_document_of_the_same_kind(register: Register) -> None:
    number = issue(register, "k1")
    stored = register.record_document(
        number, kind="certificate", path=Path("out/new.pdf"), sha256="9" * 64, built_from={"template": "1" * 64}
    )
    assert (stored.path, stored.sha256, dict(stored.built_from)) == ("out/new.pdf", "9" * 64, {"template": "1" * 64})
    assert register.documents_of(number) == (stored,)


def test_all_documents_lists_every_certificate_in_a_single_query(sqlite_register: Register) -> None:
    numbers = [issue(sqlite_register, f"k{n}") for n in range(30)]
    conn = sqlite_conn(sqlite_register)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    documents = sqlite_register.all_documents()
    conn.set_trace_callback(None)
    assert [d.number for d in documents] == numbers
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


def test_list_reads_a_thousand_certificates_in_three_queries(sqlite_register: Register) -> None:
    for n in range(1000):
        issue(sqlite_register, f"k{n}")
    conn = sqlite_conn(sqlite_register)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    records = sqlite_register.list(today=TODAY)
    conn.set_trace_callback(None)
    assert len(records) == 1000
    assert all(len(r.documents) == 1 and len(r.history) == 1 for r in records)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 3


def test_it_refuses_a_document_with_a_bad_hash(register: Register) -> None:
    number = issue(register, "k1")
    with pytest.raises(RegisterError, match="SHA-256"):
        register.record_document(number, kind="annex", path="a.pdf", sha256="abc", built_from={})


# -- meetings and archive --------------------------------------------------------------------


def test_decisions_are_recorded_per_meeting_and_replaced_on_rerun(register: Register) -> None:
    meeting = "2026年第47次认证决定会议"
    register.record_decision(meeting=meeting, meeting_date=date(2026, 11, 20), audit_path="a.json", decision="approve")
    register.record_decision(
        meeting=meeting, meeting_date=date(2026, 11, 20), audit_path="b.json", decision="defer", reason="补充材料"
    )
    register.record_decision(
        meeting=meeting, meeting_date=date(2026, 11, 20), audit_path="b.json", decision="reject", reason="不符合"
    )
    decided = register.decisions_of(meeting)
    assert [(d.audit_path, d.decision, d.reason) for d in decided] == [
        ("a.json", "approve", None),
        ("b.json", "reject", "不符合"),
    ]
    assert register.decisions_of("另一次会议") == ()


def test_it_refuses_an_unknown_decision(register: Register) -> None:
    with pytest.raises(RegisterError, match="approve / reject / defer"):
        register.record_decision(meeting="m", meeting_date=date(2026, 11, 20), audit_path="a.json", decision="ok")


def test_archiving_another_file_of_a_kind_needs_a_reason_and_supersedes_the_old(register: Register) -> None:
    number = issue(register, "k1")
    at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    first = register.record_archive(number, kind="certificate", bag_path="bags/1", sha256="1" * 64, archived_at=at)
    again = register.record_archive(number, kind="certificate", bag_path="bags/1", sha256="1" * 64, archived_at=at)
    assert again == first
    with pytest.raises(RegisterError, match="再次归档须说明替换原因"):
        register.record_archive(number, kind="certificate", bag_path="bags/2", sha256="2" * 64, archived_at=at)
    register.record_archive(
        number, kind="certificate", bag_path="bags/2", sha256="2" * 64, archived_at=at, supersede_reason="更正地址"
    )
    entries = register.archive_entries(number)
    assert [(e.bag_path, e.superseded, e.supersede_reason) for e in entries] == [
        ("bags/1", True, "更正地址"),
        ("bags/2", False, None),
    ]
    assert entries[0].archived_at == at


def test_archiving_for_an_unknown_certificate_is_refused(register: Register) -> None:
    with pytest.raises(RegisterError, match="没有这个证书编号"):
        register.record_archive(
            "X1", kind="certificate", bag_path="b", sha256="1" * 64, archived_at=datetime(2026, 1, 1)
        )


# -- numbers that end voided, and failures after reserving ---------------------------------------


def test_a_failure_after_reserving_is_noted_on_the_number_and_listed(register: Register) -> None:
    held = register.reserve("k1", pattern=PATTERN, year=2026, facts=facts())
    note = register.note_failure(held.number, reason="LibreOffice 超时未完成转换")
    (unissued,) = register.unissued(today=TODAY)
    assert (unissued.number, unissued.state) == (held.number, State.RESERVED)
    assert unissued.last_failure == note
    assert note.kind == "failure"
    assert note.actor == "certdocs"


def test_a_noted_number_is_still_issued_to_its_audit_by_a_later_run(register: Register) -> None:
    held = register.reserve("k1", pattern=PATTERN, year=2026, facts=facts())
    register.note_failure(held.number, reason="模板文件缺失")
    assert register.reserve("k1", pattern=PATTERN, year=2026, facts=facts()).number == held.number
    register.complete(held.number, documents=[document()])
    assert register.unissued(today=TODAY) == ()


def test_a_failure_cannot_be_noted_on_an_issued_certificate(register: Register) -> None:
    number = issue(register, "k1")
    with pytest.raises(RegisterError, match="已发证"):
        register.note_failure(number, reason="x")


def test_an_unknown_number_is_an_input_error(register: Register) -> None:
    from certdocs.errors import UnknownCertificate

    with pytest.raises(UnknownCertificate) as caught:
        register.note_failure("NOPE-1", reason="x")
    assert caught.value.exit_code == 2


def test_a_voided_number_is_never_issued_nor_handed_out_again(register: Register) -> None:
    held = register.reserve("k1", pattern=PATTERN, year=2026, facts=facts())
    register.void(held.number, reason="发证中止", actor="李文")
    (voided,) = register.unissued(today=TODAY)
    assert voided.state == State.VOIDED
    assert voided.void_reason == "发证中止"
    assert register.pending_reservations() == ()
    with pytest.raises(RegisterError, match="已作废"):
        register.complete(held.number, documents=[document()])
    again = register.reserve("k1", pattern=PATTERN, year=2026, facts=facts())
    assert (again.number, again.created) == ("BZ2026SC0002", True)


def test_the_register_remembers_a_setting(register: Register) -> None:
    assert register.setting("output") is None
    register.set_setting("output", "/srv/output")
    register.set_setting("output", "/srv/elsewhere")
    assert register.setting("output") == "/srv/elsewhere"


def test_a_nul_character_in_a_reason_is_refused_on_every_backend(register: Register) -> None:
    number = issue(register, "k1")
    with pytest.raises(RegisterError, match="不能包含 NUL 字符"):
        register.suspend(number, reason="监督\x00审核", actor="张三", on=date(2027, 1, 1))
    assert register.get(number, today=TODAY).status == Status.VALID
