"""The emptied PostgreSQL registers the register tests share (tests/postgres_registers.py): each test's is as new."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from certdocs.register import Register
from tests.postgres_registers import RegisterDatabases
from tests.postgres_server import PostgresServer
from tests.register_data import issue

TODAY = date(2027, 1, 1)


@pytest.fixture
def databases(postgres_server: PostgresServer) -> Iterator[RegisterDatabases]:
    """A pool of its own, so that these tests never hand a database to a register test."""
    pool = RegisterDatabases(postgres_server, lock_timeout="100ms")
    yield pool
    pool.close()


def _sequences_used(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM pg_sequences WHERE last_value IS NOT NULL").fetchone()
    assert row is not None
    return int(row[0])


def test_a_database_handed_on_is_empty_and_numbers_again_from_the_start(databases: RegisterDatabases) -> None:
    with databases.empty() as first, Register.open(first) as register:
        number = issue(register, "k1")
        issue(register, "k2")
    with databases.empty() as again:
        assert again == first
        assert _sequences_used(again) == 0
        with Register.open(again) as register:
            assert register.list(today=TODAY) == ()
            assert register.pending_reservations() == ()
            assert issue(register, "k3") == number


@pytest.mark.parametrize(
    "change",
    [
        "ALTER TABLE certificates ADD COLUMN remark TEXT",
        # An identity sequence's options: emptying starts it again but does not put them back.
        "ALTER TABLE certificates ALTER COLUMN id SET INCREMENT BY 2",
    ],
    ids=["a-column", "a-sequence"],
)
def test_a_database_whose_schema_a_test_changed_is_dropped_not_handed_on(
    databases: RegisterDatabases, postgres_server: PostgresServer, change: str
) -> None:
    import psycopg

    with databases.empty() as first, psycopg.connect(first) as conn:
        conn.execute(change)
    with databases.empty() as again:
        assert again != first
    name = first.split("?")[0].rsplit("/", 1)[1]
    with psycopg.connect(postgres_server.url("postgres")) as conn:
        left = conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,)).fetchone()
    assert left == (0,)


def test_a_database_a_test_left_locked_is_dropped_not_handed_on(databases: RegisterDatabases) -> None:
    import psycopg

    with databases.empty() as first:
        holder = psycopg.connect(first)
        holder.execute("LOCK TABLE certificates IN ACCESS SHARE MODE")  # in a transaction left open
    try:
        with databases.empty() as again:
            assert again != first
    finally:
        holder.close()
