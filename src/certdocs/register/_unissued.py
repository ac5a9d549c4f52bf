"""Register operations on numbers never issued: failures after reserving, voiding, settings."""

from __future__ import annotations

from certdocs.errors import Problem, RegisterError
from certdocs.register import _queries as q
from certdocs.register._backend import Db, Row
from certdocs.register._meetings import Meetings
from certdocs.register._records import NumberNote, State, text_problems, typed_text_problems

DEFAULT_ACTOR = "certdocs"
VOIDED = "EXISTS (SELECT 1 FROM number_notes AS v WHERE v.certificate_id = {id} AND v.kind = 'void')"


class Unissued(Meetings):
    """Accounting for every reserved number until it ends issued or voided (作废); settings."""

    def note_failure(self, number: str, *, reason: str, actor: str = DEFAULT_ACTOR) -> NumberNote:
        """Record why a run could not issue the reserved ``number``; return the note as stored.

        The number stays reserved for its audit (a rerun that succeeds issues it) and shows in
        ``register list`` with this reason until it is issued or voided. Refuses an unknown
        number, an issued certificate (nothing to account for) and a voided number.
        """
        _refuse(text_problems(reason, where="reason") + text_problems(actor, where="actor"), self.where)
        with self._write() as conn:
            row = self._reserved_row(conn, number, action="记录失败原因")
            return _insert_note(conn, row["id"], "failure", reason, actor)

    def void(self, number: str, *, reason: str, actor: str) -> NumberNote:
        """Void (作废) a reserved number that will never be issued; return the note as stored.

        The number is never handed out again and its audit loses its hold on it: issuing that
        audit later takes a new number. An issued certificate cannot be voided (it is withdrawn
        or cancelled instead), and a number is voided once.
        """
        _refuse(typed_text_problems(reason, where="reason") + typed_text_problems(actor, where="actor"), self.where)
        with self._write() as conn:
            row = self._reserved_row(conn, number, action="作废")
            # reservation_key is UNIQUE: keep the audit's identity in it, but out of reserve()'s way.
            conn.execute(
                "UPDATE certificates SET reservation_key = ? WHERE id = ?",
                (f"void:{number}:{row['reservation_key']}", row["id"]),
            )
            return _insert_note(conn, row["id"], "void", reason, actor)

    def _reserved_row(self, conn: Db, number: str, *, action: str) -> Row:
        row = self._certificate_row(conn, number)
        where = f"证书 {number}"
        if row["state"] == State.ISSUED:
            raise self._error(
                where,
                f"已发证，不能{action}；已发证的证书请用 certdocs register withdraw（撤销）或 cancel（注销）",
            )
        if is_voided(conn, row["id"]):
            raise self._error(where, f"编号已作废，不能{action}")
        return row

    # -- settings --------------------------------------------------------------------------

    def setting(self, name: str) -> str | None:
        """The value of the register setting ``name`` (for example ``output``), or None."""
        with self._read() as conn:
            row = conn.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row["value"])

    def set_setting(self, name: str, value: str) -> None:
        """Store the register setting ``name``."""
        _refuse(text_problems(name, where="name") + text_problems(value, where="value"), self.where)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO settings (name, value) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )


def is_voided(conn: Db, certificate_id: int) -> bool:
    return bool(conn.execute(f"SELECT {VOIDED.format(id='?')}", (certificate_id,)).fetchone()[0])


def _insert_note(conn: Db, certificate_id: int, kind: str, reason: str, actor: str) -> NumberNote:
    row = conn.execute(
        "INSERT INTO number_notes (certificate_id, kind, reason, actor) VALUES (?, ?, ?, ?) RETURNING *",
        (certificate_id, kind, reason, actor),
    ).fetchone()
    return q.number_note(row)


def _refuse(problems: list[Problem], where: str) -> None:
    if problems:
        raise RegisterError(problems, source=where)
